//! Proposals of the network: their lifecycle (one table, [`LIFECYCLE`]), co-signers,
//! target authorities and history. Visibility is enforced in SQL through [`crate::auth::visible`].

use crate::audit;
use crate::auth::{self, Guarded, Principal};
use crate::error::{AppError, AppResult};
use crate::ids::{self, NodeType};
use crate::paging::{self, ListFilter, OrderDirection, Row, Sort, SortValue};
use crate::records;
use crate::validate::{self, BODY_MAX, NAME_MAX, SUMMARY_MAX};
use async_graphql::{Enum, InputObject};
use entity::{ProposalStatus, Visibility, proposal, proposal_status_change};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionTrait,
};
use uuid::Uuid;

const TABLE: &str = "proposals";

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

impl Row for proposal::Model {
    const TABLE: &'static str = TABLE;
    fn id(&self) -> Uuid {
        self.id
    }
    fn sort_value(&self, column: &str) -> SortValue {
        match column {
            "created_at" => SortValue::Time(self.created_at),
            "title" => SortValue::Text(self.title.clone()),
            _ => SortValue::Time(self.updated_at),
        }
    }
}

impl Row for proposal_status_change::Model {
    const TABLE: &'static str = "proposal_status_changes";
    fn id(&self) -> Uuid {
        self.id
    }
    fn sort_value(&self, _column: &str) -> SortValue {
        SortValue::Time(self.changed_at)
    }
}

/// Fields proposals can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ProposalOrderField {
    /// By time of the last change.
    UpdatedAt,
    /// By creation time.
    CreatedAt,
    /// Alphabetically by title.
    Title,
}

/// How to order proposals; most recently changed first when absent.
#[derive(Debug, Clone, Copy, InputObject)]
pub struct ProposalOrder {
    /// The field to order by.
    pub field: ProposalOrderField,
    /// The direction.
    pub direction: OrderDirection,
}

impl ProposalOrder {
    /// The ordering as a keyset sort.
    pub fn sort(order: Option<Self>) -> Sort {
        let order = order.unwrap_or(Self {
            field: ProposalOrderField::UpdatedAt,
            direction: OrderDirection::Desc,
        });
        let column = match order.field {
            ProposalOrderField::UpdatedAt => "updated_at",
            ProposalOrderField::CreatedAt => "created_at",
            ProposalOrderField::Title => "title",
        };
        Sort {
            column,
            descending: order.direction.is_descending(),
        }
    }
}

/// Which proposals to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ProposalFilter {
    /// Only this status.
    pub status: Option<ProposalStatus>,
    /// Only proposals led by this organisation.
    pub lead_organisation_id: Option<async_graphql::ID>,
    /// Only proposals addressed to this authority.
    pub target_authority_id: Option<async_graphql::ID>,
    /// Only proposals whose title, summary or body contains this text (case-insensitive).
    pub text: Option<String>,
}

impl ListFilter for ProposalFilter {
    type Row = proposal::Model;

    fn condition(&self, principal: &Principal) -> AppResult<Condition> {
        let mut condition = Condition::all();
        if let Some(status) = self.status {
            condition = condition.add(paging::column(TABLE, "status").eq(status.to_value()));
        }
        if let Some(lead) = &self.lead_organisation_id {
            let lead = ids::decode(NodeType::Organisation, lead, "filter.leadOrganisationId")?;
            condition = condition.add(paging::column(TABLE, "lead_organisation_id").eq(lead));
        }
        if let Some(target) = &self.target_authority_id {
            let target = ids::decode(NodeType::Authority, target, "filter.targetAuthorityId")?;
            condition = condition.add(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(Alias::new("proposal_targets"))
                    .and_where(
                        paging::column("proposal_targets", "proposal_id")
                            .equals((Alias::new(TABLE), Alias::new("id"))),
                    )
                    .and_where(paging::column("proposal_targets", "authority_id").eq(target))
                    .to_owned(),
            ));
        }
        if let Some(text) = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            condition = condition.add(paging::text_search(
                TABLE,
                &["title", "summary", "body"],
                text,
            ));
        }
        Ok(condition.add(visible(principal)))
    }
}

