//! Backups of the embedded database: a copy taken under write load holds every write
//! acknowledged before it began, and goes back only into an empty location.

use samverkan::backup;
use samverkan_tests::{TestApp, on_postgres};
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[tokio::test]
async fn a_backup_under_write_load_holds_every_acknowledged_write_and_restores_only_into_an_empty_place()
 {
    let app = Arc::new(TestApp::start().await);
    let dir = tempfile::tempdir().expect("directory");
    let copy = dir.path().join("backup.db");
    if on_postgres() {
        let refused = backup::backup(&app.db, &copy).await.expect_err("refused");
        assert!(refused.0.contains("pg_dump"), "{refused}");
        return;
    }
    // Writers keep creating organisations; each slug is kept once its write is acknowledged.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (app, stop, acknowledged) = (app.clone(), stop.clone(), acknowledged.clone());
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) && i < 400 {
                    let slug = format!("writer{w}-org{i}");
                    let body = app
                        .post(
                            "mutation($s: String!) { createOrganisation(input: { slug: $s, name: $s, kind: OTHER }) { slug } }",
                            json!({ "s": slug }),
                        )
                        .await;
                    if body["data"]["createOrganisation"]["slug"] == slug.as_str() {
                        acknowledged.lock().expect("list").push(slug);
                    }
                    i += 1;
                }
            })
        })
        .collect();
    while acknowledged.lock().expect("list").len() < 40 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let before: Vec<String> = acknowledged.lock().expect("list").clone();
    backup::backup(&app.db, &copy).await.expect("backup");
    // Each writer has hundreds of writes to go: the copy was taken while all of them ran.
    assert!(
        writers.iter().all(|writer| !writer.is_finished()),
        "the writers were still writing when the copy was done"
    );
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.await.expect("writer");
    }

    let refused = backup::backup(&app.db, &copy)
        .await
        .expect_err("never overwrites");
    assert!(refused.0.contains("exists"), "{refused}");

    let target = dir.path().join("restored.db");
    let database = samverkan::config::Database::Sqlite(target.display().to_string());
    backup::restore(&copy, &database).await.expect("restore");
    let refused = backup::restore(&copy, &database)
        .await
        .expect_err("only into an empty place");
    assert!(refused.0.contains("exists"), "{refused}");

    let restored = samverkan::db::connect(&database)
        .await
        .expect("open the restored copy");
    let rows = restored
        .query_all_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT slug FROM organisations",
        ))
        .await
        .expect("slugs");
    let slugs: std::collections::HashSet<String> = rows
        .iter()
        .filter_map(|row| row.try_get_by_index::<String>(0).ok())
        .collect();
    let missing: Vec<&String> = before.iter().filter(|s| !slugs.contains(*s)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup but not in it: {missing:?}"
    );
}
