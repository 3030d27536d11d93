//! Dialogues: one engagement between organisations and authorities, with the proposals
//! discussed. Visibility is enforced in SQL through [`crate::auth::visible`].

use crate::audit;
use crate::auth::{self, Guarded, Principal};
use crate::error::{AppError, AppResult};
use crate::ids::{self, NodeType};
use crate::paging::{self, ListFilter, OrderDirection, Row, Sort, SortValue};
use crate::records;
use crate::validate::{self, NAME_MAX, SUMMARY_MAX};
use async_graphql::{Enum, InputObject, MaybeUndefined};
use chrono::NaiveDate;
use entity::{DialogueKind, DialogueStatus, Visibility, dialogue};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionTrait,
};
use uuid::Uuid;

const TABLE: &str = "dialogues";

/// The link tables of a dialogue: (table, column of the other side, other table, input field).
const PARTICIPANTS: [(&str, &str, &str, &str); 3] = [
    (
        "dialogue_organisations",
        "organisation_id",
        "organisations",
        "input.organisationIds",
    ),
    (
        "dialogue_authorities",
        "authority_id",
        "authorities",
        "input.authorityIds",
    ),
    (
        "dialogue_proposals",
        "proposal_id",
        "proposals",
        "input.proposalIds",
    ),
];

impl Row for dialogue::Model {
    const TABLE: &'static str = TABLE;
    fn id(&self) -> Uuid {
        self.id
    }
    fn sort_value(&self, column: &str) -> SortValue {
        match column {
            "created_at" => SortValue::Time(self.created_at),
            "updated_at" => SortValue::Time(self.updated_at),
            "title" => SortValue::Text(self.title.clone()),
            _ => SortValue::Date(self.held_on),
        }
    }
}

/// Fields dialogues can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum DialogueOrderField {
    /// By the day it was held.
    HeldOn,
    /// Alphabetically by title.
    Title,
    /// By creation time.
    CreatedAt,
    /// By time of the last change.
    UpdatedAt,
}

/// How to order dialogues; latest `heldOn` first when absent.
#[derive(Debug, Clone, Copy, InputObject)]
pub struct DialogueOrder {
    /// The field to order by.
    pub field: DialogueOrderField,
    /// The direction.
    pub direction: OrderDirection,
}

impl DialogueOrder {
    /// The ordering as a keyset sort.
    pub fn sort(order: Option<Self>) -> Sort {
        let order = order.unwrap_or(Self {
            field: DialogueOrderField::HeldOn,
            direction: OrderDirection::Desc,
        });
        let column = match order.field {
            DialogueOrderField::HeldOn => "held_on",
            DialogueOrderField::Title => "title",
            DialogueOrderField::CreatedAt => "created_at",
            DialogueOrderField::UpdatedAt => "updated_at",
        };
        Sort {
            column,
            descending: order.direction.is_descending(),
        }
    }
}

/// Which dialogues to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct DialogueFilter {
    /// Only this kind.
    pub kind: Option<DialogueKind>,
    /// Only this status.
    pub status: Option<DialogueStatus>,
    /// Only dialogues this organisation took part in.
    pub organisation_id: Option<async_graphql::ID>,
    /// Only dialogues this authority took part in.
    pub authority_id: Option<async_graphql::ID>,
    /// Only dialogues where this proposal was discussed.
    pub proposal_id: Option<async_graphql::ID>,
    /// Only dialogues held on or after this day.
    pub held_from: Option<NaiveDate>,
    /// Only dialogues held on or before this day.
    pub held_to: Option<NaiveDate>,
    /// Only dialogues whose title, summary or outcome contains this text (case-insensitive).
    pub text: Option<String>,
}

fn linked(link: &'static str, column: &'static str, id: Uuid) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(Alias::new(link))
            .and_where(
                paging::column(link, "dialogue_id").equals((Alias::new(TABLE), Alias::new("id"))),
            )
            .and_where(paging::column(link, column).eq(id))
            .to_owned(),
    )
}

impl ListFilter for DialogueFilter {
    type Row = dialogue::Model;

