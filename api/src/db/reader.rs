//! SQLite's page reads, each row read into its record on the thread that steps the statement.
//!
//! sqlx runs each SQLite connection on a thread of its own and sends every row of a result to
//! the request's task, after copying each of the row's values (`sqlite3_value_dup`: one or
//! two allocations each, freed later on the other thread). On W2 the copies, their frees and
//! the switches between the threads cost the server more CPU than SQLite's own work on the
//! statements (`bench/sqlite-driver`: 2.6-4.4 ms against 1.4-1.6 ms a pair of W2's two
//! largest statements). Page reads ([`super::Connection::decoded`]) run here instead, on
//! threads that each keep a connection to the same file: each row is read into its record
//! where SQLite holds it, and a statement's records go back to the request at once.
//!
//! A connection here is opened as the pool's are (the Swedish collation, the page cache and
//! memory map, the busy timeout, the statement time limit as a progress handler), only once
//! a read needs it, and again when it was opened before the last storage fault. It only
//! reads (`query_only`): writes and transactions stay on the pool. In WAL mode a read here
//! sees every write committed before it starts, as a read on the pool would.

use super::{
    PAGE_CACHE, PROGRESS_STEPS, ReadRow, STORAGE_FAULT_CODES, mark_storage_fault,
    opened_before_last_fault, since_start,
};
use entity::columns::{Cell, Source, Stored};
use rusqlite::OpenFlags;
use rusqlite::types::{ToSql, ToSqlOutput, ValueRef};
use sea_orm::metric::Info;
use sea_orm::sea_query::{OptionEnum, Value};
use sea_orm::sqlx::SqlitePool;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::{DbErr, RuntimeErr, Statement};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Told of each statement: see [`super::observe`].
pub type Observer = super::held::Observer;

/// How every connection here is opened.
pub(super) struct Settings {
    /// The database file.
    pub path: PathBuf,
    /// Bytes of the file each connection reads through a memory map.
    pub mmap_bytes: i64,
    /// How long a statement may run.
    pub statement_timeout: Option<Duration>,
}

/// A read for one of the threads: it runs with the thread's connection.
type Job = Box<dyn FnOnce(&mut Link) + Send>;

/// The threads of one pool.
struct Reader {
    /// The pool, named by its connection options, which it keeps for its whole life (as in
    /// [`super::held`]).
    pool: Weak<SqliteConnectOptions>,
    jobs: mpsc::Sender<Job>,
    threads: Vec<JoinHandle<()>>,
    observer: Option<Observer>,
}

/// Every SQLite pool's, a handful at most (the server's, and one per test server).
static READERS: Mutex<Vec<Reader>> = Mutex::new(Vec::new());

/// Statements each connection keeps prepared (sqlx's default).
const PREPARED: usize = 100;

/// Starts `threads` threads that read for `pool`. None for a database in memory, which a
/// second connection would not see: its reads stay on the pool.
pub(super) fn start(pool: &SqlitePool, settings: Settings, threads: usize) {
    let name = settings.path.to_string_lossy();
    if name.is_empty() || name.starts_with(':') || name.starts_with("file:") {
        return;
    }
    let (jobs, queue) = mpsc::channel::<Job>();
    let queue = Arc::new(Mutex::new(queue));
    let settings = Arc::new(settings);
    let threads = (0..threads.max(1))
        .filter_map(|n| {
            let (queue, settings) = (queue.clone(), settings.clone());
            std::thread::Builder::new()
                .name(format!("sqlite-reader-{n}"))
                .spawn(move || serve(&queue, settings))
                .ok()
        })
        .collect();
    let options = pool.connect_options();
    let mut all = READERS.lock().unwrap_or_else(PoisonError::into_inner);
    // Readers of pools that are gone: dropping their queue ends their threads.
    all.retain(|reader| reader.pool.strong_count() > 0);
    all.push(Reader {
        pool: Arc::downgrade(&options),
        jobs,
        threads,
        observer: None,
    });
}