/// The proposals the principal may read.
pub fn visible(principal: &Principal) -> Condition {
    auth::visible(principal, Guarded::Proposal)
}

/// Finds a proposal the principal may read.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_id(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> AppResult<Option<proposal::Model>> {
    Ok(paging::by_ids(db, &[id], visible(principal))
        .await?
        .remove(&id))
}

/// Input of `createProposal`. A proposal starts as DRAFT.
#[derive(Debug, Clone, InputObject)]
pub struct CreateProposalInput {
    /// Short title.
    pub title: String,
    /// One-paragraph summary.
    pub summary: String,
    /// Full text.
    pub body: String,
    /// Who may read it; NETWORK when absent, so nothing becomes public by accident.
    #[graphql(default_with = "Visibility::Network")]
    pub visibility: Visibility,
    /// The organisation that leads it.
    pub lead_organisation_id: async_graphql::ID,
    /// Organisations co-signing it.
    #[graphql(default)]
    pub co_signer_ids: Vec<async_graphql::ID>,
    /// Authorities it is addressed to.
    #[graphql(default)]
    pub target_authority_ids: Vec<async_graphql::ID>,
}

/// Input of `updateProposal`: only the fields given change; a list given replaces the old
/// one. The status changes only through `transitionProposal`.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateProposalInput {
    /// The proposal's id.
    pub id: async_graphql::ID,
    /// The version the change was based on; a newer stored version is a CONFLICT.
    pub expected_version: i32,
    /// New title.
    pub title: Option<String>,
    /// New summary.
    pub summary: Option<String>,
    /// New full text.
    pub body: Option<String>,
    /// New visibility.
    pub visibility: Option<Visibility>,
    /// New lead organisation.
    pub lead_organisation_id: Option<async_graphql::ID>,
    /// New co-signers.
    pub co_signer_ids: Option<Vec<async_graphql::ID>>,
    /// New target authorities.
    pub target_authority_ids: Option<Vec<async_graphql::ID>>,
}

/// Input of `transitionProposal`.
#[derive(Debug, Clone, InputObject)]
pub struct TransitionProposalInput {
    /// The proposal's id.
    pub id: async_graphql::ID,
    /// The status to move to; see the lifecycle in the README.
    pub to: ProposalStatus,
    /// Why it moved; kept in the history.
    pub note: Option<String>,
    /// When given, the move is refused with CONFLICT if the proposal changed since this version.
    pub expected_version: Option<i32>,
}

/// Input of `deleteProposal`.
#[derive(Debug, Clone, InputObject)]
pub struct DeleteProposalInput {
    /// The proposal's id.
    pub id: async_graphql::ID,
}

fn decode_list(
    list: &[async_graphql::ID],
    node_type: NodeType,
    field: &str,
) -> AppResult<Vec<Uuid>> {
    if list.len() > 100 {
        return Err(AppError::bad_input(
            field,
            format!("{field} may name at most 100 records"),
        ));
    }
    list.iter()
        .map(|id| ids::decode(node_type, id, field))
        .collect()
}

fn ids_json(ids: &[Uuid]) -> serde_json::Value {
    ids.iter()
        .map(|id| serde_json::Value::String(id.to_string()))
        .collect()
}