    fn condition(&self, principal: &Principal) -> AppResult<Condition> {
        let mut condition = Condition::all();
        if let Some(kind) = self.kind {
            condition = condition.add(paging::column(TABLE, "kind").eq(kind.to_value()));
        }
        if let Some(status) = self.status {
            condition = condition.add(paging::column(TABLE, "status").eq(status.to_value()));
        }
        let links = [
            (
                &self.organisation_id,
                NodeType::Organisation,
                "filter.organisationId",
                0,
            ),
            (
                &self.authority_id,
                NodeType::Authority,
                "filter.authorityId",
                1,
            ),
            (
                &self.proposal_id,
                NodeType::Proposal,
                "filter.proposalId",
                2,
            ),
        ];
        for (id, node_type, field, link) in links {
            if let Some(id) = id {
                let id = ids::decode(node_type, id, field)?;
                let (table, column, ..) = PARTICIPANTS[link];
                condition = condition.add(linked(table, column, id));
            }
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
            condition = condition.add(paging::column(TABLE, "held_on").gte(from));
        }
        if let Some(to) = self.held_to {
            condition = condition.add(paging::column(TABLE, "held_on").lte(to));
        }
        if let Some(text) = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            condition = condition.add(paging::text_search(
                TABLE,
                &["title", "summary", "outcome"],
                text,
            ));
        }
        Ok(condition.add(visible(principal)))
    }
}

/// The dialogues the principal may read.
pub fn visible(principal: &Principal) -> Condition {
    auth::visible(principal, Guarded::Dialogue)
}

/// Finds a dialogue the principal may read.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_id(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> AppResult<Option<dialogue::Model>> {
    Ok(paging::by_ids(db, &[id], visible(principal))
        .await?
        .remove(&id))
}

/// Input of `createDialogue`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateDialogueInput {
    /// Short title.
    pub title: String,
    /// Form of the dialogue.
    pub kind: DialogueKind,
    /// Where it stands.
    pub status: DialogueStatus,
    /// The day it was (or is to be) held or sent.
    pub held_on: NaiveDate,
    /// What it was about.
    pub summary: String,
    /// What came of it.
    pub outcome: Option<String>,
    /// Who may read it; NETWORK when absent, so nothing becomes public by accident.
    #[graphql(default_with = "Visibility::Network")]
    pub visibility: Visibility,
    /// Participating organisations (at least one).
    pub organisation_ids: Vec<async_graphql::ID>,
    /// Participating authorities.
    #[graphql(default)]
    pub authority_ids: Vec<async_graphql::ID>,
    /// Proposals discussed.
    #[graphql(default)]
    pub proposal_ids: Vec<async_graphql::ID>,
}

/// Input of `updateDialogue`: only the fields given change; a list given replaces the old one.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateDialogueInput {
    /// The dialogue's id.
    pub id: async_graphql::ID,
    /// The version the change was based on; a newer stored version is a CONFLICT.
    pub expected_version: i32,
    /// New title.
    pub title: Option<String>,
    /// New kind.
    pub kind: Option<DialogueKind>,
    /// New status.
    pub status: Option<DialogueStatus>,
    /// New day.
    pub held_on: Option<NaiveDate>,
    /// New summary.
    pub summary: Option<String>,
    /// New outcome, or `null` to clear.
    pub outcome: MaybeUndefined<String>,
    /// New visibility.
    pub visibility: Option<Visibility>,
    /// New participating organisations (at least one).
    pub organisation_ids: Option<Vec<async_graphql::ID>>,
    /// New participating authorities.
    pub authority_ids: Option<Vec<async_graphql::ID>>,
    /// New proposals discussed.
    pub proposal_ids: Option<Vec<async_graphql::ID>>,
}

/// Input of `deleteDialogue`.
#[derive(Debug, Clone, InputObject)]
pub struct DeleteDialogueInput {
    /// The dialogue's id.
    pub id: async_graphql::ID,
}

