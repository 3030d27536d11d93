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
//! - A connection that rested here [`super::PING_AFTER_IDLE`] (one a restart or a firewall
//!   may have closed) is given back to the pool, which tests it on its way back: by the next
//!   read, or else by a sweep a moment later, so a stretch of writes alone finds the whole
//!   pool. One in constant use goes back after [`OUT_AT_MOST`], so the pool's `max_lifetime`
//!   still holds. [`release`] gives them all back before the pool is closed, which waits
//!   for every connection it handed out.
//! - A statement that fails, or whose future is dropped (a request cancelled mid-statement),
//!   drops its connection: the pool's own path waits for what is still pending on it, or
//!   closes it.
//! - Page reads take turns, in the order they come, and at most half of the pool's
//!   connections serve them: the other half stays for transactions and sea-orm's own
//!   reads, which take theirs from the pool. A read that waits past the pool's acquire
//!   timeout, for its turn and its connection together, fails as one that found no
//!   connection in the pool does. (Without turns, reads finding a held connection went
//!   ahead of those waiting in the pool's queue: W3's p99 rose from 8 to 26 ms.)

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
    /// Oldest first: each connection, since when it rests here, and since when it is out
    /// of the pool.
    idle: Vec<(PoolConnection<Postgres>, Instant, Instant)>,
    /// How many connections page reads may keep: half the pool's.
    most: usize,
    /// One per connection page reads may use at once.
    turns: Arc<tokio::sync::Semaphore>,
    observer: Option<Observer>,
    /// Whether a sweep of rested connections is due.
    sweeping: bool,
}

/// The longest a connection in constant use stays out of the pool: then it goes back
/// through the pool's path, which tests it and closes it past its `max_lifetime`.
const OUT_AT_MOST: std::time::Duration = std::time::Duration::from_secs(60);

/// A held connection and the time it left the pool.
type Out = (PoolConnection<Postgres>, Instant);

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
    let at = match all.iter().position(|held| held.is_of(Arc::as_ptr(options))) {
        Some(at) => at,
        None => {
            let most = usize::try_from(pool.options().get_max_connections() / 2).unwrap_or(1);
            all.push(Held {
                pool: Arc::downgrade(options),
                idle: Vec::new(),
                most,
                // A pool of one still serves page reads, on a connection it does not keep.
                turns: Arc::new(tokio::sync::Semaphore::new(most.max(1))),
                observer: None,
                sweeping: false,
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

impl Held {
    /// Whether this is what is held for the pool whose options lie at `options`.
    fn is_of(&self, options: *const PgConnectOptions) -> bool {
        std::ptr::eq(self.pool.as_ptr(), options)
    }

    /// Takes out the connections that rested [`super::PING_AFTER_IDLE`] (the oldest come
    /// first), to be dropped outside the lock: each goes back to its pool in a task.
    fn rested(&mut self) -> Vec<PoolConnection<Postgres>> {
        let old = self
            .idle
            .iter()
            .take_while(|(_, since, _)| since.elapsed() >= super::PING_AFTER_IDLE)
            .count();
        self.idle
            .drain(..old)
            .map(|(connection, _, _)| connection)
            .collect()
    }
}

/// The most recently held connection of `pool`, if it rested less than
/// [`super::PING_AFTER_IDLE`], with the time it left the pool; and the rested ones, to be
/// given back.
fn take(
    pool: &PgPool,
    options: &Arc<PgConnectOptions>,
) -> (Option<Out>, Vec<PoolConnection<Postgres>>) {
    let mut all = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    let held = entry(&mut all, pool, options);
    let rested = held.rested();
    let taken = held
        .idle
        .pop()
        .map(|(connection, _, out)| (connection, out));
    (taken, rested)
}

/// Keeps `connection`, out of the pool since `out`, for the next page read on `pool`, or
/// gives it back to the pool (the returned connection, to be dropped). A sweep is set for
/// when it will have rested.
fn put_back(
    pool: &PgPool,
    options: &Arc<PgConnectOptions>,
    (connection, out): Out,
) -> Option<PoolConnection<Postgres>> {
    let mut all = HELD.lock().unwrap_or_else(PoisonError::into_inner);
    let held = entry(&mut all, pool, options);
    if pool.is_closed() || held.idle.len() >= held.most || out.elapsed() >= OUT_AT_MOST {
        return Some(connection);
    }
    held.idle.push((connection, Instant::now(), out));
    if !held.sweeping {
        held.sweeping = true;
        tokio::spawn(sweep(Arc::downgrade(options)));
    }
    None
}

/// Gives back the connections of a pool (named by its options) as they come to have
/// rested, until none is held.
async fn sweep(options: Weak<PgConnectOptions>) {
    loop {
        tokio::time::sleep(super::PING_AFTER_IDLE).await;
        let rested = {
            let mut all = HELD.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(held) = all.iter_mut().find(|held| held.is_of(options.as_ptr())) else {
                return;
            };
            let rested = held.rested();
            if held.idle.is_empty() {
                held.sweeping = false;
                drop(all);
                drop(rested);
                return;
            }
            rested
        };
        drop(rested);
    }
}

/// Gives every connection held for `pool` back to it: before the pool is closed, which
/// waits for all the connections it handed out.
pub fn release(pool: &PgPool) {
    let given_back: Vec<PoolConnection<Postgres>> = {
        let mut all = HELD.lock().unwrap_or_else(PoisonError::into_inner);
        let held = entry(&mut all, pool, &pool.connect_options());
        held.idle
            .drain(..)
            .map(|(connection, _, _)| connection)
            .collect()
    };
    drop(given_back);
}

/// The rows of `statement`, run on a held connection of `pool` or one from the pool.
///
/// # Errors
/// As sea-orm reports them: `ConnectionAcquire` when the pool has no connection to give,
/// `Query` when the statement fails.
pub async fn rows(pool: &PgPool, mut statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
    let options = pool.connect_options();
    let (turns, observer) = turns(pool, &options);
    let timed_out = || DbErr::ConnectionAcquire(ConnAcquireErr::Timeout);
    let deadline = tokio::time::Instant::now() + pool.options().get_acquire_timeout();
    let _turn = match tokio::time::timeout_at(deadline, turns.acquire()).await {
        Ok(Ok(turn)) => turn,
        Ok(Err(_)) => return Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed)),
        Err(_) => return Err(timed_out()),
    };
    let (taken, rested) = take(pool, &options);
    drop(rested);
    let (mut connection, out) = match taken {
        Some(taken) => taken,
        // Boxed: the pool's future is 8.8 KB, and inline it made the future of every
        // statement that large, copied at each level of the read on its way to a box.
        None => match tokio::time::timeout_at(deadline, Box::pin(pool.acquire())).await {
            Ok(Ok(connection)) => (connection, Instant::now()),
            Ok(Err(sea_orm::sqlx::Error::PoolTimedOut)) | Err(_) => return Err(timed_out()),
            Ok(Err(sea_orm::sqlx::Error::PoolClosed)) => {
                return Err(DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed));
            }
            Ok(Err(error)) => return Err(DbErr::Conn(RuntimeErr::SqlxError(Arc::new(error)))),
        },
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
            drop(put_back(pool, &options, (connection, out)));
            Ok(rows.into_iter().map(QueryResult::from).collect())
        }
        Err(error) => Err(DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))),
    }
}
