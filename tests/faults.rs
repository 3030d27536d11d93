//! Storage faults under the embedded database: a disk that fills up gives clean errors and
//! a 503 from `/readyz`, does not turn sign-ins into counted guesses, and the service heals
//! by itself once space is back.

use samverkan_tests::{Caller, LOGIN, PASSWORD, TestApp, on_postgres};
use serde_json::{Value, json};
use std::io::Write;
use std::time::{Duration, Instant};

/// A small tmpfs of the test's own, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// Mounts one, or `None` where this process may not mount (it needs root).
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        mounted.then_some(Self { dir })
    }

    fn path(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Writes a file until the disk is full; returns its path.
    fn fill(&self) -> std::path::PathBuf {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path).expect("create the filler");
        let chunk = vec![0_u8; 64 * 1024];
        while file.write_all(&chunk).and_then(|()| file.flush()).is_ok() {}
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

const CREATE: &str = "mutation($slug: String!, $about: String!) { createOrganisation(input: { slug: $slug, name: $slug, kind: ASSOCIATION, description: $about }) { id } }";

async fn create(app: &TestApp, slug: &str) -> Value {
    // A few kilobytes, so that the write needs pages the full disk cannot give.
    let about = "Ett nätverk mot fattigdom. ".repeat(150);
    app.post(CREATE, json!({ "slug": slug, "about": about }))
        .await
}

async fn readyz(app: &TestApp) -> u16 {
    app.client
        .get(format!("{}/readyz", app.url))
        .send()
        .await
        .expect("readyz")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_full_disk_gives_clean_errors_and_503_and_the_service_heals_when_space_returns() {
    if on_postgres() {
        println!("skipped on PostgreSQL: the fault is in the embedded database's own storage");
        return;
    }
    let Some(disk) = SmallDisk::mount("8m") else {
        // CI runs as root and sets this, so that the test cannot pass there without running.
        assert!(
            std::env::var_os("SAMVERKAN_TEST_FAULTS").is_none(),
            "SAMVERKAN_TEST_FAULTS is set but this process cannot mount a tmpfs"
        );
        println!("skipped: this process cannot mount a tmpfs (it needs root)");
        return;
    };
    let path = disk.path().join("samverkan.db");
    let app = TestApp::start_on(samverkan::config::Database::Sqlite(
        path.display().to_string(),
    ))
    .await;
    app.create_user("owner@samverkan.example", false).await;
    let before = create(&app, "before-the-fault").await;
    assert!(before.get("errors").is_none(), "{before}");
    assert_eq!(readyz(&app).await, 200);

    let filler = disk.fill();
    let mut failed = 0;
    for i in 0..5 {
        let response = create(&app, &format!("during-{i}")).await;
        if let Some(error) = response["errors"].get(0) {
            failed += 1;
            assert_eq!(error["extensions"]["code"], "INTERNAL", "{response}");
            let message = error["message"].as_str().unwrap_or_default();
            assert!(
                message.starts_with("internal error (request id"),
                "nothing of the fault reaches the client: {message}"
            );
        }
    }
    assert!(failed > 0, "writes fail while the disk is full");
    // The owner keeps signing in with the right password while the service fails.
    for _ in 0..8 {
        let (_, body) = app
            .post_as(
                &Caller::Anonymous,
                LOGIN,
                json!({ "email": "owner@samverkan.example", "password": PASSWORD }),
            )
            .await;
        let code = &body["errors"][0]["extensions"]["code"];
        assert_ne!(
            code, "RATE_LIMITED",
            "a sign-in the service failed is not a wrong guess: {body}"
        );
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(readyz(&app).await, 503, "readiness follows the write path");

    std::fs::remove_file(filler).expect("free the disk");
    let freed = Instant::now();
    while readyz(&app).await != 200 {
        assert!(
            freed.elapsed() < Duration::from_secs(10),
            "/readyz turns 200 again once space is back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for i in 0..10 {
        let response = create(&app, &format!("after-{i}")).await;
        assert!(
            response.get("errors").is_none(),
            "every write succeeds once space is back: {response}"
        );
    }
    app.login("owner@samverkan.example").await;
    let count = app
        .ok("{ organisations(first: 0) { totalCount } }", json!({}))
        .await;
    assert_eq!(
        count["organisations"]["totalCount"],
        11 + 5 - failed,
        "every write acknowledged is there"
    );
    drop(app);
}

/// PostgreSQL closed every connection of the pool (a restart, an administrator's
/// `pg_terminate_backend`): the pool tests a connection that rested before handing it out,
/// so the next requests are answered instead of failing on a dead connection.
#[tokio::test]
async fn connections_the_database_closed_are_replaced_before_requests_use_them() {
    if !on_postgres() {
        return;
    }
    let app = TestApp::start().await;
    // A count (through sea-orm's pool) and a page (through the held connections).
    let count = "{ organisations(first: 5) { totalCount nodes { name } } }";
    let reads = (0..4).map(|_| app.ok(count, json!({})));
    futures_util::future::join_all(reads).await;
    let admin = sea_orm::Database::connect(&app.database_url)
        .await
        .expect("connect");
    let closed = sea_orm::ConnectionTrait::execute_unprepared(
        &admin,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .await
    .expect("terminate");
    assert!(closed.rows_affected() > 0, "some connections were closed");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    for _ in 0..4 {
        let answer = app.post(count, json!({})).await;
        assert!(answer["errors"].is_null(), "{answer}");
    }
}
