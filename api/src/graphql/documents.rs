//! Parsed documents by their text. Partner sites send the same few queries again and
//! again; parsing was the largest single cost of a small query (about 30% of the work of
//! W1 in the benchmark's profile), so a document that passed the limits once is kept and
//! handed to the engine (`Request::set_parsed_query`) instead of being parsed again.

use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// How many distinct documents are kept; past that, the least recently used goes.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(256).expect("not zero");

/// Documents that parsed and passed the shape limits, by their text.
pub struct DocumentCache {
    entries: Mutex<LruCache<String, Arc<ExecutableDocument>>>,
}

impl Default for DocumentCache {
    fn default() -> Self {
        Self {
            entries: Mutex::new(LruCache::new(CAPACITY)),
        }
    }
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
        if let Some(document) = self
            .entries
            .lock()
            .ok()
            .and_then(|mut e| e.get(query).cloned())
        {
            return Ok(document);
        }
        let document = async_graphql::parser::parse_query(query)
            .map_err(|e| format!("the document does not parse: {e}"))?;
        check(&document)?;
        let document = Arc::new(document);
        if let Ok(mut entries) = self.entries.lock() {
            entries.put(query.to_owned(), document.clone());
        }
        Ok(document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_document_goes_first() {
        let cache = DocumentCache::default();
        let query = |i: usize| format!("{{ a{i} }}");
        for i in 0..CAPACITY.get() {
            cache.get_or_parse(&query(i), |_| Ok(())).expect("parses");
        }
        // Used again, so the second document is now the oldest.
        let first = cache.get_or_parse(&query(0), |_| Err("not parsed again".into()));
        assert!(first.is_ok());
        cache
            .get_or_parse("{ one_more }", |_| Ok(()))
            .expect("parses");
        let kept = |i: usize| cache.get_or_parse(&query(i), |_| Err("parsed again".into()));
        assert!(kept(0).is_ok(), "recently used: kept");
        assert!(kept(1).is_err(), "least recently used: gone");
        assert_eq!(
            cache.entries.lock().map(|e| e.len()).ok(),
            Some(CAPACITY.get())
        );
    }

    #[test]
    fn documents_that_fail_the_check_are_not_kept() {
        let cache = DocumentCache::default();
        assert!(
            cache
                .get_or_parse("{ a }", |_| Err("too deep".into()))
                .is_err()
        );
        assert!(
            cache.get_or_parse("{ a", |_| Ok(())).is_err(),
            "does not parse"
        );
        assert_eq!(cache.entries.lock().map(|e| e.len()).ok(), Some(0));
    }
}
