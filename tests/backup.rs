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

/// SQLite's indexes under the Swedish collation keep the order the collation had when they
/// were built; when the server starts with another order, it builds them again.
#[tokio::test]
async fn sqlite_indexes_built_in_another_swedish_order_are_rebuilt_at_start() {
    if on_postgres() {
        return;
    }
    let dir = tempfile::tempdir().expect("directory");
    let path = dir.path().join("samverkan.db");
    let database = samverkan::config::Database::Sqlite(path.display().to_string());
    let db = samverkan::db::connect(&database).await.expect("connect");
    samverkan::db::migrate(&db).await.expect("migrate");
    let order = || async {
        db.query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT value FROM settings WHERE key = 'swedish_order'",
        ))
        .await
        .expect("read")
        .and_then(|row| row.try_get_by_index::<String>(0).ok())
    };
    assert_eq!(order().await, Some(samverkan::collation::fingerprint()));

    // Another program writes under the collation's name with another order (here reversed),
    // as a release with other collation data would.
    let mut options = sea_orm::ConnectOptions::new(format!("sqlite://{}", path.display()));
    options.sqlx_logging(false).map_sqlx_sqlite_opts(|o| {
        o.collation(samverkan::collation::SWEDISH, |a: &str, b: &str| b.cmp(a))
    });
    let other = sea_orm::Database::connect(options).await.expect("connect");
    for (n, name) in [
        "Ale",
        "Koopi",
        "KRIS",
        "Vårgårda",
        "Vänersborg",
        "Åmål",
        "Örebro",
    ]
    .iter()
    .enumerate()
    {
        other
            .execute_unprepared(&format!(
                "INSERT INTO authorities (id, slug, name, level, kind, created_at, updated_at) \
                 VALUES (randomblob(16), 'a{n}', '{name}', 'NATIONAL', 'AGENCY', \
                 '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
            ))
            .await
            .expect("insert");
    }
    other.close().await.expect("close");
    backup::check(&path)
        .await
        .expect_err("an index in the other order fails the check");
    db.execute_unprepared("UPDATE settings SET value = 'other' WHERE key = 'swedish_order'")
        .await
        .expect("update");

    samverkan::db::migrate(&db).await.expect("migrate again");
    backup::check(&path).await.expect("rebuilt indexes pass");
    assert_eq!(order().await, Some(samverkan::collation::fingerprint()));
}
