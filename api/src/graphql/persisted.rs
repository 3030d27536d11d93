//! Persisted queries: a client sends the SHA-256 of a document instead of its text, so that
//! a partner page's request is a short GET a browser or a CDN can cache.
//!
//! - **Automatic** (Apollo's protocol): `extensions.persistedQuery.sha256Hash` (version 1).
//!   An unknown hash is answered `PERSISTED_QUERY_NOT_FOUND`; the client then sends the
//!   text with the hash once, and the server keeps it ([`LEARNED`] documents, least
//!   recently used first out).
//! - **Registered** documents never go: the widget's, and those of a manifest file
//!   (`SAMVERKAN_PERSISTED_QUERIES`).
//! - **Persisted only** (`SAMVERKAN_PERSISTED_ONLY`): anonymous and partner callers run
//!   registered documents only, by hash or by text; signed-in users (the network's own
//!   frontends and GraphiQL) may still send any document.

use crate::auth::secrets::sha256_hex;
use lru::LruCache;
use serde_json::Value;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// How many documents learned from clients are kept.
pub const LEARNED: NonZeroUsize = NonZeroUsize::new(1024).expect("not zero");

/// The documents the server knows by hash.
pub struct PersistedQueries {
    registered: HashMap<String, Arc<str>>,
    learned: Mutex<LruCache<String, Arc<str>>>,
    only: bool,
}

/// Why a request's document cannot be found or may not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The hash is unknown: send the text with it.
    NotFound,
    /// The text's hash is not the one sent.
    HashMismatch,
    /// `extensions.persistedQuery` is not version 1 with a hex SHA-256.
    Malformed,
    /// Persisted only: the document is not registered.
    NotInList,
}

impl Refusal {
    /// The error's code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "PERSISTED_QUERY_NOT_FOUND",
            Self::HashMismatch => "PROVIDED_SHA_DOES_NOT_MATCH",
            Self::Malformed => "BAD_REQUEST",
            Self::NotInList => "PERSISTED_QUERY_NOT_IN_LIST",
        }
    }

    /// The error's message. `PersistedQueryNotFound` is the exact text older Apollo
    /// clients look for.
    pub fn message(&self) -> &'static str {
        match self {
            Self::NotFound => "PersistedQueryNotFound",
            Self::HashMismatch => "the provided sha256Hash does not match the query",
            Self::Malformed => {
                "extensions.persistedQuery must be { version: 1, sha256Hash: <64 hex digits> }"
            }
            Self::NotInList => {
                "this server runs only registered documents: send the sha256Hash of one"
            }
        }
    }
}

/// A document to run, and whether to remember it once it has passed the checks.
#[derive(Debug)]
pub struct Found {
    /// The document's text.
    pub query: String,
    /// `Some(hash)` when the client registered the text with its hash.
    pub learn: Option<String>,
}

impl PersistedQueries {
    /// The store with `registered` documents (hash is computed here) and the mode.
    pub fn new(registered: impl IntoIterator<Item = String>, only: bool) -> Self {
        Self {
            registered: registered
                .into_iter()
                .map(|text| (sha256_hex(text.as_bytes()), Arc::from(text)))
                .collect(),
            learned: Mutex::new(LruCache::new(LEARNED)),
            only,
        }
    }

    /// The text of the document a request names: its `query`, or the one its
    /// `extensions.persistedQuery` names. `trusted` callers (signed-in users) may send any
    /// text even when only registered documents run.
    ///
    /// # Errors
    /// Why the document cannot run; a request with neither text nor hash is not refused
    /// here (`query: None` comes back for the caller to refuse).
    pub fn find(
        &self,
        query: Option<String>,
        extensions: Option<&Value>,
        trusted: bool,
    ) -> Result<Option<Found>, Refusal> {
        let hash = match extensions.and_then(|e| e.get("persistedQuery")) {
            None | Some(Value::Null) => None,
            Some(persisted) => Some(hash_of(persisted).ok_or(Refusal::Malformed)?),
        };
        let registered = |hash: &str| self.registered.get(hash).map(|text| text.to_string());
        match (query, hash) {
            (Some(query), Some(hash)) => {
                if sha256_hex(query.as_bytes()) != hash {
                    return Err(Refusal::HashMismatch);
                }
                if registered(&hash).is_some() {
                    Ok(Some(Found { query, learn: None }))
                } else if self.only && !trusted {
                    Err(Refusal::NotInList)
                } else {
                    Ok(Some(Found {
                        query,
                        learn: Some(hash),
                    }))
                }
            }
            (None, Some(hash)) => {
                if let Some(query) = registered(&hash) {
                    return Ok(Some(Found { query, learn: None }));
                }
                if self.only && !trusted {
                    return Err(Refusal::NotInList);
                }
                let learned = self
                    .learned
                    .lock()
                    .ok()
                    .and_then(|mut learned| learned.get(&hash).map(|text| text.to_string()));
                learned
                    .map(|query| Some(Found { query, learn: None }))
                    .ok_or(Refusal::NotFound)
            }
            (Some(query), None) => {
                if self.only && !trusted && registered(&sha256_hex(query.as_bytes())).is_none() {
                    Err(Refusal::NotInList)
                } else {
                    Ok(Some(Found { query, learn: None }))
                }
            }
            (None, None) => Ok(None),
        }
    }

