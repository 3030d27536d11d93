//! Dialogues: one engagement between organisations and authorities, with the proposals
//! discussed. Visibility is enforced in SQL through [`crate::auth::visible`].

use crate::audit;
use crate::auth::{self, Guarded, Principal};
use crate::db::{Connection, Transactional};
use crate::error::{AppError, AppResult};
use crate::paging::{self, Direction, Sort, column, linked};
use crate::records::{self, ListFilter};
use crate::sortable;
use crate::validate::{self, NAME_MAX, SUMMARY_MAX};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    AuditAction, DialogueKind, DialogueStatus, IdList, authority, dialogue, dialogue_authority,
    dialogue_organisation, dialogue_proposal, dialogue_theme, organisation, proposal,
};
use paging::ColumnRef;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, EntityName, EntityTrait, QueryFilter, QuerySelect,
};
use uuid::Uuid;

sortable! {
    /// Fields dialogues can be ordered by.
    pub enum DialogueOrderField, DialogueKey for dialogue {
        /// By the day it was held.
        HeldOn(NaiveDate) = held_on,
        /// Alphabetically by title.
        Title(crate::collation::Swedish) = title,
        /// By creation time.
        CreatedAt(DateTime<Utc>) = created_at,
        /// By time of the last change.
        UpdatedAt(DateTime<Utc>) = updated_at,
    }
}

/// Whether the caller may write these records at all, checked before anything else: the
/// GraphQL layer asks it too, before it reads the ids it was sent, so that a caller who
/// may not write learns nothing from input errors. Writing dialogues needs an editor role somewhere (or admin); which dialogues, each
/// write checks on the record itself.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN for anyone else who may not.
pub fn may_write(principal: &Principal) -> AppResult<()> {
    auth::require_writer(principal)
}

/// The order of lists of these when the client gives none: latest first.
pub const DEFAULT_ORDER: Sort<DialogueOrderField> =
    Sort::new(DialogueOrderField::HeldOn, Direction::Desc);

/// Which dialogues to list.
#[derive(Debug, Clone, Default)]
pub struct DialogueFilter {
    /// Only this kind.
    pub kind: Option<DialogueKind>,
    /// Only this status.
    pub status: Option<DialogueStatus>,
    /// Only dialogues this organisation took part in.
    pub organisation_id: Option<Uuid>,
    /// Only dialogues this authority took part in.
    pub authority_id: Option<Uuid>,
    /// Only dialogues where this proposal was discussed.
    pub proposal_id: Option<Uuid>,
    /// Only dialogues held on or after this day.
    pub held_from: Option<NaiveDate>,
    /// Only dialogues held on or before this day.
    pub held_to: Option<NaiveDate>,
    /// Only dialogues whose title, summary or outcome contains this text (case-insensitive).
    pub text: Option<String>,
    /// Only dialogues tagged with the theme of this slug.
    pub theme: Option<String>,
}

impl ListFilter for DialogueFilter {
    type Row = dialogue::Model;

    fn searches(&self) -> bool {
        self.text.is_some()
    }

    fn condition(&self, principal: &Principal) -> AppResult<Condition> {
        use dialogue::Column;
        let mut condition = Condition::all();
        if let Some(kind) = self.kind {
            condition = condition.add(column(Column::Kind).eq(paging::vocabulary(kind.to_value())));
        }
        if let Some(status) = self.status {
            condition =
                condition.add(column(Column::Status).eq(paging::vocabulary(status.to_value())));
        }
        for side in Side::ALL {
            if let Some(id) = side.pick(self.organisation_id, self.authority_id, self.proposal_id) {
                let (link_dialogue, other) = side.columns();
                condition = condition.add(linked(
                    link_dialogue,
                    Column::Id.as_column_ref(),
                    Expr::col(other).eq(id),
                ));
            }
        }
        if let Some(id) = self.proposal_id {
            // A proposal the caller cannot see filters like an unknown one: to nothing.
            condition = condition.add(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(proposal::Entity)
                    .and_where(column(proposal::Column::Id).eq(id))
                    .cond_where(crate::proposal::visible(principal))
                    .take(),
            ));
        }
        if let (Some(from), Some(to)) = (self.held_from, self.held_to)
            && from > to
        {
            return Err(AppError::bad_input(
                "filter.heldTo",
                "filter.heldTo must not be before filter.heldFrom",
            ));
        }
        if let Some(from) = self.held_from {
            validate::date("filter.heldFrom", from)?;
            condition = condition.add(column(Column::HeldOn).gte(from));
        }
        if let Some(to) = self.held_to {
            validate::date("filter.heldTo", to)?;
            condition = condition.add(column(Column::HeldOn).lte(to));
        }
        if let Some(slug) = &self.theme {
            condition = condition.add(crate::theme::tagged(
                (
                    dialogue_theme::Column::DialogueId.as_column_ref(),
                    dialogue_theme::Column::ThemeId.as_column_ref(),
                ),
                Column::Id.as_column_ref(),
                slug,
            ));
        }
        if let Some(text) = validate::search_text("filter.text", self.text.as_deref())? {
            condition = condition.add(paging::text_search(
                &[Column::Title, Column::Summary, Column::Outcome],
                &text,
            ));
        }
        Ok(condition.add(visible(principal)))
    }
}

