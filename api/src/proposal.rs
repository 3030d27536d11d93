//! Proposals of the network: their lifecycle (one table, [`LIFECYCLE`]), co-signers,
//! target authorities and history. Visibility is enforced in SQL through [`crate::auth::visible`].

use crate::audit;
use crate::auth::{self, Guarded, Principal};
use crate::db::{Connection, Transactional};
use crate::error::{AppError, AppResult};
use crate::paging::{self, Direction, Sort, column, linked};
use crate::records::{self, ListFilter, Reference};
use crate::sortable;
use crate::validate::{self, BODY_MAX, NAME_MAX, SUMMARY_MAX};
use chrono::{DateTime, Utc};
use entity::{
    AuditAction, ProposalStatus, authority, dialogue, dialogue_proposal, organisation, proposal,
    proposal_co_signer, proposal_status_change, proposal_target, proposal_theme,
};
use sea_orm::sea_query::{Condition, ExprTrait, Query};
use sea_orm::{
    ActiveEnum, ActiveModelTrait,
    ActiveValue::{NotSet, Set},
    ColumnTrait, EntityTrait, IdenStatic, QueryFilter, QuerySelect,
};
use uuid::Uuid;

/// Every allowed move of a proposal: from a status, the statuses it may go to. A move not
/// listed here is refused. ACCEPTED, PARTIALLY_ACCEPTED, REJECTED and WITHDRAWN are final.
pub const LIFECYCLE: &[(ProposalStatus, &[ProposalStatus])] = {
    use ProposalStatus::*;
    &[
        (Draft, &[OpenForComment, Withdrawn]),
        (OpenForComment, &[Draft, Adopted, Withdrawn]),
        (Adopted, &[Submitted, Withdrawn]),
        (
            Submitted,
            &[
                UnderConsideration,
                Accepted,
                PartiallyAccepted,
                Rejected,
                Withdrawn,
            ],
        ),
        (
            UnderConsideration,
            &[Accepted, PartiallyAccepted, Rejected, Withdrawn],
        ),
        (Accepted, &[]),
        (PartiallyAccepted, &[]),
        (Rejected, &[]),
        (Withdrawn, &[]),
    ]
};

/// The statuses a proposal in `from` may move to.
pub fn allowed_moves(from: ProposalStatus) -> &'static [ProposalStatus] {
    LIFECYCLE
        .iter()
        .find(|(status, _)| *status == from)
        .map_or(&[], |(_, to)| to)
}

sortable! {
    /// Fields proposals can be ordered by.
    pub enum ProposalOrderField, ProposalKey for proposal {
        /// By time of the last change.
        UpdatedAt(DateTime<Utc>) = updated_at,
        /// By creation time.
        CreatedAt(DateTime<Utc>) = created_at,
        /// Alphabetically by title.
        Title(crate::collation::Swedish) = title,
    }
}

sortable! {
    /// The order of a proposal's history.
    pub enum StatusChangeOrderField, StatusChangeKey for proposal_status_change {
        /// By the time of the move.
        ChangedAt(DateTime<Utc>) = changed_at,
    }
}

/// Whether the caller may write these records at all, checked before anything else: the
/// GraphQL layer asks it too, before it reads the ids it was sent, so that a caller who
/// may not write learns nothing from input errors. Writing proposals needs an editor role somewhere (or admin); which proposals, each
/// write checks on the record itself.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN for anyone else who may not.
pub fn may_write(principal: &Principal) -> AppResult<()> {
    auth::require_writer(principal)
}

/// The order of lists of these when the client gives none: most recently changed first.
pub const DEFAULT_ORDER: Sort<ProposalOrderField> =
    Sort::new(ProposalOrderField::UpdatedAt, Direction::Desc);

/// Which proposals to list.
#[derive(Debug, Clone, Default)]
pub struct ProposalFilter {
    /// Only this status.
    pub status: Option<ProposalStatus>,
    /// Only proposals led by this organisation.
    pub lead_organisation_id: Option<Uuid>,
    /// Only proposals addressed to this authority.
    pub target_authority_id: Option<Uuid>,
    /// Only proposals whose title, summary or body contains this text (case-insensitive).
    pub text: Option<String>,
    /// Only proposals tagged with the theme of this slug.
    pub theme: Option<String>,
}

