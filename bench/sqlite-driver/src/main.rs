//! What the SQLite driver costs: W2's two largest statements (an organisation's latest
//! dialogues for fifty organisations, then their authorities), exactly as the server sends
//! them, run through sqlx as the server does and through rusqlite, which reads each row in
//! place on the thread that steps the statement. Each way reads the same rows into the same
//! structs and is measured as CPU time of the whole process per pair of statements, with
//! `K` (default 2) connections and eight pairs in flight.
//!
//! sqlx runs each connection on a thread of its own and hands every row to the caller's task
//! through a channel, after copying each of its values (`sqlite3_value_dup`: one or two
//! allocations each, freed on the other thread). rusqlite here runs the same number of
//! threads, each with its connection, and hands back a pair's rows once. The server reads its
//! pages that way since (api/src/db/reader.rs); this program still measures the two drivers
//! side by side.
//!
//! ```text
//! DATABASE_URL=sqlite:///tmp/bench.db?mode=rwc target/release/samverkan seed --bench
//! cargo run --release --manifest-path bench/sqlite-driver/Cargo.toml -- /tmp/bench.db
//! taskset -c 0 bench/sqlite-driver/target/release/sqlite-driver-bench /tmp/bench.db
//! ```

use rusqlite::Connection;
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The server's statement for a page of ten dialogues under each of the parents.
const DIALOGUES: &str = r#"SELECT "page"."id", "page"."title", "page"."held_on", "page"."visibility", "page"."authority_ids", "parent"."uuid" AS "parent_key" FROM (SELECT unhex("value") AS "uuid" FROM json_each(?) AS "ids" LIMIT ?) AS "parent" INNER JOIN "dialogues" AS "page" ON "page"."rowid" IN (SELECT "dialogues"."rowid" FROM "dialogue_organisations" INNER JOIN "dialogues" ON "dialogues"."id" = "dialogue_organisations"."dialogue_id" WHERE "dialogues"."visibility" = 'PUBLIC' AND "dialogue_organisations"."organisation_id" = "parent"."uuid" AND TRUE ORDER BY "dialogue_organisations"."held_on" DESC, "dialogue_organisations"."dialogue_id" DESC LIMIT ?)"#;
/// The server's statement for the authorities of those dialogues.
const AUTHORITIES: &str = r#"SELECT "authorities"."id", "authorities"."name" FROM (SELECT unhex("value") AS "uuid" FROM json_each(?) AS "ids") AS "ids" INNER JOIN "authorities" ON "authorities"."id" = "ids"."uuid" WHERE TRUE"#;
/// Each connection's page cache, as the server's.
const CACHE: &str = "-4096";
/// Pairs of statements in flight.
const IN_FLIGHT: usize = 8;

/// A dialogue row as the server reads it.
#[allow(dead_code)]
struct Dialogue {
    id: [u8; 16],
    title: String,
    held_on: String,
    visibility: String,
    authority_ids: String,
    parent: [u8; 16],
}

/// An authority row as the server reads it.
#[allow(dead_code)]
struct Authority {
    id: [u8; 16],
    name: String,
}

/// The rows of one pair of statements.
type Rows = (Vec<Dialogue>, Vec<Authority>);

/// What each pair binds: the parents' and the authorities' ids as JSON arrays of hex.
#[derive(Clone)]
struct Ids {
    organisations: String,
    authorities: String,
}

fn uuid(bytes: &[u8]) -> [u8; 16] {
    let mut id = [0; 16];
    id.copy_from_slice(&bytes[..16]);
    id
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn json(ids: &[String]) -> String {
    let quoted: Vec<String> = ids.iter().map(|id| format!("\"{id}\"")).collect();
    format!("[{}]", quoted.join(","))
}

/// CPU seconds (user and system) of this process so far.
fn cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 =
        fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0
}

fn open(path: &str) -> Connection {
    let connection = Connection::open(path).expect("open the database");
    connection
        .pragma_update(None, "cache_size", CACHE)
        .expect("cache_size");
    connection
}

