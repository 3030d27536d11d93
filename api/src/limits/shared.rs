//! Budgets of cost points shared by every server process on one PostgreSQL database, so
//! that a load balancer spreading a caller's requests over several processes does not
//! multiply its budget.
//!
//! The database counts, per caller and minute, the points handed out to processes
//! (`cost_budgets`); each process takes them in chunks (a twentieth of the budget, or the
//! request's cost if more) and spends a chunk locally, so that most requests cost no
//! statement. A caller may spend at most its budget per calendar minute across all
//! processes, less what processes took and did not spend. When the database cannot be
//! reached, each process goes on with its own budget alone for a few seconds before it
//! asks again: requests fail for want of the database anyway.

use entity::cost_budget;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use std::collections::HashMap;
use std::sync::Mutex;

/// Past this many callers, those of earlier minutes are forgotten.
const KEYS_KEPT: usize = 100_000;

/// What this process holds of one caller's budget.
#[derive(Debug, Clone, Copy, Default)]
struct Held {
    /// The minute it was taken in.
    minute: i64,
    /// Points taken and not yet spent.
    left: u64,
    /// The database has no more for this minute.
    spent: bool,
    /// What the database had left after the last take, for the cost report.
    shared_left: u64,
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

fn minute_now() -> (i64, u64) {
    let now = chrono::Utc::now().timestamp();
    (now.div_euclid(60), 60 - now.rem_euclid(60) as u64)
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
        let (minute, to_next) = minute_now();
        let refused = Refused {
            retry_after: to_next,
        };
        let need = {
            let Ok(mut held) = self.held.lock() else {
                return Ok(self.per_minute);
            };
            if held.len() > KEYS_KEPT {
                // Earlier minutes first; all, if the callers of this minute alone are more.
                held.retain(|_, h| h.minute == minute);
                if held.len() > KEYS_KEPT / 2 {
                    held.clear();
                }
            }
            let entry = held.entry(key.to_owned()).or_default();
            if entry.minute != minute {
                *entry = Held {
                    minute,
                    ..Held::default()
                };
            }
            if entry.left >= cost {
                entry.left -= cost;
                return Ok(entry.shared_left + entry.left);
            }
            if entry.spent {
                return Err(refused);
            }
            Ord::min(
                Ord::max(cost - entry.left, self.per_minute / 20),
                Ord::max(self.per_minute, cost),
            )
        };
        let (granted, left) = if self.unreachable() {
            (need, self.per_minute)
        } else {
            // Boxed: a statement's future is kilobytes, and this runs once per chunk.
            match Box::pin(self.take(key, minute, need)).await {
                Ok(taken) => taken,
                Err(error) => {
                    tracing::warn!(%error, "the shared budgets cannot be read; each process's own budget decides alone for a while");
                    if let Ok(mut until) = self.unreachable_until.lock() {
                        *until = Some(std::time::Instant::now() + UNREACHABLE_PAUSE);
                    }
                    (need, self.per_minute)
                }
            }
        };
        let Ok(mut held) = self.held.lock() else {
            return Ok(self.per_minute);
        };
        let entry = held.entry(key.to_owned()).or_default();
        if entry.minute != minute {
            *entry = Held {
                minute,
                ..Held::default()
            };
        }
        entry.left += granted;
        entry.shared_left = left;
        entry.spent = granted < need;
        if entry.left >= cost {
            entry.left -= cost;
            Ok(entry.shared_left + entry.left)
        } else {
            Err(refused)
        }
    }

    /// Puts back `cost` points spent by a request that did not run after all (this
    /// process's own budget refused it).
    pub fn give_back(&self, key: &str, cost: u64) {
        if let Ok(mut held) = self.held.lock()
            && let Some(entry) = held.get_mut(key)
            && entry.minute == minute_now().0
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

    /// Takes `need` points of `key`'s budget for `minute` from the database: what was
    /// granted (less when less is left) and what is left there. The stored minute only
    /// moves forward: a process whose minute is already past (a slow request at the
    /// minute's turn, or a clock behind the others') is granted nothing rather than turning
    /// the count back.
    async fn take(&self, key: &str, minute: i64, need: u64) -> Result<(u64, u64), sea_orm::DbErr> {
        self.prune(minute).await;
        let need_points = i64::try_from(need).unwrap_or(i64::MAX);
        let stored_minute = || Expr::col((cost_budget::Entity, cost_budget::Column::Minute));
        let stored_spent = || Expr::col((cost_budget::Entity, cost_budget::Column::Spent));
        let spent_now = Expr::case(stored_minute().eq(minute), stored_spent().add(need_points))
            .case(stored_minute().lt(minute), Expr::val(need_points))
            .finally(stored_spent());
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
        if row.minute != minute {
            return Ok((0, 0));
        }
        let spent = u64::try_from(row.spent).unwrap_or(u64::MAX);
        let over = spent.saturating_sub(self.per_minute);
        Ok((
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
