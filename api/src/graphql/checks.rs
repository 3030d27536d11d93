//! Checks on a document before the engine sees it: its text in one linear pass (length,
//! tokens, nesting), which bounds the parser's work, then the parsed document's shape
//! (depth, aliases, fields, directives, fragment cycles), which bounds the validator's.

use crate::limits::Limits;
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use std::collections::HashMap;

/// Why a document is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// Checks the length of a document's text, before anything reads the text.
///
/// # Errors
/// A refusal naming the limit.
pub fn check_length(query: &str, limits: &Limits) -> Result<(), Refusal> {
    if query.len() > limits.max_query_bytes {
        return Err(Refusal(format!(
            "the document is {} bytes; the limit is {}",
            query.len(),
            limits.max_query_bytes
        )));
    }
    Ok(())
}

/// Checks the text of a document in one linear pass: its length, tokens and nesting. This
/// runs before the parser, whose work it bounds.
///
/// # Errors
/// A refusal naming the limit.
pub fn check_text(query: &str, limits: &Limits) -> Result<(), Refusal> {
    check_length(query, limits)?;
    let bytes = query.as_bytes();
    let (mut tokens, mut depth, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'#' => {
                // A comment ends at any line terminator, `\r` alone included (as for the
                // parser): braces after it are real and must count.
                while i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r') {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                tokens += 1;
                let block = bytes[i..].starts_with(b"\"\"\"");
                i += if block { 3 } else { 1 };
                while i < bytes.len() {
                    if block && bytes[i..].starts_with(b"\"\"\"") {
                        i += 3;
                        break;
                    }
                    if !block && bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if !block && (bytes[i] == b'"' || bytes[i] == b'\n') {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'{' | b'[' | b'(' => {
                tokens += 1;
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(Refusal(format!(
                        "the document nests deeper than {} levels",
                        limits.max_nesting
                    )));
                }
            }
            b'}' | b']' | b')' => {
                tokens += 1;
                depth = depth.saturating_sub(1);
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                tokens += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'.' | b'-' | b'+'))
                {
                    i += 1;
                }
                continue;
            }
            b if b.is_ascii_whitespace() || b == b',' => {}
            _ => tokens += 1,
        }
        if tokens > limits.max_tokens {
            return Err(Refusal(format!(
                "the document has more than {} tokens",
                limits.max_tokens
            )));
        }
        i += 1;
    }
    if tokens > limits.max_tokens {
        return Err(Refusal(format!(
            "the document has more than {} tokens",
            limits.max_tokens
        )));
    }
    Ok(())
}

#[derive(Default, Clone, Copy)]
struct Shape {
    fields: usize,
    depth: usize,
    aliases: usize,
    directives: usize,
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    limits: &'a Limits,
    memo: HashMap<&'a str, Shape>,
    visiting: Vec<&'a str>,
}

impl<'a> Walker<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> Result<Shape, Refusal> {
        let mut shape = Shape::default();
        for selection in &set.items {
            let (inner, own_fields, own_aliases, own_directives) = match &selection.node {
                Selection::Field(field) => {
                    let inner = self.selection_set(&field.node.selection_set.node)?;
                    (
                        Shape {
                            depth: inner.depth + 1,
                            ..inner
                        },
                        1,
                        usize::from(field.node.alias.is_some()),
                        field.node.directives.len(),
                    )
                }
                Selection::InlineFragment(fragment) => (
                    self.selection_set(&fragment.node.selection_set.node)?,
                    0,
                    0,
                    fragment.node.directives.len(),
                ),
                Selection::FragmentSpread(spread) => (
                    self.fragment(spread.node.fragment_name.node.as_str())?,
                    0,
                    0,
                    spread.node.directives.len(),
                ),
            };
            shape.fields = shape
                .fields
                .saturating_add(inner.fields)
                .saturating_add(own_fields);
            shape.aliases = shape
                .aliases
                .saturating_add(inner.aliases)
                .saturating_add(own_aliases);
            shape.directives = shape
                .directives
                .saturating_add(inner.directives)
                .saturating_add(own_directives);
            shape.depth = shape.depth.max(inner.depth);
            self.check(shape)?;
        }
        Ok(shape)
    }

    fn fragment(&mut self, name: &'a str) -> Result<Shape, Refusal> {
        if let Some(shape) = self.memo.get(name) {
            return Ok(*shape);
        }
        if self.visiting.contains(&name) {
            return Err(Refusal(format!("fragment {name} spreads itself")));
        }
        let Some((key, fragment)) = self.doc.fragments.get_key_value(name) else {
            return Ok(Shape::default()); // reported by validation
        };
        self.visiting.push(key.as_str());
        let shape = self.selection_set(&fragment.node.selection_set.node)?;
        self.visiting.pop();
        self.memo.insert(key.as_str(), shape);
        Ok(shape)
    }

    fn check(&self, shape: Shape) -> Result<(), Refusal> {
        let l = self.limits;
        if shape.fields > l.max_fields {
            return Err(Refusal(format!(
                "the document selects more than {} fields (fragments expanded)",
                l.max_fields
            )));
        }
        if shape.depth > l.max_depth {
            return Err(Refusal(format!(
                "the document is deeper than {} levels",
                l.max_depth
            )));
        }
        if shape.aliases > l.max_aliases {
            return Err(Refusal(format!(
                "the document has more than {} aliases",
                l.max_aliases
            )));
        }
        if shape.directives > l.max_directives {
            return Err(Refusal(format!(
                "the document has more than {} directives",
                l.max_directives
            )));
        }
        Ok(())
    }
}

