//! Network member organisations.

use super::{Common, audit_columns, index};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Organisations {
    Table,
    Slug,
    Name,
    Kind,
    Description,
    Website,
    ContactEmail,
    City,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(Organisations::Table)
            .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
            .col(
                ColumnDef::new(Organisations::Slug)
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(
                ColumnDef::new(Organisations::Name)
                    .string_len(200)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Organisations::Kind)
                    .string_len(32)
                    .not_null(),
            )
            .col(ColumnDef::new(Organisations::Description).text().not_null())
            .col(ColumnDef::new(Organisations::Website).string_len(2048))
            .col(ColumnDef::new(Organisations::ContactEmail).string_len(254))
            .col(ColumnDef::new(Organisations::City).string_len(200));
        audit_columns(&mut table);
        manager.create_table(table).await?;
        for (name, columns) in [
            (
                "idx_organisations_name",
                vec![Organisations::Name.into_iden(), Common::Id.into_iden()],
            ),
            (
                "idx_organisations_kind",
                vec![Organisations::Kind.into_iden()],
            ),
            (
                "idx_organisations_city",
                vec![Organisations::City.into_iden()],
            ),
            (
                "idx_organisations_created_at",
                vec![Common::CreatedAt.into_iden(), Common::Id.into_iden()],
            ),
            (
                "idx_organisations_updated_at",
                vec![Common::UpdatedAt.into_iden(), Common::Id.into_iden()],
            ),
        ] {
            manager
                .create_index(index(Organisations::Table, name, columns))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Organisations::Table).to_owned())
            .await
    }
}