/// The dialogues the principal may read.
pub fn visible(principal: &Principal) -> Condition {
    auth::visible(principal, Guarded::Dialogue)
}

/// A dialogue's three kinds of links, each a link table that also keeps the dialogue's date.
#[derive(Debug, Clone, Copy)]
enum Side {
    Organisations,
    Authorities,
    Proposals,
}

impl Side {
    const ALL: [Side; 3] = [Self::Organisations, Self::Authorities, Self::Proposals];

    /// This side's item of three values given in the order of [`Side::ALL`].
    fn pick<T>(self, organisations: T, authorities: T, proposals: T) -> T {
        match self {
            Self::Organisations => organisations,
            Self::Authorities => authorities,
            Self::Proposals => proposals,
        }
    }

    /// The link table's column pointing at the dialogue, and the one pointing at the other side.
    fn columns(self) -> (ColumnRef, ColumnRef) {
        match self {
            Self::Organisations => (
                dialogue_organisation::Column::DialogueId.as_column_ref(),
                dialogue_organisation::Column::OrganisationId.as_column_ref(),
            ),
            Self::Authorities => (
                dialogue_authority::Column::DialogueId.as_column_ref(),
                dialogue_authority::Column::AuthorityId.as_column_ref(),
            ),
            Self::Proposals => (
                dialogue_proposal::Column::DialogueId.as_column_ref(),
                dialogue_proposal::Column::ProposalId.as_column_ref(),
            ),
        }
    }

    /// The input field that sets this side.
    fn field(self) -> &'static str {
        self.pick(
            "input.organisationIds",
            "input.authorityIds",
            "input.proposalIds",
        )
    }
}

/// The participant lists of a write; a list not given stays as it is.
#[derive(Debug, Clone, Default)]
pub struct Participants {
    /// Participating organisations (at least one).
    pub organisations: Option<Vec<Uuid>>,
    /// Participating authorities.
    pub authorities: Option<Vec<Uuid>>,
    /// Proposals discussed.
    pub proposals: Option<Vec<Uuid>>,
    /// Its themes.
    pub themes: Option<Vec<Uuid>>,
}

/// The participant lists of a write, in the order of [`Side::ALL`]; `None` for a list not given.
type Lists = [Option<Vec<Uuid>>; 3];

/// Checks the participant lists that are given: every id names a record the caller may see.
async fn checked(
    db: &impl Connection,
    principal: &Principal,
    participants: Participants,
) -> AppResult<Lists> {
    let visible_proposals = crate::proposal::visible(principal);
    crate::theme::ensure_exist(
        db,
        participants.themes.as_deref().unwrap_or_default(),
        "input.themeIds",
    )
    .await?;
    let lists = [
        participants.organisations,
        participants.authorities,
        participants.proposals,
    ];
    if lists[0].as_ref().is_some_and(Vec::is_empty) {
        return Err(AppError::bad_input(
            "input.organisationIds",
            "a dialogue needs at least one participating organisation",
        ));
    }
    let [organisations, authorities, proposals] = &lists;
    let given = |list: &Option<Vec<Uuid>>| list.clone().unwrap_or_default();
    records::ensure_exist::<organisation::Model>(
        db,
        &given(organisations),
        Condition::all(),
        Side::Organisations.field(),
    )
    .await?;
    records::ensure_exist::<authority::Model>(
        db,
        &given(authorities),
        Condition::all(),
        Side::Authorities.field(),
    )
    .await?;
    records::ensure_exist::<proposal::Model>(
        db,
        &given(proposals),
        visible_proposals,
        Side::Proposals.field(),
    )
    .await?;
    Ok(lists)
}

