//! Bounds on what one request may ask for, checked before anything runs: the size and
//! shape of the document (checked in [`crate::graphql::checks`]), then its cost, then the
//! caller's budget of cost points per minute and the server's cost in flight (here).
//!
//! The cost of a document is computed as GitHub does: every field costs 1, and a
//! connection multiplies what is below it by its page size (`first` or `last`, else the
//! default 20); a plain list multiplies by [`LIST_FACTOR`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What a plain (unpaged) list is assumed to hold, for costing.
pub const LIST_FACTOR: usize = 10;

/// The cost of a connection field: its page size times what each node costs, plus itself.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first
        .or(last)
        .map_or(crate::paging::DEFAULT_PAGE_SIZE as usize, |n| {
            usize::try_from(n.clamp(0, 100)).unwrap_or(0)
        });
    size.saturating_mul(child_complexity).saturating_add(1)
}

/// The cost of a plain list field.
pub fn list_cost(child_complexity: usize) -> usize {
    LIST_FACTOR
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

/// The limits, each with its default; all can be set from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, bytes (`SAMVERKAN_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Longest document, bytes.
    pub max_query_bytes: usize,
    /// Most lexical tokens in a document.
    pub max_tokens: usize,
    /// Deepest nesting of braces, brackets and parentheses in the text.
    pub max_nesting: usize,
    /// Deepest field nesting after fragments are expanded (`SAMVERKAN_MAX_DEPTH`).
    pub max_depth: usize,
    /// Most aliased fields.
    pub max_aliases: usize,
    /// Most field selections after fragments are expanded (repeated fields count each time).
    pub max_fields: usize,
    /// Most directives.
    pub max_directives: usize,
    /// Highest cost of one document (`SAMVERKAN_MAX_COST`).
    pub max_cost: usize,
    /// Cost points per minute per partner token, user or client address (`SAMVERKAN_RATE_LIMIT`; 0 turns it off).
    pub budget_per_minute: usize,
    /// Cost points executing at once on this server (`SAMVERKAN_MAX_COST_IN_FLIGHT`); a
    /// request that would exceed it waits its turn.
    pub max_cost_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_query_bytes: 32 * 1024,
            max_tokens: 4_000,
            max_nesting: 30,
            max_depth: 15,
            max_aliases: 30,
            max_fields: 1_000,
            max_directives: 30,
            max_cost: 25_000,
            budget_per_minute: 100_000,
            max_cost_in_flight: 50_000,
        }
    }
}

/// Budgets of cost points per caller, refilled continuously (a token bucket per key), and
/// the bound on cost points executing at once.
pub struct RateLimiter {
    per_minute: usize,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    in_flight: Arc<tokio::sync::Semaphore>,
    in_flight_capacity: usize,
}

/// The outcome of charging a request.
#[derive(Debug, Clone, Copy)]
pub struct Charge {
    /// Points left after this request.
    pub remaining: usize,
    /// When refused: seconds until the request would fit.
    pub retry_after: Option<u64>,
}

impl RateLimiter {
    /// A limiter granting `per_minute` points per key (0: unlimited) and letting
    /// `in_flight` points execute at once.
    pub fn new(per_minute: usize, in_flight: usize) -> Self {
        let in_flight_capacity = in_flight.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
            in_flight: Arc::new(tokio::sync::Semaphore::new(in_flight_capacity)),
            in_flight_capacity,
        }
    }

    /// Waits until `cost` more points may execute; they are released when the returned
    /// permit is dropped. Memory under load grows with the rows being resolved, which grow
    /// with cost: a dozen large queries at once finish no sooner than a few, and hold more.
    /// A query costlier than the whole bound runs alone.
    pub async fn admit(&self, cost: usize) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let points = u32::try_from(cost.clamp(1, self.in_flight_capacity)).unwrap_or(u32::MAX);
        self.in_flight.clone().acquire_many_owned(points).await.ok()
    }

    /// The budget per minute.
    pub fn budget(&self) -> usize {
        self.per_minute
    }

    /// Charges `cost` points to `key`, or refuses without charging.
    pub fn charge(&self, key: &str, cost: usize) -> Charge {
        if self.per_minute == 0 {
            return Charge {
                remaining: usize::MAX,
                retry_after: None,
            };
        }
        let capacity = self.per_minute as f64;
        let per_second = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            // Forget full buckets so that many one-off clients cannot grow the map forever.
            buckets.retain(|_, (points, at)| {
                *points + now.duration_since(*at).as_secs_f64() * per_second < capacity
            });
        }
        let (points, at) = buckets.entry(key.to_owned()).or_insert((capacity, now));
        *points = (*points + now.duration_since(*at).as_secs_f64() * per_second).min(capacity);
        *at = now;
        let cost = cost as f64;
        if cost <= *points {
            *points -= cost;
            Charge {
                remaining: *points as usize,
                retry_after: None,
            }
        } else {
            let wait = ((cost.min(capacity) - *points) / per_second)
                .ceil()
                .max(1.0);
            Charge {
                remaining: *points as usize,
                retry_after: Some(wait as u64),
            }
        }
    }
}
