//! Parsed documents by their text. Partner sites send the same few queries again and
//! again; parsing was the largest single cost of a small query (about 30% of the work of
//! W1 in the benchmark's profile), so a document that passed the limits once is kept and
//! handed to the engine (`Request::set_parsed_query`) instead of being parsed again.

use async_graphql::parser::types::ExecutableDocument;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many distinct documents are kept; when full, the cache starts over.
const CAPACITY: usize = 256;

/// Documents that parsed and passed the shape limits, by their text.
#[derive(Default)]
pub struct DocumentCache {
    entries: Mutex<HashMap<String, Arc<ExecutableDocument>>>,
}

impl DocumentCache {
    /// The parsed document of `query`: from the cache, or parsed and checked with `check`
    /// (only documents that pass are kept).
    ///
    /// # Errors
    /// Why the document does not parse or does not pass `check`.
    pub fn get_or_parse(
        &self,
        query: &str,
        check: impl FnOnce(&ExecutableDocument) -> Result<(), String>,
    ) -> Result<Arc<ExecutableDocument>, String> {
        if let Some(document) = self.entries.lock().ok().and_then(|e| e.get(query).cloned()) {
            return Ok(document);
        }
        let document = async_graphql::parser::parse_query(query)
            .map_err(|e| format!("the document does not parse: {e}"))?;
        check(&document)?;
        let document = Arc::new(document);
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(query.to_owned(), document.clone());
        }
        Ok(document)
    }
}
