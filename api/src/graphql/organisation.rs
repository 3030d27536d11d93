//! Organisations in the schema: the object type, its inputs and its mutations.

use super::connection::{
    Input, Member, Order, Paged, db, given, member, nested_page, nullable, principal, versioned,
};
use super::cooperation::{Cooperation, CooperationOrder};
use super::dialogue::{Dialogue, DialogueOrder};
use super::enums::OrganisationKind;
use super::evidence::{Evidence, EvidenceOrder};
use super::ids::{self, NodeType};
use super::loaders::PagedRelation;
use super::proposal::{Proposal, ProposalOrder};
use super::scalars::DateTime;
use crate::error::AppError;
use crate::organisation as domain;
use crate::paging::PageArgs;
use crate::{dialogue, proposal};
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result};
use entity::organisation;
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

member! {
    /// A member organisation of the network.
    Organisation(organisation::Model) reads organisation::Column {
        "id" => [],
        "slug" => [Slug],
        "name" => [Name],
        "kind" => [Kind],
        "description" => [Description],
        "website" => [Website],
        "contactEmail" => [ContactEmail],
        "city" => [City],
        "version" => [Version],
        "createdAt" => [CreatedAt],
        "updatedAt" => [UpdatedAt],
    }
}

/// A member organisation of the network.
#[Object]
impl Organisation {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Organisation, self.row.id)
    }
    /// Unique short name for URLs.
    async fn slug(&self) -> &str {
        &self.row.slug
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// What kind of body it is.
    async fn kind(&self) -> OrganisationKind {
        self.row.kind.into()
    }
    /// What it does.
    async fn description(&self) -> &str {
        &self.row.description
    }
    /// Public website.
    async fn website(&self) -> Option<&str> {
        self.row.website.as_deref()
    }
    /// Contact address; null unless the caller is a member of the network.
    async fn contact_email(&self, ctx: &Context<'_>) -> Option<&str> {
        principal(ctx)
            .sees_contact_details()
            .then_some(self.row.contact_email.as_deref())
            .flatten()
    }
    /// Home city.
    async fn city(&self) -> Option<&str> {
        self.row.city.as_deref()
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
    /// Dialogues it took part in; latest first unless `orderBy` says otherwise.
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
        let relation = PagedRelation::OrganisationDialogues;
        nested_page(ctx, (&self.group, self.row.id), relation, args, sort).await
    }
    /// Proposals it leads; most recently changed first unless `orderBy` says otherwise.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn proposals(
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
        order_by: Option<ProposalOrder>,
    ) -> Result<Paged<Proposal>> {
        let args = PageArgs::new(first, after, last, before);
        let sort = Order::or(order_by, proposal::DEFAULT_ORDER);
        let relation = PagedRelation::OrganisationProposals;
        nested_page(ctx, (&self.group, self.row.id), relation, args, sort).await
    }
    /// Evidence of impact crediting it that the caller may see; latest first unless
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
        let relation = PagedRelation::OrganisationEvidence;
        nested_page(ctx, (&self.group, self.row.id), relation, args, sort).await
    }
    /// Local cooperations it takes part in that the caller may see; latest begun first
    /// unless `orderBy` says otherwise.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn cooperations(
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
        order_by: Option<CooperationOrder>,
    ) -> Result<Paged<Cooperation>> {
        let args = PageArgs::new(first, after, last, before);
        let sort = Order::or(order_by, crate::cooperation::DEFAULT_ORDER);
        let relation = PagedRelation::OrganisationCooperations;
        nested_page(ctx, (&self.group, self.row.id), relation, args, sort).await
    }
}

/// Fields organisations can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::organisation::OrganisationOrderField")]
pub enum OrganisationOrderField {
    /// Alphabetically by name.
    Name,
    /// By slug.
    Slug,
    /// By creation time.
    CreatedAt,
    /// By time of the last change.
    UpdatedAt,
}

/// How to order organisations; by name ascending when absent.
pub type OrganisationOrder = Order<OrganisationOrderField>;