impl ListFilter for ProposalFilter {
    type Row = proposal::Model;

    fn searches(&self) -> bool {
        self.text.is_some()
    }

    fn condition(&self, principal: &Principal) -> AppResult<Condition> {
        use proposal::Column;
        let mut condition = Condition::all();
        if let Some(status) = self.status {
            condition =
                condition.add(column(Column::Status).eq(paging::vocabulary(status.to_value())));
        }
        if let Some(lead) = self.lead_organisation_id {
            condition = condition.add(column(Column::LeadOrganisationId).eq(lead));
        }
        if let Some(target) = self.target_authority_id {
            condition = condition.add(linked(
                proposal_target::Column::ProposalId.as_column_ref(),
                Column::Id.as_column_ref(),
                column(proposal_target::Column::AuthorityId).eq(target),
            ));
        }
        if let Some(slug) = &self.theme {
            condition = condition.add(crate::theme::tagged(
                (
                    proposal_theme::Column::ProposalId.as_column_ref(),
                    proposal_theme::Column::ThemeId.as_column_ref(),
                ),
                Column::Id.as_column_ref(),
                slug,
            ));
        }
        if let Some(text) = validate::search_text("filter.text", self.text.as_deref())? {
            condition = condition.add(paging::text_search(
                &[Column::Title, Column::Summary, Column::Body],
                &text,
            ));
        }
        Ok(condition.add(visible(principal)))
    }
}

/// The proposals the principal may read.
pub fn visible(principal: &Principal) -> Condition {
    auth::visible(principal, Guarded::Proposal)
}

/// The co-signers and targets of a write; a list not given stays as it is.
#[derive(Debug, Clone, Default)]
pub struct Addressed {
    /// Organisations co-signing it.
    pub co_signers: Option<Vec<Uuid>>,
    /// Authorities it is addressed to.
    pub targets: Option<Vec<Uuid>>,
    /// Its themes.
    pub themes: Option<Vec<Uuid>>,
}

/// A move along the lifecycle.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The proposal.
    pub id: Uuid,
    /// The status to move to.
    pub to: ProposalStatus,
    /// Why it moved; kept in the history.
    pub note: Option<String>,
    /// When given, the move is refused with CONFLICT if the proposal changed since this version.
    pub expected_version: Option<i32>,
}

/// The co-signer and target lists of a write, checked: every id names an existing record.
async fn checked(db: &impl Connection, lists: &Addressed) -> AppResult<()> {
    let given = |list: &Option<Vec<Uuid>>| list.clone().unwrap_or_default();
    records::ensure_exist::<organisation::Model>(
        db,
        &given(&lists.co_signers),
        Condition::all(),
        "input.coSignerIds",
    )
    .await?;
    records::ensure_exist::<authority::Model>(
        db,
        &given(&lists.targets),
        Condition::all(),
        "input.targetAuthorityIds",
    )
    .await?;
    crate::theme::ensure_exist(db, &given(&lists.themes), "input.themeIds").await
}

/// Replaces the co-signers and targets that are given, adding them to the audit changes.
async fn write_lists(
    db: &impl Connection,
    id: Uuid,
    lists: &Addressed,
    changes: &mut serde_json::Map<String, serde_json::Value>,
) -> AppResult<()> {
    if let Some(list) = &lists.co_signers {
        records::replace_links(
            db,
            proposal_co_signer::Column::ProposalId,
            proposal_co_signer::Column::OrganisationId,
            id,
            list,
        )
        .await?;
        changes.insert(CO_SIGNERS.into(), records::ids_json(list));
    }
    if let Some(list) = &lists.targets {
        records::replace_links(
            db,
            proposal_target::Column::ProposalId,
            proposal_target::Column::AuthorityId,
            id,
            list,
        )
        .await?;
        changes.insert(TARGETS.into(), records::ids_json(list));
    }
    let themes = records::Link::new(
        proposal_theme::Column::ProposalId,
        proposal_theme::Column::ThemeId,
        "input.themeIds",
    );
    records::write_lists(
        db,
        id,
        &[themes],
        std::array::from_ref(&lists.themes),
        changes,
    )
    .await
}

/// The audit log's names of the co-signer and target lists.
const CO_SIGNERS: &str = "co_signer_ids";
const TARGETS: &str = "target_authority_ids";

