//! Answers read from much of the record, kept until the record changes: a goal's progress
//! and the statistics read many rows for a small answer, which partner pages and reports
//! ask for again and again between two writes.
//!
//! The record's state is named by its latest audit entry ([`record_state`]): every
//! committed write adds one in the same transaction, on every server sharing the database,
//! so a write made anywhere changes the key at the next request. One case escapes it: two
//! writers at once on PostgreSQL, where the entry made first may commit last and so not be
//! the latest. An answer is therefore kept at most [`MAX_AGE`] as well.

use crate::db::Connection;
use crate::error::{AppError, AppResult};
use lru::LruCache;
use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The longest an answer is kept, whatever the record's state.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// The state of the record: its latest audit entry (none in an empty record).
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn record_state(db: &impl Connection) -> AppResult<Option<Uuid>> {
    Ok(entity::audit_entry::Entity::find()
        .select_only()
        .column(entity::audit_entry::Column::Id)
        .order_by_desc(entity::audit_entry::Column::Id)
        .into_tuple()
        .one(db)
        .await?)
}

/// Answers of type `V` by what they depend on (`K`, which names the record's state), the
/// least recently used dropped past `capacity`; and turns for computing them, so that
/// callers who miss together (after a write, every view misses) wait for the first and
/// find its answer instead of each computing it.
pub struct Kept<K, V> {
    capacity: NonZeroUsize,
    entries: OnceLock<Mutex<LruCache<K, (Instant, V)>>>,
    turns: tokio::sync::Semaphore,
}

impl<K: Hash + Eq, V: Clone> Kept<K, V> {
    /// At most `capacity` answers, at most `at_once` computed at the same time.
    pub const fn new(capacity: NonZeroUsize, at_once: usize) -> Self {
        Self {
            capacity,
            entries: OnceLock::new(),
            turns: tokio::sync::Semaphore::const_new(at_once),
        }
    }

    fn entries(&self) -> &Mutex<LruCache<K, (Instant, V)>> {
        self.entries
            .get_or_init(|| Mutex::new(LruCache::new(self.capacity)))
    }

    /// The answer kept for `key`, if it is younger than [`MAX_AGE`].
    pub fn get(&self, key: &K) -> Option<V> {
        let mut entries = self.entries().lock().ok()?;
        match entries.get(key) {
            Some((at, value)) if at.elapsed() < MAX_AGE => Some(value.clone()),
            _ => None,
        }
    }

    /// Keeps `value` as the answer for `key`.
    pub fn put(&self, key: K, value: V) {
        if let Ok(mut entries) = self.entries().lock() {
            entries.put(key, (Instant::now(), value));
        }
    }

    /// Waits for a turn to compute; the turn ends when the permit is dropped.
    ///
    /// # Errors
    /// INTERNAL if the turns were closed (they never are).
    pub async fn turn(&self) -> AppResult<tokio::sync::SemaphorePermit<'_>> {
        self.turns
            .acquire()
            .await
            .map_err(|closed| AppError::Internal(std::sync::Arc::new(closed)))
    }

    /// The answer for `key`: the one kept, or else the one `compute` gives, in turn, then
    /// kept.
    ///
    /// # Errors
    /// What `compute` returns.
    pub async fn get_or_compute<F>(&self, key: K, compute: F) -> AppResult<V>
    where
        F: Future<Output = AppResult<V>>,
    {
        if let Some(value) = self.get(&key) {
            return Ok(value);
        }
        let _turn = self.turn().await?;
        if let Some(value) = self.get(&key) {
            return Ok(value);
        }
        let value = compute.await?;
        self.put(key, value.clone());
        Ok(value)
    }
}
