//! Impact evidence: proof that the network's work reached the media, a plan or a decision.
//! Editors of an organisation it credits write it, as it is and as it will be.

use crate::audit;
use crate::auth::{self, Guarded, Principal};
use crate::db::{Connection, Transactional};
use crate::error::{AppError, AppResult};
use crate::paging::{self, Direction, Sort, column};
use crate::records::{self, Link, ListFilter, Lists};
use crate::sortable;
use crate::validate::{self, NAME_MAX, SUMMARY_MAX};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    AuditAction, EvidenceKind, Reach, authority, dialogue, evidence, evidence_dialogue,
    evidence_organisation, evidence_proposal, evidence_theme, organisation, proposal,
};
use sea_orm::sea_query::{Condition, ExprTrait};
use sea_orm::{ActiveEnum, ActiveModelTrait, ActiveValue, ColumnTrait, Iterable};
use uuid::Uuid;

sortable! {
    /// Fields evidence can be ordered by.
    pub enum EvidenceOrderField, EvidenceKey for evidence {
        /// By the day it was published.
        PublishedOn(NaiveDate) = published_on,
        /// Alphabetically by title.
        Title(crate::collation::Swedish) = title,
        /// By creation time.
        CreatedAt(DateTime<Utc>) = created_at,
        /// By time of the last change.
        UpdatedAt(DateTime<Utc>) = updated_at,
    }
}

/// What a piece of evidence is called in messages.
const RECORD: &str = "piece of evidence";

/// The order of lists of these when the client gives none: latest first.
pub const DEFAULT_ORDER: Sort<EvidenceOrderField> =
    Sort::new(EvidenceOrderField::PublishedOn, Direction::Desc);

/// Writing evidence needs an editor role somewhere (or admin); which evidence, each write
/// checks on the record itself.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN for anyone else who may not.
pub fn may_write(principal: &Principal) -> AppResult<()> {
    auth::require_writer(principal)
}

/// The evidence the principal may read.
pub fn visible(principal: &Principal) -> Condition {
    auth::visible(principal, Guarded::Evidence)
}

/// Which evidence to list.
#[derive(Debug, Clone, Default)]
pub struct EvidenceFilter {
    /// Only this kind.
    pub kind: Option<EvidenceKind>,
    /// Only evidence reaching at least this far.
    pub minimum_reach: Option<Reach>,
    /// Only evidence tagged with the theme of this slug.
    pub theme: Option<String>,
    /// Only evidence crediting this organisation.
    pub organisation_id: Option<Uuid>,
    /// Only evidence stemming from this proposal.
    pub proposal_id: Option<Uuid>,
    /// Only evidence stemming from this dialogue.
    pub dialogue_id: Option<Uuid>,
    /// Only evidence issued by this authority.
    pub authority_id: Option<Uuid>,
    /// Only evidence published on or after this day.
    pub published_from: Option<NaiveDate>,
    /// Only evidence published on or before this day.
    pub published_to: Option<NaiveDate>,
}

/// The reaches at least as far as `minimum`.
pub fn reaching(minimum: Reach) -> Vec<String> {
    Reach::iter()
        .filter(|reach| *reach >= minimum)
        .map(|reach| reach.to_value())
        .collect()
}

impl ListFilter for EvidenceFilter {
    type Row = evidence::Model;

    fn searches(&self) -> bool {
        false
    }

    fn condition(&self, principal: &Principal) -> AppResult<Condition> {
        use evidence::Column;
        let mut condition = Condition::all();
        if let Some(kind) = self.kind {
            condition = condition.add(column(Column::Kind).eq(paging::vocabulary(kind.to_value())));
        }
        if let Some(minimum) = self.minimum_reach {
            condition = condition.add(column(Column::Reach).is_in(reaching(minimum)));
        }
        if let Some(slug) = &self.theme {
            condition = condition.add(crate::theme::tagged(
                (
                    evidence_theme::Column::EvidenceId.as_column_ref(),
                    evidence_theme::Column::ThemeId.as_column_ref(),
                ),
                Column::Id.as_column_ref(),
                slug,
            ));
        }
        let sides = [
            (self.organisation_id, links()[0].clone()),
            (self.proposal_id, links()[1].clone()),
            (self.dialogue_id, links()[2].clone()),
        ];
        for (id, link) in sides {
            if let Some(id) = id {
                condition = condition.add(link.holds(Column::Id.as_column_ref(), id));
            }
        }
        if let Some(id) = self.authority_id {
            condition = condition.add(column(Column::AuthorityId).eq(id));
        }
        if let (Some(from), Some(to)) = (self.published_from, self.published_to)
            && from > to
        {
            return Err(AppError::bad_input(
                "filter.publishedTo",
                "filter.publishedTo must not be before filter.publishedFrom",
            ));
        }
        if let Some(from) = self.published_from {
            validate::date("filter.publishedFrom", from)?;
            condition = condition.add(column(Column::PublishedOn).gte(from));
        }
        if let Some(to) = self.published_to {
            validate::date("filter.publishedTo", to)?;
            condition = condition.add(column(Column::PublishedOn).lte(to));
        }
        Ok(condition.add(visible(principal)))
    }
}