/// The organisations co-signing a proposal.
async fn co_signers_of(db: &impl Connection, id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(proposal_co_signer::Entity::find()
        .select_only()
        .column(proposal_co_signer::Column::OrganisationId)
        .filter(proposal_co_signer::Column::ProposalId.eq(id))
        .into_tuple::<Uuid>()
        .all(db)
        .await?)
}

fn history_entry(
    proposal: Uuid,
    from: Option<ProposalStatus>,
    to: ProposalStatus,
    note: Option<String>,
) -> proposal_status_change::ActiveModel {
    proposal_status_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        proposal_id: Set(proposal),
        from_status: Set(from),
        to_status: Set(to),
        changed_at: Set(validate::now()),
        note: Set(note),
    }
}

/// Checks the fields a new or changed proposal gives, and that its lead exists.
async fn check(db: &impl Connection, row: &mut proposal::ActiveModel) -> AppResult<()> {
    validate::given(&mut row.title, |v| {
        validate::text("input.title", &v, NAME_MAX)
    })?;
    validate::given(&mut row.summary, |v| {
        validate::text("input.summary", &v, SUMMARY_MAX)
    })?;
    validate::given(&mut row.body, |v| {
        validate::text("input.body", &v, BODY_MAX)
    })?;
    if let Set(lead) = &row.lead_organisation_id {
        records::ensure_exist::<organisation::Model>(
            db,
            &[*lead],
            Condition::all(),
            "input.leadOrganisationId",
        )
        .await?;
    }
    Ok(())
}

/// Drafts a proposal from `row`, which sets every field but the id, the status, the version
/// and the times, with its co-signers and targets.
///
/// # Errors
/// UNAUTHENTICATED/FORBIDDEN unless the caller edits for the lead organisation;
/// BAD_USER_INPUT for invalid fields or unknown references.
pub async fn create(
    db: &impl Transactional,
    principal: &Principal,
    mut row: proposal::ActiveModel,
    lists: Addressed,
) -> AppResult<proposal::Model> {
    may_write(principal)?;
    check(db, &mut row).await?;
    checked(db, &lists).await?;
    let lead = row.lead_organisation_id.clone().take().ok_or_else(|| {
        AppError::bad_input(
            "input.leadOrganisationId",
            "a proposal needs a lead organisation",
        )
    })?;
    auth::require_editor_of_any(principal, &[lead])?;
    records::stamp_new::<proposal::Entity>(&mut row);
    row.status = Set(ProposalStatus::Draft);
    let lists = Addressed {
        co_signers: Some(lists.co_signers.unwrap_or_default()),
        targets: Some(lists.targets.unwrap_or_default()),
        themes: Some(lists.themes.unwrap_or_default()),
    };
    let txn = records::begin_write(db).await?;
    let mut changes = audit::changes(&row);
    let created = row.insert(&txn).await?;
    write_lists(&txn, created.id, &lists, &mut changes).await?;
    history_entry(created.id, None, ProposalStatus::Draft, None)
        .insert(&txn)
        .await?;
    audit::commit(
        txn,
        principal,
        AuditAction::CreateProposal,
        created.id,
        changes,
    )
    .await?;
    Ok(created)
}

/// Changes the fields `row` sets and the lists given on proposal `id`, if nobody else has
/// since `expected_version`. The status changes only through [`transition`].
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for the lead
/// organisation (only an admin may change the lead); BAD_USER_INPUT for invalid fields;
/// CONFLICT on a stale version.
pub async fn update(
    db: &impl Transactional,
    principal: &Principal,
    (id, expected_version): (Uuid, i32),
    mut row: proposal::ActiveModel,
    lists: Addressed,
) -> AppResult<proposal::Model> {
    may_write(principal)?;
    row.status = NotSet;
    check(db, &mut row).await?;
    checked(db, &lists).await?;
    let txn = records::begin_write(db).await?;
    let current =
        records::visible_or_missing::<proposal::Model>(&txn, id, visible(principal), "proposal")
            .await?;
    // The organisations involved: the lead and the co-signers, as they are and as they will be.
    let co_signers = co_signers_of(&txn, id).await?;
    let before = [vec![current.lead_organisation_id], co_signers.clone()].concat();
    let after = (row.lead_organisation_id.is_set() || lists.co_signers.is_some()).then(|| {
        let lead = row.lead_organisation_id.clone().take();
        let co_signers = lists.co_signers.clone().unwrap_or(co_signers);
        [
            vec![lead.unwrap_or(current.lead_organisation_id)],
            co_signers,
        ]
        .concat()
    });
    auth::require_editor_of_change(principal, &before, after.as_deref())?;
    if row.lead_organisation_id.is_set() && !principal.admin {
        return Err(AppError::Forbidden(
            "only an admin may change the lead organisation of a proposal".into(),
        ));
    }
    let mut changes = audit::changes(&row);
    let updated = records::versioned_update::<proposal::Entity, _>(
        &txn,
        row,
        id,
        expected_version,
        "proposal",
    )
    .await?;
    write_lists(&txn, id, &lists, &mut changes).await?;
    audit::commit(txn, principal, AuditAction::UpdateProposal, id, changes).await?;
    Ok(updated)
}