/// Tells `observer` of every read for `pool`.
pub(super) fn observe(pool: &SqlitePool, observer: Observer) {
    let options = pool.connect_options();
    let mut all = READERS.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(reader) = all.iter_mut().find(|reader| reader.is_of(&options)) {
        reader.observer = Some(observer);
    }
}

/// Stops `pool`'s threads once they finish what they are reading, and closes their
/// connections.
pub(super) async fn stop(pool: &SqlitePool) {
    let options = pool.connect_options();
    let reader = {
        let mut all = READERS.lock().unwrap_or_else(PoisonError::into_inner);
        all.iter()
            .position(|reader| reader.is_of(&options))
            .map(|at| all.swap_remove(at))
    };
    if let Some(Reader { jobs, threads, .. }) = reader {
        drop(jobs);
        let _ = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
    }
}

impl Reader {
    fn is_of(&self, options: &Arc<SqliteConnectOptions>) -> bool {
        std::ptr::eq(self.pool.as_ptr(), Arc::as_ptr(options))
    }
}

/// What became of a read handed here.
pub(super) enum Read<D: ReadRow> {
    /// It ran here.
    Done(Result<Vec<D::Row>, DbErr>),
    /// It is for the pool: `pool` has no threads here, or the statement binds a value that
    /// only sqlx knows how to write.
    Elsewhere(Statement, D),
}

/// Runs `statement` on one of `pool`'s threads, reading each row with `decode`.
pub(super) async fn read<D: ReadRow>(
    pool: &SqlitePool,
    statement: Statement,
    decode: D,
) -> Read<D> {
    let options = pool.connect_options();
    let (jobs, observer) = {
        let all = READERS.lock().unwrap_or_else(PoisonError::into_inner);
        match all.iter().find(|reader| reader.is_of(&options)) {
            Some(reader) => (reader.jobs.clone(), reader.observer.clone()),
            None => return Read::Elsewhere(statement, decode),
        }
    };
    let (reply, answer) = tokio::sync::oneshot::channel();
    let started = Instant::now();
    let job: Job = Box::new(move |link| {
        // A request that has gone (timed out, or its client left) needs no answer.
        if reply.is_closed() {
            return;
        }
        let result = link.run(&statement, &decode);
        let _ = reply.send((statement, decode, result));
    });
    if jobs.send(job).is_err() {
        return Read::Done(Err(stopped()));
    }
    let Ok((statement, decode, result)) = answer.await else {
        return Read::Done(Err(stopped()));
    };
    let result = match result {
        Ok(rows) => Ok(rows),
        Err(Failure::Unbound) => return Read::Elsewhere(statement, decode),
        Err(Failure::Database(error)) => Err(error),
    };
    if let Some(observer) = observer {
        observer(&Info {
            elapsed: started.elapsed(),
            statement: &statement,
            failed: result.is_err(),
        });
    }
    Read::Done(result)
}

fn stopped() -> DbErr {
    DbErr::Conn(RuntimeErr::Internal(
        "the SQLite readers have stopped".into(),
    ))
}

/// Why a read here did not give rows.
enum Failure {
    /// A value of the statement has no form here.
    Unbound,
    /// The database refused it, or a row did not read.
    Database(DbErr),
}

/// A thread's connection, opened when a read first needs it.
struct Link {
    settings: Arc<Settings>,
    connection: Option<(rusqlite::Connection, Instant)>,
    /// When the statement running now must stop, in [`since_start`]'s milliseconds.
    deadline: Arc<AtomicU64>,
}

/// A thread's life: it takes reads from `queue` until the queue is dropped.
fn serve(queue: &Mutex<mpsc::Receiver<Job>>, settings: Arc<Settings>) {
    let mut link = Link {
        settings,
        connection: None,
        deadline: Arc::new(AtomicU64::new(u64::MAX)),
    };
    loop {
        let job = queue.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(job) = job else { return };
        job(&mut link);
    }
}