/// The link tables of a piece of evidence, in the order of its [`Lists`]: the organisations
/// it credits, the proposals and dialogues it stems from, its themes.
pub fn links() -> [Link; 4] {
    [
        Link::new(
            evidence_organisation::Column::EvidenceId,
            evidence_organisation::Column::OrganisationId,
            "input.organisationIds",
        ),
        Link::new(
            evidence_proposal::Column::EvidenceId,
            evidence_proposal::Column::ProposalId,
            "input.proposalIds",
        ),
        Link::new(
            evidence_dialogue::Column::EvidenceId,
            evidence_dialogue::Column::DialogueId,
            "input.dialogueIds",
        ),
        Link::new(
            evidence_theme::Column::EvidenceId,
            evidence_theme::Column::ThemeId,
            "input.themeIds",
        ),
    ]
}

/// Checks the lists that are given: every id names a record the caller may see.
async fn check_lists(
    db: &impl Connection,
    principal: &Principal,
    lists: &Lists<4>,
) -> AppResult<()> {
    let [organisations, proposals, dialogues, themes] = lists;
    let links = links();
    let given = |list: &Option<Vec<Uuid>>| list.clone().unwrap_or_default();
    records::ensure_exist::<organisation::Model>(
        db,
        &given(organisations),
        Condition::all(),
        links[0].field,
    )
    .await?;
    records::ensure_exist::<proposal::Model>(
        db,
        &given(proposals),
        crate::proposal::visible(principal),
        links[1].field,
    )
    .await?;
    records::ensure_exist::<dialogue::Model>(
        db,
        &given(dialogues),
        crate::dialogue::visible(principal),
        links[2].field,
    )
    .await?;
    crate::theme::ensure_exist(db, &given(themes), links[3].field).await
}

/// Checks the fields a new or changed piece of evidence gives.
async fn check(db: &impl Connection, row: &mut evidence::ActiveModel) -> AppResult<()> {
    validate::given(&mut row.title, |v| {
        validate::text("input.title", &v, NAME_MAX)
    })?;
    validate::given(&mut row.publisher, |v| {
        validate::text("input.publisher", &v, NAME_MAX)
    })?;
    validate::given(&mut row.url, |v| validate::url("input.url", v.as_deref()))?;
    validate::given(&mut row.published_on, |v| {
        validate::date("input.publishedOn", v)
    })?;
    validate::given(&mut row.summary, |v| {
        validate::optional_text("input.summary", v.as_deref(), SUMMARY_MAX)
    })?;
    if let ActiveValue::Set(Some(id)) = row.authority_id {
        records::ensure_exist::<authority::Model>(db, &[id], Condition::all(), "input.authorityId")
            .await?;
    }
    Ok(())
}

/// Records a piece of evidence from `row`, which sets every field but the id, the version
/// and the times, with its lists.
///
/// # Errors
/// UNAUTHENTICATED/FORBIDDEN unless the caller edits for a credited organisation (or is an
/// admin); BAD_USER_INPUT for invalid fields or unknown records.
pub async fn create(
    db: &impl Transactional,
    principal: &Principal,
    mut row: evidence::ActiveModel,
    lists: Lists<4>,
) -> AppResult<evidence::Model> {
    may_write(principal)?;
    check(db, &mut row).await?;
    let lists = lists.map(|list| Some(list.unwrap_or_default()));
    check_lists(db, principal, &lists).await?;
    auth::require_editor_of_any(principal, lists[0].as_deref().unwrap_or_default())?;
    records::stamp_new::<evidence::Entity>(&mut row);
    let txn = records::begin_write(db).await?;
    let mut changes = audit::changes(&row);
    let created = row.insert(&txn).await?;
    records::write_lists(&txn, created.id, &links(), &lists, &mut changes).await?;
    audit::commit(
        txn,
        principal,
        AuditAction::CreateEvidence,
        created.id,
        changes,
    )
    .await?;
    Ok(created)
}

/// Changes the fields `row` sets and the lists given on evidence `id`, if nobody else has
/// since `expected_version`.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for a credited
/// organisation before and after the change; BAD_USER_INPUT; CONFLICT on a stale version.
pub async fn update(
    db: &impl Transactional,
    principal: &Principal,
    (id, expected_version): (Uuid, i32),
    mut row: evidence::ActiveModel,
    lists: Lists<4>,
) -> AppResult<evidence::Model> {
    may_write(principal)?;
    check(db, &mut row).await?;
    check_lists(db, principal, &lists).await?;
    let txn = records::begin_write(db).await?;
    records::visible_or_missing::<evidence::Model>(&txn, id, visible(principal), RECORD).await?;
    let before = links()[0].of(&txn, id).await?;
    auth::require_editor_of_change(principal, &before, lists[0].as_deref())?;
    let mut changes = audit::changes(&row);
    let updated =
        records::versioned_update::<evidence::Entity, _>(&txn, row, id, expected_version, RECORD)
            .await?;
    records::write_lists(&txn, id, &links(), &lists, &mut changes).await?;
    audit::commit(txn, principal, AuditAction::UpdateEvidence, id, changes).await?;
    Ok(updated)
}

/// Removes a piece of evidence with its links; returns it as it was.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for a credited
/// organisation.
pub async fn delete(
    db: &impl Transactional,
    principal: &Principal,
    id: Uuid,
) -> AppResult<evidence::Model> {
    may_write(principal)?;
    let txn = records::begin_write(db).await?;
    records::visible_or_missing::<evidence::Model>(&txn, id, visible(principal), RECORD).await?;
    auth::require_editor_of_any(principal, &links()[0].of(&txn, id).await?)?;
    records::delete_unreferenced_in::<evidence::Entity, _>(
        txn,
        principal,
        id,
        RECORD,
        &[],
        AuditAction::DeleteEvidence,
    )
    .await
}