/// Decodes and checks the three participant lists; `None` for a list not given.
async fn participants(
    db: &impl ConnectionTrait,
    lists: [Option<&Vec<async_graphql::ID>>; 3],
) -> AppResult<[Option<Vec<Uuid>>; 3]> {
    let types = [
        NodeType::Organisation,
        NodeType::Authority,
        NodeType::Proposal,
    ];
    let mut decoded: [Option<Vec<Uuid>>; 3] = [None, None, None];
    for (i, list) in lists.into_iter().enumerate() {
        let Some(list) = list else { continue };
        let (_, _, _, field) = PARTICIPANTS[i];
        if list.len() > 100 {
            return Err(AppError::bad_input(
                field,
                format!("{field} may name at most 100 records"),
            ));
        }
        let ids = list
            .iter()
            .map(|id| ids::decode(types[i], id, field))
            .collect::<AppResult<Vec<_>>>()?;
        decoded[i] = Some(ids);
    }
    if decoded[0].as_ref().is_some_and(Vec::is_empty) {
        return Err(AppError::bad_input(
            "input.organisationIds",
            "a dialogue needs at least one participating organisation",
        ));
    }
    for (i, ids) in decoded.iter().enumerate() {
        if let Some(ids) = ids {
            let (_, _, table, field) = PARTICIPANTS[i];
            records::ensure_exist(db, table, ids, field).await?;
        }
    }
    Ok(decoded)
}

/// Replaces the participant lists that are given (organisations, authorities, proposals)
/// and, when any changed or `date_changed`, copies the dialogue's date onto its links.
pub(crate) async fn write_participants(
    db: &impl ConnectionTrait,
    id: Uuid,
    lists: &[Option<Vec<Uuid>>; 3],
    date_changed: bool,
) -> AppResult<()> {
    for (i, list) in lists.iter().enumerate() {
        if let Some(list) = list {
            let (table, column, ..) = PARTICIPANTS[i];
            records::replace_links(db, table, "dialogue_id", column, id, list).await?;
        }
    }
    if date_changed || lists.iter().any(Option::is_some) {
        date_links(db, Some(id)).await?;
    }
    Ok(())
}

/// Copies the date of one dialogue (or, with `None`, of every dialogue) onto its links.
/// Every link keeps it so that a participant's latest dialogues are read from the link's
/// index (`Parent::DatedLink`); this is the only place that writes it.
///
/// # Errors
/// INTERNAL on a database failure.
pub(crate) async fn date_links(db: &impl ConnectionTrait, id: Option<Uuid>) -> AppResult<()> {
    for (table, ..) in PARTICIPANTS {
        let mut update = Query::update();
        update.table(Alias::new(table)).value(
            Alias::new("held_on"),
            Expr::cust(format!(
                "(SELECT held_on FROM {TABLE} WHERE {TABLE}.id = {table}.dialogue_id)"
            )),
        );
        if let Some(id) = id {
            update.and_where(Expr::col(Alias::new("dialogue_id")).eq(id));
        }
        db.execute(&update).await?;
    }
    Ok(())
}

/// Adds the participant lists that were given to the audit changes.
fn with_lists(
    mut changes: serde_json::Map<String, serde_json::Value>,
    lists: &[Option<Vec<Uuid>>; 3],
) -> serde_json::Map<String, serde_json::Value> {
    for (i, list) in lists.iter().enumerate() {
        if let Some(list) = list {
            let (table, ..) = PARTICIPANTS[i];
            changes.insert(
                table.to_owned(),
                list.iter()
                    .map(|id| serde_json::Value::String(id.to_string()))
                    .collect(),
            );
        }
    }
    changes
}

