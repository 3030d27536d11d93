//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use crate::config::Database;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, DatabaseConnection, DbErr};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// How long a PostgreSQL statement may run when nothing else is said: the default
/// request time limit.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens a connection pool, [`connect_with`] the default [`STATEMENT_TIMEOUT`].
///
/// # Errors
/// When the database cannot be reached or opened.
pub async fn connect(database: &Database) -> Result<DatabaseConnection, DbErr> {
    connect_with(database, STATEMENT_TIMEOUT).await
}

/// Opens a connection pool. SQLite files are created if missing and run with WAL,
/// `synchronous=FULL` (no acknowledged write lost on power loss), foreign keys on and a
/// busy timeout so concurrent writers wait instead of failing. PostgreSQL stops any
/// statement that runs longer than `statement_timeout` (the server passes its request
/// time limit), so a request that timed out does not leave its query working on.
///
/// # Errors
/// When the database cannot be reached or opened.
pub async fn connect_with(
    database: &Database,
    statement_timeout: Duration,
) -> Result<DatabaseConnection, DbErr> {
    let statement_timeout = statement_timeout_sql(statement_timeout);
    let mut options = ConnectOptions::new(database.url());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10));
    match database {
        Database::Sqlite(_) => {
            // Each connection is a thread with its own page cache; four keep two cores busy
            // (W1 as fast as with eight) and hold 20 MiB less under the W2 load.
            options.max_connections(4).map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(10))
            });
        }
        Database::Postgres(_) => {
            // A server that is down refuses at once; give up waiting for a connection soon
            // so that requests fail fast instead of piling up (SQLite has no such outage,
            // and a burst of writers queueing for its file may wait longer).
            options
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(3))
                // The working set of this API is small enough to stay in memory, where an
                // index probe costs about what a sequential read does. At the default (4)
                // the planner reads whole link tables to join a few hundred rows (17 ms
                // instead of 4 ms for the authorities of a page of 500 dialogues). Set by a
                // statement on each new connection rather than as a startup option, which
                // connection poolers such as PgBouncer refuse.
                .map_sqlx_postgres_pool_opts(move |pool| {
                    pool.after_connect(move |connection, _| {
                        Box::pin(async move {
                            sea_orm::sqlx::Executor::execute(
                                &mut *connection,
                                "SET random_page_cost = 1.1",
                            )
                            .await?;
                            sea_orm::sqlx::Executor::execute(&mut *connection, statement_timeout)
                                .await
                                .map(|_| ())
                        })
                    })
                });
        }
    }
    sea_orm::Database::connect(options).await
}

/// `SET statement_timeout = <ms>` for a timeout. The statements sqlx runs on each new
/// connection must live for the whole program, so each distinct timeout's text is made
/// once and kept (a server has one; the test suite a handful).
fn statement_timeout_sql(timeout: Duration) -> &'static str {
    static TEXTS: OnceLock<Mutex<HashMap<u128, &'static str>>> = OnceLock::new();
    let ms = timeout.as_millis().max(1);
    let mut texts = TEXTS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    texts
        .entry(ms)
        .or_insert_with(|| Box::leak(format!("SET statement_timeout = {ms}").into_boxed_str()))
}

/// Applies the migrations not yet applied.
///
/// # Errors
/// When a migration fails.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}
