//! The JSON text of an answer, written straight from the engine's values.
//!
//! The bytes are exactly what `serde_json` writes for the same [`Response`]: the same key
//! order, the same escapes, the same numbers. What differs is the way there. Through serde,
//! every value is a call into the serializer, and every string is escaped byte by byte with
//! a table lookup each; on a page of fifty organisations with their dialogues that was a
//! tenth of the server's work. Here a string is scanned sixteen bytes at a time, and one
//! with nothing to escape (nearly every name and title) is copied whole. The rare string
//! that needs escapes, numbers and bytes still go to `serde_json`, so their forms stay its.

use async_graphql::{Response, ServerError, Value};

/// Whether `bytes` hold a character that JSON escapes: a control character, `"` or `\`.
fn needs_escape(bytes: &[u8]) -> bool {
    // Sixteen bytes at a time, each block tested in one go (a fold without an early exit),
    // the last few padded with spaces to a block of their own: the strings of an answer are
    // short, and testing their ends byte by byte cost as much as the rest.
    fn block(bytes: &[u8; 16]) -> bool {
        bytes.iter().fold(false, |found, &b| {
            found | (b < 0x20) | (b == b'"') | (b == b'\\')
        })
    }
    let mut blocks = bytes.chunks_exact(16);
    let mut found = false;
    for whole in blocks.by_ref() {
        found |= whole.try_into().is_ok_and(block);
    }
    let rest = blocks.remainder();
    let mut last = [b' '; 16];
    last[..rest.len()].copy_from_slice(rest);
    found | block(&last)
}

/// Appends `text` as a JSON string.
pub(super) fn write_str(out: &mut Vec<u8>, text: &str) {
    if needs_escape(text.as_bytes()) {
        // Writing to a vector cannot fail, and a `str` is always serializable.
        let _ = serde_json::to_writer(&mut *out, text);
    } else {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
}

/// Appends `value` as JSON.
pub(super) fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Boolean(true) => out.extend_from_slice(b"true"),
        Value::Boolean(false) => out.extend_from_slice(b"false"),
        Value::String(text) => write_str(out, text),
        Value::Enum(name) => write_str(out, name),
        Value::List(items) => {
            out.push(b'[');
            for (at, item) in items.iter().enumerate() {
                if at > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(fields) => {
            out.push(b'{');
            for (at, (name, field)) in fields.iter().enumerate() {
                if at > 0 {
                    out.push(b',');
                }
                write_str(out, name);
                out.push(b':');
                write_value(out, field);
            }
            out.push(b'}');
        }
        Value::Number(_) | Value::Binary(_) => {
            let _ = serde_json::to_writer(&mut *out, value);
        }
    }
}

/// Appends `errors` as JSON.
fn write_errors(out: &mut Vec<u8>, errors: &[ServerError]) {
    // A `ServerError` is messages, positions, paths and values: serializable, into a vector.
    let _ = serde_json::to_writer(&mut *out, errors);
}

/// Appends `data`, written already, or the response's own.
fn write_data(out: &mut Vec<u8>, response: &Response, data: Option<&[u8]>) {
    match data {
        Some(data) => out.extend_from_slice(data),
        None => write_value(out, &response.data),
    }
}

/// The JSON text of `response`: `data` (or `data`, its JSON text written already), then
/// `extensions` and `errors` if there are any.
pub fn response(response: &Response, data: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.map_or(1024, |data| data.len() + 256));
    out.extend_from_slice(b"{\"data\":");
    write_data(&mut out, response, data);
    if !response.extensions.is_empty() {
        out.extend_from_slice(b",\"extensions\":");
        let _ = serde_json::to_writer(&mut out, &response.extensions);
    }
    if !response.errors.is_empty() {
        out.extend_from_slice(b",\"errors\":");
        write_errors(&mut out, &response.errors);
    }
    out.push(b'}');
    out
}

