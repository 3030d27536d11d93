//! Connecting to SQLite or PostgreSQL and bringing the schema up to date.

use crate::config::Database;
use entity::columns::{Columns, Source};
use entity::setting;
use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseConnectionType,
    DatabaseTransaction, DbErr, EntityTrait, QueryResult, RuntimeErr, Statement, TransactionTrait,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

mod held;
mod reader;

/// Opens a connection pool whose statements may run as long as they take, for the command
/// line and maintenance (a backup, a seed, migrations): [`connect_with`] no time limit.
///
/// # Errors
/// When the database cannot be reached or opened.
pub async fn connect(database: &Database) -> Result<DatabaseConnection, DbErr> {
    connect_with(database, None, 0).await
}

/// Opens a connection pool. SQLite files are created if missing and run with WAL,
/// `synchronous=FULL` (no acknowledged write lost on power loss), foreign keys on and a
/// busy timeout so concurrent writers wait instead of failing; a connection opened before
/// the last storage fault is closed instead of reused ([`note_failure`]). Given a
/// `statement_timeout` (the server passes its request time limit), both engines stop a
/// statement that runs longer, so a request that timed out does not leave its query working
/// on: PostgreSQL by its setting of that name, SQLite by a progress handler. With
/// `sqlite_mmap_mib` above 0, each SQLite connection reads up to that much of the file
/// through a memory map.
///
/// # Errors
/// When the database cannot be reached or opened.
pub async fn connect_with(
    database: &Database,
    statement_timeout: Option<Duration>,
    sqlite_mmap_mib: usize,
) -> Result<DatabaseConnection, DbErr> {
    let statement_timeout_text = statement_timeout.map(statement_timeout_sql);
    let mut options = ConnectOptions::new(database.url());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(10));
    match database {
        Database::Sqlite(_) => {
            // Each connection is a thread with its own page cache. Page reads go to the reader
            // threads; the pool serves writes, counts, searches and goal figures, so one
            // connection per core is enough (see [`per_core`]).
            options
                .max_connections(u32::try_from(per_core()).unwrap_or(u32::MAX))
                .map_sqlx_sqlite_opts(move |o| {
                    with_swedish(
                        o.create_if_missing(true)
                            .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                            .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                            .foreign_keys(true)
                            .busy_timeout(BUSY_TIMEOUT)
                            .pragma("cache_size", PAGE_CACHE.to_string())
                            // A memory map: a page the connection's own cache lacks is
                            // read from the kernel's cache in place, not copied by a
                            // `pread` (about 1,800 a W2 request on bench/run's 89 MB
                            // file). W2 went from 590 to 760 requests/s over two cores and
                            // from 2.65 to 2.14 ms of server CPU a request on one. But each
                            // connection maps the file on its own and the kernel maps the
                            // pages around each one touched: peak RSS under W2 went from
                            // 45 to 142 MiB (61 MiB as the proportional share). Those are
                            // the kernel's file pages, which it can drop, yet RSS counts
                            // them; so the map is off unless asked for.
                            .pragma(
                                "mmap_size",
                                sqlite_mmap_mib.saturating_mul(1 << 20).to_string(),
                            )
                            .row_buffer_size(ROW_BUFFER),
                    )
                })
                .map_sqlx_sqlite_pool_opts(move |pool| {
                    // No test of the connection: it is a thread over a local file, and the
                    // test would be one more exchange with that thread per statement.
                    pool.test_before_acquire(false)
                        .after_connect(move |connection, _| {
                            Box::pin(limit_statements(connection, statement_timeout))
                        })
                        .before_acquire(move |connection, metadata| {
                            Box::pin(async move {
                                if opened_before_last_fault(metadata.age) {
                                    return Ok(false);
                                }
                                limit_statements(connection, statement_timeout).await?;
                                Ok(true)
                            })
                        })
                });
        }
        Database::Postgres(_) => {
            // A server that is down refuses at once; give up waiting for a connection soon
            // so that requests fail fast instead of piling up (SQLite has no such outage,
            // and a burst of writers queueing for its file may wait longer).
            options
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(3))
                // sqlx tests every connection it hands out with a round trip (a `Sync` and
                // its answer): a second round trip for each statement, as much CPU in
                // PostgreSQL as W1's own query. Only a connection idle for a while can
                // have been closed by the server, a restart or a firewall unnoticed; a busy
                // one goes straight to its statement.
                .test_before_acquire_if_idle_for(PING_AFTER_IDLE)
                // The working set of this API is small enough to stay in memory, where an
                // index probe costs about what a sequential read does. At the default (4)
                // the planner reads whole link tables to join a few hundred rows (17 ms
                // instead of 4 ms for the authorities of a page of 500 dialogues, when
                // they were read through their links). Set by a statement on each new
                // connection rather than as a startup option, which connection poolers
                // such as PgBouncer refuse.
                .map_sqlx_postgres_pool_opts(move |pool| {
                    pool.after_connect(move |connection, _| {
                        Box::pin(async move {
                            sea_orm::sqlx::Executor::execute(
                                &mut *connection,
                                "SET random_page_cost = 1.1",
                            )
                            .await?;
                            if let Some(text) = statement_timeout_text {
                                sea_orm::sqlx::Executor::execute(&mut *connection, text).await?;
                            }
                            Ok(())
                        })
                    })
                });
        }
    }
    let db = sea_orm::Database::connect(options).await?;
    if let DatabaseConnectionType::SqlxSqlitePoolConnection(_) = &db.inner {
        let pool = db.get_sqlite_connection_pool();
        let settings = reader::Settings {
            path: pool.connect_options().get_filename().to_path_buf(),
            mmap_bytes: i64::try_from(sqlite_mmap_mib.saturating_mul(1 << 20)).unwrap_or(0),
            statement_timeout,
        };
        reader::start(pool, settings, per_core());
    }
    Ok(db)
}

