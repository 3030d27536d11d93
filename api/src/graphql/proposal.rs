//! Proposals in the schema: the object type, its history, its inputs and its mutations.

use super::authority::Authority;
use super::connection::{
    Input, Member, Order, Paged, db, given, group_list, member, nested_list, nested_page,
    principal, reference, versioned,
};
use super::dialogue::{Dialogue, DialogueOrder};
use super::direct::{Direct, Records};
use super::enums::{ProposalStatus, Visibility};
use super::evidence::{Evidence, EvidenceOrder};
use super::ids::{self, NodeType};
use super::loaders::{ListRelation, PagedRelation};
use super::organisation::Organisation;
use super::scalars::DateTime;
use super::theme::{Theme, theme_ids};
use crate::dialogue;
use crate::error::AppError;
use crate::paging::PageArgs;
use crate::proposal::{self as domain, Addressed, Transition};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use entity::{proposal, proposal_status_change};
use sea_orm::ActiveValue::Set;

member! {
    /// A policy proposal of the network.
    Proposal(proposal::Model) reads proposal::Column {
        "id" => [],
        "title" => [Title],
        "summary" => [Summary],
        "body" => [Body],
        "status" => [Status],
        "visibility" => [Visibility],
        "version" => [Version],
        "createdAt" => [CreatedAt],
        "updatedAt" => [UpdatedAt],
        "leadOrganisation" => [LeadOrganisationId],
    }
}

/// A proposal the network puts to authorities, with its place in the lifecycle.
#[Object]
impl Proposal {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Proposal, self.row.id)
    }
    /// Short title.
    async fn title(&self) -> &str {
        &self.row.title
    }
    /// One-paragraph summary.
    async fn summary(&self) -> &str {
        &self.row.summary
    }
    /// Full text.
    async fn body(&self) -> &str {
        &self.row.body
    }
    /// Place in the lifecycle; changed by `transitionProposal`.
    async fn status(&self) -> ProposalStatus {
        self.row.status.into()
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
    /// The organisation that leads it.
    async fn lead_organisation(&self, ctx: &Context<'_>) -> Result<Direct<Organisation>> {
        let key: fn(&proposal::Model) -> _ = |p| Some(p.lead_organisation_id);
        let lead = self.row.lead_organisation_id;
        reference(ctx, &self.group, ("leadOrganisation", key), lead)
            .await?
            .ok_or_else(|| AppError::NotFound("organisation").into())
    }
    /// Organisations co-signing it, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn co_signers(&self, ctx: &Context<'_>) -> Result<Records<Organisation>> {
        let relation = ListRelation::ProposalCoSigners;
        nested_list(ctx, (&self.group, self.row.id), relation).await
    }
    /// Authorities it is addressed to, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn target_authorities(&self, ctx: &Context<'_>) -> Result<Records<Authority>> {
        let relation = ListRelation::ProposalTargets;
        nested_list(ctx, (&self.group, self.row.id), relation).await
    }
    /// Dialogues where it was discussed; latest first unless `orderBy` says otherwise.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn dialogues(
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
        order_by: Option<DialogueOrder>,
    ) -> Result<Paged<Dialogue>> {
        let args = PageArgs::new(first, after, last, before);
        let sort = Order::or(order_by, dialogue::DEFAULT_ORDER);
        let relation = PagedRelation::ProposalDialogues;
        nested_page(ctx, (&self.group, self.row.id), relation, args, sort).await
    }
    /// Its moves along the lifecycle, oldest first; the first entry is its creation.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<StatusChange>> {
        let relation = ListRelation::ProposalHistory;
        let rows: Vec<proposal_status_change::Model> =
            group_list(ctx, (&self.group, self.row.id), relation).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
    /// Its themes, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn themes(&self, ctx: &Context<'_>) -> Result<Records<Theme>> {
        let relation = ListRelation::ProposalThemes;
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
        let relation = PagedRelation::ProposalEvidence;
        nested_page(ctx, (&self.group, self.row.id), relation, args, sort).await
    }
}

/// One move of a proposal along its lifecycle.
#[derive(SimpleObject)]
pub struct StatusChange {
    /// Status before; null for the creation of the proposal.
    pub from: Option<ProposalStatus>,
    /// Status after.
    pub to: ProposalStatus,
    /// When it moved.
    pub at: DateTime,
    /// Why it moved.
    pub note: Option<String>,
}

impl From<proposal_status_change::Model> for StatusChange {
    fn from(change: proposal_status_change::Model) -> Self {
        Self {
            from: change.from_status.map(Into::into),
            to: change.to_status.into(),
            at: change.changed_at.into(),
            note: change.note,
        }
    }
}

/// Fields proposals can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::proposal::ProposalOrderField")]
pub enum ProposalOrderField {
    /// By time of the last change.
    UpdatedAt,
    /// By creation time.
    CreatedAt,
    /// Alphabetically by title.
    Title,
}

/// How to order proposals; most recently changed first when absent.
pub type ProposalOrder = Order<ProposalOrderField>;

/// Which proposals to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ProposalFilter {
    /// Only this status.
    pub status: Option<ProposalStatus>,
    /// Only proposals led by this organisation.
    pub lead_organisation_id: Option<ID>,
    /// Only proposals addressed to this authority.
    pub target_authority_id: Option<ID>,
    /// Only proposals whose title, summary or body contains this text (case-insensitive).
    pub text: Option<String>,
    /// Only proposals tagged with the theme of this slug.
    pub theme: Option<String>,
}

