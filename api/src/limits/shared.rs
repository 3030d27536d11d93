//! Budgets of cost points shared by every server process on one PostgreSQL database, so
//! that a load balancer spreading a caller's requests over several processes does not
//! multiply its budget.
//!
//! The database counts, per caller and minute, the points handed out to processes
//! (`cost_budgets`); each process takes them in chunks (a twentieth of the budget, or the
//! request's cost if more) and spends a chunk locally, so that most requests cost no
//! statement. A caller may spend at most its budget per calendar minute across all
//! processes, less what processes took and did not spend. When the database cannot be
//! reached, each process goes on with its own budget alone: requests fail for want of the
//! database anyway.

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
}

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
                held.retain(|_, h| h.minute == minute);
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
        let granted = match self.take(key, minute, need).await {
            Ok(granted) => granted,
            Err(error) => {
                tracing::warn!(%error, "the shared budgets cannot be read; this process's own budget decides alone");
                return Ok(self.per_minute);
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
        entry.left += granted.0;
        entry.shared_left = granted.1;
        entry.spent = granted.0 < need;
        if entry.left >= cost {
            entry.left -= cost;
            Ok(entry.shared_left + entry.left)
        } else {
            Err(refused)
        }
    }

    /// Takes `need` points of `key`'s budget for `minute` from the database: what was
    /// granted (less when less is left) and what is left there.
    async fn take(&self, key: &str, minute: i64, need: u64) -> Result<(u64, u64), sea_orm::DbErr> {
        self.prune(minute).await;
        let need_points = i64::try_from(need).unwrap_or(i64::MAX);
        let same_minute = Expr::col((cost_budget::Entity, cost_budget::Column::Minute)).eq(minute);
        let spent_now = Expr::case(
            same_minute,
            Expr::col((cost_budget::Entity, cost_budget::Column::Spent)).add(need_points),
        )
        .finally(need_points);
        let row = cost_budget::Entity::insert(cost_budget::ActiveModel {
            key: Set(key.to_owned()),
            minute: Set(minute),
            spent: Set(need_points),
        })
        .on_conflict(
            OnConflict::column(cost_budget::Column::Key)
                .value(cost_budget::Column::Spent, spent_now)
                .value(cost_budget::Column::Minute, minute)
                .to_owned(),
        )
        .exec_with_returning(&self.db)
        .await?;
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
        let ended = cost_budget::Entity::delete_many()
            .filter(cost_budget::Column::Minute.lt(minute))
            .exec(&self.db)
            .await;
        if let Err(error) = ended {
            tracing::warn!(%error, "ended budget minutes could not be deleted");
        }
    }
}
