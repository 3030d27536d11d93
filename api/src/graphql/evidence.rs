//! Impact evidence in the schema: the object type, its inputs and its mutations.

use super::authority::Authority;
use super::connection::{
    Input, Member, Order, db, given, member, nested_list, nullable, principal, reference, versioned,
};
use super::dialogue::Dialogue;
use super::direct::{Direct, Records};
use super::enums::{EvidenceKind, Reach, Visibility};
use super::ids::{self, NodeType};
use super::loaders::ListRelation;
use super::organisation::Organisation;
use super::proposal::Proposal;
use super::scalars::{Date, DateTime};
use super::theme::{Theme, theme_ids};
use crate::error::AppError;
use crate::evidence as domain;
use crate::records::Lists;
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result};
use entity::evidence;
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

member! {
    /// Proof of the network's impact: an article, a broadcast, a mention in a plan, a decision.
    Evidence(evidence::Model)
}

/// Evidence of impact: a media article, a mention in a policy document or action plan, or another outcome.
#[Object]
impl Evidence {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Evidence, self.row.id)
    }
    /// What kind of proof it is.
    async fn kind(&self) -> EvidenceKind {
        self.row.kind.into()
    }
    /// Its title or headline.
    async fn title(&self) -> &str {
        &self.row.title
    }
    /// Where it can be read.
    async fn url(&self) -> Option<&str> {
        self.row.url.as_deref()
    }
    /// The outlet or issuing body.
    async fn publisher(&self) -> &str {
        &self.row.publisher
    }
    /// How far it reaches.
    async fn reach(&self) -> Reach {
        self.row.reach.into()
    }
    /// The day it was published.
    async fn published_on(&self) -> Date {
        self.row.published_on.into()
    }
    /// What it says about the network's work.
    async fn summary(&self) -> Option<&str> {
        self.row.summary.as_deref()
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
    /// The authority that issued it (for policy mentions and decisions).
    async fn authority(&self, ctx: &Context<'_>) -> Result<Option<Direct<Authority>>> {
        let Some(id) = self.row.authority_id else {
            return Ok(None);
        };
        let key: fn(&evidence::Model) -> _ = |e| e.authority_id;
        reference(ctx, &self.group, ("authority", key), id).await
    }
    /// The organisations it credits, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn organisations(&self, ctx: &Context<'_>) -> Result<Records<Organisation>> {
        let relation = ListRelation::EvidenceOrganisations;
        nested_list(ctx, (&self.group, self.row.id), relation).await
    }
    /// The proposals it stems from that the caller may see, by title.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn proposals(&self, ctx: &Context<'_>) -> Result<Records<Proposal>> {
        let relation = ListRelation::EvidenceProposals;
        nested_list(ctx, (&self.group, self.row.id), relation).await
    }
    /// The dialogues it stems from that the caller may see, latest first.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn dialogues(&self, ctx: &Context<'_>) -> Result<Records<Dialogue>> {
        let relation = ListRelation::EvidenceDialogues;
        nested_list(ctx, (&self.group, self.row.id), relation).await
    }
    /// Its themes, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn themes(&self, ctx: &Context<'_>) -> Result<Records<Theme>> {
        let relation = ListRelation::EvidenceThemes;
        nested_list(ctx, (&self.group, self.row.id), relation).await
    }
}

/// Fields evidence can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::evidence::EvidenceOrderField")]
pub enum EvidenceOrderField {
    /// By the day it was published.
    PublishedOn,
    /// Alphabetically by title.
    Title,
    /// By creation time.
    CreatedAt,
    /// By time of the last change.
    UpdatedAt,
}

/// How to order evidence; latest `publishedOn` first when absent.
pub type EvidenceOrder = Order<EvidenceOrderField>;

