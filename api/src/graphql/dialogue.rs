//! Dialogues in the schema: the object type, its inputs and its mutations.

use super::authority::Authority;
use super::connection::{
    Input, Member, Order, Paged, db, given, member, named_list, nested_list, nested_page, nullable,
    principal, versioned,
};
use super::direct::Records;
use super::enums::{DialogueKind, DialogueStatus, Visibility};
use super::evidence::{Evidence, EvidenceOrder};
use super::ids::{self, NodeType};
use super::loaders::{ListRelation, PagedRelation};
use super::organisation::Organisation;
use super::proposal::Proposal;
use super::scalars::{Date, DateTime};
use super::theme::{Theme, theme_ids};
use crate::dialogue::{self as domain, Participants};
use crate::error::AppError;
use crate::paging::PageArgs;
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result};
use entity::dialogue;
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

member! {
    /// One engagement between organisations and authorities.
    Dialogue(dialogue::Model) reads dialogue::Column {
        "id" => [],
        "title" => [Title],
        "kind" => [Kind],
        "status" => [Status],
        "heldOn" => [HeldOn],
        "summary" => [Summary],
        "outcome" => [Outcome],
        "visibility" => [Visibility],
        "version" => [Version],
        "createdAt" => [CreatedAt],
        "updatedAt" => [UpdatedAt],
    }
}

/// One contact with authorities: a meeting, letter, consultation response, seminar, conference or call.
#[Object]
impl Dialogue {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Dialogue, self.row.id)
    }
    /// Short title.
    async fn title(&self) -> &str {
        &self.row.title
    }
    /// Form of the dialogue.
    async fn kind(&self) -> DialogueKind {
        self.row.kind.into()
    }
    /// Where it stands.
    async fn status(&self) -> DialogueStatus {
        self.row.status.into()
    }
    /// The day it was (or is to be) held or sent.
    async fn held_on(&self) -> Date {
        self.row.held_on.into()
    }
    /// What it was about.
    async fn summary(&self) -> &str {
        &self.row.summary
    }
    /// What came of it.
    async fn outcome(&self) -> Option<&str> {
        self.row.outcome.as_deref()
    }
    /// Who may read it.
    async fn visibility(&self) -> Visibility {
        self.row.visibility.into()
    }
    /// Version for optimistic concurrency: pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.row.version
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime {
        self.row.updated_at.into()
    }
    /// Participating organisations, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn organisations(&self, ctx: &Context<'_>) -> Result<Records<Organisation>> {
        let relation = ListRelation::DialogueOrganisations;
        nested_list(ctx, (&self.group, self.row.id), relation).await
    }
    /// Participating authorities, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn authorities(&self, ctx: &Context<'_>) -> Result<Records<Authority>> {
        let ids: fn(&dialogue::Model) -> &_ = |d| &d.authority_ids;
        named_list(
            ctx,
            (&self.group, self.row.id),
            ("Dialogue.authorities", ids),
        )
        .await
    }
    /// Proposals discussed that the caller may see, by title.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn proposals(&self, ctx: &Context<'_>) -> Result<Records<Proposal>> {
        let relation = ListRelation::DialogueProposals;
        nested_list(ctx, (&self.group, self.row.id), relation).await
    }
    /// Its themes, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn themes(&self, ctx: &Context<'_>) -> Result<Records<Theme>> {
        let relation = ListRelation::DialogueThemes;
        nested_list(ctx, (&self.group, self.row.id), relation).await
    }
    /// Evidence of impact stemming from it that the caller may see; latest first unless
    /// `orderBy` says otherwise.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn evidence(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many items to return from the start (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (the `endCursor` of an earlier page)."
        )]
        after: Option<String>,
        #[graphql(desc = "How many items to return from the end (at most 100).")] last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor (the `startCursor` of an earlier page)."
        )]
        before: Option<String>,
        #[graphql(desc = "How to order the items; each list has its own default.")]
        order_by: Option<EvidenceOrder>,
    ) -> Result<Paged<Evidence>> {
        let args = PageArgs::new(first, after, last, before);
        let sort = Order::or(order_by, crate::evidence::DEFAULT_ORDER);
        let relation = PagedRelation::DialogueEvidence;
        nested_page(ctx, (&self.group, self.row.id), relation, args, sort).await
    }
}

/// Fields dialogues can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::dialogue::DialogueOrderField")]
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
pub type DialogueOrder = Order<DialogueOrderField>;

/// Which dialogues to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct DialogueFilter {
    /// Only this kind.
    pub kind: Option<DialogueKind>,
    /// Only this status.
    pub status: Option<DialogueStatus>,
    /// Only dialogues this organisation took part in.
    pub organisation_id: Option<ID>,
    /// Only dialogues this authority took part in.
    pub authority_id: Option<ID>,
    /// Only dialogues where this proposal was discussed.
    pub proposal_id: Option<ID>,
    /// Only dialogues held on or after this day.
    pub held_from: Option<Date>,
    /// Only dialogues held on or before this day.
    pub held_to: Option<Date>,
    /// Only dialogues whose title, summary or outcome contains this text (case-insensitive).
    pub text: Option<String>,
    /// Only dialogues tagged with the theme of this slug.
    pub theme: Option<String>,
}

