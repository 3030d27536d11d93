//! Response keys in the order the query asked for them. The engine resolves the fields of an
//! object concurrently and collects them as they complete, so two identical requests could
//! answer with their keys in different orders. The fields still run concurrently; the
//! finished answer is then put in the order of the selection set, as the GraphQL
//! specification's CollectFields gives it (fragments expanded in place, the first
//! occurrence of a response key deciding its place).

use async_graphql::Name;
use async_graphql::Value;
use async_graphql::parser::types::OperationDefinition;
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use std::cell::OnceCell;
use std::collections::HashMap;
use std::ptr;
use std::rc::Rc;

/// Orders `data`, the answer to `operation` of `document`, by its selection sets.
pub fn order(data: &mut Value, document: &ExecutableDocument, operation: &OperationDefinition) {
    let mut orderer = Orderer {
        document,
        known: HashMap::new(),
    };
    let keys = orderer.keys(&[&operation.selection_set.node]);
    orderer.order_by(data, &keys);
}

/// The response keys that a list of selection sets asks for, in order.
type Keys<'a> = Vec<Key<'a>>;

/// One response key, with the selection sets below it and, once an answer has needed them,
/// their own keys: the items of a nested list share their selection sets with every other
/// parent's items, so each list's keys are found once per answer, not once per object.
struct Key<'a> {
    name: Name,
    below: Vec<&'a SelectionSet>,
    keys: OnceCell<Rc<Keys<'a>>>,
}

/// Orders one answer.
struct Orderer<'a> {
    document: &'a ExecutableDocument,
    /// The keys collected so far, by the selection sets they were collected from (a
    /// fragment spread in several places has its keys collected once).
    known: HashMap<Vec<*const SelectionSet>, Rc<Keys<'a>>>,
}

impl<'a> Orderer<'a> {
    /// The keys of `sets`, collected on first use.
    fn keys(&mut self, sets: &[&'a SelectionSet]) -> Rc<Keys<'a>> {
        let id: Vec<*const SelectionSet> = sets.iter().map(|set| ptr::from_ref(*set)).collect();
        if let Some(keys) = self.known.get(&id) {
            return keys.clone();
        }
        let mut keys = Vec::new();
        for set in sets {
            collect(set, self.document, &mut keys, 0);
        }
        let keys = Rc::new(keys);
        self.known.insert(id, keys.clone());
        keys
    }

    /// Orders `value`, answered to the selection sets whose keys are `keys`. An object
    /// already in order (most are: fields that complete at once complete in the order
    /// asked, and records resolved directly always do) is left as it is.
    fn order_by(&mut self, value: &mut Value, keys: &Keys<'a>) {
        match value {
            Value::List(items) => {
                for item in items {
                    self.order_by(item, keys);
                }
            }
            Value::Object(map) => {
                let in_order = map.len() == keys.len()
                    && map
                        .keys()
                        .zip(keys)
                        .all(|(have, want)| same(have, &want.name));
                if !in_order {
                    let mut old = std::mem::take(map);
                    for key in keys {
                        // `swap_remove`: what is left of `old` is empty, so its order does
                        // not matter (`shift_remove` moved every later entry).
                        if let Some(child) = old.swap_remove(&key.name) {
                            map.insert(key.name.clone(), child);
                        }
                    }
                    // Nothing should be left; keep it rather than lose it.
                    map.extend(old);
                }
                // In order now: the first entries are the keys asked for that are present.
                let mut wanted = keys.iter();
                for (name, child) in map.iter_mut() {
                    let Some(key) = wanted.find(|want| same(&want.name, name)) else {
                        continue;
                    };
                    if matches!(child, Value::List(_) | Value::Object(_)) {
                        let below = key.keys.get_or_init(|| self.keys(&key.below));
                        self.order_by(child, below);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether two response keys are the same. An answer's keys are mostly the document's own
/// names, shared, so comparing where they point usually settles it.
fn same(a: &Name, b: &Name) -> bool {
    let (a, b) = (a.as_str(), b.as_str());
    ptr::eq(a, b) || a == b
}

/// The response keys of `set` in order, each with the selection sets below it. `depth`
/// bounds fragment spreads (the documents checks already refuse cycles).
fn collect<'a>(
    set: &'a SelectionSet,
    document: &'a ExecutableDocument,
    keys: &mut Keys<'a>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let key = field.node.response_key().node.clone();
                let below = &field.node.selection_set.node;
                match keys.iter_mut().find(|k| k.name == key) {
                    Some(k) => k.below.push(below),
                    None => keys.push(Key {
                        name: key,
                        below: vec![below],
                        keys: OnceCell::new(),
                    }),
                }
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                    collect(&fragment.node.selection_set.node, document, keys, depth + 1);
                }
            }
            Selection::InlineFragment(inline) => {
                collect(&inline.node.selection_set.node, document, keys, depth + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_selection_set_with_fragments_in_place() {
        let document = async_graphql::parser::parse_query(
            "query { b a: x ...F list { z y } ... on Query { d } } fragment F on Query { c a: x }",
        )
        .expect("parses");
        let (_, operation) = document.operations.iter().next().expect("operation");
        let object = |pairs: &[(&str, Value)]| {
            Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (Name::new(k), v.clone()))
                    .collect(),
            )
        };
        let item = object(&[("y", Value::from(1)), ("z", Value::from(2))]);
        let ordered = object(&[("z", Value::from(2)), ("y", Value::from(1))]);
        let mut data = object(&[
            ("d", Value::from(4)),
            ("list", Value::List(vec![item.clone(), ordered, item])),
            ("c", Value::from(3)),
            ("a", Value::from(2)),
            ("b", Value::from(1)),
        ]);
        order(&mut data, &document, &operation.node);
        let keys = |value: &Value| match value {
            Value::Object(map) => map.keys().map(|k| k.to_string()).collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        assert_eq!(keys(&data), ["b", "a", "c", "list", "d"]);
        let Value::Object(map) = &data else {
            unreachable!()
        };
        let Some(Value::List(list)) = map.get("list") else {
            panic!("a list")
        };
        for item in list {
            assert_eq!(keys(item), ["z", "y"]);
        }
    }

    #[test]
    fn an_object_in_order_still_has_its_children_ordered() {
        let document = async_graphql::parser::parse_query("{ a { c b } }").expect("parses");
        let (_, operation) = document.operations.iter().next().expect("operation");
        let inner: async_graphql::indexmap::IndexMap<Name, Value> = [("b", 1), ("c", 2)]
            .map(|(k, v)| (Name::new(k), Value::from(v)))
            .into();
        let mut data = Value::Object([(Name::new("a"), Value::Object(inner))].into());
        order(&mut data, &document, &operation.node);
        assert_eq!(data.to_string(), "{a: {c: 2, b: 1}}");
    }
}