/// The mutations that check a password or a refresh token. Each costs a slow hash and a
/// throttle write, so a document holds at most one of them: thirty aliased logins in one
/// request would otherwise cost the price of thirty cheap fields.
const SIGN_INS: [&str; 2] = ["login", "refreshSession"];

/// What a mutation's top level selects, through fragments too: sign-in fields and others.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TopLevel {
    /// `login` and `refreshSession` fields.
    pub sign_ins: usize,
    /// Of those, `login` fields.
    pub logins: usize,
    /// Every other field but `__typename`.
    pub others: usize,
}

impl TopLevel {
    /// Counts the top level of `set`.
    pub fn of(doc: &ExecutableDocument, set: &SelectionSet) -> Self {
        let mut counts = Self::default();
        counts.add(doc, set, &mut Vec::new());
        counts
    }

    /// Whether the operation only logs in, so that it writes nothing but sign-in
    /// bookkeeping, and only once it holds a turn to hash a password.
    pub fn only_logs_in(self) -> bool {
        self.logins > 0 && self.logins == self.sign_ins && self.others == 0
    }

    fn add(&mut self, doc: &ExecutableDocument, set: &SelectionSet, seen: &mut Vec<String>) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => match field.node.name.node.as_str() {
                    name if SIGN_INS.contains(&name) => {
                        self.sign_ins += 1;
                        self.logins += usize::from(name == "login");
                    }
                    "__typename" => {}
                    _ => self.others += 1,
                },
                Selection::InlineFragment(fragment) => {
                    self.add(doc, &fragment.node.selection_set.node, seen);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if seen.iter().any(|s| s == name) {
                        continue; // a cycle, refused by the shape check
                    }
                    seen.push(name.to_owned());
                    if let Some(fragment) = doc.fragments.get(name) {
                        self.add(doc, &fragment.node.selection_set.node, seen);
                    }
                }
            }
        }
    }
}