/// Replaces the participant lists that are given and, when any changed or `date_changed`,
/// copies the dialogue's date onto its links.
pub(crate) async fn write_participants(
    db: &impl Connection,
    id: Uuid,
    lists: &Lists,
    date_changed: bool,
) -> AppResult<()> {
    let [organisations, authorities, proposals] = lists;
    if let Some(list) = organisations {
        records::replace_links(
            db,
            dialogue_organisation::Column::DialogueId,
            dialogue_organisation::Column::OrganisationId,
            id,
            list,
        )
        .await?;
    }
    if let Some(list) = authorities {
        records::replace_links(
            db,
            dialogue_authority::Column::DialogueId,
            dialogue_authority::Column::AuthorityId,
            id,
            list,
        )
        .await?;
    }
    if let Some(list) = proposals {
        records::replace_links(
            db,
            dialogue_proposal::Column::DialogueId,
            dialogue_proposal::Column::ProposalId,
            id,
            list,
        )
        .await?;
    }
    if date_changed || lists.iter().any(Option::is_some) {
        date_links(db, Some(id)).await?;
    }
    Ok(())
}

/// The ids of a dialogue's authorities as its row keeps them: the database copies them
/// from the links whenever those change (migration 13's triggers).
///
/// # Errors
/// INTERNAL on a database failure.
async fn authority_ids_of(db: &impl Connection, id: Uuid) -> AppResult<IdList> {
    Ok(dialogue::Entity::find()
        .select_only()
        .column(dialogue::Column::AuthorityIds)
        .filter(dialogue::Column::Id.eq(id))
        .into_tuple::<IdList>()
        .one(db)
        .await?
        .unwrap_or_default())
}

/// Copies the date of one dialogue (or, with `None`, of every dialogue) onto its links.
/// Every link keeps it so that a participant's latest dialogues are read from the link's
/// index ([`paging::Parent::dated`]); this is the only place that writes it.
///
/// # Errors
/// INTERNAL on a database failure.
pub(crate) async fn date_links(db: &impl Connection, id: Option<Uuid>) -> AppResult<()> {
    let dates = [
        dialogue_organisation::Column::HeldOn.as_column_ref(),
        dialogue_authority::Column::HeldOn.as_column_ref(),
        dialogue_proposal::Column::HeldOn.as_column_ref(),
    ];
    for (side, link_date) in Side::ALL.into_iter().zip(dates) {
        let (link_dialogue, _) = side.columns();
        let date = Query::select()
            .column(dialogue::Column::HeldOn)
            .from(dialogue::Entity)
            .and_where(column(dialogue::Column::Id).equals(link_dialogue.clone()))
            .take();
        let mut update = Query::update();
        update
            .table(link_dialogue.0.clone())
            .value(link_date.1, Expr::SubQuery(None, Box::new(date.into())));
        if let Some(id) = id {
            update.and_where(Expr::col(link_dialogue).eq(id));
        }
        db.execute(&update).await?;
    }
    Ok(())
}

/// The link table of a dialogue's themes.
fn themes_link() -> records::Link {
    records::Link::new(
        dialogue_theme::Column::DialogueId,
        dialogue_theme::Column::ThemeId,
        "input.themeIds",
    )
}

/// Adds the participant lists that were given to the audit changes, under the link tables' names.
fn with_lists(
    mut changes: serde_json::Map<String, serde_json::Value>,
    lists: &Lists,
) -> serde_json::Map<String, serde_json::Value> {
    let tables = [
        dialogue_organisation::Entity.table_name(),
        dialogue_authority::Entity.table_name(),
        dialogue_proposal::Entity.table_name(),
    ];
    for (table, list) in tables.into_iter().zip(lists) {
        if let Some(list) = list {
            changes.insert(table.to_owned(), records::ids_json(list));
        }
    }
    changes
}

/// The organisations taking part in a dialogue.
async fn organisations_of(db: &impl Connection, id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(dialogue_organisation::Entity::find()
        .select_only()
        .column(dialogue_organisation::Column::OrganisationId)
        .filter(dialogue_organisation::Column::DialogueId.eq(id))
        .into_tuple::<Uuid>()
        .all(db)
        .await?)
}

