//! Budgets of cost points shared by every server process on one PostgreSQL database, so
//! that a load balancer spreading a caller's requests over several processes does not
//! multiply its budget.
//!
//! The database counts, per caller and minute, the points handed out to processes
//! (`cost_budgets`). Each process takes them in chunks (a twentieth of the budget, or the
//! request's cost if more) and spends a chunk locally, so that most requests cost no
//! statement; it takes one chunk at a time per caller, so that a burst of requests takes
//! about what it spends. A caller may spend at most its budget per calendar minute
//! across all processes, less what processes took and did not spend. The minute only
//! moves forward: at its turn, a request still in the ended minute spends in the new one.
//! When the database cannot be reached, each process goes on with its own budget alone
//! for a few seconds before it asks again: requests fail for want of the database anyway.

use entity::cost_budget;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Past this many callers, those of earlier minutes are forgotten.
const KEYS_KEPT: usize = 100_000;

/// What this process holds of one caller's budget.
#[derive(Debug, Clone, Default)]
struct Held {
    /// The minute it was taken in. It only moves forward: a request of a minute already
    /// ended (a slow one, or one on a clock behind another process's) spends in the later
    /// minute rather than turning it back.
    minute: i64,
    /// Points taken and not yet spent.
    left: u64,
    /// The database has no more for this minute.
    spent: bool,
    /// What the database had left after the last take, for the cost report.
    shared_left: u64,
    /// Held while this process takes from the database for the caller, so that a burst of
    /// concurrent requests takes one chunk at a time, about what it spends, rather than a
    /// chunk each: those would keep here points that the caller's requests on other
    /// processes are then refused for want of.
    taking: Arc<tokio::sync::Mutex<()>>,
}

impl Held {
    /// Moves on to `minute` when it is later than the one held, with nothing taken yet.
    fn reach(&mut self, minute: i64) {
        if minute > self.minute {
            self.minute = minute;
            self.left = 0;
            self.spent = false;
            self.shared_left = 0;
        }
    }

    /// Spends `cost` from what is held, when that decides: what the caller has left, or
    /// the refusal when the database has no more.
    fn spend(&mut self, cost: u64, now: i64) -> Option<Result<u64, Refused>> {
        if self.left >= cost {
            self.left -= cost;
            return Some(Ok(self.shared_left + self.left));
        }
        self.spent.then(|| Err(self.refusal(now)))
    }

    /// A refusal until the held minute ends.
    fn refusal(&self, now: i64) -> Refused {
        Refused {
            retry_after: Ord::max(u64::try_from((self.minute + 1) * 60 - now).unwrap_or(0), 1),
        }
    }
}

/// What a caller's holding in this process leaves to do for a request.
enum Short {
    /// The request is decided.
    Decided(Result<u64, Refused>),
    /// Take `need` points from the database in `minute`, through `taking`.
    Take {
        minute: i64,
        need: u64,
        taking: Arc<tokio::sync::Mutex<()>>,
    },
}

/// The shared budgets of one server process.
pub struct SharedBudgets {
    db: DatabaseConnection,
    per_minute: u64,
    held: Mutex<HashMap<String, Held>>,
    /// The last minute in which ended minutes were deleted from the database.
    pruned: std::sync::atomic::AtomicI64,
    /// Until when the database is not asked, after it failed.
    unreachable_until: Mutex<Option<std::time::Instant>>,
}

/// How long the database is not asked after it failed.
const UNREACHABLE_PAUSE: std::time::Duration = std::time::Duration::from_secs(5);

/// A charge the shared budget refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// Seconds until the next minute, when the budget is whole again.
    pub retry_after: u64,
}

impl SharedBudgets {
    /// Budgets of `per_minute` points per caller, counted in `db`.
    pub fn new(db: DatabaseConnection, per_minute: u64) -> Self {
        Self {
            db,
            per_minute,
            held: Mutex::default(),
            pruned: std::sync::atomic::AtomicI64::new(0),
            unreachable_until: Mutex::default(),
        }
    }

    /// Spends `cost` points of `key`'s budget; what the database has left for it this
    /// minute (as last seen), or when to come back.
    ///
    /// # Errors
    /// [`Refused`] when the caller's budget for this minute is spent across all processes.
    pub async fn spend(&self, key: &str, cost: u64) -> Result<u64, Refused> {
        self.spend_at(key, cost, chrono::Utc::now().timestamp())
            .await
    }

