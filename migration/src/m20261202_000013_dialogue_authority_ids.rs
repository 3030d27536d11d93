//! Each dialogue keeps the ids of its participating authorities on its own row, so that a
//! page of dialogues names its authorities without a descent into the links for each
//! dialogue (451 of them for a page of 50 organisations with 10 dialogues each: most of the
//! PostgreSQL time of such a page). The links stay the record, and the way from an authority
//! to its dialogues.
//!
//! The database keeps the copy: triggers on `dialogue_authorities` write it again whenever a
//! link is added, removed or moved, whoever writes the links (a server of an older release
//! during an upgrade, a hand-written statement), and the rows already there get it here. On
//! PostgreSQL the trigger locks the dialogue's row before it reads the links, so that of two
//! transactions changing one dialogue's links, the second to commit reads what the first
//! wrote. `TRUNCATE` fires no row triggers: after one, the copies name links that are gone.
//!
//! The text holds each id's 32 hex digits in small letters, separated by commas: on
//! PostgreSQL the smallest first; on SQLite in the order the links are read, since SQLite
//! before 3.44 (such as the `sqlite3` shell of Debian 12) cannot parse an ordered
//! `group_concat`, and a trigger it cannot parse makes it refuse the whole file.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Dialogues {
    Table,
    AuthorityIds,
}

/// The copy of the links of the dialogue whose id `dialogue` names, as an SQL expression.
fn copy(backend: DatabaseBackend, dialogue: &str) -> String {
    let ids = match backend {
        DatabaseBackend::Sqlite => "group_concat(lower(hex(authority_id)), ',')",
        _ => "string_agg(replace(authority_id::text, '-', ''), ',' ORDER BY authority_id)",
    };
    format!("COALESCE((SELECT {ids} FROM dialogue_authorities WHERE dialogue_id = {dialogue}), '')")
}

/// Writes the copy of the dialogue whose id `dialogue` names.
fn recopy(backend: DatabaseBackend, dialogue: &str) -> String {
    format!(
        "UPDATE dialogues SET authority_ids = {} WHERE id = {dialogue}",
        copy(backend, dialogue)
    )
}

/// Locks the row of the dialogue whose id `dialogue` names (PostgreSQL): the statement after
/// it reads the links as they are once every other writer of that dialogue has committed.
fn lock(dialogue: &str) -> String {
    format!("PERFORM 1 FROM dialogues WHERE id = {dialogue} FOR UPDATE")
}

/// The triggers, on each engine.
fn triggers(backend: DatabaseBackend) -> Vec<String> {
    const MOVED: &str = "UPDATE OF dialogue_id, authority_id";
    match backend {
        DatabaseBackend::Sqlite => vec![
            format!(
                "CREATE TRIGGER dialogue_authorities_copy_insert AFTER INSERT ON \
                 dialogue_authorities BEGIN {}; END",
                recopy(backend, "new.dialogue_id")
            ),
            format!(
                "CREATE TRIGGER dialogue_authorities_copy_delete AFTER DELETE ON \
                 dialogue_authorities BEGIN {}; END",
                recopy(backend, "old.dialogue_id")
            ),
            format!(
                "CREATE TRIGGER dialogue_authorities_copy_update AFTER {MOVED} ON \
                 dialogue_authorities BEGIN {}; {}; END",
                recopy(backend, "old.dialogue_id"),
                recopy(backend, "new.dialogue_id")
            ),
        ],
        _ => vec![
            format!(
                "CREATE FUNCTION dialogue_authorities_copy() RETURNS trigger LANGUAGE plpgsql \
                 AS $$ BEGIN \
                 IF TG_OP <> 'INSERT' THEN {}; {}; END IF; \
                 IF TG_OP <> 'DELETE' THEN {}; {}; END IF; \
                 RETURN NULL; END $$",
                lock("OLD.dialogue_id"),
                recopy(backend, "OLD.dialogue_id"),
                lock("NEW.dialogue_id"),
                recopy(backend, "NEW.dialogue_id")
            ),
            format!(
                "CREATE TRIGGER dialogue_authorities_copy AFTER INSERT OR DELETE OR {MOVED} ON \
                 dialogue_authorities FOR EACH ROW EXECUTE FUNCTION dialogue_authorities_copy()"
            ),
        ],
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Dialogues::Table)
                    .add_column(
                        ColumnDef::new(Dialogues::AuthorityIds)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await?;
        let connection = manager.get_connection();
        let backend = connection.get_database_backend();
        for statement in triggers(backend) {
            connection.execute_unprepared(&statement).await?;
        }
        connection
            .execute_unprepared(&format!(
                "UPDATE dialogues SET authority_ids = {}",
                copy(backend, "dialogues.id")
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
        let drops: &[&str] = match connection.get_database_backend() {
            DatabaseBackend::Sqlite => &[
                "DROP TRIGGER dialogue_authorities_copy_insert",
                "DROP TRIGGER dialogue_authorities_copy_delete",
                "DROP TRIGGER dialogue_authorities_copy_update",
            ],
            _ => &[
                "DROP TRIGGER dialogue_authorities_copy ON dialogue_authorities",
                "DROP FUNCTION dialogue_authorities_copy()",
            ],
        };
        for drop in drops {
            connection.execute_unprepared(drop).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Dialogues::Table)
                    .drop_column(Dialogues::AuthorityIds)
                    .to_owned(),
            )
            .await
    }
}