/// One pair through rusqlite: each value read where SQLite holds it.
fn pair_rusqlite(connection: &Connection, ids: &Ids) -> rusqlite::Result<Rows> {
    let mut dialogues = connection.prepare_cached(DIALOGUES)?;
    let dialogues = dialogues
        .query_map(rusqlite::params![ids.organisations, 50, 11], |row| {
            Ok(Dialogue {
                id: uuid(row.get_ref(0)?.as_blob()?),
                title: row.get(1)?,
                held_on: row.get(2)?,
                visibility: row.get(3)?,
                authority_ids: row.get(4)?,
                parent: uuid(row.get_ref(5)?.as_blob()?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut authorities = connection.prepare_cached(AUTHORITIES)?;
    let authorities = authorities
        .query_map([&ids.authorities], |row| {
            Ok(Authority {
                id: uuid(row.get_ref(0)?.as_blob()?),
                name: row.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok((dialogues, authorities))
}

/// One pair through sqlx, as the server's pool runs it.
async fn pair_sqlx(pool: &sqlx::SqlitePool, ids: &Ids) -> sqlx::Result<Rows> {
    use sqlx::Row;
    let dialogues = sqlx::query(DIALOGUES)
        .bind(&ids.organisations)
        .bind(50i64)
        .bind(11i64)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Dialogue {
                id: uuid(row.try_get::<&[u8], _>(0)?),
                title: row.try_get(1)?,
                held_on: row.try_get(2)?,
                visibility: row.try_get(3)?,
                authority_ids: row.try_get(4)?,
                parent: uuid(row.try_get::<&[u8], _>(5)?),
            })
        })
        .collect::<sqlx::Result<_>>()?;
    let authorities = sqlx::query(AUTHORITIES)
        .bind(&ids.authorities)
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| {
            Ok(Authority {
                id: uuid(row.try_get::<&[u8], _>(0)?),
                name: row.try_get(1)?,
            })
        })
        .collect::<sqlx::Result<_>>()?;
    Ok((dialogues, authorities))
}

/// W2's ids: the first fifty organisations by name (binary order, which needs no collation)
/// and the distinct authorities of their dialogues.
fn w2_ids(path: &str) -> Ids {
    let connection = open(path);
    let mut first = connection
        .prepare("SELECT id FROM organisations ORDER BY name LIMIT 50")
        .expect("organisations");
    let organisations: Vec<String> = first
        .query_map([], |row| Ok(hex(row.get_ref(0)?.as_blob()?)))
        .expect("organisations")
        .collect::<rusqlite::Result<_>>()
        .expect("organisations");
    let mut ids = Ids {
        organisations: json(&organisations),
        authorities: "[]".into(),
    };
    let (dialogues, _) = pair_rusqlite(&connection, &ids).expect("dialogues");
    let mut authorities: Vec<String> = Vec::new();
    for dialogue in &dialogues {
        let digits: String = dialogue
            .authority_ids
            .chars()
            .filter(char::is_ascii_hexdigit)
            .collect();
        for at in (0..digits.len().saturating_sub(31)).step_by(32) {
            let id = digits[at..at + 32].to_string();
            if !authorities.contains(&id) {
                authorities.push(id);
            }
        }
    }
    ids.authorities = json(&authorities);
    println!(
        "{} dialogues, {} authorities a pair",
        dialogues.len(),
        authorities.len()
    );
    ids
}

/// Runs `pairs` pairs, `IN_FLIGHT` at a time, and prints their CPU and wall time per pair.
async fn measure<F, Fut>(name: &str, pairs: usize, pair: F)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = usize> + Send,
{
    let run = |count: usize| {
        let tasks: Vec<_> = (0..IN_FLIGHT)
            .map(|_| {
                let pair = pair.clone();
                tokio::spawn(async move {
                    let mut rows = 0;
                    for _ in 0..count / IN_FLIGHT {
                        rows += pair().await;
                    }
                    rows
                })
            })
            .collect();
        async move {
            let mut rows = 0;
            for task in tasks {
                rows += task.await.expect("task");
            }
            rows
        }
    };
    run(pairs / 5).await;
    let (cpu_before, wall_before) = (cpu(), Instant::now());
    let rows = run(pairs).await;
    println!(
        "{name}: {:.3} ms CPU a pair, {:.3} ms wall ({rows} rows)",
        (cpu() - cpu_before) * 1000.0 / pairs as f64,
        wall_before.elapsed().as_secs_f64() * 1000.0 / pairs as f64
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: sqlite-driver-bench DB-FILE [PAIRS]");
    let pairs: usize = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let connections: usize = std::env::var("K")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(2);
    let ids = w2_ids(&path);

    // rusqlite: `connections` threads, each with its connection, take pairs from one queue.
    let (queue, requests) = mpsc::channel::<tokio::sync::oneshot::Sender<Rows>>();
    let requests = Arc::new(Mutex::new(requests));
    for _ in 0..connections {
        let (path, ids, requests) = (path.clone(), ids.clone(), requests.clone());
        std::thread::spawn(move || {
            let connection = open(&path);
            loop {
                let next = requests.lock().map(|r| r.recv());
                let Ok(Ok(reply)) = next else { break };
                let _ = reply.send(pair_rusqlite(&connection, &ids).expect("rusqlite pair"));
            }
        });
    }
    measure("rusqlite, rows read in place", pairs, move || {
        let queue = queue.clone();
        async move {
            let (reply, rows) = tokio::sync::oneshot::channel();
            queue.send(reply).expect("queue");
            let (dialogues, authorities) = rows.await.expect("rows");
            dialogues.len() + authorities.len()
        }
    })
    .await;

    // sqlx: a pool of `connections`, tested only when idle (as the server's, which tests none).
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .pragma("cache_size", CACHE)
        .row_buffer_size(1024);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(u32::try_from(connections).unwrap_or(2))
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .expect("sqlx pool");
    measure("sqlx, rows copied and sent one by one", pairs, move || {
        let (pool, ids) = (pool.clone(), ids.clone());
        async move {
            let (dialogues, authorities) = pair_sqlx(&pool, &ids).await.expect("sqlx pair");
            dialogues.len() + authorities.len()
        }
    })
    .await;
}
