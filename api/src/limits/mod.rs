//! Bounds on what one request may ask for, checked before anything runs: the size and
//! shape of the document (checked in [`crate::graphql::checks`]), then its cost, then the
//! caller's budget of cost points per minute and the server's cost in flight (here).
//!
//! The cost of a document is computed as GitHub does: every field costs 1, and a
//! connection multiplies what is below it by its page size (`first` or `last`, else the
//! default 20); a plain list multiplies by [`LIST_FACTOR`]. A top-level list also pays for
//! the statements its size does not show ([`list_page_cost`]): a count reads every row the
//! filter keeps, and a text filter may read a whole table to find a few matches.

pub mod shared;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{InsufficientCapacity, Quota};
use std::num::NonZeroU32;
use std::sync::Arc;

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

/// What a search costs: one read of the full-text index that ranks and counts every match
/// (priced as two counts), then its page.
pub fn search_cost(first: Option<i32>, child_complexity: usize) -> usize {
    COUNT_COST
        .saturating_mul(2)
        .saturating_add(page_cost(first, None, child_complexity))
}

/// What `totalCount` of a top-level list costs: a count reads every row its filter keeps,
/// as many as a page of the largest size at least.
pub const COUNT_COST: usize = crate::paging::MAX_PAGE_SIZE as usize;

/// What each statement with a text filter costs: it may read a whole table to find a few
/// matches (about 70 ms on the benchmark data set, where a page of 100 rows takes 2 ms).
/// Each statement of `statistics`, which reads a whole table or its links, costs as much.
pub const SEARCH_COST: usize = 1_000;

/// The cost of a top-level connection field: its page ([`page_cost`]), plus
/// [`COUNT_COST`] when its selection may ask for `totalCount`, plus [`SEARCH_COST`] for
/// each statement (the page, the count) that applies a text filter.
pub fn list_page_cost(
    first: Option<i32>,
    last: Option<i32>,
    child_complexity: usize,
    counted: bool,
    searched: bool,
) -> usize {
    let statements = 1 + usize::from(counted);
    let search = if searched {
        SEARCH_COST.saturating_mul(statements)
    } else {
        0
    };
    page_cost(first, last, child_complexity)
        .saturating_add(if counted { COUNT_COST } else { 0 })
        .saturating_add(search)
}

/// A query that costs at most this (a page of the largest size) does not wait for room
/// in the cost in flight: a lookup is not made to queue behind costly queries.
pub const UNQUEUED_COST: usize = crate::paging::MAX_PAGE_SIZE as usize;

/// Turns at some costly work (hashing a password, searching text) that at most one per
/// `cores_per_turn` cores may do at once (and at least one), counted at first use, when
/// the process knows the cores it may run on.
pub struct CoreTurns {
    cores_per_turn: usize,
    turns: std::sync::OnceLock<tokio::sync::Semaphore>,
}

impl CoreTurns {
    /// One turn per `cores_per_turn` cores.
    pub const fn new(cores_per_turn: usize) -> Self {
        Self {
            cores_per_turn,
            turns: std::sync::OnceLock::new(),
        }
    }

    /// The turns.
    pub fn get(&self) -> &tokio::sync::Semaphore {
        self.turns.get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            tokio::sync::Semaphore::new((cores / self.cores_per_turn.max(1)).max(1))
        })
    }
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

/// Budgets of cost points per caller, refilled continuously (governor's keyed GCRA limiter,
/// a token bucket per key without a timer), and the bound on cost points executing at once.
pub struct RateLimiter {
    per_minute: usize,
    /// `None` when the budget is off.
    budgets: Option<Budgets>,
    in_flight: Arc<tokio::sync::Semaphore>,
    in_flight_capacity: usize,
    /// On PostgreSQL: the budgets every server process on the database shares.
    shared: std::sync::OnceLock<shared::SharedBudgets>,
}

/// One GCRA state per key; a successful charge reports what is left.
type Budgets = governor::RateLimiter<
    String,
    DefaultKeyedStateStore<String>,
    DefaultClock,
    StateInformationMiddleware,
>;

/// Past this many keys, the limiter forgets those whose budget is full again, so that many
/// one-off clients cannot grow it forever.
const KEYS_KEPT: usize = 100_000;