/// The organisations taking part in a dialogue.
async fn organisations_of(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Vec<Uuid>> {
    let select = Query::select()
        .column(Alias::new("organisation_id"))
        .from(Alias::new("dialogue_organisations"))
        .and_where(Expr::col(Alias::new("dialogue_id")).eq(id))
        .to_owned();
    db.query_all(&select)
        .await?
        .iter()
        .map(|row| {
            row.try_get::<Uuid>("", "organisation_id")
                .map_err(AppError::from)
        })
        .collect()
}

/// Records a dialogue.
///
/// # Errors
/// UNAUTHENTICATED/FORBIDDEN unless the caller edits for a participating organisation;
/// BAD_USER_INPUT for invalid fields or unknown participants.
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: CreateDialogueInput,
) -> AppResult<dialogue::Model> {
    auth::require_writer(principal)?;
    let now = validate::now();
    let row = dialogue::ActiveModel {
        id: Set(Uuid::now_v7()),
        title: Set(validate::text("input.title", &input.title, NAME_MAX)?),
        kind: Set(input.kind),
        status: Set(input.status),
        held_on: Set(validate::date("input.heldOn", input.held_on)?),
        summary: Set(validate::text(
            "input.summary",
            &input.summary,
            SUMMARY_MAX,
        )?),
        outcome: Set(validate::optional_text(
            "input.outcome",
            input.outcome.as_deref(),
            SUMMARY_MAX,
        )?),
        visibility: Set(input.visibility),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let lists = participants(
        db,
        [
            Some(&input.organisation_ids),
            Some(&input.authority_ids),
            Some(&input.proposal_ids),
        ],
    )
    .await?;
    auth::require_editor_of_any(principal, lists[0].as_deref().unwrap_or_default())?;
    let txn = crate::records::begin_write(db).await?;
    let changes = with_lists(audit::changes(&row), &lists);
    let created = row.insert(&txn).await?;
    write_participants(&txn, created.id, &lists, true).await?;
    audit::commit(
        txn,
        principal,
        "createDialogue",
        "Dialogue",
        created.id,
        changes,
    )
    .await?;
    Ok(created)
}

/// Changes a dialogue if nobody else has since `expected_version`.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for a participant;
/// BAD_USER_INPUT for invalid fields; CONFLICT on a stale version.
pub async fn update(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: UpdateDialogueInput,
) -> AppResult<dialogue::Model> {
    auth::require_writer(principal)?;
    let id = ids::decode(NodeType::Dialogue, &input.id, "input.id")?;
    let mut row: dialogue::ActiveModel = Default::default();
    if let Some(title) = &input.title {
        row.title = Set(validate::text("input.title", title, NAME_MAX)?);
    }
    if let Some(kind) = input.kind {
        row.kind = Set(kind);
    }
    if let Some(status) = input.status {
        row.status = Set(status);
    }
    if let Some(held_on) = input.held_on {
        row.held_on = Set(validate::date("input.heldOn", held_on)?);
    }
    if let Some(summary) = &input.summary {
        row.summary = Set(validate::text("input.summary", summary, SUMMARY_MAX)?);
    }
    if let Some(outcome) = input.outcome.as_opt_ref().map(|o| o.map(String::as_str)) {
        row.outcome = Set(validate::optional_text(
            "input.outcome",
            outcome,
            SUMMARY_MAX,
        )?);
    }
    if let Some(visibility) = input.visibility {
        row.visibility = Set(visibility);
    }
    let lists = participants(
        db,
        [
            input.organisation_ids.as_ref(),
            input.authority_ids.as_ref(),
            input.proposal_ids.as_ref(),
        ],
    )
    .await?;
    let txn = crate::records::begin_write(db).await?;
    by_id(&txn, principal, id)
        .await?
        .ok_or(AppError::NotFound("dialogue"))?;
    auth::require_editor_of_any(principal, &organisations_of(&txn, id).await?)?;
    let changes = with_lists(audit::changes(&row), &lists);
    let date_changed = row.held_on.is_set();
    let updated = records::versioned_update::<dialogue::Entity, _>(
        &txn,
        row,
        id,
        input.expected_version,
        "dialogue",
    )
    .await?;
    write_participants(&txn, id, &lists, date_changed).await?;
    audit::commit(txn, principal, "updateDialogue", "Dialogue", id, changes).await?;
    Ok(updated)
}

/// Deletes a dialogue with its participant links.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for a participant.
pub async fn delete(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: DeleteDialogueInput,
) -> AppResult<dialogue::Model> {
    auth::require_writer(principal)?;
    let id = ids::decode(NodeType::Dialogue, &input.id, "input.id")?;
    let txn = crate::records::begin_write(db).await?;
    let row = by_id(&txn, principal, id)
        .await?
        .ok_or(AppError::NotFound("dialogue"))?;
    auth::require_editor_of_any(principal, &organisations_of(&txn, id).await?)?;
    dialogue::Entity::delete_by_id(id).exec(&txn).await?;
    let removed = audit::removed(&dialogue::ActiveModel::from(row.clone()));
    audit::commit(txn, principal, "deleteDialogue", "Dialogue", id, removed).await?;
    Ok(row)
}