/// Checks the fields a new or changed dialogue gives.
fn check(row: &mut dialogue::ActiveModel) -> AppResult<()> {
    validate::given(&mut row.title, |v| {
        validate::text("input.title", &v, NAME_MAX)
    })?;
    validate::given(&mut row.held_on, |v| validate::date("input.heldOn", v))?;
    validate::given(&mut row.summary, |v| {
        validate::text("input.summary", &v, SUMMARY_MAX)
    })?;
    validate::given(&mut row.outcome, |v| {
        validate::optional_text("input.outcome", v.as_deref(), SUMMARY_MAX)
    })
}

/// Records a dialogue from `row`, which sets every field but the id, the version and the
/// times, with its participants.
///
/// # Errors
/// UNAUTHENTICATED/FORBIDDEN unless the caller edits for a participating organisation;
/// BAD_USER_INPUT for invalid fields or unknown participants.
pub async fn create(
    db: &impl Transactional,
    principal: &Principal,
    mut row: dialogue::ActiveModel,
    participants: Participants,
) -> AppResult<dialogue::Model> {
    may_write(principal)?;
    check(&mut row)?;
    records::stamp_new::<dialogue::Entity>(&mut row);
    let themes = Some(participants.themes.clone().unwrap_or_default());
    let participants = Participants {
        organisations: Some(participants.organisations.unwrap_or_default()),
        authorities: Some(participants.authorities.unwrap_or_default()),
        proposals: Some(participants.proposals.unwrap_or_default()),
        themes: themes.clone(),
    };
    let lists = checked(db, principal, participants).await?;
    auth::require_editor_of_any(principal, lists[0].as_deref().unwrap_or_default())?;
    let txn = records::begin_write(db).await?;
    let mut changes = with_lists(audit::changes(&row), &lists);
    let mut created = row.insert(&txn).await?;
    write_participants(&txn, created.id, &lists, true).await?;
    created.authority_ids = authority_ids_of(&txn, created.id).await?;
    records::write_lists(&txn, created.id, &[themes_link()], &[themes], &mut changes).await?;
    audit::commit(
        txn,
        principal,
        AuditAction::CreateDialogue,
        created.id,
        changes,
    )
    .await?;
    Ok(created)
}

/// Changes the fields `row` sets and the participant lists given on dialogue `id`, if
/// nobody else has since `expected_version`.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for a participant;
/// BAD_USER_INPUT for invalid fields; CONFLICT on a stale version.
pub async fn update(
    db: &impl Transactional,
    principal: &Principal,
    (id, expected_version): (Uuid, i32),
    mut row: dialogue::ActiveModel,
    participants: Participants,
) -> AppResult<dialogue::Model> {
    may_write(principal)?;
    check(&mut row)?;
    let themes = participants.themes.clone();
    let lists = checked(db, principal, participants).await?;
    let txn = records::begin_write(db).await?;
    records::visible_or_missing::<dialogue::Model>(&txn, id, visible(principal), "dialogue")
        .await?;
    let before = organisations_of(&txn, id).await?;
    auth::require_editor_of_change(principal, &before, lists[0].as_deref())?;
    let mut changes = with_lists(audit::changes(&row), &lists);
    let date_changed = row.held_on.is_set();
    let mut updated = records::versioned_update::<dialogue::Entity, _>(
        &txn,
        row,
        id,
        expected_version,
        "dialogue",
    )
    .await?;
    write_participants(&txn, id, &lists, date_changed).await?;
    if lists[1].is_some() {
        updated.authority_ids = authority_ids_of(&txn, id).await?;
    }
    records::write_lists(&txn, id, &[themes_link()], &[themes], &mut changes).await?;
    audit::commit(txn, principal, AuditAction::UpdateDialogue, id, changes).await?;
    Ok(updated)
}

/// Deletes a dialogue with its participant links.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for a participant.
pub async fn delete(
    db: &impl Transactional,
    principal: &Principal,
    id: Uuid,
) -> AppResult<dialogue::Model> {
    may_write(principal)?;
    let txn = records::begin_write(db).await?;
    let row =
        records::visible_or_missing::<dialogue::Model>(&txn, id, visible(principal), "dialogue")
            .await?;
    auth::require_editor_of_any(principal, &organisations_of(&txn, id).await?)?;
    dialogue::Entity::delete_by_id(id).exec(&txn).await?;
    let removed = audit::removed(&dialogue::ActiveModel::from(row.clone()));
    audit::commit(txn, principal, AuditAction::DeleteDialogue, id, removed).await?;
    Ok(row)
}
