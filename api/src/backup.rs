//! Backups of the embedded database. Nothing acknowledged is lost to a crash already
//! (WAL, `synchronous=FULL`); a lost disk still loses everything, so `samverkan backup`
//! writes a consistent copy while the server keeps serving, and `samverkan restore` puts
//! one back into an empty location. PostgreSQL has its own tools (`pg_dump`, base backups).

use crate::config::Database;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};
use std::path::{Path, PathBuf};

/// Why a backup or a restore was refused or failed, for the operator.
#[derive(Debug)]
pub struct BackupError(pub String);

impl std::fmt::Display for BackupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BackupError {}

/// What PostgreSQL users are told instead.
const POSTGRES: &str = "backup and restore are for the embedded SQLite database; for PostgreSQL use pg_dump or a base backup (pg_basebackup)";

fn fail(message: impl Into<String>) -> BackupError {
    BackupError(message.into())
}

/// The file of an SQLite database setting, without its URL scheme and options.
///
/// # Errors
/// For a PostgreSQL database, which this does not back up.
pub fn sqlite_file(database: &Database) -> Result<PathBuf, BackupError> {
    match database {
        Database::Sqlite(path) => {
            let path = path
                .strip_prefix("sqlite://")
                .or_else(|| path.strip_prefix("sqlite:"))
                .unwrap_or(path);
            Ok(PathBuf::from(path.split('?').next().unwrap_or(path)))
        }
        Database::Postgres(_) => Err(fail(POSTGRES)),
    }
}

/// Writes a consistent copy of the database `db` to `path`, which must not exist, while
/// the server goes on serving: `VACUUM INTO` reads one snapshot, so every write committed
/// before it began is in the copy. The copy is then checked (`PRAGMA integrity_check`);
/// a copy that fails the check is removed.
///
/// # Errors
/// When `db` is not SQLite, `path` exists, the copy cannot be written, or it fails the check.
pub async fn backup(db: &DatabaseConnection, path: &Path) -> Result<(), BackupError> {
    if db.get_database_backend() != DatabaseBackend::Sqlite {
        return Err(fail(POSTGRES));
    }
    if path.exists() {
        return Err(fail(format!(
            "{} exists; a backup never overwrites a file",
            path.display()
        )));
    }
    let target = path
        .to_str()
        .ok_or_else(|| fail(format!("{} is not a UTF-8 path", path.display())))?;
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Sqlite,
        "VACUUM INTO ?",
        [target.into()],
    ))
    .await
    .map_err(|e| fail(format!("cannot write {}: {e}", path.display())))?;
    if let Err(error) = check(path).await {
        let _ = std::fs::remove_file(path);
        return Err(error);
    }
    Ok(())
}

/// Checks a database file with `PRAGMA integrity_check`, opened read-only, with the
/// collation its indexes are built under.
///
/// # Errors
/// When it cannot be opened or the check reports a problem.
pub async fn check(path: &Path) -> Result<(), BackupError> {
    let mut options = sea_orm::ConnectOptions::new(format!("sqlite://{}?mode=ro", path.display()));
    options
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(crate::db::with_swedish);
    let copy = sea_orm::Database::connect(options)
        .await
        .map_err(|e| fail(format!("cannot open {}: {e}", path.display())))?;
    let verdict = copy
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "PRAGMA integrity_check",
        ))
        .await
        .map_err(|e| fail(format!("cannot check {}: {e}", path.display())))?
        .and_then(|row| row.try_get_by_index::<String>(0).ok());
    copy.close().await.ok();
    match verdict.as_deref() {
        Some("ok") => Ok(()),
        other => Err(fail(format!(
            "{} fails the integrity check: {}",
            path.display(),
            other.unwrap_or("no answer")
        ))),
    }
}

/// Puts the backup at `from` back as the database `database`, whose file must not exist
/// (nor its `-wal` and `-shm` companions): a restore never replaces a database. The backup
/// is checked first, copied beside the target and renamed into place, so a failed restore
/// leaves nothing half-written.
///
/// # Errors
/// When `database` is PostgreSQL or exists, or the backup fails its check or cannot be copied.
pub async fn restore(from: &Path, database: &Database) -> Result<PathBuf, BackupError> {
    let target = sqlite_file(database)?;
    for existing in [
        target.clone(),
        target.with_extension("db-wal"),
        target.with_extension("db-shm"),
        PathBuf::from(format!("{}-wal", target.display())),
        PathBuf::from(format!("{}-shm", target.display())),
    ] {
        if existing.exists() {
            return Err(fail(format!(
                "{} exists; a restore goes only into an empty location",
                existing.display()
            )));
        }
    }
    check(from).await?;
    let partial = PathBuf::from(format!("{}.restoring", target.display()));
    std::fs::copy(from, &partial)
        .and_then(|_| std::fs::File::open(&partial)?.sync_all())
        .and_then(|()| std::fs::rename(&partial, &target))
        .map_err(|e| {
            let _ = std::fs::remove_file(&partial);
            fail(format!("cannot restore to {}: {e}", target.display()))
        })?;
    Ok(target)
}
