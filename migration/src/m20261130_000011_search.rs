//! Full-text search and Swedish ordering.
//!
//! Every searchable record has one row in `search_entries`: its type, a title and a body of
//! text. Triggers on the records' tables keep the rows in step with every insert, update and
//! delete, inside the writing transaction. PostgreSQL indexes the text as a Swedish
//! `tsvector` (Snowball stems of every word, stop words kept as SQLite keeps them; the title
//! weighs more than the body) under a GIN index. SQLite keeps an FTS5 index over the same rows whose words are folded to small
//! letters across all of Unicode but keep their Swedish letters (å is not a); the search
//! stems the words it looks for.
//!
//! PostgreSQL also gets indexes on names and titles under its Swedish ICU collation, in
//! which the lists order them. SQLite gets none: its Swedish collation exists only inside
//! the server's connections, and an index under it would make the file unwritable to other
//! tools.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A searchable table: its name, the type its rows are found as, the column that is their
/// title, and the columns of their body text.
struct Searchable {
    table: &'static str,
    record_type: &'static str,
    title: &'static str,
    body: &'static [&'static str],
}

/// What is searched, by table.
const SEARCHABLE: [Searchable; 8] = [
    Searchable {
        table: "organisations",
        record_type: "ORGANISATION",
        title: "name",
        body: &["description", "city"],
    },
    Searchable {
        table: "authorities",
        record_type: "AUTHORITY",
        title: "name",
        body: &[],
    },
    Searchable {
        table: "dialogues",
        record_type: "DIALOGUE",
        title: "title",
        body: &["summary", "outcome"],
    },
    Searchable {
        table: "proposals",
        record_type: "PROPOSAL",
        title: "title",
        body: &["summary", "body"],
    },
    Searchable {
        table: "goals",
        record_type: "GOAL",
        title: "title",
        body: &["description"],
    },
    Searchable {
        table: "evidence",
        record_type: "EVIDENCE",
        title: "title",
        body: &["publisher", "summary"],
    },
    Searchable {
        table: "cooperations",
        record_type: "COOPERATION",
        title: "title",
        body: &["summary"],
    },
    Searchable {
        table: "themes",
        record_type: "THEME",
        title: "name",
        body: &["description"],
    },
];

/// Names and titles the long lists order by, with their tables.
const ORDERED: [(&str, &str); 4] = [
    ("organisations", "name"),
    ("authorities", "name"),
    ("dialogues", "title"),
    ("proposals", "title"),
];

impl Searchable {
    /// The body text of a row: its body columns joined by spaces (`prefix` names the row,
    /// such as `new.`), empty when there are none.
    fn body_text(&self, prefix: &str) -> String {
        if self.body.is_empty() {
            return "''".into();
        }
        let columns: Vec<String> = self.body.iter().map(|c| format!("{prefix}{c}")).collect();
        format!("concat_ws(' ', {})", columns.join(", "))
    }

    /// The columns whose change changes the entry.
    fn columns(&self) -> String {
        let mut columns = vec![self.title];
        columns.extend(self.body);
        columns.join(", ")
    }

    /// Fills the entries of the rows already there.
    fn backfill(&self) -> String {
        format!(
            "INSERT INTO search_entries (record_id, record_type, title, body) \
             SELECT id, '{}', {}, {} FROM {}",
            self.record_type,
            self.title,
            self.body_text(""),
            self.table
        )
    }

    fn postgres(&self) -> Vec<String> {
        let Self {
            table,
            record_type,
            title,
            ..
        } = self;
        vec![
            format!(
                "CREATE FUNCTION {table}_search() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 INSERT INTO search_entries (record_id, record_type, title, body) \
                 VALUES (NEW.id, '{record_type}', NEW.{title}, {}) \
                 ON CONFLICT (record_id) DO UPDATE SET title = EXCLUDED.title, body = EXCLUDED.body; \
                 RETURN NULL; END $$",
                self.body_text("NEW.")
            ),
            format!(
                "CREATE TRIGGER {table}_search AFTER INSERT OR UPDATE OF {} ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION {table}_search()",
                self.columns()
            ),
            format!(
                "CREATE TRIGGER {table}_search_delete AFTER DELETE ON {table} \
                 FOR EACH ROW EXECUTE FUNCTION search_entry_delete()"
            ),
            self.backfill(),
        ]
    }

    fn sqlite(&self) -> Vec<String> {
        let Self {
            table,
            record_type,
            title,
            ..
        } = self;
        vec![
            format!(
                "CREATE TRIGGER {table}_search_insert AFTER INSERT ON {table} BEGIN \
                 INSERT INTO search_entries (record_id, record_type, title, body) \
                 VALUES (new.id, '{record_type}', new.{title}, {}); END",
                self.body_text("new.")
            ),
            format!(
                "CREATE TRIGGER {table}_search_update AFTER UPDATE OF {} ON {table} BEGIN \
                 UPDATE search_entries SET title = new.{title}, body = {} \
                 WHERE record_id = new.id; END",
                self.columns(),
                self.body_text("new.")
            ),
            format!(
                "CREATE TRIGGER {table}_search_delete AFTER DELETE ON {table} BEGIN \
                 DELETE FROM search_entries WHERE record_id = old.id; END"
            ),
            self.backfill(),
        ]
    }
}