/// Which evidence to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct EvidenceFilter {
    /// Only this kind.
    pub kind: Option<EvidenceKind>,
    /// Only evidence reaching at least this far.
    pub minimum_reach: Option<Reach>,
    /// Only evidence tagged with the theme of this slug.
    pub theme: Option<String>,
    /// Only evidence crediting this organisation.
    pub organisation_id: Option<ID>,
    /// Only evidence stemming from this proposal.
    pub proposal_id: Option<ID>,
    /// Only evidence stemming from this dialogue.
    pub dialogue_id: Option<ID>,
    /// Only evidence issued by this authority.
    pub authority_id: Option<ID>,
    /// Only evidence published on or after this day.
    pub published_from: Option<Date>,
    /// Only evidence published on or before this day.
    pub published_to: Option<Date>,
}

impl Input for EvidenceFilter {
    type Domain = domain::EvidenceFilter;

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        use NodeType::{Authority, Dialogue, Organisation, Proposal};
        Ok(domain::EvidenceFilter {
            kind: self.kind.map(Into::into),
            minimum_reach: self.minimum_reach.map(Into::into),
            theme: self.theme,
            organisation_id: ids::decode_optional(
                Organisation,
                self.organisation_id,
                "filter.organisationId",
            )?,
            proposal_id: ids::decode_optional(Proposal, self.proposal_id, "filter.proposalId")?,
            dialogue_id: ids::decode_optional(Dialogue, self.dialogue_id, "filter.dialogueId")?,
            authority_id: ids::decode_optional(Authority, self.authority_id, "filter.authorityId")?,
            published_from: self.published_from.map(Into::into),
            published_to: self.published_to.map(Into::into),
        })
    }
}

/// The lists of an evidence input, decoded in the order of [`domain::links`].
fn lists(
    organisations: Option<Vec<ID>>,
    proposals: Option<Vec<ID>>,
    dialogues: Option<Vec<ID>>,
    themes: Option<Vec<ID>>,
) -> Result<Lists<4>, AppError> {
    let list = |node_type, ids: Option<Vec<ID>>, field| {
        ids.map(|ids| ids::decode_list(node_type, &ids, field))
            .transpose()
    };
    Ok([
        list(
            NodeType::Organisation,
            organisations,
            "input.organisationIds",
        )?,
        list(NodeType::Proposal, proposals, "input.proposalIds")?,
        list(NodeType::Dialogue, dialogues, "input.dialogueIds")?,
        theme_ids(themes)?,
    ])
}

/// Input of `createEvidence`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateEvidenceInput {
    /// What kind of proof it is.
    pub kind: EvidenceKind,
    /// Its title or headline.
    pub title: String,
    /// Where it can be read: an http or https address.
    pub url: Option<String>,
    /// The outlet or issuing body.
    pub publisher: String,
    /// How far it reaches.
    pub reach: Reach,
    /// The day it was published.
    pub published_on: Date,
    /// What it says about the network's work.
    pub summary: Option<String>,
    /// Who may read it; NETWORK when absent, so nothing becomes public by accident.
    #[graphql(default_with = "Visibility::Network")]
    pub visibility: Visibility,
    /// The authority that issued it.
    pub authority_id: Option<ID>,
    /// The organisations it credits; their editors may change it (admins only when none).
    #[graphql(default)]
    pub organisation_ids: Vec<ID>,
    /// The proposals it stems from.
    #[graphql(default)]
    pub proposal_ids: Vec<ID>,
    /// The dialogues it stems from.
    #[graphql(default)]
    pub dialogue_ids: Vec<ID>,
    /// Its themes.
    #[graphql(default)]
    pub theme_ids: Vec<ID>,
}

impl Input for CreateEvidenceInput {
    type Domain = (evidence::ActiveModel, Lists<4>);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let authority_id =
            ids::decode_optional(NodeType::Authority, self.authority_id, "input.authorityId")?;
        let row = evidence::ActiveModel {
            kind: Set(self.kind.into()),
            title: Set(self.title),
            url: Set(self.url),
            publisher: Set(self.publisher),
            reach: Set(self.reach.into()),
            published_on: Set(self.published_on.into()),
            summary: Set(self.summary),
            visibility: Set(self.visibility.into()),
            authority_id: Set(authority_id),
            ..Default::default()
        };
        let lists = lists(
            Some(self.organisation_ids),
            Some(self.proposal_ids),
            Some(self.dialogue_ids),
            Some(self.theme_ids),
        )?;
        Ok((row, lists))
    }
}

