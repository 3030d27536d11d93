//! Records resolved directly: the fields of one record one after the other, on the task
//! that resolves the record, in the order the query asks for them.
//!
//! The engine resolves each field of each object as a boxed future of its own, polls them
//! together in a set, and collects the answers in a map that grows as they complete. On a
//! nested list that bookkeeping is most of the server's work: W2 resolves about 2,000
//! objects and 3,000 fields. Our relations never need a record's fields to run at the same
//! time: a sibling group loads a level for all its members at once, whatever the timing
//! ([`super::group`]). So [`Direct`] runs them in turn, with one map sized once.
//!
//! For the same reason a short list of records ([`Records`]) resolves its items in turn,
//! where the engine makes a future of each and polls them together.
//!
//! What the engine does beyond that stays with the engine: a record whose selection set has
//! fragments, repeated response keys or field directives has its fields resolved by the
//! engine (a list of such records still takes its items in turn), and every schema with
//! extensions (they may hook each field's resolution) takes the engine's path throughout.

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::{ContainerType, resolve_container, resolve_list};
use async_graphql::{ContextSelectionSet, OutputType, Positioned, ServerResult, Value};
use std::any::TypeId;
use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

/// A GraphQL object whose fields resolve directly. Its type in the schema is `T`'s.
pub struct Direct<T>(pub T);

/// Marks a schema whose records may resolve directly: one without extensions.
pub struct Allowed;

/// A list of records that resolve directly, one after the other in the list's order. Its
/// type in the schema is `[T!]!`, as a `Vec` of them would be.
pub struct Records<T>(pub Vec<Direct<T>>);

/// Whether `ctx`'s schema lets records resolve directly.
fn allowed(ctx: &ContextSelectionSet<'_>) -> bool {
    ctx.schema_env.data.contains_key(&TypeId::of::<Allowed>())
}

/// Whether the engine's per-field path can be skipped for `set`: only fields, each without
/// directives, and no response key twice (the engine merges those).
pub(super) fn plain(set: &SelectionSet) -> bool {
    set.items.iter().enumerate().all(|(at, selection)| {
        let Selection::Field(field) = &selection.node else {
            return false;
        };
        let key = &field.node.response_key().node;
        field.node.directives.is_empty()
            && !set.items[..at].iter().any(|earlier| match &earlier.node {
                Selection::Field(other) => other.node.response_key().node == *key,
                _ => false,
            })
    })
}

impl<T: ContainerType> OutputType for Direct<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        // Boxed once per record: a record's fields may hold records of its own type.
        let fields: Pin<Box<dyn Future<Output = ServerResult<Value>> + Send + '_>> =
            Box::pin(self.fields(ctx));
        fields.await
    }
}

impl<T: ContainerType> Direct<T> {
    /// The record's answer to `ctx`'s selection set.
    async fn fields(&self, ctx: &ContextSelectionSet<'_>) -> ServerResult<Value> {
        let set = &ctx.item.node;
        if !allowed(ctx) || !plain(set) {
            return resolve_container(ctx, &self.0).await;
        }
        let mut answer = IndexMap::with_capacity(set.items.len());
        for selection in &set.items {
            let Selection::Field(field) = &selection.node else {
                continue;
            };
            let key = field.node.response_key().node.clone();
            if field.node.name.node == "__typename" {
                let name = self.0.introspection_type_name().into_owned();
                answer.insert(key, Value::String(name));
                continue;
            }
            // As the engine does: a failed field is reported and left out of the object.
            match self.0.resolve_field(&ctx.with_field(field)).await {
                Ok(value) => {
                    answer.insert(key, value.unwrap_or_default());
                }
                Err(error) => ctx.add_error(error),
            }
        }
        Ok(if answer.is_empty() {
            Value::Null
        } else {
            Value::Object(answer)
        })
    }
}

impl<T: ContainerType> OutputType for Records<T> {
    fn type_name() -> Cow<'static, str> {
        Vec::<Direct<T>>::type_name()
    }

    fn qualified_type_name() -> String {
        Vec::<Direct<T>>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Vec::<Direct<T>>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        if !allowed(ctx) {
            return resolve_list(ctx, field, &self.0, Some(self.0.len())).await;
        }
        // As the engine does: an item that fails fails the list, with the item's path.
        let mut items = Vec::with_capacity(self.0.len());
        for (at, item) in self.0.iter().enumerate() {
            let ctx = ctx.with_index(at);
            let value = item
                .resolve(&ctx, field)
                .await
                .map_err(|error| ctx.set_error_path(error))?;
            items.push(value);
        }
        Ok(Value::List(items))
    }
}
