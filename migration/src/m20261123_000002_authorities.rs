//! Public authorities, in a tree (committees under the Riksdag, municipalities under regions).

use super::{Common, audit_columns, index};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Authorities {
    Table,
    Slug,
    Name,
    Level,
    Kind,
    ParentId,
    Website,
    Code,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(Authorities::Table)
            .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
            .col(
                ColumnDef::new(Authorities::Slug)
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(Authorities::Name).string_len(200).not_null())
            .col(ColumnDef::new(Authorities::Level).string_len(32).not_null())
            .col(ColumnDef::new(Authorities::Kind).string_len(32).not_null())
            .col(ColumnDef::new(Authorities::ParentId).uuid())
            .col(ColumnDef::new(Authorities::Website).string_len(2048))
            .col(ColumnDef::new(Authorities::Code).string_len(32))
            .foreign_key(
                ForeignKey::create()
                    .name("fk_authorities_parent")
                    .from(Authorities::Table, Authorities::ParentId)
                    .to(Authorities::Table, Common::Id)
                    .on_delete(ForeignKeyAction::Restrict),
            );
        audit_columns(&mut table);
        manager.create_table(table).await?;
        for (name, columns) in [
            (
                "idx_authorities_name",
                vec![Authorities::Name.into_iden(), Common::Id.into_iden()],
            ),
            (
                "idx_authorities_level",
                vec![Authorities::Level.into_iden()],
            ),
            ("idx_authorities_kind", vec![Authorities::Kind.into_iden()]),
            (
                "idx_authorities_parent_id",
                vec![Authorities::ParentId.into_iden()],
            ),
            ("idx_authorities_code", vec![Authorities::Code.into_iden()]),
            (
                "idx_authorities_created_at",
                vec![Common::CreatedAt.into_iden(), Common::Id.into_iden()],
            ),
            (
                "idx_authorities_updated_at",
                vec![Common::UpdatedAt.into_iden(), Common::Id.into_iden()],
            ),
        ] {
            manager
                .create_index(index(Authorities::Table, name, columns))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Authorities::Table).to_owned())
            .await
    }
}