impl Input for DialogueFilter {
    type Domain = domain::DialogueFilter;

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        use NodeType::{Authority, Organisation, Proposal};
        Ok(domain::DialogueFilter {
            kind: self.kind.map(Into::into),
            status: self.status.map(Into::into),
            organisation_id: ids::decode_optional(
                Organisation,
                self.organisation_id,
                "filter.organisationId",
            )?,
            authority_id: ids::decode_optional(Authority, self.authority_id, "filter.authorityId")?,
            proposal_id: ids::decode_optional(Proposal, self.proposal_id, "filter.proposalId")?,
            held_from: self.held_from.map(Into::into),
            held_to: self.held_to.map(Into::into),
            text: self.text,
            theme: self.theme,
        })
    }
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
    pub held_on: Date,
    /// What it was about.
    pub summary: String,
    /// What came of it.
    pub outcome: Option<String>,
    /// Who may read it; NETWORK when absent, so nothing becomes public by accident.
    #[graphql(default_with = "Visibility::Network")]
    pub visibility: Visibility,
    /// Participating organisations (at least one).
    pub organisation_ids: Vec<ID>,
    /// Participating authorities.
    #[graphql(default)]
    pub authority_ids: Vec<ID>,
    /// Proposals discussed.
    #[graphql(default)]
    pub proposal_ids: Vec<ID>,
    /// Its themes.
    #[graphql(default)]
    pub theme_ids: Vec<ID>,
}

/// The participant lists of an input, decoded; a list not given stays `None`.
fn participants(
    organisations: Option<Vec<ID>>,
    authorities: Option<Vec<ID>>,
    proposals: Option<Vec<ID>>,
    themes: Option<Vec<ID>>,
) -> Result<Participants, AppError> {
    let list = |node_type, ids: Option<Vec<ID>>, field| {
        ids.map(|ids| ids::decode_list(node_type, &ids, field))
            .transpose()
    };
    Ok(Participants {
        organisations: list(
            NodeType::Organisation,
            organisations,
            "input.organisationIds",
        )?,
        authorities: list(NodeType::Authority, authorities, "input.authorityIds")?,
        proposals: list(NodeType::Proposal, proposals, "input.proposalIds")?,
        themes: theme_ids(themes)?,
    })
}

impl Input for CreateDialogueInput {
    type Domain = (dialogue::ActiveModel, Participants);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let row = dialogue::ActiveModel {
            title: Set(self.title),
            kind: Set(self.kind.into()),
            status: Set(self.status.into()),
            held_on: Set(self.held_on.into()),
            summary: Set(self.summary),
            outcome: Set(self.outcome),
            visibility: Set(self.visibility.into()),
            ..Default::default()
        };
        let participants = participants(
            Some(self.organisation_ids),
            Some(self.authority_ids),
            Some(self.proposal_ids),
            Some(self.theme_ids),
        )?;
        Ok((row, participants))
    }
}

/// Input of `updateDialogue`: only the fields given change; a list given replaces the old one.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateDialogueInput {
    /// The dialogue's id.
    pub id: ID,
    /// The version the change was based on; a newer stored version is a CONFLICT.
    pub expected_version: i32,
    /// New title.
    pub title: Option<String>,
    /// New kind.
    pub kind: Option<DialogueKind>,
    /// New status.
    pub status: Option<DialogueStatus>,
    /// New day.
    pub held_on: Option<Date>,
    /// New summary.
    pub summary: Option<String>,
    /// New outcome, or `null` to clear.
    pub outcome: MaybeUndefined<String>,
    /// New visibility.
    pub visibility: Option<Visibility>,
    /// New participating organisations (at least one).
    pub organisation_ids: Option<Vec<ID>>,
    /// New participating authorities.
    pub authority_ids: Option<Vec<ID>>,
    /// New proposals discussed.
    pub proposal_ids: Option<Vec<ID>>,
    /// New themes.
    pub theme_ids: Option<Vec<ID>>,
}

impl Input for UpdateDialogueInput {
    type Domain = ((Uuid, i32), dialogue::ActiveModel, Participants);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let id = versioned(NodeType::Dialogue, &self.id, self.expected_version)?;
        let row = dialogue::ActiveModel {
            title: given(self.title),
            kind: given(self.kind.map(Into::into)),
            status: given(self.status.map(Into::into)),
            held_on: given(self.held_on.map(Into::into)),
            summary: given(self.summary),
            outcome: nullable(self.outcome),
            visibility: given(self.visibility.map(Into::into)),
            ..Default::default()
        };
        let participants = participants(
            self.organisation_ids,
            self.authority_ids,
            self.proposal_ids,
            self.theme_ids,
        )?;
        Ok((id, row, participants))
    }
}

/// Input of `deleteDialogue`.
#[derive(Debug, Clone, InputObject)]
pub struct DeleteDialogueInput {
    /// The dialogue's id.
    pub id: ID,
}

/// Changes to the record of dialogues.
/// Each resolver asks the domain whether the caller may write (`may_write`) before it reads
/// the ids it is sent, so a caller who may not write learns nothing from input errors.
#[derive(Default)]
pub struct DialogueMutation;

#[Object]
impl DialogueMutation {
    /// Records a dialogue.
    async fn create_dialogue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: CreateDialogueInput,
    ) -> Result<Dialogue> {
        domain::may_write(principal(ctx))?;
        let (row, participants) = input.into_domain()?;
        Ok(Dialogue::single(
            domain::create(db(ctx), principal(ctx), row, participants).await?,
        ))
    }
    /// Changes a dialogue.
    async fn update_dialogue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: UpdateDialogueInput,
    ) -> Result<Dialogue> {
        domain::may_write(principal(ctx))?;
        let (id, row, participants) = input.into_domain()?;
        Ok(Dialogue::single(
            domain::update(db(ctx), principal(ctx), id, row, participants).await?,
        ))
    }
    /// Removes a dialogue; returns it as it was.
    async fn delete_dialogue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: DeleteDialogueInput,
    ) -> Result<Dialogue> {
        domain::may_write(principal(ctx))?;
        let id = ids::decode(NodeType::Dialogue, &input.id, "input.id")?;
        Ok(Dialogue::single(
            domain::delete(db(ctx), principal(ctx), id).await?,
        ))
    }
}
