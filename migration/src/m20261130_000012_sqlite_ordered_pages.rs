//! On SQLite, pages read their rows in the order they are asked for, from an index, and
//! stop: indexes for the names and titles under the Swedish collation (PostgreSQL has had
//! them since the search migration), and none on the columns of closed vocabularies.
//!
//! SQLite has no statistics unless `ANALYZE` ran, and without them it takes an equality on
//! an indexed column for a selective one. A page of dialogues filtered by visibility (every
//! page an anonymous caller reads) was read through the visibility index, which matches
//! nearly every row, and the whole table was sorted: on the benchmark data set (50,000
//! dialogues) a page of 20 cost about 68 million instructions, 90 million by title, against
//! 0.3 million on PostgreSQL. Statistics sampled as `PRAGMA optimize` samples them gave the
//! same plan. A column of a few values narrows no list by much, so on SQLite those indexes
//! go; where a vocabulary is worth an index with the order after it
//! (`idx_proposals_status_updated_at`), it stays. PostgreSQL keeps them all: it gathers
//! statistics by itself.
//!
//! The collation exists only where it is registered: on the server's connections. A tool
//! without it (the `sqlite3` shell) can still read every table and order by other columns,
//! but cannot write to the four tables below, and `VACUUM` or `PRAGMA integrity_check`
//! there fail; `samverkan backup` checks its copies with the collation registered.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Names and titles the long lists order by, with their tables (as in the search migration).
const ORDERED: [(&str, &str); 4] = [
    ("organisations", "name"),
    ("authorities", "name"),
    ("dialogues", "title"),
    ("proposals", "title"),
];

/// Indexes on one column of a closed vocabulary, as the first migrations made them.
const VOCABULARY: [(&str, &str); 7] = [
    ("organisations", "kind"),
    ("authorities", "level"),
    ("authorities", "kind"),
    ("proposals", "visibility"),
    ("dialogues", "kind"),
    ("dialogues", "status"),
    ("dialogues", "visibility"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
        if connection.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(());
        }
        for (table, column) in ORDERED {
            connection
                .execute_unprepared(&format!(
                    "CREATE INDEX idx_{table}_{column}_sv ON {table} ({column} COLLATE \"sv-SE-x-icu\", id)"
                ))
                .await?;
        }
        for (table, column) in VOCABULARY {
            connection
                .execute_unprepared(&format!("DROP INDEX idx_{table}_{column}"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
        if connection.get_database_backend() != DatabaseBackend::Sqlite {
            return Ok(());
        }
        for (table, column) in VOCABULARY {
            connection
                .execute_unprepared(&format!(
                    "CREATE INDEX idx_{table}_{column} ON {table} ({column})"
                ))
                .await?;
        }
        for (table, column) in ORDERED {
            connection
                .execute_unprepared(&format!("DROP INDEX idx_{table}_{column}_sv"))
                .await?;
        }
        Ok(())
    }
}
