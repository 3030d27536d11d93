//! Each dialogue keeps the ids of its participating authorities on its own row, copied from
//! `dialogue_authorities`, so that a page of dialogues names its authorities without a
//! descent into the links for each dialogue (451 of them for a page of 50 organisations with
//! 10 dialogues each: most of the PostgreSQL time of such a page). The links stay the
//! record, and the way from an authority to its dialogues.
//!
//! The text holds each id's 32 hex digits in small letters, separated by commas.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Dialogues {
    Table,
    AuthorityIds,
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
        let id = match connection.get_database_backend() {
            DatabaseBackend::Sqlite => "lower(hex(authority_id))",
            _ => "replace(authority_id::text, '-', '')",
        };
        let ids = match connection.get_database_backend() {
            DatabaseBackend::Sqlite => format!("group_concat({id}, ',')"),
            _ => format!("string_agg({id}, ',' ORDER BY authority_id)"),
        };
        connection
            .execute_unprepared(&format!(
                "UPDATE dialogues SET authority_ids = COALESCE((SELECT {ids} \
                 FROM dialogue_authorities WHERE dialogue_id = dialogues.id), '')"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