/// Who pays for a request: a partner token, a user, or a client address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RateKey(pub String);

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
        let budgets =
            NonZeroU32::new(u32::try_from(per_minute).unwrap_or(u32::MAX)).map(|points| {
                governor::RateLimiter::keyed(Quota::per_minute(points)).with_middleware()
            });
        Self {
            per_minute,
            budgets,
            in_flight: Arc::new(tokio::sync::Semaphore::new(in_flight_capacity)),
            in_flight_capacity,
            shared: std::sync::OnceLock::new(),
        }
    }

    /// Shares the budgets with every server process on `db` when it is PostgreSQL (and
    /// budgets are on); SQLite has one server process.
    pub fn share_through(&self, db: &sea_orm::DatabaseConnection) {
        if self.budgets.is_some() && db.get_database_backend() == sea_orm::DatabaseBackend::Postgres
        {
            let _ = self.shared.set(shared::SharedBudgets::new(
                crate::db::detached(db),
                self.per_minute as u64,
            ));
        }
    }

    /// Charges `cost` points to `key`: when budgets are shared, first in the database's
    /// count of every process's, then in this process ([`RateLimiter::charge`]); refuses
    /// without running when either is spent, and a refusal costs nothing.
    pub async fn spend(&self, key: &RateKey, cost: usize) -> Charge {
        let Some(shared) = self.shared.get() else {
            return self.charge(key, cost);
        };
        let points = cost.max(1) as u64;
        match shared.spend(&key.0, points).await {
            Ok(left) => {
                let here = self.charge(key, cost);
                if here.retry_after.is_some() {
                    shared.give_back(&key.0, points);
                    return here;
                }
                Charge {
                    remaining: here
                        .remaining
                        .min(usize::try_from(left).unwrap_or(usize::MAX)),
                    retry_after: None,
                }
            }
            Err(refused) => Charge {
                remaining: 0,
                retry_after: Some(refused.retry_after.max(1)),
            },
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
    pub fn charge(&self, key: &RateKey, cost: usize) -> Charge {
        let Some(budgets) = &self.budgets else {
            return Charge {
                remaining: usize::MAX,
                retry_after: None,
            };
        };
        if budgets.len() > KEYS_KEPT {
            budgets.retain_recent();
        }
        // A query costing nothing (only `__typename`) still counts as one point.
        let points = NonZeroU32::new(u32::try_from(cost).unwrap_or(u32::MAX).max(1))
            .unwrap_or(NonZeroU32::MIN);
        match budgets.check_key_n(&key.0, points) {
            Ok(Ok(state)) => Charge {
                remaining: state.remaining_burst_capacity() as usize,
                retry_after: None,
            },
            Ok(Err(not_until)) => {
                let wait = not_until.wait_time_from(budgets.clock().now());
                let per_second = self.per_minute as f64 / 60.0;
                // What is left now: the cost less what refills during the wait.
                let short = (wait.as_secs_f64() * per_second).ceil() as usize;
                Charge {
                    remaining: cost.saturating_sub(short),
                    retry_after: Some(wait.as_secs_f64().ceil().max(1.0) as u64),
                }
            }
            // Costlier than the whole budget: it never fits; the budget is full again after
            // a minute, which is the most that can be said.
            Err(InsufficientCapacity(_)) => Charge {
                remaining: 0,
                retry_after: Some(60),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> RateKey {
        RateKey(name.to_owned())
    }

    #[test]
    fn a_budget_shrinks_runs_out_and_says_when_to_retry() {
        let limiter = RateLimiter::new(600, 1);
        let partner = key("token:a");
        let first = limiter.charge(&partner, 200);
        assert_eq!((first.remaining, first.retry_after), (400, None));
        // (A few points may have come back meanwhile, one every 100 ms.)
        assert!(limiter.charge(&partner, 400).remaining < 5);
        let refused = limiter.charge(&partner, 100);
        // 600 a minute refill 10 a second: 100 points fit again in 10 s.
        let wait = refused.retry_after.expect("refused");
        assert!((9..=10).contains(&wait), "{wait}");
        assert!(refused.remaining < 100, "{refused:?}");
        let other = limiter.charge(&key("address:127.0.0.1"), 100);
        assert_eq!(
            other.retry_after, None,
            "every caller has a budget of its own"
        );
    }

    #[test]
    fn a_refusal_charges_nothing() {
        let limiter = RateLimiter::new(60, 1);
        let caller = key("user:b");
        assert_eq!(limiter.charge(&caller, 50).remaining, 10);
        assert!(limiter.charge(&caller, 20).retry_after.is_some());
        assert_eq!(limiter.charge(&caller, 10).retry_after, None);
    }

    #[test]
    fn a_query_costlier_than_the_whole_budget_never_fits() {
        let limiter = RateLimiter::new(60, 1);
        let charge = limiter.charge(&key("user:c"), 61);
        assert_eq!((charge.remaining, charge.retry_after), (0, Some(60)));
    }

    #[test]
    fn a_budget_of_zero_is_off() {
        let limiter = RateLimiter::new(0, 1);
        for _ in 0..10 {
            let charge = limiter.charge(&key("user:d"), 1_000_000);
            assert_eq!(charge.retry_after, None);
        }
        assert_eq!(limiter.budget(), 0);
    }
}
