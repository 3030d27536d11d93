//! A search entry says whether its record is public, so that a search lets a public record
//! through without looking at the record's own row. Every hit of a kind with a visibility
//! rule (dialogues, proposals, goals, evidence, cooperations) was checked against its
//! record's row: on the 10,000 proposals a benchmark search found, those lookups were
//! 20 of PostgreSQL's 49 ms and 11 of SQLite's 40 ms.
//!
//! `public` is a copy the database keeps in the writing transaction: set from the record
//! when an entry is made, whichever write makes it, and again when the record's visibility
//! changes. Entries of the kinds without a visibility rule are all public. The rule itself
//! stays where it is: a search still applies it to every entry that is not public.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SearchEntries {
    Table,
    Public,
}

/// The tables whose records have a visibility, with the type their entries are of.
const GUARDED: [(&str, &str); 5] = [
    ("dialogues", "DIALOGUE"),
    ("proposals", "PROPOSAL"),
    ("goals", "GOAL"),
    ("evidence", "EVIDENCE"),
    ("cooperations", "COOPERATION"),
];

/// Whether the record of the entry `entry` (`NEW` or `new`) is public: looked up in the
/// table of its type; true for the types without a visibility.
fn record_is_public(entry: &str) -> String {
    let cases: String = GUARDED
        .iter()
        .map(|(table, record_type)| {
            format!(
                "WHEN '{record_type}' THEN EXISTS (SELECT 1 FROM {table} \
                 WHERE id = {entry}.record_id AND visibility = 'PUBLIC') "
            )
        })
        .collect();
    format!("CASE {entry}.record_type {cases}ELSE true END")
}

/// What an entry's `public` is set to when its record's visibility changes.
const ON_VISIBILITY: &str = "UPDATE search_entries SET public = (NEW.visibility = 'PUBLIC') \
                             WHERE record_id = NEW.id";

fn postgres() -> Vec<String> {
    let mut statements = vec![
        format!(
            "CREATE FUNCTION search_entry_public() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
             NEW.public := {}; RETURN NEW; END $$",
            record_is_public("NEW")
        ),
        "CREATE TRIGGER search_entries_public BEFORE INSERT ON search_entries \
         FOR EACH ROW EXECUTE FUNCTION search_entry_public()"
            .to_owned(),
        format!(
            "CREATE FUNCTION search_entry_visibility() RETURNS trigger LANGUAGE plpgsql AS $$ \
             BEGIN {ON_VISIBILITY}; RETURN NULL; END $$"
        ),
    ];
    for (table, _) in GUARDED {
        statements.push(format!(
            "CREATE TRIGGER {table}_search_visibility AFTER UPDATE OF visibility ON {table} \
             FOR EACH ROW WHEN (OLD.visibility IS DISTINCT FROM NEW.visibility) \
             EXECUTE FUNCTION search_entry_visibility()"
        ));
    }
    statements
}

/// SQLite's trigger that keeps the full-text index in step with an entry's update, made
/// again as `name`: on `columns` " OF title, body", it fires only when the text changes,
/// not `public`; on `columns` "", on every update, as before.
fn sqlite_index_update(drop: &str, name: &str, columns: &str) -> [String; 2] {
    [
        format!("DROP TRIGGER {drop}"),
        format!(
            "CREATE TRIGGER {name} AFTER UPDATE{columns} ON search_entries BEGIN \
             INSERT INTO search_index (search_index, rowid, title, body) \
             VALUES ('delete', old.entry, old.title, old.body); \
             INSERT INTO search_index (rowid, title, body) \
             VALUES (new.entry, new.title, new.body); END"
        ),
    ]
}

/// The names of that trigger before and after.
const INDEX_UPDATE: (&str, &str) = ("search_entries_update", "search_entries_text_update");

fn sqlite() -> Vec<String> {
    let guarded: Vec<String> = GUARDED.iter().map(|(_, t)| format!("'{t}'")).collect();
    let mut statements =
        sqlite_index_update(INDEX_UPDATE.0, INDEX_UPDATE.1, " OF title, body").to_vec();
    // SQLite cannot set a column of the row being inserted: the new entry is updated.
    statements.push(format!(
        "CREATE TRIGGER search_entries_public AFTER INSERT ON search_entries \
         WHEN new.record_type IN ({}) BEGIN \
         UPDATE search_entries SET public = {} WHERE entry = new.entry; END",
        guarded.join(", "),
        record_is_public("new")
    ));
    for (table, _) in GUARDED {
        statements.push(format!(
            "CREATE TRIGGER {table}_search_visibility AFTER UPDATE OF visibility ON {table} \
             WHEN old.visibility IS NOT new.visibility BEGIN {ON_VISIBILITY}; END"
        ));
    }
    statements
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// In one transaction on SQLite as well (sea-orm-migration wraps only PostgreSQL's by
    /// default): a statement that fails leaves nothing of the migration behind, and every
    /// statement runs on one connection, which sees the schema the previous ones made.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SearchEntries::Table)
                    .add_column(
                        ColumnDef::new(SearchEntries::Public)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .to_owned(),
            )
            .await?;
        let connection = manager.get_connection();
        for (table, record_type) in GUARDED {
            connection
                .execute_unprepared(&format!(
                    "UPDATE search_entries SET public = false WHERE record_type = '{record_type}' \
                     AND record_id IN (SELECT id FROM {table} WHERE visibility <> 'PUBLIC')"
                ))
                .await?;
        }
        let statements = match connection.get_database_backend() {
            DatabaseBackend::Postgres => postgres(),
            _ => sqlite(),
        };
        for statement in statements {
            connection.execute_unprepared(&statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
        let postgres = connection.get_database_backend() == DatabaseBackend::Postgres;
        let mut statements = Vec::new();
        for (table, _) in GUARDED {
            statements.push(if postgres {
                format!("DROP TRIGGER {table}_search_visibility ON {table}")
            } else {
                format!("DROP TRIGGER {table}_search_visibility")
            });
        }
        if postgres {
            statements.push("DROP TRIGGER search_entries_public ON search_entries".into());
            statements.push("DROP FUNCTION search_entry_public()".into());
            statements.push("DROP FUNCTION search_entry_visibility()".into());
        } else {
            statements.push("DROP TRIGGER search_entries_public".into());
            statements.extend(sqlite_index_update(INDEX_UPDATE.1, INDEX_UPDATE.0, ""));
        }
        for statement in statements {
            connection.execute_unprepared(&statement).await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(SearchEntries::Table)
                    .drop_column(SearchEntries::Public)
                    .to_owned(),
            )
            .await
    }
}
