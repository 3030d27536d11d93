//! PostgreSQL connections held between page reads, out of sqlx's pool.
//!
//! sqlx tests every connection given back to its pool with a round trip to the server (a
//! `Sync` and its answer), in a task spawned for it: a second exchange with PostgreSQL
//! after every statement, which woke a backend as often as the statements did. Page reads
//! ([`super::Connection::rows`], the statements of every list, lookup and nested level)
//! take a connection from here instead, and put it back here once it has answered. On the
//! benchmark, pinned, PostgreSQL's CPU per request: W1 0.030 → 0.020 ms, W3 0.084 → 0.067
//! ms, W2 1.43 → 1.35 ms; the server's: W1 0.039 → 0.034 ms, W3 0.110 → 0.101 ms.
//!
//! The pool keeps its other duties:
//! - A connection that rested here longer than [`super::PING_AFTER_IDLE`] (one a restart or
//!   a firewall may have closed) is given back to the pool, which tests it on its way back,
//!   and on its way out again.
//! - A statement that fails, or whose future is dropped (a request cancelled mid-statement),
//!   drops its connection: the pool's own path waits for what is still pending on it, or
//!   closes it.
//! - Page reads take turns, in the order they come, and at most half of the pool's
//!   connections serve them: the other half stays for transactions and sea-orm's own
//!   reads, which take theirs from the pool. A read that waits past the pool's acquire
//!   timeout fails as one that found no connection in the pool does. (Without turns, reads
//!   finding a held connection went ahead of those waiting in the pool's queue: W3's p99
//!   rose from 8 to 26 ms.)

use sea_orm::metric::Info;
use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::{PgPool, Postgres};
use sea_orm::{ConnAcquireErr, DbErr, QueryResult, RuntimeErr, Statement};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Instant;

/// Told of each statement: see [`super::observe`].
pub type Observer = Arc<dyn Fn(&Info<'_>) + Send + Sync>;

/// What is held for one pool. The pool is named by its connection options, which it keeps
/// for its whole life: a `Weak` of them tells whether it still lives, and keeps their
/// address from being reused by another pool's.
struct Held {
    pool: Weak<PgConnectOptions>,
    /// Oldest first.
    idle: Vec<(PoolConnection<Postgres>, Instant)>,
    /// One per connection page reads may use at once.
    turns: Arc<tokio::sync::Semaphore>,
    observer: Option<Observer>,
}

/// Every pool's, a handful at most (the server's, and one per test server in the tests).
static HELD: Mutex<Vec<Held>> = Mutex::new(Vec::new());

/// The entry of `pool`, whose options are `options`, made when missing. Entries of pools
/// that no longer exist are dropped on the way.
fn entry<'a>(
    all: &'a mut Vec<Held>,
    pool: &PgPool,
    options: &Arc<PgConnectOptions>,
) -> &'a mut Held {
    all.retain(|held| held.pool.strong_count() > 0);
    let at = match all
        .iter()
        .position(|held| std::ptr::eq(held.pool.as_ptr(), Arc::as_ptr(options)))
    {
        Some(at) => at,
        None => {
            let half = usize::try_from(pool.options().get_max_connections() / 2).unwrap_or(1);
            all.push(Held {
                pool: Arc::downgrade(options),
                idle: Vec::new(),
                turns: Arc::new(tokio::sync::Semaphore::new(half.max(1))),
                observer: None,
            });
            all.len() - 1
        }
    };
    &mut all[at]
}

/// Tells `observer` of every page read on `pool`.
pub fn observe(pool: &PgPool, observer: Observer) {
    let mut all = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    entry(&mut all, pool, &pool.connect_options()).observer = Some(observer);
}

/// The turns of `pool`'s page reads, and who is told of them.
fn turns(
    pool: &PgPool,
    options: &Arc<PgConnectOptions>,
) -> (Arc<tokio::sync::Semaphore>, Option<Observer>) {
    let mut all = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    let held = entry(&mut all, pool, options);
    (held.turns.clone(), held.observer.clone())
}

/// A connection held for `pool` that rested less than [`super::PING_AFTER_IDLE`], if any;
/// those that rested longer, of every pool, are returned to be given back to their pools
/// (outside the lock: each spawns a task).
fn take(
    pool: &PgPool,
    options: &Arc<PgConnectOptions>,
) -> (
    Option<PoolConnection<Postgres>>,
    Vec<PoolConnection<Postgres>>,
) {
    let mut all = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    let mut rested = Vec::new();
    for held in all.iter_mut() {
        let old = held
            .idle
            .iter()
            .take_while(|(_, since)| since.elapsed() >= super::PING_AFTER_IDLE)
            .count();
        rested.extend(held.idle.drain(..old).map(|(connection, _)| connection));
    }
    let taken = entry(&mut all, pool, options)
        .idle
        .pop()
        .map(|(connection, _)| connection);
    (taken, rested)
}

/// Keeps `connection` for the next page read on `pool`, or gives it back to the pool.
fn put_back(
    pool: &PgPool,
    options: &Arc<PgConnectOptions>,
    connection: PoolConnection<Postgres>,
) -> Option<PoolConnection<Postgres>> {
    let most = usize::try_from(pool.options().get_max_connections() / 2).unwrap_or(usize::MAX);
    let mut all = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    let held = entry(&mut all, pool, options);
    if held.idle.len() < most {
        held.idle.push((connection, Instant::now()));
        None
    } else {
        Some(connection)
    }
}

/// The rows of `statement`, run on a held connection of `pool` or one from the pool.
///
/// # Errors
/// As sea-orm reports them: `ConnectionAcquire` when the pool has no connection to give,
/// `Query` when the statement fails.
pub async fn rows(pool: &PgPool, mut statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
    let options = pool.connect_options();
    let (turns, observer) = turns(pool, &options);
    let waited = pool.options().get_acquire_timeout();
    let _turn = match tokio::time::timeout(waited, turns.acquire()).await {
        Ok(Ok(turn)) => turn,
        Ok(Err(_)) => return Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)),
        Err(_) => return Err(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)),
    };
    let (taken, rested) = take(pool, &options);
    drop(rested);
    let mut connection = match taken {
        Some(connection) => connection,
        None => pool.acquire().await.map_err(|error| match error {
            sea_orm::sqlx::Error::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
            sea_orm::sqlx::Error::PoolClosed => {
                DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)
            }
            error => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(error))),
        })?,
    };
    // The observer is shown the statement with its values; without one they are moved.
    let values = match &observer {
        Some(_) => statement.values.clone(),
        None => statement.values.take(),
    }
    .unwrap_or(sea_orm::sea_query::Values(Vec::new()));
    let started = Instant::now();
    let result = sea_orm::sqlx::query_with(
        sea_orm::sqlx::AssertSqlSafe(statement.sql.as_str()),
        sea_query_sqlx::SqlxValues(values),
    )
    .fetch_all(&mut *connection)
    .await;
    if let Some(observer) = observer {
        observer(&Info {
            elapsed: started.elapsed(),
            statement: &statement,
            failed: result.is_err(),
        });
    }
    match result {
        Ok(rows) => {
            drop(put_back(pool, &options, connection));
            Ok(rows.into_iter().map(QueryResult::from).collect())
        }
        Err(error) => Err(DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))),
    }
}