/// How many SQLite connections of each kind are kept: the threads that serve page reads
/// ([`reader`]), and the pool's connections. One per core, and at least two, so that one
/// long statement (a search) does not hold up the others. Each connection keeps its own
/// page cache, so more than one per core only holds the hot pages more times over. W2 on
/// SQLite, two cores, the same binary in alternating runs: with two reader threads
/// 1,265-1,279 requests/s over two cores, 1.49-1.64 ms of server CPU a request pinned to
/// one, peak RSS 47 MiB; with four 890-1,168, 1.69-2.33 ms and 55-58 MiB. For the pool,
/// W6, W5 and a page of 20 dialogues with its total count, one after the other: with two
/// connections instead of four, the same requests/s (W6 124-129 against 118-131) and a
/// peak RSS of 69-70 MiB against 79-81. A smaller page cache for the pool's connections
/// would save more (1 MiB: 5 MiB less RSS) but made W6 a tenth slower.
fn per_core() -> usize {
    std::thread::available_parallelism().map_or(2, |cores| cores.get().max(2))
}

/// How long an SQLite connection waits for another's lock before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// `options` with the Swedish collation registered, which indexes on SQLite are built under:
/// every connection to a Samverkan SQLite file needs it to write those tables or check them.
pub fn with_swedish(
    options: sea_orm::sqlx::sqlite::SqliteConnectOptions,
) -> sea_orm::sqlx::sqlite::SqliteConnectOptions {
    options.collation(crate::collation::SWEDISH, crate::collation::compare)
}

/// Each SQLite connection's own page cache: 4 MiB (SQLite's default is 2,000 KiB), so on
/// two cores at most 8 MiB for the pool's connections and 8 MiB for the reader threads'. A
/// page the cache lacks is read again from the kernel's cache by a `pread`. W2 on the
/// benchmark data: with 512 KiB the server made 728 reads a request and served 607-623
/// requests/s over two cores; with 4 MiB it makes none once warm and serves 758-820 (3 MiB:
/// 721, still reading). Pinned to one core the gain is smaller (2.40 against 2.14-2.33 ms
/// of CPU a request), and counted instructions hardly move: the reads cost kernel time,
/// which `bench/instructions` does not count. The server's peak RSS under W2 went from 44
/// to 52 MiB.
const PAGE_CACHE: i64 = -4096;