impl Link {
    /// Runs `statement` and reads its rows with `decode`.
    fn run<D: ReadRow>(
        &mut self,
        statement: &Statement,
        decode: &D,
    ) -> Result<Vec<D::Row>, Failure> {
        if let Some(timeout) = self.settings.statement_timeout {
            let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
            self.deadline
                .store(since_start().saturating_add(ms), Ordering::Relaxed);
        }
        let connection = self.connection().map_err(|error| {
            Failure::Database(DbErr::Conn(RuntimeErr::Internal(error.to_string())))
        })?;
        let failed = |error: rusqlite::Error| Failure::Database(database_error(&error));
        let mut prepared = connection.prepare_cached(&statement.sql).map_err(failed)?;
        for (at, value) in statement
            .values
            .iter()
            .flat_map(|values| &values.0)
            .enumerate()
        {
            let bound = Bound::of(value).ok_or(Failure::Unbound)?;
            prepared.raw_bind_parameter(at + 1, bound).map_err(failed)?;
        }
        let mut rows = prepared.raw_query();
        let mut read = Vec::new();
        while let Some(row) = rows.next().map_err(failed)? {
            read.push(
                decode
                    .read(&mut Columns { row, next: 0 })
                    .map_err(Failure::Database)?,
            );
        }
        Ok(read)
    }

    /// The thread's connection, opened anew when there is none yet or it was opened before
    /// the last storage fault (SQLite keeps a file it could not write read-only).
    fn connection(&mut self) -> rusqlite::Result<&rusqlite::Connection> {
        if self
            .connection
            .as_ref()
            .is_some_and(|(_, opened)| opened_before_last_fault(opened.elapsed()))
        {
            self.connection = None;
        }
        if self.connection.is_none() {
            self.connection = Some((open(&self.settings, &self.deadline)?, Instant::now()));
        }
        match &self.connection {
            Some((connection, _)) => Ok(connection),
            None => Err(rusqlite::Error::InvalidQuery),
        }
    }
}

/// Opens a connection to the file as the pool opens its own (see [`super::connect_with`]),
/// for reads only.
fn open(settings: &Settings, deadline: &Arc<AtomicU64>) -> rusqlite::Result<rusqlite::Connection> {
    let connection = rusqlite::Connection::open_with_flags(
        &settings.path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(super::BUSY_TIMEOUT)?;
    connection.pragma_update(None, "cache_size", PAGE_CACHE)?;
    connection.pragma_update(None, "mmap_size", settings.mmap_bytes)?;
    connection.pragma_update(None, "query_only", true)?;
    connection.create_collation(crate::collation::SWEDISH, crate::collation::compare)?;
    connection.set_prepared_statement_cache_capacity(PREPARED);
    if settings.statement_timeout.is_some() {
        let deadline = deadline.clone();
        connection.progress_handler(
            PROGRESS_STEPS,
            Some(move || since_start() > deadline.load(Ordering::Relaxed)),
        )?;
    }
    Ok(connection)
}

/// A database error as the server's others: a storage fault marks every connection open now
/// as suspect ([`super::note_failure`]).
fn database_error(error: &rusqlite::Error) -> DbErr {
    if let rusqlite::Error::SqliteFailure(failure, _) = error
        && STORAGE_FAULT_CODES.contains(&i64::from(failure.extended_code & 0xff))
    {
        mark_storage_fault();
    }
    DbErr::Query(RuntimeErr::Internal(error.to_string()))
}

/// A value of a statement, bound as sqlx binds it (through sea-query's binding for sqlx).
struct Bound<'a>(ToSqlOutput<'a>);

