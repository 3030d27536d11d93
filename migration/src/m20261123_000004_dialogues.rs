//! Dialogues and their participants and proposals discussed.

use super::m20261123_000001_organisations::Organisations;
use super::m20261123_000002_authorities::Authorities;
use super::m20261123_000003_proposals::Proposals;
use super::{Common, audit_columns, index};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Dialogues {
    Table,
    Title,
    Kind,
    Status,
    HeldOn,
    Summary,
    Outcome,
    Visibility,
}

#[derive(DeriveIden)]
enum DialogueId {
    DialogueId,
}

/// The three link tables of a dialogue: (table, column of the other side, other table).
pub(crate) fn links() -> [(&'static str, &'static str, DynIden); 3] {
    [
        (
            "dialogue_organisations",
            "organisation_id",
            Organisations::Table.into_iden(),
        ),
        (
            "dialogue_authorities",
            "authority_id",
            Authorities::Table.into_iden(),
        ),
        (
            "dialogue_proposals",
            "proposal_id",
            Proposals::Table.into_iden(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(Dialogues::Table)
            .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Dialogues::Title).string_len(200).not_null())
            .col(ColumnDef::new(Dialogues::Kind).string_len(32).not_null())
            .col(ColumnDef::new(Dialogues::Status).string_len(32).not_null())
            .col(ColumnDef::new(Dialogues::HeldOn).date().not_null())
            .col(ColumnDef::new(Dialogues::Summary).text().not_null())
            .col(ColumnDef::new(Dialogues::Outcome).text())
            .col(
                ColumnDef::new(Dialogues::Visibility)
                    .string_len(32)
                    .not_null(),
            );
        audit_columns(&mut table);
        manager.create_table(table).await?;
        for (name, columns) in [
            (
                "idx_dialogues_held_on",
                vec![Dialogues::HeldOn.into_iden(), Common::Id.into_iden()],
            ),
            ("idx_dialogues_kind", vec![Dialogues::Kind.into_iden()]),
            ("idx_dialogues_status", vec![Dialogues::Status.into_iden()]),
            (
                "idx_dialogues_visibility",
                vec![Dialogues::Visibility.into_iden()],
            ),
            (
                "idx_dialogues_title",
                vec![Dialogues::Title.into_iden(), Common::Id.into_iden()],
            ),
            (
                "idx_dialogues_created_at",
                vec![Common::CreatedAt.into_iden(), Common::Id.into_iden()],
            ),
            (
                "idx_dialogues_updated_at",
                vec![Common::UpdatedAt.into_iden(), Common::Id.into_iden()],
            ),
        ] {
            manager
                .create_index(index(Dialogues::Table, name, columns))
                .await?;
        }

        for (link, other, other_table) in links() {
            let other = Alias::new(other);
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new(link))
                        .col(ColumnDef::new(DialogueId::DialogueId).uuid().not_null())
                        .col(ColumnDef::new(other.clone()).uuid().not_null())
                        .primary_key(
                            Index::create()
                                .col(DialogueId::DialogueId)
                                .col(other.clone()),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .name(format!("fk_{link}_dialogue"))
                                .from(Alias::new(link), DialogueId::DialogueId)
                                .to(Dialogues::Table, Common::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .name(format!(
                                    "fk_{link}_{other_name}",
                                    other_name = other.to_string()
                                ))
                                .from(Alias::new(link), other.clone())
                                .to(other_table, Common::Id)
                                .on_delete(ForeignKeyAction::Restrict),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(index(
                    Alias::new(link),
                    &format!("idx_{link}_{other_name}", other_name = other.to_string()),
                    vec![other.into_iden(), DialogueId::DialogueId.into_iden()],
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (link, ..) in links() {
            manager
                .drop_table(Table::drop().table(Alias::new(link)).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(Dialogues::Table).to_owned())
            .await
    }
}