/// Input of `updateEvidence`: only the fields given change; a list given replaces the old one.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateEvidenceInput {
    /// The evidence's id.
    pub id: ID,
    /// The version the change was based on; a newer stored version is a CONFLICT.
    pub expected_version: i32,
    /// New kind.
    pub kind: Option<EvidenceKind>,
    /// New title.
    pub title: Option<String>,
    /// New address, or `null` to clear.
    pub url: MaybeUndefined<String>,
    /// New outlet or issuing body.
    pub publisher: Option<String>,
    /// New reach.
    pub reach: Option<Reach>,
    /// New day of publication.
    pub published_on: Option<Date>,
    /// New summary, or `null` to clear.
    pub summary: MaybeUndefined<String>,
    /// New visibility.
    pub visibility: Option<Visibility>,
    /// New issuing authority, or `null` to clear.
    pub authority_id: MaybeUndefined<ID>,
    /// New credited organisations.
    pub organisation_ids: Option<Vec<ID>>,
    /// New proposals it stems from.
    pub proposal_ids: Option<Vec<ID>>,
    /// New dialogues it stems from.
    pub dialogue_ids: Option<Vec<ID>>,
    /// New themes.
    pub theme_ids: Option<Vec<ID>>,
}

impl Input for UpdateEvidenceInput {
    type Domain = ((Uuid, i32), evidence::ActiveModel, Lists<4>);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let id = versioned(NodeType::Evidence, &self.id, self.expected_version)?;
        let authority_id = match self.authority_id {
            MaybeUndefined::Value(id) => {
                MaybeUndefined::Value(ids::decode(NodeType::Authority, &id, "input.authorityId")?)
            }
            MaybeUndefined::Null => MaybeUndefined::Null,
            MaybeUndefined::Undefined => MaybeUndefined::Undefined,
        };
        let row = evidence::ActiveModel {
            kind: given(self.kind.map(Into::into)),
            title: given(self.title),
            url: nullable(self.url),
            publisher: given(self.publisher),
            reach: given(self.reach.map(Into::into)),
            published_on: given(self.published_on.map(Into::into)),
            summary: nullable(self.summary),
            visibility: given(self.visibility.map(Into::into)),
            authority_id: nullable(authority_id),
            ..Default::default()
        };
        let lists = lists(
            self.organisation_ids,
            self.proposal_ids,
            self.dialogue_ids,
            self.theme_ids,
        )?;
        Ok((id, row, lists))
    }
}

/// Input of `deleteEvidence`.
#[derive(Debug, Clone, InputObject)]
pub struct DeleteEvidenceInput {
    /// The evidence's id.
    pub id: ID,
}

/// Changes to the evidence of impact.
#[derive(Default)]
pub struct EvidenceMutation;

#[Object]
impl EvidenceMutation {
    /// Records a piece of evidence.
    async fn create_evidence(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: CreateEvidenceInput,
    ) -> Result<Evidence> {
        domain::may_write(principal(ctx))?;
        let (row, lists) = input.into_domain()?;
        Ok(Evidence::single(
            domain::create(db(ctx), principal(ctx), row, lists).await?,
        ))
    }
    /// Changes a piece of evidence.
    async fn update_evidence(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: UpdateEvidenceInput,
    ) -> Result<Evidence> {
        domain::may_write(principal(ctx))?;
        let (id, row, lists) = input.into_domain()?;
        Ok(Evidence::single(
            domain::update(db(ctx), principal(ctx), id, row, lists).await?,
        ))
    }
    /// Removes a piece of evidence; returns it as it was.
    async fn delete_evidence(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: DeleteEvidenceInput,
    ) -> Result<Evidence> {
        domain::may_write(principal(ctx))?;
        let id = ids::decode(NodeType::Evidence, &input.id, "input.id")?;
        Ok(Evidence::single(
            domain::delete(db(ctx), principal(ctx), id).await?,
        ))
    }
}