    /// Whether only registered documents run for callers who are not trusted.
    pub fn only(&self) -> bool {
        self.only
    }

    /// Whether the document of `hash` is known here.
    pub fn knows(&self, hash: &str) -> bool {
        self.registered.contains_key(hash)
            || self
                .learned
                .lock()
                .is_ok_and(|learned| learned.contains(hash))
    }

    /// Keeps a document a client registered, once it has passed the checks.
    pub fn learn(&self, hash: String, query: &str) {
        if let Ok(mut learned) = self.learned.lock() {
            learned.put(hash, Arc::from(query));
        }
    }
}

/// The hash a request names without its text (`extensions.persistedQuery`), if any.
pub fn named_hash(query: Option<&str>, extensions: Option<&Value>) -> Option<String> {
    if query.is_some() {
        return None;
    }
    hash_of(extensions?.get("persistedQuery")?)
}

/// The documents clients taught any server process on one PostgreSQL database, so that a
/// client need not teach each process behind a load balancer: a process that does not know
/// a hash looks here before it answers `PERSISTED_QUERY_NOT_FOUND`. At most [`SHARED`]
/// are kept, the newest.
pub struct SharedDocuments {
    db: sea_orm::DatabaseConnection,
    kept: std::sync::atomic::AtomicUsize,
    /// Hashes looked up and not found lately, and when: asked again only after
    /// [`MISS_KEPT`], so that a stream of unknown hashes costs few reads.
    missed: Mutex<LruCache<String, std::time::Instant>>,
}

/// How long a hash not found is not looked up again.
const MISS_KEPT: std::time::Duration = std::time::Duration::from_secs(1);

/// How many documents the database keeps for all processes.
pub const SHARED: u64 = 4 * LEARNED.get() as u64;

impl SharedDocuments {
    /// The store in `db` when it is PostgreSQL; SQLite has one server process.
    pub fn over(db: &sea_orm::DatabaseConnection) -> Option<Arc<Self>> {
        (db.get_database_backend() == sea_orm::DatabaseBackend::Postgres).then(|| {
            Arc::new(Self {
                db: crate::db::detached(db),
                kept: std::sync::atomic::AtomicUsize::new(0),
                missed: Mutex::new(LruCache::new(LEARNED)),
            })
        })
    }

    /// The document of `hash`, if a process learned it.
    pub async fn find(&self, hash: &str) -> Option<String> {
        use sea_orm::EntityTrait;
        let missed_lately = self
            .missed
            .lock()
            .is_ok_and(|mut missed| missed.get(hash).is_some_and(|at| at.elapsed() < MISS_KEPT));
        if missed_lately {
            return None;
        }
        let found = entity::persisted_document::Entity::find_by_id(hash.to_owned())
            .one(&self.db)
            .await
            .ok()
            .flatten()
            .map(|row| row.document);
        if found.is_none()
            && let Ok(mut missed) = self.missed.lock()
        {
            missed.put(hash.to_owned(), std::time::Instant::now());
        }
        found
    }

    /// Keeps a learned document for every process (in the background: the request does
    /// not wait; called once the document ran within its caller's budget), and every 64
    /// documents drops all but the newest [`SHARED`].
    pub fn keep(self: &Arc<Self>, hash: String, document: String) {
        use entity::persisted_document as row;
        use sea_orm::{
            ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
        };
        let store = self.clone();
        tokio::spawn(async move {
            let new = row::ActiveModel {
                hash: Set(hash),
                document: Set(document),
                learned_at: Set(crate::validate::now()),
            };
            let kept = row::Entity::insert(new)
                .on_conflict(
                    sea_orm::sea_query::OnConflict::column(row::Column::Hash)
                        .do_nothing()
                        .to_owned(),
                )
                .exec_without_returning(&store.db)
                .await;
            if let Err(error) = kept {
                tracing::warn!(%error, "a persisted query could not be shared");
                return;
            }
            if store
                .kept
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                % 64
                != 63
            {
                return;
            }
            let oldest_kept: Option<chrono::DateTime<chrono::Utc>> = row::Entity::find()
                .select_only()
                .column(row::Column::LearnedAt)
                .order_by_desc(row::Column::LearnedAt)
                .offset(SHARED - 1)
                .limit(1)
                .into_tuple()
                .one(&store.db)
                .await
                .ok()
                .flatten();
            if let Some(oldest) = oldest_kept {
                let _ = row::Entity::delete_many()
                    .filter(row::Column::LearnedAt.lt(oldest))
                    .exec(&store.db)
                    .await;
            }
        });
    }
}

