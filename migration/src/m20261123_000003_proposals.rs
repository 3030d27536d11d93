//! Proposals, their co-signers, target authorities and status history.

use super::m20261123_000001_organisations::Organisations;
use super::m20261123_000002_authorities::Authorities;
use super::{Common, audit_columns, index};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub(crate) enum Proposals {
    Table,
    Title,
    Summary,
    Body,
    Status,
    Visibility,
    LeadOrganisationId,
}

#[derive(DeriveIden)]
enum ProposalCoSigners {
    Table,
    ProposalId,
    OrganisationId,
}

#[derive(DeriveIden)]
enum ProposalTargets {
    Table,
    ProposalId,
    AuthorityId,
}

#[derive(DeriveIden)]
enum ProposalStatusChanges {
    Table,
    ProposalId,
    FromStatus,
    ToStatus,
    ChangedAt,
    Note,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(Proposals::Table)
            .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Proposals::Title).string_len(200).not_null())
            .col(ColumnDef::new(Proposals::Summary).text().not_null())
            .col(ColumnDef::new(Proposals::Body).text().not_null())
            .col(ColumnDef::new(Proposals::Status).string_len(32).not_null())
            .col(
                ColumnDef::new(Proposals::Visibility)
                    .string_len(32)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Proposals::LeadOrganisationId)
                    .uuid()
                    .not_null(),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_proposals_lead_organisation")
                    .from(Proposals::Table, Proposals::LeadOrganisationId)
                    .to(Organisations::Table, Common::Id)
                    .on_delete(ForeignKeyAction::Restrict),
            );
        audit_columns(&mut table);
        manager.create_table(table).await?;
        for (name, columns) in [
            (
                "idx_proposals_lead_organisation_id",
                vec![
                    Proposals::LeadOrganisationId.into_iden(),
                    Common::UpdatedAt.into_iden(),
                ],
            ),
            (
                "idx_proposals_status_updated_at",
                vec![
                    Proposals::Status.into_iden(),
                    Common::UpdatedAt.into_iden(),
                    Common::Id.into_iden(),
                ],
            ),
            (
                "idx_proposals_visibility",
                vec![Proposals::Visibility.into_iden()],
            ),
            (
                "idx_proposals_title",
                vec![Proposals::Title.into_iden(), Common::Id.into_iden()],
            ),
            (
                "idx_proposals_created_at",
                vec![Common::CreatedAt.into_iden(), Common::Id.into_iden()],
            ),
            (
                "idx_proposals_updated_at",
                vec![Common::UpdatedAt.into_iden(), Common::Id.into_iden()],
            ),
        ] {
            manager
                .create_index(index(Proposals::Table, name, columns))
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ProposalCoSigners::Table)
                    .col(
                        ColumnDef::new(ProposalCoSigners::ProposalId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProposalCoSigners::OrganisationId)
                            .uuid()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ProposalCoSigners::ProposalId)
                            .col(ProposalCoSigners::OrganisationId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_proposal_co_signers_proposal")
                            .from(ProposalCoSigners::Table, ProposalCoSigners::ProposalId)
                            .to(Proposals::Table, Common::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_proposal_co_signers_organisation")
                            .from(ProposalCoSigners::Table, ProposalCoSigners::OrganisationId)
                            .to(Organisations::Table, Common::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                ProposalCoSigners::Table,
                "idx_proposal_co_signers_organisation_id",
                vec![ProposalCoSigners::OrganisationId.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProposalTargets::Table)
                    .col(
                        ColumnDef::new(ProposalTargets::ProposalId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProposalTargets::AuthorityId)
                            .uuid()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ProposalTargets::ProposalId)
                            .col(ProposalTargets::AuthorityId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_proposal_targets_proposal")
                            .from(ProposalTargets::Table, ProposalTargets::ProposalId)
                            .to(Proposals::Table, Common::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_proposal_targets_authority")
                            .from(ProposalTargets::Table, ProposalTargets::AuthorityId)
                            .to(Authorities::Table, Common::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                ProposalTargets::Table,
                "idx_proposal_targets_authority_id",
                vec![ProposalTargets::AuthorityId.into_iden()],
            ))
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProposalStatusChanges::Table)
                    .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
                    .col(
                        ColumnDef::new(ProposalStatusChanges::ProposalId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ProposalStatusChanges::FromStatus).string_len(32))
                    .col(
                        ColumnDef::new(ProposalStatusChanges::ToStatus)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProposalStatusChanges::ChangedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ProposalStatusChanges::Note).text())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_proposal_status_changes_proposal")
                            .from(
                                ProposalStatusChanges::Table,
                                ProposalStatusChanges::ProposalId,
                            )
                            .to(Proposals::Table, Common::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                ProposalStatusChanges::Table,
                "idx_proposal_status_changes_proposal_id",
                vec![
                    ProposalStatusChanges::ProposalId.into_iden(),
                    Common::Id.into_iden(),
                ],
            ))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProposalStatusChanges::Table.into_iden(),
            ProposalTargets::Table.into_iden(),
            ProposalCoSigners::Table.into_iden(),
            Proposals::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