/// How many rows an SQLite connection's thread may read ahead of the request that reads
/// them (sqlx's default is 50). Past it the thread waits for the request to take some, and
/// on a busy core each wait is a switch to the request's thread and back: W2's statements
/// return 500 and 700 rows. The queue grows only as rows arrive, so a short read holds no
/// more than before; pages collect all their rows anyway, and the one statement read as a
/// stream (goal facts, a few columns a row) holds at most this many ahead.
///
/// W2 on SQLite with the server pinned to one core: 21-23 context switches per request
/// instead of 397-430, and about a fifth less CPU; W1 and W3 as before.
const ROW_BUFFER: usize = 1024;

/// How long a PostgreSQL connection may rest in the pool before it is tested on its way out.
const PING_AFTER_IDLE: Duration = Duration::from_secs(1);

/// How many SQLite virtual-machine steps run between two looks at the clock (some
/// microseconds of work).
const PROGRESS_STEPS: i32 = 10_000;

/// Makes SQLite interrupt what runs on `connection` past `timeout` from now: the pool calls
/// this each time it hands the connection out, so each statement (or transaction) gets the
/// request time limit, as PostgreSQL's `statement_timeout` gives it. Without it a request
/// that timed out would leave its statement running on the connection's thread.
async fn limit_statements(
    connection: &mut sea_orm::sqlx::SqliteConnection,
    timeout: Option<Duration>,
) -> Result<(), sea_orm::sqlx::Error> {
    let Some(timeout) = timeout else {
        return Ok(());
    };
    let deadline = Instant::now() + timeout;
    connection
        .lock_handle()
        .await?
        .set_progress_handler(PROGRESS_STEPS, move || Instant::now() < deadline);
    Ok(())
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
    Migrator::up(db, None).await?;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        rebuild_collated_indexes(db).await?;
    }
    Ok(())
}

/// The `settings` key under which SQLite keeps the Swedish order its indexes were built in.
const COLLATION_KEY: &str = "swedish_order";

/// On SQLite, builds the indexes under the Swedish collation again when its order changed
/// since they were built (other collation data in a new release): an index kept in another
/// order than the one lookups compare by skips rows, and fails `PRAGMA integrity_check`.
/// SQLite records nothing of a collation's version; PostgreSQL does, for its own.
async fn rebuild_collated_indexes(db: &DatabaseConnection) -> Result<(), DbErr> {
    let order = crate::collation::fingerprint();
    let built = setting::Entity::find_by_id(COLLATION_KEY.to_owned())
        .one(db)
        .await?;
    if built.is_some_and(|built| built.value == order) {
        return Ok(());
    }
    let reindex = format!("REINDEX \"{}\"", crate::collation::SWEDISH);
    db.execute_unprepared(&reindex).await?;
    put_setting(db, COLLATION_KEY, order).await
}

/// Sets the `settings` row `key` to `value`.
async fn put_setting(db: &DatabaseConnection, key: &str, value: String) -> Result<(), DbErr> {
    let upsert = Query::insert()
        .into_table(setting::Entity)
        .columns([setting::Column::Key, setting::Column::Value])
        .values_panic([key.into(), value.into()])
        .on_conflict(
            OnConflict::column(setting::Column::Key)
                .update_column(setting::Column::Value)
                .to_owned(),
        )
        .to_owned();
    db.execute(&upsert).await.map(|_| ())
}

/// Proves that the database takes writes now, for readiness: commits a one-row write (the
/// time of the check, under `settings`).
///
/// # Errors
/// The database's error when it does not take the write.
pub async fn check_writes(db: &DatabaseConnection) -> Result<(), DbErr> {
    let result = put_setting(db, WRITE_CHECK_KEY, crate::validate::now().to_rfc3339()).await;
    if let Err(error) = &result {
        note_failure(error);
    }
    result
}

