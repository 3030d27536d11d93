//! Nothing acknowledged is lost: concurrent writers, a killed server, a graceful stop, and
//! a database that goes away and comes back.

use samverkan_tests::{CHILD_ENV, ChildServer, TestApp, assert_code, on_postgres};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Not a test: the body of a server process started by [`ChildServer::spawn`].
#[test]
#[ignore = "runs only as a child process of the durability tests"]
fn child_server() {
    if std::env::var(CHILD_ENV).is_err() {
        return;
    }
    let settings = samverkan::config::Settings::from_env().expect("settings");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(samverkan::serve(settings)).expect("serve");
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Option<Value> {
    let response = client
        .post(format!("{url}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .ok()?;
    response.json().await.ok()
}

#[tokio::test]
async fn fifty_concurrent_updates_with_one_version_make_one_winner() {
    let app = Arc::new(TestApp::start().await);
    let lead = app.organisation("org-a", "A").await;
    let proposal = app.proposal("Original", &lead, "PUBLIC").await;
    let mut writers = Vec::new();
    for i in 0..50 {
        let (app, proposal) = (app.clone(), proposal.clone());
        writers.push(tokio::spawn(async move {
            let title = format!("Title from writer {i}");
            let response = app
                .post(
                    "mutation($id: ID!, $t: String!) { updateProposal(input: { id: $id, expectedVersion: 1, title: $t }) { title version } }",
                    json!({ "id": proposal, "t": title }),
                )
                .await;
            (title, response)
        }));
    }
    let mut winners = Vec::new();
    let mut conflicts = 0;
    for writer in writers {
        let (title, response) = writer.await.expect("writer");
        match response["errors"][0]["extensions"]["code"].as_str() {
            None => winners.push(title),
            Some("CONFLICT") => conflicts += 1,
            Some(other) => panic!("unexpected {other}: {response}"),
        }
    }
    assert_eq!((winners.len(), conflicts), (1, 49));
    let stored = app
        .ok(
            "query($id: ID!) { proposal(id: $id) { title version } }",
            json!({ "id": proposal }),
        )
        .await;
    assert_eq!(stored["proposal"]["title"], winners[0].as_str());
    assert_eq!(stored["proposal"]["version"], 2);
}

#[tokio::test]
async fn a_killed_server_loses_no_acknowledged_write() {
    let app = TestApp::start().await;
    let server = ChildServer::spawn(&app.database_url, &[]).await;
    let client = reqwest::Client::new();
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for writer in 0..8 {
        let (client, url, token, acknowledged) = (
            client.clone(),
            server.url.clone(),
            app.admin_token.clone(),
            acknowledged.clone(),
        );
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let slug = format!("w{writer}-n{n}");
                let input = json!({ "input": { "slug": slug, "name": format!("Writer {writer} number {n}"), "kind": "OTHER" } });
                let Some(body) = post(&client, &url, &token, "mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) { id } }", input).await else {
                    break;
                };
                if body["data"]["createOrganisation"]["id"].is_string() {
                    acknowledged.lock().expect("lock").push(slug);
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("KILL");
    for writer in writers {
        writer.await.expect("writer");
    }
    drop(server);
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() > 20,
        "the load wrote something: {}",
        acknowledged.len()
    );

    let restarted = ChildServer::spawn(&app.database_url, &[]).await;
    let mut missing = Vec::new();
    for chunk in acknowledged.chunks(50) {
        for slug in chunk {
            let body = post(
                &client,
                &restarted.url,
                &app.admin_token,
                "query($s: String!) { organisation(slug: $s) { id } }",
                json!({ "s": slug }),
            )
            .await
            .expect("answer");
            if body["data"]["organisation"].is_null() {
                missing.push(slug.clone());
            }
        }
    }
    println!(
        "kill -9 during writes: {} acknowledged, {} missing after restart",
        acknowledged.len(),
        missing.len()
    );
    assert!(missing.is_empty(), "acknowledged writes lost: {missing:?}");
    if !on_postgres() {
        let backend = app.db.get_database_backend();
        let check = app
            .db
            .query_one_raw(Statement::from_string(backend, "PRAGMA integrity_check"))
            .await
            .expect("integrity check");
        let verdict: String = check.expect("a row").try_get_by_index(0).expect("text");
        println!("SQLite integrity_check after the kill: {verdict}");
        assert_eq!(verdict, "ok");
    }
}

#[tokio::test]
async fn sigterm_drains_in_flight_requests_then_exits_cleanly() {
    let app = TestApp::start().await;
    for i in 0..30 {
        app.organisation(&format!("org-{i:02}"), &format!("Org {i:02}"))
            .await;
    }
    let mut server =
        ChildServer::spawn(&app.database_url, &[("SAMVERKAN_SHUTDOWN_GRACE_SECS", "2")]).await;
    let client = reqwest::Client::new();
    let mut in_flight = Vec::new();
    for _ in 0..20 {
        let (client, url) = (client.clone(), server.url.clone());
        in_flight.push(tokio::spawn(async move {
            let body = json!({ "query": "{ organisations(first: 100) { totalCount nodes { slug name dialogues { totalCount } } } }" });
            client.post(format!("{url}/graphql")).json(&body).send().await.map(|r| r.status().as_u16())
        }));
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    server.signal("TERM");
    let mut saw_not_ready = false;
    for _ in 0..15 {
        match client.get(format!("{}/readyz", server.url)).send().await {
            Ok(response) if response.status() == 503 => {
                saw_not_ready = true;
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert!(saw_not_ready, "/readyz turns 503 first");
    for request in in_flight {
        assert_eq!(
            request.await.expect("task").expect("answered"),
            200,
            "in-flight requests finish"
        );
    }
    let status = server.exit_status(Duration::from_secs(20)).await;
    assert!(status.success(), "exit code 0: {status:?}");
}

/// A PostgreSQL server of the test's own, started and stopped with `pg_ctl`.
struct PrivatePostgres {
    bin: std::path::PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivatePostgres {
    fn run(&self, program: &str, args: &[&str]) -> bool {
        let program = self.bin.join(program);
        let mut command = if is_root() {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            std::process::Command::new(program)
        };
        command
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn start(&self) -> bool {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        )
    }

    fn stop(&self) -> bool {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"])
    }

    fn new() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .find(|b| b.join("initdb").exists())?;
        let dir = tempfile::tempdir().ok()?;
        if is_root() {
            std::process::Command::new("chown")
                .args(["-R", "postgres"])
                .arg(dir.path())
                .status()
                .ok()?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let server = Self { bin, dir, port };
        server
            .run(
                "initdb",
                &["-D", &server.data(), "-A", "trust", "-U", "postgres"],
            )
            .then_some(())?;
        server.start().then_some(server)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"))
}

#[tokio::test]
async fn the_service_survives_postgres_going_away() {
    let Some(postgres) = PrivatePostgres::new() else {
        // .ci/run installs PostgreSQL; on a machine without it there is nothing to stop.
        println!("skipped: no PostgreSQL server binaries (initdb) on this machine");
        return;
    };
    let database = samverkan::config::Database::Postgres(format!(
        "postgres://postgres@127.0.0.1:{}/postgres",
        postgres.port
    ));
    let db = samverkan::db::connect(&database).await.expect("connect");
    samverkan::db::migrate(&db).await.expect("migrate");
    let secret = samverkan::auth::secrets::signing_secret(&db, None)
        .await
        .map_err(|e| e.message())
        .expect("secret");
    let app = samverkan::http::App::new(
        db,
        samverkan::auth::jwt::Keys::new(&secret),
        Default::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(app.serve(listener, std::future::pending()));
    let client = reqwest::Client::new();
    let ready = || async {
        client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    let query = || async {
        let started = Instant::now();
        let response = client
            .post(format!("{url}/graphql"))
            .json(&json!({ "query": "{ organisations { totalCount } }" }))
            .send()
            .await
            .expect("answered");
        (
            started.elapsed(),
            response.json::<Value>().await.expect("json"),
        )
    };
    assert_eq!(ready().await, 200);
    assert_eq!(query().await.1["data"]["organisations"]["totalCount"], 0);

    assert!(postgres.stop(), "stop the private server");
    // One proof that the database takes writes stands for a second.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(ready().await, 503, "/readyz tells the database is gone");
    let (took, body) = query().await;
    println!(
        "with PostgreSQL down a request failed in {:.0} ms",
        took.as_secs_f64() * 1000.0
    );
    assert_code(&body["errors"][0], "INTERNAL", None);
    assert!(took < Duration::from_secs(10), "fails fast: {took:?}");
    let text = body.to_string().to_lowercase();
    assert!(
        !text.contains("connection refused") && !text.contains("postgres"),
        "{body}"
    );

    assert!(postgres.start(), "start it again");
    let started = Instant::now();
    while ready().await != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the service recovers by itself"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        query().await.1["data"]["organisations"]["totalCount"],
        0,
        "and answers again"
    );
}

/// PostgreSQL's `statement_timeout` and SQLite's progress handler stop a statement that
/// runs longer than the request time limit (the server passes its own to `connect_with`);
/// otherwise a request that timed out would leave its statement working on.
#[tokio::test]
async fn a_statement_cannot_outrun_the_request_time_limit() {
    let app = TestApp::start().await;
    let database = if on_postgres() {
        samverkan::config::Database::Postgres(app.database_url.clone())
    } else {
        samverkan::config::Database::Sqlite(app.database_url.clone())
    };
    let db = samverkan::db::connect_with(&database, Some(Duration::from_millis(300)), 0)
        .await
        .expect("connect");
    let runaway = if on_postgres() {
        "SELECT pg_sleep(5)"
    } else {
        // Counts to ten billion: minutes of work.
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10000000000) SELECT count(*) FROM n"
    };
    let started = Instant::now();
    let error = db
        .execute_unprepared(runaway)
        .await
        .map(|_| ())
        .expect_err("stopped")
        .to_string();
    let took = started.elapsed();
    println!("a runaway statement was stopped after {took:?}: {error}");
    assert!(
        error.contains("statement timeout") || error.contains("interrupted"),
        "{error}"
    );
    assert!(took < Duration::from_secs(3), "stopped early: {took:?}");
    let still = db.execute_unprepared("SELECT 1").await;
    assert!(still.is_ok(), "the connection serves the next statement");

    // The same through the server's page reads, which on SQLite run on threads of their own,
    // each row read where the statement is stepped.
    let started = Instant::now();
    let error = samverkan::db::Connection::decoded(
        &db,
        Statement::from_string(db.get_database_backend(), runaway),
        Count,
    )
    .await
    .expect_err("stopped")
    .to_string();
    let took = started.elapsed();
    println!("a runaway page read was stopped after {took:?}: {error}");
    assert!(
        error.contains("statement timeout") || error.contains("interrupted"),
        "{error}"
    );
    assert!(took < Duration::from_secs(3), "stopped early: {took:?}");
    let one = Statement::from_string(db.get_database_backend(), "SELECT CAST(1 AS BIGINT)");
    let still = samverkan::db::Connection::decoded(&db, one, Count).await;
    assert_eq!(still.ok(), Some(vec![1]), "the reader serves the next read");
}

/// Reads a row's first column as a count.
struct Count;

impl samverkan::db::ReadRow for Count {
    type Row = i64;

    fn read(&self, columns: &mut impl entity::columns::Source) -> Result<i64, sea_orm::DbErr> {
        columns.read::<i64>()
    }
}

/// Whether the server process maps the SQLite file named by `database_url` into memory.
fn maps_the_file(server: &ChildServer, database_url: &str) -> bool {
    let path = database_url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap_or_default();
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", server.process.id()))
        .expect("the server's memory maps");
    maps.lines().any(|line| line.ends_with(path))
}

/// `SAMVERKAN_SQLITE_MMAP_MIB` has each SQLite connection read the file through a memory
/// map; the answers and writes are the same as without it, and without it nothing is mapped.
/// PostgreSQL ignores the setting.
#[tokio::test]
async fn sqlite_reads_through_a_memory_map_only_when_asked() {
    let app = TestApp::start().await;
    let client = reqwest::Client::new();
    let write =
        "mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) { id } }";
    let read =
        "{ organisations(first: 10, orderBy: { field: NAME, direction: ASC }) { nodes { name } } }";
    let mut answers = Vec::new();
    for (mib, slug) in [("0", "utan-karta"), ("64", "med-karta")] {
        if !on_postgres() {
            // Pages still in the write-ahead log are read from it, not from the file.
            let backend = app.db.get_database_backend();
            app.db
                .execute_raw(Statement::from_string(
                    backend,
                    "PRAGMA wal_checkpoint(TRUNCATE)",
                ))
                .await
                .expect("checkpoint");
        }
        let server =
            ChildServer::spawn(&app.database_url, &[("SAMVERKAN_SQLITE_MMAP_MIB", mib)]).await;
        let input = json!({ "input": { "slug": slug, "name": format!("Förening {slug}"), "kind": "OTHER" } });
        let created = post(&client, &server.url, &app.admin_token, write, input)
            .await
            .expect("answer");
        assert!(
            created["data"]["createOrganisation"]["id"].is_string(),
            "{created}"
        );
        let body = post(&client, &server.url, &app.admin_token, read, json!({}))
            .await
            .expect("answer");
        answers.push(body["data"]["organisations"]["nodes"].clone());
        if !on_postgres() {
            assert_eq!(
                maps_the_file(&server, &app.database_url),
                mib != "0",
                "SAMVERKAN_SQLITE_MMAP_MIB={mib}"
            );
        }
    }
    assert_eq!(
        answers[1],
        json!([{ "name": "Förening med-karta" }, { "name": "Förening utan-karta" }]),
        "the mapped server reads what both wrote"
    );
    assert_eq!(answers[0], json!([{ "name": "Förening utan-karta" }]));
}
