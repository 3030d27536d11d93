//! Parsed documents by their text. Partner sites send the same few queries again and
//! again; parsing was the largest single cost of a small query (about 30% of the work of
//! W1 in the benchmark's profile), so a document that passed the limits once is kept and
//! handed to the engine (`Request::set_parsed_query`) instead of being parsed again.
//!
//! Validating it in full was the next largest (about 16% of W1): the entry also remembers
//! which schemas have validated it, and what it cost, so that the next request with the
//! same text is only charged that cost ([`Parsed::validated`]).

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument};
use lru::LruCache;
use std::num::NonZeroUsize;
use std::ops::Deref;
use std::sync::{Arc, Mutex, OnceLock};

/// A parsed document, and which of the server's schemas have validated it in full, with
/// the cost each computed.
pub struct Parsed {
    document: ExecutableDocument,
    /// By schema: the anonymous callers' (0), the others' (1).
    validated: [OnceLock<usize>; 2],
    /// The plan of its operation, made on its first run without preparation; `None` when
    /// plans do not cover it.
    plan: OnceLock<Option<super::compiled::Plan>>,
}

impl Deref for Parsed {
    type Target = ExecutableDocument;

    fn deref(&self) -> &ExecutableDocument {
        &self.document
    }
}

impl Parsed {
    fn new(document: ExecutableDocument) -> Self {
        Self {
            document,
            validated: [OnceLock::new(), OnceLock::new()],
            plan: OnceLock::new(),
        }
    }

    /// Whether the validation of this document can be taken as read for any request that
    /// sends it: it has one operation, and that operation has no variables. (A request can
    /// only name that operation or fail, and the full validation reads the variables'
    /// values, which change from one request to the next.)
    fn request_independent(&self) -> bool {
        match &self.document.operations {
            DocumentOperations::Single(operation) => operation.node.variable_definitions.is_empty(),
            DocumentOperations::Multiple(operations) => {
                operations.len() == 1
                    && operations
                        .values()
                        .all(|operation| operation.node.variable_definitions.is_empty())
            }
        }
    }

    /// The plan of `operation`, this document's operation, made once.
    pub fn plan(
        &self,
        operation: &async_graphql::Positioned<async_graphql::parser::types::OperationDefinition>,
    ) -> Option<&super::compiled::Plan> {
        self.plan
            .get_or_init(|| super::compiled::Plan::of(operation))
            .as_ref()
    }

    /// The cost of this document, when the schema of anonymous callers (or of the others)
    /// has validated it in full, so that any request sending it passes that validation as
    /// well, at that cost.
    pub fn validated(&self, anonymous: bool) -> Option<usize> {
        self.validated[usize::from(!anonymous)].get().copied()
    }

    /// Records that the schema of anonymous callers (or of the others) validated this
    /// document in full, found it valid and priced it at `cost`; kept only when that holds
    /// for every request that sends it.
    pub fn passed_validation(&self, anonymous: bool, cost: usize) {
        if self.request_independent() {
            let _ = self.validated[usize::from(!anonymous)].set(cost);
        }
    }

    /// A copy of the document, for the engine.
    pub fn document(&self) -> ExecutableDocument {
        self.document.clone()
    }
}

/// How many distinct documents are kept; past that, the least recently used goes.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(256).expect("not zero");

/// Documents that parsed and passed the text and shape limits, by their text.
pub struct DocumentCache {
    entries: Mutex<LruCache<String, Arc<Parsed>>>,
}

impl Default for DocumentCache {
    fn default() -> Self {
        Self {
            entries: Mutex::new(LruCache::new(CAPACITY)),
        }
    }
}

impl DocumentCache {
    /// The parsed document of `query`: from the cache, or checked with `check_text`, then
    /// parsed and checked with `check` (only documents that pass both are kept). A document
    /// the cache holds passed them when it was parsed, so it is not checked again.
    ///
    /// # Errors
    /// Why the document does not pass `check_text`, does not parse, or does not pass `check`.
    pub fn get_or_parse(
        &self,
        query: &str,
        check_text: impl FnOnce(&str) -> Result<(), String>,
        check: impl FnOnce(&ExecutableDocument) -> Result<(), String>,
    ) -> Result<Arc<Parsed>, String> {
        if let Some(document) = self
            .entries
            .lock()
            .ok()
            .and_then(|mut e| e.get(query).cloned())
        {
            return Ok(document);
        }
        check_text(query)?;
        let document = async_graphql::parser::parse_query(query)
            .map_err(|e| format!("the document does not parse: {e}"))?;
        check(&document)?;
        let document = Arc::new(Parsed::new(document));
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
            cache
                .get_or_parse(&query(i), |_| Ok(()), |_| Ok(()))
                .expect("parses");
        }
        // Used again, so the second document is now the oldest.
        let first = cache.get_or_parse(&query(0), |_| Ok(()), |_| Err("not parsed again".into()));
        assert!(first.is_ok());
        cache
            .get_or_parse("{ one_more }", |_| Ok(()), |_| Ok(()))
            .expect("parses");
        let kept =
            |i: usize| cache.get_or_parse(&query(i), |_| Ok(()), |_| Err("parsed again".into()));
        assert!(kept(0).is_ok(), "recently used: kept");
        assert!(kept(1).is_err(), "least recently used: gone");
        assert_eq!(
            cache.entries.lock().map(|e| e.len()).ok(),
            Some(CAPACITY.get())
        );
    }

    #[test]
    fn only_documents_without_variables_stay_validated() {
        let cache = DocumentCache::default();
        let validated = |query: &str| {
            let parsed = cache
                .get_or_parse(query, |_| Ok(()), |_| Ok(()))
                .expect("parses");
            parsed.passed_validation(false, 7);
            let again = cache
                .get_or_parse(query, |_| Ok(()), |_| Ok(()))
                .expect("kept");
            (again.validated(true), again.validated(false))
        };
        assert_eq!(validated("{ a }"), (None, Some(7)), "by schema");
        assert_eq!(validated("query Q { a }"), (None, Some(7)));
        assert_eq!(validated("query Q($n: Int) { a(n: $n) }"), (None, None));
        assert_eq!(validated("query A { a } query B { b }"), (None, None));
    }

    #[test]
    fn documents_that_fail_the_check_are_not_kept() {
        let cache = DocumentCache::default();
        assert!(
            cache
                .get_or_parse("{ a }", |_| Ok(()), |_| Err("too deep".into()))
                .is_err()
        );
        assert!(
            cache.get_or_parse("{ a", |_| Ok(()), |_| Ok(())).is_err(),
            "does not parse"
        );
        let refused = cache.get_or_parse("{ b }", |_| Err("too long".into()), |_| Ok(()));
        assert_eq!(refused.err().as_deref(), Some("too long"));
        assert_eq!(cache.entries.lock().map(|e| e.len()).ok(), Some(0));
    }

    #[test]
    fn a_kept_document_is_not_checked_again() {
        let cache = DocumentCache::default();
        cache
            .get_or_parse("{ a }", |_| Ok(()), |_| Ok(()))
            .expect("parses");
        let again = cache.get_or_parse(
            "{ a }",
            |_| Err("text checked again".into()),
            |_| Err("shape checked again".into()),
        );
        assert!(again.is_ok());
    }
}