/// The `settings` key readiness writes its check under.
const WRITE_CHECK_KEY: &str = "write_checked_at";

/// When the storage under an SQLite database last failed, in milliseconds since
/// [`since_start`]'s origin; 0 when it never did.
static LAST_STORAGE_FAULT: AtomicU64 = AtomicU64::new(0);

fn since_start() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    u64::try_from(START.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Takes note of a database error. A storage fault under SQLite (a full disk, an I/O
/// error, a file that went read-only or could not be opened) marks every connection open
/// now as suspect: SQLite opens a file it cannot write read-only and keeps it so, so a
/// connection opened during the fault would go on failing writes after the storage is
/// back. Each is closed the next time the pool would hand it out.
pub fn note_failure(error: &DbErr) {
    if is_storage_fault(error) {
        mark_storage_fault();
    }
}

/// Marks every connection open now as suspect ([`note_failure`]).
fn mark_storage_fault() {
    LAST_STORAGE_FAULT.store(since_start().max(1), Ordering::SeqCst);
}

fn opened_before_last_fault(age: Duration) -> bool {
    let fault = LAST_STORAGE_FAULT.load(Ordering::SeqCst);
    let age = u64::try_from(age.as_millis()).unwrap_or(u64::MAX);
    fault != 0 && since_start().saturating_sub(age) <= fault
}

/// SQLite's primary result codes for storage faults: READONLY, IOERR, CORRUPT, FULL,
/// CANTOPEN, NOTADB.
const STORAGE_FAULT_CODES: [i64; 6] = [8, 10, 11, 13, 14, 26];

fn is_storage_fault(error: &DbErr) -> bool {
    let (DbErr::Conn(RuntimeErr::SqlxError(error))
    | DbErr::Exec(RuntimeErr::SqlxError(error))
    | DbErr::Query(RuntimeErr::SqlxError(error))) = error
    else {
        return false;
    };
    match error.as_ref() {
        sea_orm::sqlx::Error::Database(database) => {
            database
                .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                .is_some()
                && database
                    .code()
                    .and_then(|code| code.parse::<i64>().ok())
                    .is_some_and(|code| STORAGE_FAULT_CODES.contains(&(code & 0xff)))
        }
        _ => false,
    }
}

/// Closes `db`'s pool, once the connections held for its page reads are given back to it
/// (`close` alone would wait for them for ever).
///
/// # Errors
/// As sea-orm's `close`.
pub async fn close(db: DatabaseConnection) -> Result<(), DbErr> {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => held::release(db.get_postgres_connection_pool()),
        _ => reader::stop(db.get_sqlite_connection_pool()).await,
    }
    db.close().await
}

/// Tells `callback` of every statement run on `db`, and of the page reads run for its pool
/// on held connections ([`held`], PostgreSQL) or reader threads ([`reader`], SQLite) through
/// any handle: the tests count statements with it.
pub fn observe(
    db: &mut DatabaseConnection,
    callback: impl Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static,
) {
    let callback: held::Observer = std::sync::Arc::new(callback);
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            held::observe(db.get_postgres_connection_pool(), callback.clone());
        }
        _ => reader::observe(db.get_sqlite_connection_pool(), callback.clone()),
    }
    db.set_metric_callback(move |info| callback(info));
}

/// Another handle on `db`'s pool, without its statement callback: for the server's own
/// background reads and writes (the change feed, the webhook worker), which are not a
/// request's and must not count as one's. (Their page reads still reach the callback of
/// [`observe`], which is the pool's.)
pub fn detached(db: &DatabaseConnection) -> DatabaseConnection {
    match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => {
            sea_orm::SqlxPostgresConnector::from_sqlx_postgres_pool(
                db.get_postgres_connection_pool().clone(),
            )
        }
        _ => sea_orm::SqlxSqliteConnector::from_sqlx_sqlite_pool(
            db.get_sqlite_connection_pool().clone(),
        ),
    }
}