impl Input for ProposalFilter {
    type Domain = domain::ProposalFilter;

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        Ok(domain::ProposalFilter {
            status: self.status.map(Into::into),
            lead_organisation_id: ids::decode_optional(
                NodeType::Organisation,
                self.lead_organisation_id,
                "filter.leadOrganisationId",
            )?,
            target_authority_id: ids::decode_optional(
                NodeType::Authority,
                self.target_authority_id,
                "filter.targetAuthorityId",
            )?,
            text: self.text,
            theme: self.theme,
        })
    }
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
    pub lead_organisation_id: ID,
    /// Organisations co-signing it.
    #[graphql(default)]
    pub co_signer_ids: Vec<ID>,
    /// Authorities it is addressed to.
    #[graphql(default)]
    pub target_authority_ids: Vec<ID>,
    /// Its themes.
    #[graphql(default)]
    pub theme_ids: Vec<ID>,
}

/// The co-signer and target lists of an input, decoded; a list not given stays `None`.
fn addressed(
    co_signers: Option<Vec<ID>>,
    targets: Option<Vec<ID>>,
    themes: Option<Vec<ID>>,
) -> Result<Addressed, AppError> {
    let list = |node_type, ids: Option<Vec<ID>>, field| {
        ids.map(|ids| ids::decode_list(node_type, &ids, field))
            .transpose()
    };
    Ok(Addressed {
        co_signers: list(NodeType::Organisation, co_signers, "input.coSignerIds")?,
        targets: list(NodeType::Authority, targets, "input.targetAuthorityIds")?,
        themes: theme_ids(themes)?,
    })
}

fn lead(id: &ID) -> Result<uuid::Uuid, AppError> {
    ids::decode(NodeType::Organisation, id, "input.leadOrganisationId")
}

impl Input for CreateProposalInput {
    type Domain = (proposal::ActiveModel, Addressed);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let row = proposal::ActiveModel {
            title: Set(self.title),
            summary: Set(self.summary),
            body: Set(self.body),
            visibility: Set(self.visibility.into()),
            lead_organisation_id: Set(lead(&self.lead_organisation_id)?),
            ..Default::default()
        };
        let lists = addressed(
            Some(self.co_signer_ids),
            Some(self.target_authority_ids),
            Some(self.theme_ids),
        )?;
        Ok((row, lists))
    }
}

/// Input of `updateProposal`: only the fields given change; a list given replaces the old
/// one. The status changes only through `transitionProposal`.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateProposalInput {
    /// The proposal's id.
    pub id: ID,
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
    pub lead_organisation_id: Option<ID>,
    /// New co-signers.
    pub co_signer_ids: Option<Vec<ID>>,
    /// New target authorities.
    pub target_authority_ids: Option<Vec<ID>>,
    /// New themes.
    pub theme_ids: Option<Vec<ID>>,
}

impl Input for UpdateProposalInput {
    type Domain = ((uuid::Uuid, i32), proposal::ActiveModel, Addressed);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let id = versioned(NodeType::Proposal, &self.id, self.expected_version)?;
        let row = proposal::ActiveModel {
            title: given(self.title),
            summary: given(self.summary),
            body: given(self.body),
            visibility: given(self.visibility.map(Into::into)),
            lead_organisation_id: given(self.lead_organisation_id.as_ref().map(lead).transpose()?),
            ..Default::default()
        };
        let lists = addressed(
            self.co_signer_ids,
            self.target_authority_ids,
            self.theme_ids,
        )?;
        Ok((id, row, lists))
    }
}

/// Input of `transitionProposal`.
#[derive(Debug, Clone, InputObject)]
pub struct TransitionProposalInput {
    /// The proposal's id.
    pub id: ID,
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
    pub id: ID,
}

/// Changes to the network's proposals.
/// Each resolver asks the domain whether the caller may write (`may_write`) before it reads
/// the ids it is sent, so a caller who may not write learns nothing from input errors.
#[derive(Default)]
pub struct ProposalMutation;

#[Object]
impl ProposalMutation {
    /// Drafts a proposal.
    async fn create_proposal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: CreateProposalInput,
    ) -> Result<Proposal> {
        domain::may_write(principal(ctx))?;
        let (row, lists) = input.into_domain()?;
        Ok(Proposal::single(
            domain::create(db(ctx), principal(ctx), row, lists).await?,
        ))
    }
    /// Changes a proposal's text, visibility, co-signers or targets.
    async fn update_proposal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: UpdateProposalInput,
    ) -> Result<Proposal> {
        domain::may_write(principal(ctx))?;
        let (id, row, lists) = input.into_domain()?;
        Ok(Proposal::single(
            domain::update(db(ctx), principal(ctx), id, row, lists).await?,
        ))
    }
    /// Moves a proposal along its lifecycle.
    async fn transition_proposal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: TransitionProposalInput,
    ) -> Result<Proposal> {
        domain::may_write(principal(ctx))?;
        let input = Transition {
            id: ids::decode(NodeType::Proposal, &input.id, "input.id")?,
            to: input.to.into(),
            note: input.note,
            expected_version: input.expected_version,
        };
        Ok(Proposal::single(
            domain::transition(db(ctx), principal(ctx), input).await?,
        ))
    }
    /// Removes a proposal no dialogue refers to; returns it as it was.
    async fn delete_proposal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: DeleteProposalInput,
    ) -> Result<Proposal> {
        domain::may_write(principal(ctx))?;
        let id = ids::decode(NodeType::Proposal, &input.id, "input.id")?;
        Ok(Proposal::single(
            domain::delete(db(ctx), principal(ctx), id).await?,
        ))
    }
}