    /// [`SharedBudgets::spend`] as of `now`, in seconds since the Unix epoch: this
    /// process's clock, which may be behind or ahead of another's.
    ///
    /// # Errors
    /// [`Refused`] when the caller's budget for this minute is spent across all processes.
    pub async fn spend_at(&self, key: &str, cost: u64, now: i64) -> Result<u64, Refused> {
        let taking = match self.spend_held(key, cost, now) {
            Short::Decided(outcome) => return outcome,
            Short::Take { taking, .. } => taking,
        };
        let _taking = taking.lock().await;
        // Twice at most: a take that ends after another request moved the caller on to a
        // later minute counted in a minute that is over, so it is taken again.
        for _ in 0..2 {
            // Again: the take this request waited for may have brought enough.
            let (minute, need) = match self.spend_held(key, cost, now) {
                Short::Decided(outcome) => return outcome,
                Short::Take { minute, need, .. } => (minute, need),
            };
            let taken = if self.unreachable() {
                None
            } else {
                // Boxed: a statement's future is kilobytes, and this runs once per chunk.
                match Box::pin(self.take(key, minute, need)).await {
                    Ok(taken) => Some(taken),
                    Err(error) => {
                        tracing::warn!(%error, "the shared budgets cannot be read; each process's own budget decides alone for a while");
                        if let Ok(mut until) = self.unreachable_until.lock() {
                            *until = Some(std::time::Instant::now() + UNREACHABLE_PAUSE);
                        }
                        None
                    }
                }
            };
            let (minute, granted, left) = taken.unwrap_or((minute, need, self.per_minute));
            let Ok(mut held) = self.held.lock() else {
                return Ok(self.per_minute);
            };
            let entry = held.entry(key.to_owned()).or_default();
            entry.reach(minute);
            if entry.minute == minute {
                entry.left += granted;
                entry.shared_left = left;
                entry.spent = granted < need;
                let refused = entry.refusal(now);
                return entry.spend(cost, now).unwrap_or(Err(refused));
            }
        }
        Err(Refused {
            retry_after: u64::try_from(60 - now.rem_euclid(60)).unwrap_or(60),
        })
    }

    /// Spends `cost` points from what this process holds of `key`'s budget, in the minute of
    /// `now` or the later minute it holds; or what to take from the database when that is
    /// short.
    fn spend_held(&self, key: &str, cost: u64, now: i64) -> Short {
        let minute = now.div_euclid(60);
        let Ok(mut held) = self.held.lock() else {
            return Short::Decided(Ok(self.per_minute));
        };
        if held.len() > KEYS_KEPT {
            // Earlier minutes first; all, if the callers of this minute alone are more.
            held.retain(|_, h| h.minute >= minute);
            if held.len() > KEYS_KEPT / 2 {
                held.clear();
            }
        }
        let entry = held.entry(key.to_owned()).or_default();
        entry.reach(minute);
        if let Some(outcome) = entry.spend(cost, now) {
            return Short::Decided(outcome);
        }
        Short::Take {
            minute: entry.minute,
            need: Ord::min(
                Ord::max(cost - entry.left, self.per_minute / 20),
                Ord::max(self.per_minute, cost),
            ),
            taking: Arc::clone(&entry.taking),
        }
    }

    /// Puts back `cost` points spent by a request that did not run after all (this
    /// process's own budget refused it).
    pub fn give_back(&self, key: &str, cost: u64) {
        if let Ok(mut held) = self.held.lock()
            && let Some(entry) = held.get_mut(key)
            && entry.minute >= chrono::Utc::now().timestamp().div_euclid(60)
        {
            entry.left += cost;
        }
    }

    /// Whether the database failed lately: then it is not asked again for a while, so that
    /// requests do not each wait for a connection that does not come.
    fn unreachable(&self) -> bool {
        self.unreachable_until
            .lock()
            .ok()
            .and_then(|until| *until)
            .is_some_and(|until| std::time::Instant::now() < until)
    }

    /// Takes `need` points of `key`'s budget for `minute` from the database: the minute
    /// they count in, what was granted (less when less is left) and what is left there. The
    /// stored minute only moves forward: when another process has already counted in a
    /// later minute (this request is slow at the minute's turn, or this clock is behind),
    /// the points count in that minute rather than turning the count back.
    async fn take(
        &self,
        key: &str,
        minute: i64,
        need: u64,
    ) -> Result<(i64, u64, u64), sea_orm::DbErr> {
        self.prune(minute).await;
        let need_points = i64::try_from(need).unwrap_or(i64::MAX);
        let stored_minute = || Expr::col((cost_budget::Entity, cost_budget::Column::Minute));
        let stored_spent = || Expr::col((cost_budget::Entity, cost_budget::Column::Spent));
        let spent_now = Expr::case(stored_minute().lt(minute), Expr::val(need_points))
            .finally(stored_spent().add(need_points));
        let minute_now = Expr::case(stored_minute().gt(minute), stored_minute()).finally(minute);
        let row = cost_budget::Entity::insert(cost_budget::ActiveModel {
            key: Set(key.to_owned()),
            minute: Set(minute),
            spent: Set(need_points),
        })
        .on_conflict(
            OnConflict::column(cost_budget::Column::Key)
                .value(cost_budget::Column::Spent, spent_now)
                .value(cost_budget::Column::Minute, minute_now)
                .to_owned(),
        )
        .exec_with_returning(&self.db)
        .await?;
        let spent = u64::try_from(row.spent).unwrap_or(u64::MAX);
        let over = spent.saturating_sub(self.per_minute);
        Ok((
            row.minute,
            need.saturating_sub(over),
            self.per_minute.saturating_sub(spent),
        ))
    }

    /// Deletes the counts of ended minutes, once a minute at most.
    async fn prune(&self, minute: i64) {
        use std::sync::atomic::Ordering;
        if self.pruned.swap(minute, Ordering::SeqCst) == minute {
            return;
        }
        // Not the minute just ended: a process whose clock is behind may still count in it.
        let ended = cost_budget::Entity::delete_many()
            .filter(cost_budget::Column::Minute.lt(minute - 1))
            .exec(&self.db)
            .await;
        if let Err(error) = ended {
            tracing::warn!(%error, "ended budget minutes could not be deleted");
        }
    }
}
