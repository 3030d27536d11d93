//! Answers read from much of the record, kept until the record changes: a goal's progress
//! and the statistics read many rows for a small answer, which partner pages and reports
//! ask for again and again between two writes.
//!
//! The record's state is named by its latest audit entry ([`record_state`]): every
//! committed write adds one in the same transaction, on every server sharing the database,
//! so a write made anywhere changes the key at the next request. Some writes escape it: two
//! writers at once on PostgreSQL, where the entry made first may commit last, and servers
//! whose clocks differ (entries are ordered by their time-ordered ids), where a write may
//! add an entry that sorts before the latest. An answer is therefore kept at most
//! [`MAX_AGE`] as well.

use crate::db::Connection;
use crate::error::{AppError, AppResult};
use lru::LruCache;
use sea_orm::{EntityTrait, QueryOrder, QuerySelect};
use std::hash::Hash;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
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
/// least recently used dropped past `capacity`; and turns for computing them, a few at
/// once, so that callers who miss together (after a write, every view misses) wait and
/// find the answer instead of each computing it.
pub struct Kept<K, V> {
    capacity: NonZeroUsize,
    entries: OnceLock<Mutex<LruCache<K, (Instant, V)>>>,
    turns: tokio::sync::Semaphore,
    /// One gate per key being computed by [`Kept::get_or_compute`]: those who ask for it
    /// meanwhile wait at the gate, not for the turns of other keys.
    gates: Mutex<Vec<(K, Weak<tokio::sync::Mutex<()>>)>>,
}

impl<K: Hash + Eq + Clone, V: Clone> Kept<K, V> {
    /// At most `capacity` answers, at most `at_once` computed at the same time.
    pub const fn new(capacity: NonZeroUsize, at_once: usize) -> Self {
        Self {
            capacity,
            entries: OnceLock::new(),
            turns: tokio::sync::Semaphore::const_new(at_once),
            gates: Mutex::new(Vec::new()),
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
            .map_err(|closed| AppError::Internal(Arc::new(closed)))
    }

    /// The gate of `key`, made when no one holds it.
    fn gate(&self, key: &K) -> Arc<tokio::sync::Mutex<()>> {
        let mut gates = self.gates.lock().unwrap_or_else(PoisonError::into_inner);
        gates.retain(|(_, gate)| gate.strong_count() > 0);
        if let Some(gate) = gates
            .iter()
            .find(|(held, _)| held == key)
            .and_then(|(_, gate)| gate.upgrade())
        {
            return gate;
        }
        let gate = Arc::new(tokio::sync::Mutex::new(()));
        gates.push((key.clone(), Arc::downgrade(&gate)));
        gate
    }

    /// The answer for `key`: the one kept, or else the one `compute` gives, then kept.
    /// Callers asking for the same key meanwhile wait for it; a computation takes a turn.
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
        let gate = self.gate(&key);
        let _gate = gate.lock().await;
        if let Some(value) = self.get(&key) {
            return Ok(value);
        }
        let _turn = self.turn().await?;
        let value = compute.await?;
        self.put(key, value.clone());
        Ok(value)
    }
}
