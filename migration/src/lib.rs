//! The database schema of Samverkan as sea-orm migrations. Migrations are append-only:
//! once one has landed it is never edited; a change is a new file.
#![forbid(unsafe_code)]

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_organisations;
mod m20261123_000002_authorities;
mod m20261123_000003_proposals;
mod m20261123_000004_dialogues;
mod m20261123_000005_accounts;
mod m20261123_000006_dialogue_link_dates;
mod m20261129_000007_login_failures;
mod m20261129_000008_goals;
mod m20261130_000009_webhooks;
mod m20261130_000010_shared_state;
mod m20261130_000011_search;
mod m20261130_000012_sqlite_ordered_pages;
mod m20261202_000013_dialogue_authority_ids;
mod m20261205_000014_names_by_id;
mod m20261206_000015_public_search_entries;

/// Runs the migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_organisations::Migration),
            Box::new(m20261123_000002_authorities::Migration),
            Box::new(m20261123_000003_proposals::Migration),
            Box::new(m20261123_000004_dialogues::Migration),
            Box::new(m20261123_000005_accounts::Migration),
            Box::new(m20261123_000006_dialogue_link_dates::Migration),
            Box::new(m20261129_000007_login_failures::Migration),
            Box::new(m20261129_000008_goals::Migration),
            Box::new(m20261130_000009_webhooks::Migration),
            Box::new(m20261130_000010_shared_state::Migration),
            Box::new(m20261130_000011_search::Migration),
            Box::new(m20261130_000012_sqlite_ordered_pages::Migration),
            Box::new(m20261202_000013_dialogue_authority_ids::Migration),
            Box::new(m20261205_000014_names_by_id::Migration),
            Box::new(m20261206_000015_public_search_entries::Migration),
        ]
    }
}

/// Builds a plain (non-unique) index named after its table and columns.
fn index(table: impl IntoIden, name: &str, columns: Vec<DynIden>) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table.into_iden());
    for column in columns {
        index.col(column);
    }
    index.to_owned()
}

/// The columns every editable record carries: optimistic version and timestamps.
fn audit_columns(table: &mut TableCreateStatement) {
    table
        .col(
            ColumnDef::new(Common::Version)
                .integer()
                .not_null()
                .default(1),
        )
        .col(
            ColumnDef::new(Common::CreatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(
            ColumnDef::new(Common::UpdatedAt)
                .timestamp_with_time_zone()
                .not_null(),
        );
}

#[derive(DeriveIden)]
enum Common {
    Id,
    Version,
    CreatedAt,
    UpdatedAt,
}