/// Which organisations to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct OrganisationFilter {
    /// Only this kind.
    pub kind: Option<OrganisationKind>,
    /// Only organisations in this city (exact, case-insensitive).
    pub city: Option<String>,
    /// Only organisations whose name, slug or description contains this text (case-insensitive).
    pub text: Option<String>,
}

impl Input for OrganisationFilter {
    type Domain = domain::OrganisationFilter;

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        Ok(domain::OrganisationFilter {
            kind: self.kind.map(Into::into),
            city: self.city,
            text: self.text,
        })
    }
}

/// Input of `createOrganisation`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateOrganisationInput {
    /// Unique short name for URLs: lowercase letters, digits, hyphens.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Kind of body.
    pub kind: OrganisationKind,
    /// What the organisation does.
    #[graphql(default)]
    pub description: String,
    /// Public website (http or https).
    pub website: Option<String>,
    /// Contact address; shown only to members of the network.
    pub contact_email: Option<String>,
    /// Home city.
    pub city: Option<String>,
}

impl Input for CreateOrganisationInput {
    type Domain = organisation::ActiveModel;

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        Ok(organisation::ActiveModel {
            slug: Set(self.slug),
            name: Set(self.name),
            kind: Set(self.kind.into()),
            description: Set(self.description),
            website: Set(self.website),
            contact_email: Set(self.contact_email),
            city: Set(self.city),
            ..Default::default()
        })
    }
}

/// Input of `updateOrganisation`: only the fields given change; `null` clears an optional field.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateOrganisationInput {
    /// The organisation's id.
    pub id: ID,
    /// The version the change was based on; a newer stored version is a CONFLICT.
    pub expected_version: i32,
    /// New slug.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<OrganisationKind>,
    /// New description.
    pub description: Option<String>,
    /// New website, or `null` to clear.
    pub website: MaybeUndefined<String>,
    /// New contact address, or `null` to clear.
    pub contact_email: MaybeUndefined<String>,
    /// New city, or `null` to clear.
    pub city: MaybeUndefined<String>,
}

impl Input for UpdateOrganisationInput {
    type Domain = ((Uuid, i32), organisation::ActiveModel);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let id = versioned(NodeType::Organisation, &self.id, self.expected_version)?;
        let row = organisation::ActiveModel {
            slug: given(self.slug),
            name: given(self.name),
            kind: given(self.kind.map(Into::into)),
            description: given(self.description),
            website: nullable(self.website),
            contact_email: nullable(self.contact_email),
            city: nullable(self.city),
            ..Default::default()
        };
        Ok((id, row))
    }
}

/// Input of `deleteOrganisation`.
#[derive(Debug, Clone, InputObject)]
pub struct DeleteOrganisationInput {
    /// The organisation's id.
    pub id: ID,
}

/// Changes to the network's member organisations.
/// Each resolver asks the domain whether the caller may write (`may_write`) before it reads
/// the ids it is sent, so a caller who may not write learns nothing from input errors.
#[derive(Default)]
pub struct OrganisationMutation;

#[Object]
impl OrganisationMutation {
    /// Adds a member organisation (admin only).
    async fn create_organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: CreateOrganisationInput,
    ) -> Result<Organisation> {
        domain::may_write(principal(ctx))?;
        let input = input.into_domain()?;
        Ok(Organisation::single(
            domain::create(db(ctx), principal(ctx), input).await?,
        ))
    }
    /// Changes an organisation (admin only).
    async fn update_organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: UpdateOrganisationInput,
    ) -> Result<Organisation> {
        domain::may_write(principal(ctx))?;
        let (id, row) = input.into_domain()?;
        Ok(Organisation::single(
            domain::update(db(ctx), principal(ctx), id, row).await?,
        ))
    }
    /// Removes an organisation nothing refers to (admin only); returns it as it was.
    async fn delete_organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: DeleteOrganisationInput,
    ) -> Result<Organisation> {
        domain::may_write(principal(ctx))?;
        let id = ids::decode(NodeType::Organisation, &input.id, "input.id")?;
        Ok(Organisation::single(
            domain::delete(db(ctx), principal(ctx), id).await?,
        ))
    }
}