fn postgres() -> Vec<String> {
    let mut statements = vec![
        // Swedish stems, keeping every word: "om" is a stop word to PostgreSQL's `swedish`
        // but the start of "omsorg" to someone typing, and SQLite keeps it too.
        "CREATE TEXT SEARCH DICTIONARY samverkan_swedish_stem \
         (TEMPLATE = snowball, LANGUAGE = swedish)"
            .to_owned(),
        "CREATE TEXT SEARCH CONFIGURATION samverkan_swedish (COPY = swedish)".to_owned(),
        "ALTER TEXT SEARCH CONFIGURATION samverkan_swedish \
         ALTER MAPPING REPLACE swedish_stem WITH samverkan_swedish_stem"
            .to_owned(),
        "CREATE TABLE search_entries (\
         record_id uuid PRIMARY KEY, \
         record_type varchar(32) NOT NULL, \
         title text NOT NULL, \
         body text NOT NULL, \
         document tsvector GENERATED ALWAYS AS (\
         setweight(to_tsvector('samverkan_swedish', title), 'A') || \
         setweight(to_tsvector('samverkan_swedish', body), 'B')) STORED)"
            .to_owned(),
        "CREATE INDEX idx_search_entries_document ON search_entries USING gin (document)"
            .to_owned(),
        "CREATE FUNCTION search_entry_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         DELETE FROM search_entries WHERE record_id = OLD.id; RETURN NULL; END $$"
            .to_owned(),
    ];
    for searchable in &SEARCHABLE {
        statements.extend(searchable.postgres());
    }
    for (table, column) in ORDERED {
        statements.push(format!(
            "CREATE INDEX idx_{table}_{column}_sv ON {table} ({column} COLLATE \"sv-SE-x-icu\", id)"
        ));
    }
    statements
}

fn sqlite() -> Vec<String> {
    let mut statements = vec![
        "CREATE TABLE search_entries (\
         entry INTEGER PRIMARY KEY, \
         record_id BLOB NOT NULL UNIQUE, \
         record_type TEXT NOT NULL, \
         title TEXT NOT NULL, \
         body TEXT NOT NULL)"
            .to_owned(),
        "CREATE VIRTUAL TABLE search_index USING fts5(title, body, \
         content='search_entries', content_rowid='entry', \
         tokenize='unicode61 remove_diacritics 0', prefix='2 3')"
            .to_owned(),
        "CREATE TRIGGER search_entries_insert AFTER INSERT ON search_entries BEGIN \
         INSERT INTO search_index (rowid, title, body) VALUES (new.entry, new.title, new.body); END"
            .to_owned(),
        "CREATE TRIGGER search_entries_delete AFTER DELETE ON search_entries BEGIN \
         INSERT INTO search_index (search_index, rowid, title, body) \
         VALUES ('delete', old.entry, old.title, old.body); END"
            .to_owned(),
        "CREATE TRIGGER search_entries_update AFTER UPDATE ON search_entries BEGIN \
         INSERT INTO search_index (search_index, rowid, title, body) \
         VALUES ('delete', old.entry, old.title, old.body); \
         INSERT INTO search_index (rowid, title, body) VALUES (new.entry, new.title, new.body); END"
            .to_owned(),
    ];
    for searchable in &SEARCHABLE {
        statements.extend(searchable.sqlite());
    }
    statements
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let connection = manager.get_connection();
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
        for Searchable { table, .. } in &SEARCHABLE {
            if postgres {
                statements.push(format!("DROP TRIGGER {table}_search ON {table}"));
                statements.push(format!("DROP TRIGGER {table}_search_delete ON {table}"));
                statements.push(format!("DROP FUNCTION {table}_search()"));
            } else {
                for event in ["insert", "update", "delete"] {
                    statements.push(format!("DROP TRIGGER {table}_search_{event}"));
                }
            }
        }
        if postgres {
            statements.push("DROP FUNCTION search_entry_delete()".into());
            for (table, column) in ORDERED {
                statements.push(format!("DROP INDEX idx_{table}_{column}_sv"));
            }
        } else {
            statements.push("DROP TABLE search_index".into());
        }
        statements.push("DROP TABLE search_entries".into());
        if postgres {
            statements.push("DROP TEXT SEARCH CONFIGURATION samverkan_swedish".into());
            statements.push("DROP TEXT SEARCH DICTIONARY samverkan_swedish_stem".into());
        }
        for statement in statements {
            connection.execute_unprepared(&statement).await?;
        }
        Ok(())
    }
}