/// The organisations involved in a proposal: its lead and its co-signers.
async fn involved(db: &impl ConnectionTrait, proposal: &proposal::Model) -> AppResult<Vec<Uuid>> {
    let select = Query::select()
        .column(Alias::new("organisation_id"))
        .from(Alias::new("proposal_co_signers"))
        .and_where(Expr::col(Alias::new("proposal_id")).eq(proposal.id))
        .to_owned();
    let mut involved = vec![proposal.lead_organisation_id];
    for row in db.query_all(&select).await? {
        involved.push(row.try_get::<Uuid>("", "organisation_id")?);
    }
    Ok(involved)
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

/// Drafts a proposal.
///
/// # Errors
/// UNAUTHENTICATED/FORBIDDEN unless the caller edits for the lead organisation;
/// BAD_USER_INPUT for invalid fields or unknown references.
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: CreateProposalInput,
) -> AppResult<proposal::Model> {
    auth::require_writer(principal)?;
    let now = validate::now();
    let lead = ids::decode(
        NodeType::Organisation,
        &input.lead_organisation_id,
        "input.leadOrganisationId",
    )?;
    let co_signers = decode_list(
        &input.co_signer_ids,
        NodeType::Organisation,
        "input.coSignerIds",
    )?;
    let targets = decode_list(
        &input.target_authority_ids,
        NodeType::Authority,
        "input.targetAuthorityIds",
    )?;
    let row = proposal::ActiveModel {
        id: Set(Uuid::now_v7()),
        title: Set(validate::text("input.title", &input.title, NAME_MAX)?),
        summary: Set(validate::text(
            "input.summary",
            &input.summary,
            SUMMARY_MAX,
        )?),
        body: Set(validate::text("input.body", &input.body, BODY_MAX)?),
        status: Set(ProposalStatus::Draft),
        visibility: Set(input.visibility),
        lead_organisation_id: Set(lead),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    records::ensure_exist(db, "organisations", &[lead], "input.leadOrganisationId").await?;
    records::ensure_exist(db, "organisations", &co_signers, "input.coSignerIds").await?;
    records::ensure_exist(db, "authorities", &targets, "input.targetAuthorityIds").await?;
    auth::require_editor_of_any(principal, &[lead])?;
    let txn = crate::records::begin_write(db).await?;
    let mut changes = audit::changes(&row);
    changes.insert("co_signer_ids".into(), ids_json(&co_signers));
    changes.insert("target_authority_ids".into(), ids_json(&targets));
    let created = row.insert(&txn).await?;
    records::replace_links(
        &txn,
        "proposal_co_signers",
        "proposal_id",
        "organisation_id",
        created.id,
        &co_signers,
    )
    .await?;
    records::replace_links(
        &txn,
        "proposal_targets",
        "proposal_id",
        "authority_id",
        created.id,
        &targets,
    )
    .await?;
    history_entry(created.id, None, ProposalStatus::Draft, None)
        .insert(&txn)
        .await?;
    audit::commit(
        txn,
        principal,
        "createProposal",
        "Proposal",
        created.id,
        changes,
    )
    .await?;
    Ok(created)
}

/// Changes a proposal if nobody else has since `expected_version`.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for the lead
/// organisation (only an admin may change the lead); BAD_USER_INPUT for invalid fields;
/// CONFLICT on a stale version.
pub async fn update(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: UpdateProposalInput,
) -> AppResult<proposal::Model> {
    auth::require_writer(principal)?;
    let id = ids::decode(NodeType::Proposal, &input.id, "input.id")?;
    let mut row: proposal::ActiveModel = Default::default();
    if let Some(title) = &input.title {
        row.title = Set(validate::text("input.title", title, NAME_MAX)?);
    }
    if let Some(summary) = &input.summary {
        row.summary = Set(validate::text("input.summary", summary, SUMMARY_MAX)?);
    }
    if let Some(body) = &input.body {
        row.body = Set(validate::text("input.body", body, BODY_MAX)?);
    }
    if let Some(visibility) = input.visibility {
        row.visibility = Set(visibility);
    }
    let co_signers = input
        .co_signer_ids
        .as_deref()
        .map(|l| decode_list(l, NodeType::Organisation, "input.coSignerIds"))
        .transpose()?;
    let targets = input
        .target_authority_ids
        .as_deref()
        .map(|l| decode_list(l, NodeType::Authority, "input.targetAuthorityIds"))
        .transpose()?;
    if let Some(lead) = &input.lead_organisation_id {
        let lead = ids::decode(NodeType::Organisation, lead, "input.leadOrganisationId")?;
        records::ensure_exist(db, "organisations", &[lead], "input.leadOrganisationId").await?;
        row.lead_organisation_id = Set(lead);
    }
    records::ensure_exist(
        db,
        "organisations",
        co_signers.as_deref().unwrap_or_default(),
        "input.coSignerIds",
    )
    .await?;
    records::ensure_exist(
        db,
        "authorities",
        targets.as_deref().unwrap_or_default(),
        "input.targetAuthorityIds",
    )
    .await?;
    let txn = crate::records::begin_write(db).await?;
    let current = by_id(&txn, principal, id)
        .await?
        .ok_or(AppError::NotFound("proposal"))?;
    auth::require_editor_of_any(principal, &involved(&txn, &current).await?)?;
    if input.lead_organisation_id.is_some() && !principal.admin {
        return Err(AppError::Forbidden(
            "only an admin may change the lead organisation of a proposal".into(),
        ));
    }
    let mut changes = audit::changes(&row);
    if let Some(list) = &co_signers {
        changes.insert("co_signer_ids".into(), ids_json(list));
    }
    if let Some(list) = &targets {
        changes.insert("target_authority_ids".into(), ids_json(list));
    }
    let updated = records::versioned_update::<proposal::Entity, _>(
        &txn,
        row,
        id,
        input.expected_version,
        "proposal",
    )
    .await?;
    if let Some(co_signers) = &co_signers {
        records::replace_links(
            &txn,
            "proposal_co_signers",
            "proposal_id",
            "organisation_id",
            id,
            co_signers,
        )
        .await?;
    }
    if let Some(targets) = &targets {
        records::replace_links(
            &txn,
            "proposal_targets",
            "proposal_id",
            "authority_id",
            id,
            targets,
        )
        .await?;
    }
    audit::commit(txn, principal, "updateProposal", "Proposal", id, changes).await?;
    Ok(updated)
}

/// Moves a proposal along its lifecycle and records the move in its history.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for the lead
/// organisation; BAD_USER_INPUT for a move not in [`LIFECYCLE`]; CONFLICT when it changed
/// meanwhile.
pub async fn transition(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: TransitionProposalInput,
) -> AppResult<proposal::Model> {
    auth::require_writer(principal)?;
    let id = ids::decode(NodeType::Proposal, &input.id, "input.id")?;
    let note = validate::optional_text("input.note", input.note.as_deref(), SUMMARY_MAX)?;
    let txn = crate::records::begin_write(db).await?;
    let current = by_id(&txn, principal, id)
        .await?
        .ok_or(AppError::NotFound("proposal"))?;
    auth::require_editor_of_any(principal, &involved(&txn, &current).await?)?;
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
        changes.insert("note".into(), note.clone().into());
    }
    let expected = input.expected_version.unwrap_or(current.version);
    let updated =
        records::versioned_update::<proposal::Entity, _>(&txn, row, id, expected, "proposal")
            .await?;
    history_entry(id, Some(current.status), input.to, note)
        .insert(&txn)
        .await?;
    audit::commit(
        txn,
        principal,
        "transitionProposal",
        "Proposal",
        id,
        changes,
    )
    .await?;
    Ok(updated)
}

/// Deletes a proposal that no dialogue refers to, with its co-signers, targets and history.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for the lead
/// organisation; CONFLICT naming the dialogues that still refer to it.
pub async fn delete(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: DeleteProposalInput,
) -> AppResult<proposal::Model> {
    auth::require_writer(principal)?;
    let id = ids::decode(NodeType::Proposal, &input.id, "input.id")?;
    let txn = crate::records::begin_write(db).await?;
    let row = by_id(&txn, principal, id)
        .await?
        .ok_or(AppError::NotFound("proposal"))?;
    auth::require_editor_of_any(principal, &involved(&txn, &row).await?)?;
    records::ensure_unreferenced(
        &txn,
        "proposal",
        id,
        &[(
            "dialogue_proposals",
            "proposal_id",
            "dialogue(s) that discussed it",
        )],
    )
    .await?;
    proposal::Entity::delete_by_id(id).exec(&txn).await?;
    let removed = audit::removed(&proposal::ActiveModel::from(row.clone()));
    audit::commit(txn, principal, "deleteProposal", "Proposal", id, removed).await?;
    Ok(row)
}
