//! Themes, impact evidence, local cooperation and goals: what the network measures its
//! progress by. Metropolitan municipalities are tagged, as goals count them apart.

use super::{Common, audit_columns, index};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Authorities {
    Table,
    IsMetropolitan,
    Kind,
    Code,
}

#[derive(DeriveIden)]
enum Themes {
    Table,
    Slug,
    Name,
    Description,
}

#[derive(DeriveIden)]
enum Evidence {
    Table,
    Kind,
    Title,
    Url,
    Publisher,
    Reach,
    PublishedOn,
    Summary,
    Visibility,
    AuthorityId,
}

#[derive(DeriveIden)]
enum Cooperations {
    Table,
    Kind,
    Title,
    Summary,
    AuthorityId,
    EstablishedOn,
    EndedOn,
    Visibility,
}

#[derive(DeriveIden)]
enum Goals {
    Table,
    Slug,
    Title,
    Description,
    Category,
    PeriodStart,
    PeriodEnd,
    Target,
    MeasureKind,
    Measure,
    Visibility,
    OwnerId,
}

#[derive(DeriveIden)]
enum GoalProgressEntries {
    Table,
    GoalId,
    Amount,
    RecordedOn,
    Note,
}

/// What happens to a link when the row on one side goes.
#[derive(Clone, Copy)]
enum OnDelete {
    /// The link goes with it.
    Cascade,
    /// The row may not go while linked.
    Restrict,
}

impl From<OnDelete> for ForeignKeyAction {
    fn from(on_delete: OnDelete) -> Self {
        match on_delete {
            OnDelete::Cascade => ForeignKeyAction::Cascade,
            OnDelete::Restrict => ForeignKeyAction::Restrict,
        }
    }
}

/// A link table: its name, (owner column, owner table), (other column, other table, on
/// delete of the other side); an empty other table has no foreign key.
type LinkTable = (
    &'static str,
    (&'static str, &'static str),
    (&'static str, &'static str, OnDelete),
);

/// The link tables. The owner's side always cascades.
fn links() -> [LinkTable; 9] {
    use OnDelete::{Cascade, Restrict};
    [
        (
            "dialogue_themes",
            ("dialogue_id", "dialogues"),
            ("theme_id", "themes", Cascade),
        ),
        (
            "proposal_themes",
            ("proposal_id", "proposals"),
            ("theme_id", "themes", Cascade),
        ),
        (
            "evidence_themes",
            ("evidence_id", "evidence"),
            ("theme_id", "themes", Cascade),
        ),
        (
            "cooperation_themes",
            ("cooperation_id", "cooperations"),
            ("theme_id", "themes", Cascade),
        ),
        (
            "evidence_proposals",
            ("evidence_id", "evidence"),
            ("proposal_id", "proposals", Cascade),
        ),
        (
            "evidence_dialogues",
            ("evidence_id", "evidence"),
            ("dialogue_id", "dialogues", Cascade),
        ),
        (
            "evidence_organisations",
            ("evidence_id", "evidence"),
            ("organisation_id", "organisations", Restrict),
        ),
        (
            "cooperation_organisations",
            ("cooperation_id", "cooperations"),
            ("organisation_id", "organisations", Restrict),
        ),
        // The records a goal's measure names (authorities, organisations, themes), so that
        // deleting one of them can name the goal; no foreign key, as it points at any table.
        (
            "goal_references",
            ("goal_id", "goals"),
            ("record_id", "", Restrict),
        ),
    ]
}