/// The turn of one writer on SQLite, shared by the mutations, the readiness check and the
/// webhook worker's writes.
pub type WriteGate = std::sync::Arc<tokio::sync::Mutex<()>>;

/// A write gate when `db` is SQLite, which has one writer at a time.
pub fn write_gate(db: &DatabaseConnection) -> Option<WriteGate> {
    (db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite).then(WriteGate::default)
}

/// Reads a row's columns, one after the other, into a value: what [`Connection::decoded`]
/// does with each row of a statement, on SQLite where the statement is stepped.
pub trait ReadRow: Send + 'static {
    /// What a row is read into.
    type Row: Send + 'static;

    /// Reads one row.
    ///
    /// # Errors
    /// `DbErr::Type` when a column is missing or of another type.
    fn read(&self, columns: &mut impl Source) -> Result<Self::Row, DbErr>;
}

/// What the server's statements run on: the pool, or a transaction on it.
pub trait Connection: ConnectionTrait + Sync {
    /// The rows of `statement`.
    fn rows(
        &self,
        statement: Statement,
    ) -> impl Future<Output = Result<Vec<QueryResult>, DbErr>> + Send;

    /// The rows of `statement`, each read by `decode`.
    fn decoded<D: ReadRow>(
        &self,
        statement: Statement,
        decode: D,
    ) -> impl Future<Output = Result<Vec<D::Row>, DbErr>> + Send {
        async move { read_each(&self.rows(statement).await?, &decode) }
    }
}

/// Reads each of `rows` with `decode`, into a list sized once.
fn read_each<D: ReadRow>(rows: &[QueryResult], decode: &D) -> Result<Vec<D::Row>, DbErr> {
    let mut read = Vec::with_capacity(rows.len());
    for row in rows {
        read.push(decode.read(&mut Columns::new(row))?);
    }
    Ok(read)
}

/// On PostgreSQL, on a connection [`held`] between page reads; on SQLite, straight to the
/// driver's pool connection, which still reports the statement to the statement callback.
/// sea-orm's `query_all` goes through two more layers of futures (its tracing span, then a
/// `match` on the driver), each of which copies the driver's future of about 9 KB: 3.8 % of
/// W1's instructions, 2.7 % of W3's.
impl Connection for DatabaseConnection {
    async fn rows(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        match &self.inner {
            DatabaseConnectionType::SqlxPostgresPoolConnection(_) => {
                held::rows(self.get_postgres_connection_pool(), statement).await
            }
            // Boxed: sea-orm's future for it is 3.5 KB, and inline it would make the future
            // of every statement that large (as the pool's future did in `held::rows`).
            DatabaseConnectionType::SqlxSqlitePoolConnection(pool) => {
                Box::pin(pool.query_all(statement)).await
            }
            _ => self.query_all_raw(statement).await,
        }
    }

    /// On SQLite, on the pool's reader threads ([`reader`]).
    async fn decoded<D: ReadRow>(
        &self,
        statement: Statement,
        decode: D,
    ) -> Result<Vec<D::Row>, DbErr> {
        if let DatabaseConnectionType::SqlxSqlitePoolConnection(_) = &self.inner {
            let pool = self.get_sqlite_connection_pool();
            match Box::pin(reader::read(pool, statement, decode)).await {
                reader::Read::Done(result) => result,
                reader::Read::Elsewhere(statement, decode) => {
                    read_each(&self.rows(statement).await?, &decode)
                }
            }
        } else {
            read_each(&self.rows(statement).await?, &decode)
        }
    }
}

impl Connection for DatabaseTransaction {
    async fn rows(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.query_all_raw(statement).await
    }
}

/// What a write opens its transaction on: a [`Connection`] whose transactions are ones too.
pub trait Transactional: Connection + TransactionTrait<Transaction: Connection> {}

impl<T: Connection + TransactionTrait<Transaction: Connection>> Transactional for T {}