/// Checks the shape of a parsed document, expanding each fragment once (memoised, so
/// fan-out cannot blow up the work) and refusing cycles; a mutation may sign in once.
///
/// # Errors
/// A refusal naming the limit.
pub fn check_document(doc: &ExecutableDocument, limits: &Limits) -> Result<(), Refusal> {
    let mut walker = Walker {
        doc,
        limits,
        memo: HashMap::new(),
        visiting: Vec::new(),
    };
    for (name, _) in doc.fragments.iter() {
        walker.fragment(name.as_str())?;
    }
    for (_, operation) in doc.operations.iter() {
        walker.selection_set(&operation.node.selection_set.node)?;
        if operation.node.ty == OperationType::Mutation
            && TopLevel::of(doc, &operation.node.selection_set.node).sign_ins > 1
        {
            return Err(Refusal(
                "a request may sign in once: one login or refreshSession per document".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Limits with room for `tokens` tokens and `nesting` levels, the rest as deployed.
    fn limits(tokens: usize, nesting: usize) -> Limits {
        Limits {
            max_tokens: tokens,
            max_nesting: nesting,
            ..Limits::default()
        }
    }

    /// The fewest tokens `query` passes with, found by trying.
    fn tokens(query: &str) -> usize {
        (0..10_000)
            .find(|n| check_text(query, &limits(*n, 1_000)).is_ok())
            .expect("fewer than 10000 tokens")
    }

    fn refusal(query: &str, limits: &Limits) -> String {
        check_text(query, limits).expect_err("refused").0
    }

    #[test]
    fn punctuation_names_and_numbers_are_tokens_and_separators_are_not() {
        assert_eq!(tokens("{ a(b: 1) }"), 8);
        assert_eq!(tokens("{a(b:1)}"), 8);
        assert_eq!(tokens("{ a, b,,, c }"), 5, "commas are insignificant");
        assert_eq!(
            tokens("-1.5e+3"),
            1,
            "a number with sign, point and exponent"
        );
        assert_eq!(tokens("$x"), 2);
        assert_eq!(tokens("..."), 3, "each dot of a spread counts");
        assert_eq!(tokens("@include"), 2);
        assert_eq!(tokens(""), 0);
        assert_eq!(tokens(" \t\r\n"), 0);
    }

    #[test]
    fn the_token_limit_is_inclusive_and_named_in_the_refusal() {
        let query = "{ a(b: 1) }";
        assert!(check_text(query, &limits(8, 30)).is_ok());
        assert_eq!(
            refusal(query, &limits(7, 30)),
            "the document has more than 7 tokens"
        );
    }

    #[test]
    fn comments_hold_no_tokens_and_end_at_a_line_terminator() {
        assert_eq!(tokens("# { [ ( \" \n{ a }"), 3);
        assert_eq!(tokens("{ a } # trailing, no newline"), 3);
        // `\r` alone ends a comment for the parser too: what follows is not hidden.
        assert_eq!(tokens("# comment\r{ a }"), 3);
        let hidden = format!("# comment\r{}", "{ a ".repeat(50));
        assert!(
            refusal(&hidden, &limits(4_000, 30)).contains("nests deeper than 30"),
            "braces after a carriage return count"
        );
    }

    #[test]
    fn a_string_is_one_token_and_its_content_neither_tokens_nor_nesting() {
        assert_eq!(tokens(r#""{ [ ( # not a comment""#), 1);
        assert_eq!(tokens(r#"f(s: "a b c")"#), 6);
        let braces_in_string = format!("{{ a(s: \"{}\") }}", "{".repeat(100));
        assert!(check_text(&braces_in_string, &limits(100, 3)).is_ok());
    }

    #[test]
    fn escapes_do_not_end_a_string() {
        assert_eq!(tokens(r#""say \"{{{\" twice""#), 1);
        assert_eq!(tokens(r#""a backslash \\" b"#), 2, "an escaped backslash");
        assert_eq!(tokens(r#""\u00e4 {""#), 1);
    }

    #[test]
    fn a_string_ends_at_a_newline_and_an_unterminated_one_at_the_end() {
        assert_eq!(tokens("\"open\n{ a }"), 4);
        assert_eq!(tokens("{ a(s: \"never closed"), 6);
        assert_eq!(tokens("\"\\"), 1, "a trailing escape");
    }

    #[test]
    fn block_strings_span_lines_and_hold_quotes() {
        assert_eq!(tokens("\"\"\"line one\n{ \" \"\" line two\"\"\""), 1);
        assert_eq!(tokens("\"\"\"\"\"\" { a }"), 4, "an empty block string");
        assert_eq!(tokens("\"\"\" { never closed"), 1);
        // An escaped triple quote ends the block early here, so the rest counts: more
        // tokens than the parser sees, never fewer.
        assert!(tokens(r#"""" a \""" b """"#) >= 1);
    }

    #[test]
    fn nesting_is_counted_across_bracket_kinds_and_limited_inclusively() {
        assert!(check_text("{ a(b: [1]) }", &limits(100, 3)).is_ok());
        assert_eq!(
            refusal("{ a(b: [[1]]) }", &limits(100, 3)),
            "the document nests deeper than 3 levels"
        );
        let deep = format!("{}{}", "{ a ".repeat(30), "}".repeat(30));
        assert!(check_text(&deep, &limits(4_000, 30)).is_ok());
        let deeper = format!("{}{}", "{ a ".repeat(31), "}".repeat(31));
        assert!(check_text(&deeper, &limits(4_000, 30)).is_err());
    }

    #[test]
    fn closers_without_openers_do_not_buy_depth() {
        let query = format!("{}{}", "}".repeat(10), "{".repeat(4));
        assert!(check_text(&query, &limits(100, 3)).is_err());
        let siblings = "{ a } { b } { c } { d }";
        assert!(
            check_text(siblings, &limits(100, 1)).is_ok(),
            "depth returns"
        );
    }

    #[test]
    fn the_length_limit_comes_first_and_names_both_sizes() {
        let small = Limits {
            max_query_bytes: 10,
            ..Limits::default()
        };
        assert!(check_text("{ a b c }", &small).is_ok());
        assert_eq!(
            refusal("{ a b c d e }", &small),
            "the document is 13 bytes; the limit is 10"
        );
    }

    #[test]
    fn any_bytes_are_lexed_without_panicking() {
        for text in [
            "ä ö {",
            "\u{feff}{ a }",
            "\"\u{1f600}",
            "#\u{1f600}",
            "\\",
            "\"\"",
            "\"\"\"\"",
        ] {
            let _ = check_text(text, &Limits::default());
        }
    }

    #[test]
    fn shape_limits_expand_fragments_once_and_refuse_cycles() {
        let check = |query: &str, limits: &Limits| {
            let document = async_graphql::parser::parse_query(query).expect("parses");
            check_document(&document, limits).map_err(|r| r.0)
        };
        let defaults = Limits::default();
        assert!(check("{ a { b } }", &defaults).is_ok());
        let shallow = Limits {
            max_depth: 2,
            ..Limits::default()
        };
        assert!(check("{ a { b } }", &shallow).is_ok());
        let error = check("query { a { ...F } } fragment F on T { b { c } }", &shallow)
            .expect_err("deeper through the fragment");
        assert!(error.contains("deeper than 2"), "{error}");
        let error = check(
            "query { ...A } fragment A on Query { a ...B } fragment B on Query { b ...A }",
            &defaults,
        )
        .expect_err("cycle");
        assert!(error.contains("spreads itself"), "{error}");
        let few_aliases = Limits {
            max_aliases: 1,
            ..Limits::default()
        };
        assert!(check("{ x: a y: a }", &few_aliases).is_err());
    }
}