/// The JSON text of what `response` says, for its `ETag`: `data` (or `data`, as in
/// [`response`]) and `errors` (an empty list included), without `extensions`.
pub fn said(response: &Response, data: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.map_or(1024, |data| data.len() + 32));
    out.extend_from_slice(b"{\"data\":");
    write_data(&mut out, response, data);
    out.extend_from_slice(b",\"errors\":");
    write_errors(&mut out, &response.errors);
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::{Name, Number, indexmap::IndexMap};

    fn object(fields: Vec<(&str, Value)>) -> Value {
        Value::Object(
            fields
                .into_iter()
                .map(|(name, value)| (Name::new(name), value))
                .collect::<IndexMap<_, _>>(),
        )
    }

    /// Every kind of value, and strings with each kind of escape at each place in a chunk.
    fn sample() -> Value {
        let mut texts = vec![
            String::new(),
            "Örebro län".to_owned(),
            "Socialdepartementet – möte".to_owned(),
            "\u{7f}\u{80}\u{2028}emoji 🙂".to_owned(),
        ];
        for special in [
            '"', '\\', '\n', '\r', '\t', '\u{8}', '\u{c}', '\u{0}', '\u{1f}',
        ] {
            for at in [0, 7, 15, 16, 17, 31, 40] {
                let mut text: String = "abcdefghijklmnopqrstuvwxyzåäöABCDEFGHIJ".to_owned();
                let at = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
                text.insert(at, special);
                texts.push(text);
            }
        }
        object(vec![
            ("null", Value::Null),
            ("yes", Value::Boolean(true)),
            ("no", Value::Boolean(false)),
            ("int", Value::Number(Number::from(-42))),
            ("big", Value::Number(Number::from(u64::MAX))),
            (
                "float",
                Value::Number(Number::from_f64(0.1 + 0.2).expect("finite")),
            ),
            ("enum", Value::Enum(Name::new("SUBMITTED"))),
            ("bytes", Value::Binary(vec![0, 1, 255].into())),
            (
                "texts",
                Value::List(texts.into_iter().map(Value::String).collect()),
            ),
            ("key \"with\" quotes\n", Value::List(vec![])),
            ("empty", object(vec![])),
            (
                "nested",
                Value::List(vec![object(vec![(
                    "inner",
                    Value::List(vec![Value::Null, object(vec![("a", Value::from("b"))])]),
                )])]),
            ),
        ])
    }

    #[test]
    fn a_value_is_written_as_serde_json_writes_it() {
        let value = sample();
        let mut ours = Vec::new();
        write_value(&mut ours, &value);
        assert_eq!(
            String::from_utf8(ours).expect("UTF-8"),
            serde_json::to_string(&value).expect("serializable")
        );
    }

    #[test]
    fn a_response_is_written_as_serde_json_writes_it() {
        let mut answer = Response::new(sample());
        assert_eq!(
            response(&answer, None),
            serde_json::to_vec(&answer).expect("serializable")
        );
        answer
            .extensions
            .insert("cost".into(), object(vec![("limit", Value::from(100))]));
        let mut error = ServerError::new("fel \"här\"", None);
        error.path = vec![async_graphql::PathSegment::Field("name".into())];
        answer.errors.push(error);
        assert_eq!(
            response(&answer, None),
            serde_json::to_vec(&answer).expect("serializable")
        );
        let errors_only = Response::from_errors(vec![ServerError::new("nej", None)]);
        assert_eq!(
            response(&errors_only, None),
            serde_json::to_vec(&errors_only).expect("serializable")
        );
    }

    #[test]
    fn what_an_answer_says_is_written_as_serde_json_writes_it() {
        #[derive(serde::Serialize)]
        struct Said<'a> {
            data: &'a Value,
            errors: &'a [ServerError],
        }
        for answer in [
            Response::new(sample()),
            Response::from_errors(vec![ServerError::new("nej", None)]),
        ] {
            let expected = serde_json::to_vec(&Said {
                data: &answer.data,
                errors: &answer.errors,
            })
            .expect("serializable");
            assert_eq!(said(&answer, None), expected);
        }
    }
}