/// The hash of `{ version: 1, sha256Hash }`, lower case.
fn hash_of(persisted: &Value) -> Option<String> {
    if persisted.get("version").and_then(Value::as_u64) != Some(1) {
        return None;
    }
    let hash = persisted.get("sha256Hash")?.as_str()?;
    (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hash.to_ascii_lowercase())
}

/// The documents of a manifest file: Apollo's persisted query manifest
/// (`{"format": "apollo-persisted-query-manifest", "operations": [{"body": ...}]}`) or a
/// plain object of hashes to documents (GraphQL Code Generator's `persisted-documents.json`).
///
/// # Errors
/// Why the file cannot be used.
pub fn read_manifest(text: &str) -> Result<Vec<String>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("is not JSON ({e})"))?;
    let documents: Vec<String> = match value.get("operations") {
        Some(Value::Array(operations)) => operations
            .iter()
            .map(|op| op.get("body").and_then(Value::as_str).map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or("has an operation without a body")?,
        _ => value
            .as_object()
            .ok_or("must be an object")?
            .values()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or("must map hashes to document texts")?,
    };
    Ok(documents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn persisted(query: &str) -> Value {
        json!({ "persistedQuery": { "version": 1, "sha256Hash": sha256_hex(query.as_bytes()) } })
    }

    #[test]
    fn an_unknown_hash_is_learned_from_the_text_sent_once() {
        let store = PersistedQueries::new([], false);
        let query = "{ viewer { kind } }";
        let by_hash = || store.find(None, Some(&persisted(query)), false);
        assert_eq!(by_hash().expect_err("refused"), Refusal::NotFound);
        let wrong = json!({ "persistedQuery": { "version": 1, "sha256Hash": "0".repeat(64) } });
        assert_eq!(
            store
                .find(Some(query.into()), Some(&wrong), false)
                .expect_err("refused"),
            Refusal::HashMismatch
        );
        let found = store
            .find(Some(query.into()), Some(&persisted(query)), false)
            .expect("found")
            .expect("some");
        store.learn(found.learn.expect("to learn"), &found.query);
        assert_eq!(by_hash().expect("found").expect("some").query, query);
        let malformed = json!({ "persistedQuery": { "version": 2, "sha256Hash": "x" } });
        assert_eq!(
            store
                .find(None, Some(&malformed), false)
                .expect_err("refused"),
            Refusal::Malformed
        );
    }

    #[test]
    fn persisted_only_runs_registered_documents_for_callers_not_signed_in() {
        let registered = "{ organisations { totalCount } }";
        let store = PersistedQueries::new([registered.to_owned()], true);
        let other = "{ viewer { kind } }";
        for (query, extensions, allowed) in [
            (None, Some(persisted(registered)), true),
            (Some(registered), None, true),
            (Some(other), None, false),
            (Some(other), Some(persisted(other)), false),
            (None, Some(persisted(other)), false),
        ] {
            let found = store.find(query.map(str::to_owned), extensions.as_ref(), false);
            assert_eq!(found.is_ok(), allowed, "{query:?}");
            if !allowed {
                assert_eq!(found.expect_err("refused"), Refusal::NotInList);
            }
            let trusted = store.find(query.map(str::to_owned), extensions.as_ref(), true);
            assert!(
                trusted.is_ok() || query.is_none(),
                "signed-in users may send text"
            );
        }
    }

    #[test]
    fn manifests_of_both_kinds_are_read() {
        let apollo = r#"{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"x","name":"A","type":"query","body":"query A { viewer { kind } }"}]}"#;
        assert_eq!(
            read_manifest(apollo).expect("read"),
            vec!["query A { viewer { kind } }".to_owned()]
        );
        let plain = r#"{"abc":"query B { viewer { kind } }"}"#;
        assert_eq!(read_manifest(plain).expect("read").len(), 1);
        assert!(read_manifest("[1]").is_err());
        assert!(read_manifest(r#"{"operations":[{"id":"x"}]}"#).is_err());
    }
}