impl<'a> Bound<'a> {
    /// `None` for the kinds the server's reads never bind (numbers with a time zone other
    /// than UTC, JSON, ...): such a statement goes to the pool.
    fn of(value: &'a Value) -> Option<Self> {
        use rusqlite::types::Value as Owned;
        let integer = |number: Option<i64>| number.map_or(Owned::Null, Owned::Integer);
        let text = |text: Option<String>| text.map_or(Owned::Null, Owned::Text);
        let borrowed = |text: Option<&'a str>| {
            ToSqlOutput::Borrowed(
                text.map_or(ValueRef::Null, |text| ValueRef::Text(text.as_bytes())),
            )
        };
        let output = match value {
            Value::Bool(b) => ToSqlOutput::Owned(integer(b.map(i64::from))),
            Value::TinyInt(n) => ToSqlOutput::Owned(integer(n.map(i64::from))),
            Value::SmallInt(n) => ToSqlOutput::Owned(integer(n.map(i64::from))),
            Value::Int(n) => ToSqlOutput::Owned(integer(n.map(i64::from))),
            Value::BigInt(n) => ToSqlOutput::Owned(integer(*n)),
            Value::TinyUnsigned(n) => ToSqlOutput::Owned(integer(n.map(i64::from))),
            Value::SmallUnsigned(n) => ToSqlOutput::Owned(integer(n.map(i64::from))),
            Value::Unsigned(n) => ToSqlOutput::Owned(integer(n.map(i64::from))),
            Value::BigUnsigned(n) => match n {
                Some(n) => ToSqlOutput::Owned(Owned::Integer(i64::try_from(*n).ok()?)),
                None => ToSqlOutput::Owned(Owned::Null),
            },
            Value::Float(n) => ToSqlOutput::Owned(n.map_or(Owned::Null, |n| Owned::Real(n.into()))),
            Value::Double(n) => ToSqlOutput::Owned(n.map_or(Owned::Null, Owned::Real)),
            Value::String(s) => borrowed(s.as_deref()),
            Value::Enum(OptionEnum::Some(e)) => borrowed(Some(&e.value)),
            Value::Enum(OptionEnum::None(_)) => ToSqlOutput::Owned(Owned::Null),
            Value::Char(c) => ToSqlOutput::Owned(text(c.map(String::from))),
            Value::Bytes(b) => {
                ToSqlOutput::Borrowed(b.as_deref().map_or(ValueRef::Null, ValueRef::Blob))
            }
            Value::Uuid(id) => ToSqlOutput::Borrowed(
                id.as_ref()
                    .map_or(ValueRef::Null, |id| ValueRef::Blob(id.as_bytes())),
            ),
            Value::ChronoDate(d) => ToSqlOutput::Owned(text(d.map(|d| d.format("%F").to_string()))),
            Value::ChronoTime(t) => {
                ToSqlOutput::Owned(text(t.map(|t| t.format("%T%.f").to_string())))
            }
            Value::ChronoDateTime(t) => {
                ToSqlOutput::Owned(text(t.map(|t| t.format("%F %T%.f").to_string())))
            }
            Value::ChronoDateTimeUtc(t) => ToSqlOutput::Owned(text(
                t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)),
            )),
            _ => return None,
        };
        Some(Self(output))
    }
}

impl ToSql for Bound<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match &self.0 {
            ToSqlOutput::Borrowed(value) => ToSqlOutput::Borrowed(*value),
            ToSqlOutput::Owned(value) => ToSqlOutput::Borrowed(value.into()),
            _ => return Err(rusqlite::Error::InvalidQuery),
        })
    }
}

/// Reads the columns of an SQLite row one after the other, where SQLite holds them.
struct Columns<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    next: usize,
}

impl Source for Columns<'_, '_> {
    fn read<T: Cell>(&mut self) -> Result<T, DbErr> {
        let at = self.next;
        self.next += 1;
        let value = self
            .row
            .get_ref(at)
            .map_err(|error| DbErr::Type(format!("column {at}: {error}")))?;
        T::stored(match value {
            ValueRef::Null => Stored::Null,
            ValueRef::Integer(number) => Stored::Integer(number),
            ValueRef::Real(number) => Stored::Real(number),
            ValueRef::Text(text) => Stored::Text(text),
            ValueRef::Blob(bytes) => Stored::Blob(bytes),
        })
        .map_err(|error| DbErr::Type(format!("column {at}: {error}")))
    }
}
