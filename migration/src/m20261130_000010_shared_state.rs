//! What server processes on one database share besides the record: the callers' budgets of
//! cost points (each process takes them from here in chunks), and the persisted query
//! documents clients taught any of them.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CostBudgets {
    Table,
    Key,
    Minute,
    Spent,
}

#[derive(DeriveIden)]
enum PersistedDocuments {
    Table,
    Hash,
    Document,
    LearnedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CostBudgets::Table)
                    .col(
                        ColumnDef::new(CostBudgets::Key)
                            .string_len(255)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(CostBudgets::Minute).big_integer().not_null())
                    .col(ColumnDef::new(CostBudgets::Spent).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(PersistedDocuments::Table)
                    .col(
                        ColumnDef::new(PersistedDocuments::Hash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PersistedDocuments::Document)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PersistedDocuments::LearnedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CostBudgets::Table.into_iden(),
            PersistedDocuments::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