/// Moves a proposal along its lifecycle and records the move in its history.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for the lead
/// organisation (co-signers may not); BAD_USER_INPUT for a move not in [`LIFECYCLE`]; CONFLICT when it changed
/// meanwhile.
pub async fn transition(
    db: &impl Transactional,
    principal: &Principal,
    input: Transition,
) -> AppResult<proposal::Model> {
    may_write(principal)?;
    let id = input.id;
    let note = validate::optional_text("input.note", input.note.as_deref(), SUMMARY_MAX)?;
    let txn = records::begin_write(db).await?;
    let current =
        records::visible_or_missing::<proposal::Model>(&txn, id, visible(principal), "proposal")
            .await?;
    // Co-signers may edit the text; only the lead moves the proposal along its lifecycle.
    auth::require_editor_of_any(principal, &[current.lead_organisation_id])?;
    if !allowed_moves(current.status).contains(&input.to) {
        let allowed: Vec<String> = allowed_moves(current.status)
            .iter()
            .map(|s| s.to_value())
            .collect();
        return Err(AppError::bad_input(
            "input.to",
            format!(
                "a {} proposal cannot move to {}; allowed: {}",
                current.status.to_value(),
                input.to.to_value(),
                if allowed.is_empty() {
                    "none (final status)".to_owned()
                } else {
                    allowed.join(", ")
                }
            ),
        ));
    }
    let row = proposal::ActiveModel {
        status: Set(input.to),
        ..Default::default()
    };
    let mut changes = audit::changes(&row);
    if let Some(note) = &note {
        changes.insert(
            proposal_status_change::Column::Note.as_str().into(),
            note.clone().into(),
        );
    }
    let expected = input.expected_version.unwrap_or(current.version);
    let updated =
        records::versioned_update::<proposal::Entity, _>(&txn, row, id, expected, "proposal")
            .await?;
    history_entry(id, Some(current.status), input.to, note)
        .insert(&txn)
        .await?;
    audit::commit(txn, principal, AuditAction::TransitionProposal, id, changes).await?;
    Ok(updated)
}

/// Deletes a proposal that no dialogue refers to, with its co-signers, targets and history.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for the lead
/// organisation; CONFLICT naming the dialogues that still refer to it.
pub async fn delete(
    db: &impl Transactional,
    principal: &Principal,
    id: Uuid,
) -> AppResult<proposal::Model> {
    may_write(principal)?;
    let txn = records::begin_write(db).await?;
    let row =
        records::visible_or_missing::<proposal::Model>(&txn, id, visible(principal), "proposal")
            .await?;
    auth::require_editor_of_any(principal, &[row.lead_organisation_id])?;
    records::ensure_unreferenced(
        &txn,
        "proposal",
        id,
        &[Reference::new(
            dialogue_proposal::Column::ProposalId,
            "dialogue(s) that discussed it",
        )
        .seen_where(
            Condition::all().add(
                dialogue_proposal::Column::DialogueId.in_subquery(
                    Query::select()
                        .column(dialogue::Column::Id)
                        .from(dialogue::Entity)
                        .cond_where(crate::dialogue::visible(principal))
                        .take(),
                ),
            ),
        )],
    )
    .await?;
    proposal::Entity::delete_by_id(id).exec(&txn).await?;
    let removed = audit::removed(&proposal::ActiveModel::from(row.clone()));
    audit::commit(txn, principal, AuditAction::DeleteProposal, id, removed).await?;
    Ok(row)
}
