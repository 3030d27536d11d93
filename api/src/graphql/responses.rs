//! Answers kept for a while: a partner page's GET of a query asks the same thing again and
//! again, so within `SAMVERKAN_CACHE_MAX_AGE_SECS` this server answers it from memory, as
//! a CDN in front of it would, instead of running it again.
//!
//! Only answers that any cache may keep are kept here (GET queries of anonymous and partner
//! callers, without errors), by caller (anonymous callers share; each partner token has its
//! own), document, operation and variables. Every mutation this process runs makes every
//! kept answer stale at once, so a change made through this process shows at the next
//! request; a change made through another process shows within the max age, as in the
//! browsers' and CDNs' caches. A hit is charged the cost of the query, as running it is.

use lru::LruCache;
use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The most answers kept.
const ENTRIES: NonZeroUsize = NonZeroUsize::new(1024).expect("not zero");
/// The most bytes of answers kept, all together.
const BYTES: usize = 16 * 1024 * 1024;
/// A larger answer is not kept.
const LARGEST: usize = 256 * 1024;

/// A kept answer.
#[derive(Clone)]
pub struct Kept {
    /// The answer without `extensions`, as JSON text (its keys in the order asked for).
    pub body: String,
    /// Its strong ETag.
    pub etag: String,
    /// The query's cost, charged at every hit.
    pub cost: usize,
}

struct Entry {
    kept: Kept,
    bytes: usize,
    at: Instant,
    generation: u64,
}

/// The kept answers.
pub struct ResponseCache {
    entries: Mutex<(LruCache<String, Entry>, usize)>,
    /// Moves at every mutation this process runs.
    generation: AtomicU64,
    max_age: Duration,
}

impl ResponseCache {
    /// A cache keeping answers for `max_age` (zero keeps none).
    pub fn new(max_age: Duration) -> Self {
        Self {
            entries: Mutex::new((LruCache::new(ENTRIES), 0)),
            generation: AtomicU64::new(0),
            max_age,
        }
    }

    /// Whether it keeps anything at all.
    pub fn enabled(&self) -> bool {
        !self.max_age.is_zero()
    }

    /// The key of a request: who asks (`caller`: one class for every anonymous caller, one
    /// per partner token), the document, the operation and the variables.
    pub fn key(caller: &str, query: &str, operation: Option<&str>, variables: &str) -> String {
        let text = format!(
            "{caller}\0{query}\0{}\0{variables}",
            operation.unwrap_or("")
        );
        crate::auth::secrets::sha256_hex(text.as_bytes())
    }

    /// The current generation: take it before running a query, and store with it.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Every kept answer is stale from now on (after a mutation committed).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// A fresh kept answer for `key`.
    pub fn get(&self, key: &str) -> Option<Kept> {
        let generation = self.generation();
        let mut entries = self.entries.lock().ok()?;
        let (lru, bytes) = &mut *entries;
        match lru.get(key) {
            Some(entry) if entry.generation == generation && entry.at.elapsed() < self.max_age => {
                Some(entry.kept.clone())
            }
            Some(_) => {
                if let Some(stale) = lru.pop(key) {
                    *bytes -= stale.bytes;
                }
                None
            }
            None => None,
        }
    }

    /// Keeps an answer computed from the record as it was at `generation`.
    pub fn put(&self, key: String, kept: Kept, generation: u64) {
        let size = kept.body.len() + key.len();
        if size > LARGEST || !self.enabled() {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let (lru, bytes) = &mut *entries;
        let entry = Entry {
            kept,
            bytes: size,
            at: Instant::now(),
            generation,
        };
        if let Some((_, replaced)) = lru.push(key, entry) {
            *bytes -= replaced.bytes;
        }
        *bytes += size;
        while *bytes > BYTES {
            match lru.pop_lru() {
                Some((_, old)) => *bytes -= old.bytes,
                None => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kept(n: i64) -> Kept {
        Kept {
            body: json!({ "data": { "n": n } }).to_string(),
            etag: format!("\"{n}\""),
            cost: 1,
        }
    }

    #[test]
    fn a_mutation_or_the_max_age_makes_kept_answers_stale() {
        let cache = ResponseCache::new(Duration::from_millis(200));
        let key = ResponseCache::key("anonymous", "{ n }", None, "{}");
        assert_ne!(key, ResponseCache::key("token:1", "{ n }", None, "{}"));
        cache.put(key.clone(), kept(1), cache.generation());
        assert_eq!(cache.get(&key).map(|k| k.etag), Some("\"1\"".into()));
        cache.invalidate();
        assert!(cache.get(&key).is_none(), "stale after a mutation");
        // Computed before the mutation, stored after it: never served.
        let before = cache.generation();
        cache.invalidate();
        cache.put(key.clone(), kept(2), before);
        assert!(cache.get(&key).is_none());
        cache.put(key.clone(), kept(3), cache.generation());
        assert!(cache.get(&key).is_some());
        std::thread::sleep(Duration::from_millis(250));
        assert!(cache.get(&key).is_none(), "stale after the max age");
        assert!(!ResponseCache::new(Duration::ZERO).enabled());
    }

    #[test]
    fn the_bytes_kept_are_bounded() {
        let cache = ResponseCache::new(Duration::from_secs(60));
        let big = "x".repeat(200 * 1024);
        for i in 0..200 {
            let key = ResponseCache::key("anonymous", &i.to_string(), None, "{}");
            let kept = Kept {
                body: json!({ "data": { "text": big } }).to_string(),
                etag: String::new(),
                cost: 1,
            };
            cache.put(key, kept, cache.generation());
        }
        let bytes = cache.entries.lock().map(|e| e.1).unwrap_or(usize::MAX);
        assert!(bytes <= BYTES, "{bytes}");
        let too_big = Kept {
            body: json!({ "data": { "text": "x".repeat(LARGEST) } }).to_string(),
            etag: String::new(),
            cost: 1,
        };
        cache.put("big".into(), too_big, cache.generation());
        assert!(cache.get("big").is_none(), "too large to keep");
    }
}