fn foreign_key(
    table: &str,
    column: &str,
    to: &str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(Alias::new(table), Alias::new(column))
        .to(Alias::new(to), Common::Id)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Authorities::Table)
                    .add_column(
                        ColumnDef::new(Authorities::IsMetropolitan)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        // Stockholm, Göteborg and Malmö, by their municipality codes.
        manager
            .exec_stmt(
                Query::update()
                    .table(Authorities::Table)
                    .value(Authorities::IsMetropolitan, true)
                    .and_where(Expr::col(Authorities::Kind).eq("MUNICIPALITY"))
                    .and_where(Expr::col(Authorities::Code).is_in(["0180", "1480", "1280"]))
                    .to_owned(),
            )
            .await?;

        let mut themes = Table::create();
        themes
            .table(Themes::Table)
            .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
            .col(
                ColumnDef::new(Themes::Slug)
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(Themes::Name).string_len(200).not_null())
            .col(ColumnDef::new(Themes::Description).text().not_null());
        audit_columns(&mut themes);
        manager.create_table(themes).await?;

        let mut evidence = Table::create();
        evidence
            .table(Evidence::Table)
            .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Evidence::Kind).string_len(32).not_null())
            .col(ColumnDef::new(Evidence::Title).string_len(200).not_null())
            .col(ColumnDef::new(Evidence::Url).string_len(2000))
            .col(
                ColumnDef::new(Evidence::Publisher)
                    .string_len(200)
                    .not_null(),
            )
            .col(ColumnDef::new(Evidence::Reach).string_len(32).not_null())
            .col(ColumnDef::new(Evidence::PublishedOn).date().not_null())
            .col(ColumnDef::new(Evidence::Summary).text())
            .col(
                ColumnDef::new(Evidence::Visibility)
                    .string_len(32)
                    .not_null(),
            )
            .col(ColumnDef::new(Evidence::AuthorityId).uuid())
            .foreign_key(&mut foreign_key(
                "evidence",
                "authority_id",
                "authorities",
                ForeignKeyAction::Restrict,
            ));
        audit_columns(&mut evidence);
        manager.create_table(evidence).await?;

        let mut cooperations = Table::create();
        cooperations
            .table(Cooperations::Table)
            .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
            .col(ColumnDef::new(Cooperations::Kind).string_len(32).not_null())
            .col(
                ColumnDef::new(Cooperations::Title)
                    .string_len(200)
                    .not_null(),
            )
            .col(ColumnDef::new(Cooperations::Summary).text().not_null())
            .col(ColumnDef::new(Cooperations::AuthorityId).uuid().not_null())
            .col(
                ColumnDef::new(Cooperations::EstablishedOn)
                    .date()
                    .not_null(),
            )
            .col(ColumnDef::new(Cooperations::EndedOn).date())
            .col(
                ColumnDef::new(Cooperations::Visibility)
                    .string_len(32)
                    .not_null(),
            )
            .foreign_key(&mut foreign_key(
                "cooperations",
                "authority_id",
                "authorities",
                ForeignKeyAction::Restrict,
            ));
        audit_columns(&mut cooperations);
        manager.create_table(cooperations).await?;

        let mut goals = Table::create();
        goals
            .table(Goals::Table)
            .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
            .col(
                ColumnDef::new(Goals::Slug)
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(Goals::Title).string_len(200).not_null())
            .col(ColumnDef::new(Goals::Description).text().not_null())
            .col(ColumnDef::new(Goals::Category).string_len(32).not_null())
            .col(ColumnDef::new(Goals::PeriodStart).date().not_null())
            .col(ColumnDef::new(Goals::PeriodEnd).date().not_null())
            .col(ColumnDef::new(Goals::Target).integer().not_null())
            .col(ColumnDef::new(Goals::MeasureKind).string_len(32).not_null())
            .col(ColumnDef::new(Goals::Measure).text().not_null())
            .col(ColumnDef::new(Goals::Visibility).string_len(32).not_null())
            .col(ColumnDef::new(Goals::OwnerId).uuid())
            .foreign_key(&mut foreign_key(
                "goals",
                "owner_id",
                "organisations",
                ForeignKeyAction::Restrict,
            ));
        audit_columns(&mut goals);
        manager.create_table(goals).await?;

        manager
            .create_table(
                Table::create()
                    .table(GoalProgressEntries::Table)
                    .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
                    .col(
                        ColumnDef::new(GoalProgressEntries::GoalId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GoalProgressEntries::Amount)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(GoalProgressEntries::RecordedOn)
                            .date()
                            .not_null(),
                    )
                    .col(ColumnDef::new(GoalProgressEntries::Note).text())
                    .col(
                        ColumnDef::new(Common::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut foreign_key(
                        "goal_progress_entries",
                        "goal_id",
                        "goals",
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                GoalProgressEntries::Table,
                "idx_goal_progress_entries_goal",
                vec![
                    GoalProgressEntries::GoalId.into_iden(),
                    GoalProgressEntries::RecordedOn.into_iden(),
                ],
            ))
            .await?;

        for (link, (owner, owner_table), (other, other_table, on_delete)) in links() {
            let mut table = Table::create();
            table
                .table(Alias::new(link))
                .col(ColumnDef::new(Alias::new(owner)).uuid().not_null())
                .col(ColumnDef::new(Alias::new(other)).uuid().not_null())
                .primary_key(
                    Index::create()
                        .col(Alias::new(owner))
                        .col(Alias::new(other)),
                )
                .foreign_key(&mut foreign_key(
                    link,
                    owner,
                    owner_table,
                    ForeignKeyAction::Cascade,
                ));
            if !other_table.is_empty() {
                table.foreign_key(&mut foreign_key(link, other, other_table, on_delete.into()));
            }
            manager.create_table(table).await?;
            manager
                .create_index(index(
                    Alias::new(link),
                    &format!("idx_{link}_{other}"),
                    vec![Alias::new(other).into_iden(), Alias::new(owner).into_iden()],
                ))
                .await?;
        }

        for (table, name, columns) in [
            (
                "evidence",
                "idx_evidence_published_on",
                vec!["published_on", "id"],
            ),
            ("evidence", "idx_evidence_authority", vec!["authority_id"]),
            (
                "cooperations",
                "idx_cooperations_authority",
                vec!["authority_id"],
            ),
            (
                "cooperations",
                "idx_cooperations_established_on",
                vec!["established_on", "id"],
            ),
            ("goals", "idx_goals_title", vec!["title", "id"]),
            ("goals", "idx_goals_owner", vec!["owner_id"]),
        ] {
            manager
                .create_index(index(
                    Alias::new(table),
                    name,
                    columns
                        .into_iter()
                        .map(|c| Alias::new(c).into_iden())
                        .collect(),
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
        for table in [
            "goal_progress_entries",
            "goals",
            "cooperations",
            "evidence",
            "themes",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Authorities::Table)
                    .drop_column(Authorities::IsMetropolitan)
                    .to_owned(),
            )
            .await
    }
}
