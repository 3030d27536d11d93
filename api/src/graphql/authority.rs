//! Authorities in the schema: the object type, its inputs and its mutations.

use super::connection::{
    Input, Member, Order, Paged, db, given, member, nested_list, nested_page, nullable, principal,
    reference, versioned,
};
use super::cooperation::{Cooperation, CooperationOrder};
use super::dialogue::{Dialogue, DialogueOrder};
use super::direct::{Direct, Records};
use super::enums::{AuthorityKind, AuthorityLevel};
use super::ids::{self, NodeType};
use super::loaders::{ListRelation, PagedRelation};
use super::scalars::DateTime;
use crate::authority as domain;
use crate::dialogue;
use crate::error::AppError;
use crate::paging::PageArgs;
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result};
use entity::authority;
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

member! {
    /// A public body the network engages.
    Authority(authority::Model) reads authority::Column {
        "id" => [],
        "slug" => [Slug],
        "name" => [Name],
        "level" => [Level],
        "kind" => [Kind],
        "website" => [Website],
        "code" => [Code],
        "version" => [Version],
        "createdAt" => [CreatedAt],
        "updatedAt" => [UpdatedAt],
        "parent" => [ParentId],
        "isMetropolitan" => [IsMetropolitan],
    }
}

/// A public body the network seeks to influence: a ministry, a Riksdag committee, an agency, a region or a municipality.
#[Object]
impl Authority {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Authority, self.row.id)
    }
    /// Unique short name for URLs.
    async fn slug(&self) -> &str {
        &self.row.slug
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// Level of government.
    async fn level(&self) -> AuthorityLevel {
        self.row.level.into()
    }
    /// Kind of body.
    async fn kind(&self) -> AuthorityKind {
        self.row.kind.into()
    }
    /// Public website.
    async fn website(&self) -> Option<&str> {
        self.row.website.as_deref()
    }
    /// An official identifier, such as the four-digit municipality code or two-digit county code.
    async fn code(&self) -> Option<&str> {
        self.row.code.as_deref()
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
    /// The body this one sits under.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Direct<Authority>>> {
        let Some(parent) = self.row.parent_id else {
            return Ok(None);
        };
        let key: fn(&authority::Model) -> _ = |a| a.parent_id;
        reference(ctx, &self.group, ("parent", key), parent).await
    }
    /// The bodies directly under this one, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn children(&self, ctx: &Context<'_>) -> Result<Records<Authority>> {
        let relation = ListRelation::AuthorityChildren;
        nested_list(ctx, (&self.group, self.row.id), relation).await
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
        let relation = PagedRelation::AuthorityDialogues;
        nested_page(ctx, (&self.group, self.row.id), relation, args, sort).await
    }
    /// One of the metropolitan municipalities: Stockholm, Göteborg, Malmö.
    async fn is_metropolitan(&self) -> bool {
        self.row.is_metropolitan
    }
    /// Local cooperations happening here that the caller may see; latest begun first
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
        let relation = PagedRelation::AuthorityCooperations;
        nested_page(ctx, (&self.group, self.row.id), relation, args, sort).await
    }
}

/// Fields authorities can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::authority::AuthorityOrderField")]
pub enum AuthorityOrderField {
    /// Alphabetically by name.
    Name,
    /// By slug.
    Slug,
    /// By creation time.
    CreatedAt,
    /// By time of the last change.
    UpdatedAt,
}

/// How to order authorities; by name ascending when absent.
pub type AuthorityOrder = Order<AuthorityOrderField>;

/// Which authorities to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct AuthorityFilter {
    /// Only this level.
    pub level: Option<AuthorityLevel>,
    /// Only this kind.
    pub kind: Option<AuthorityKind>,
    /// Only the direct children of this authority.
    pub parent_id: Option<ID>,
    /// Only authorities whose name, slug or code contains this text (case-insensitive).
    pub text: Option<String>,
    /// Only the metropolitan municipalities (true) or all others (false).
    pub metropolitan: Option<bool>,
}

impl Input for AuthorityFilter {
    type Domain = domain::AuthorityFilter;

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        Ok(domain::AuthorityFilter {
            level: self.level.map(Into::into),
            kind: self.kind.map(Into::into),
            parent_id: ids::decode_optional(
                NodeType::Authority,
                self.parent_id,
                "filter.parentId",
            )?,
            text: self.text,
            metropolitan: self.metropolitan,
        })
    }
}

/// Input of `createAuthority`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateAuthorityInput {
    /// Unique short name for URLs: lowercase letters, digits, hyphens.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Level of government.
    pub level: AuthorityLevel,
    /// Kind of body.
    pub kind: AuthorityKind,
    /// The authority this one sits under.
    pub parent_id: Option<ID>,
    /// Public website (http or https).
    pub website: Option<String>,
    /// An official identifier, such as the municipality code.
    pub code: Option<String>,
    /// One of the metropolitan municipalities.
    #[graphql(default)]
    pub is_metropolitan: bool,
}

impl Input for CreateAuthorityInput {
    type Domain = authority::ActiveModel;

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        Ok(authority::ActiveModel {
            slug: Set(self.slug),
            name: Set(self.name),
            level: Set(self.level.into()),
            kind: Set(self.kind.into()),
            parent_id: Set(parent(self.parent_id)?),
            website: Set(self.website),
            code: Set(self.code),
            is_metropolitan: Set(self.is_metropolitan),
            ..Default::default()
        })
    }
}

fn parent(id: Option<ID>) -> Result<Option<Uuid>, AppError> {
    ids::decode_optional(NodeType::Authority, id, "input.parentId")
}

/// Input of `updateAuthority`: only the fields given change; `null` clears an optional field.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateAuthorityInput {
    /// The authority's id.
    pub id: ID,
    /// The version the change was based on; a newer stored version is a CONFLICT.
    pub expected_version: i32,
    /// New slug.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New level.
    pub level: Option<AuthorityLevel>,
    /// New kind.
    pub kind: Option<AuthorityKind>,
    /// New parent, or `null` for none.
    pub parent_id: MaybeUndefined<ID>,
    /// New website, or `null` to clear.
    pub website: MaybeUndefined<String>,
    /// New official identifier, or `null` to clear.
    pub code: MaybeUndefined<String>,
    /// Whether it is one of the metropolitan municipalities.
    pub is_metropolitan: Option<bool>,
}

impl Input for UpdateAuthorityInput {
    type Domain = ((Uuid, i32), authority::ActiveModel);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let id = versioned(NodeType::Authority, &self.id, self.expected_version)?;
        let given_parent: Option<Option<ID>> = self.parent_id.into();
        let row = authority::ActiveModel {
            slug: given(self.slug),
            name: given(self.name),
            level: given(self.level.map(Into::into)),
            kind: given(self.kind.map(Into::into)),
            parent_id: given(given_parent.map(parent).transpose()?),
            website: nullable(self.website),
            code: nullable(self.code),
            is_metropolitan: given(self.is_metropolitan),
            ..Default::default()
        };
        Ok((id, row))
    }
}

/// Input of `deleteAuthority`.
#[derive(Debug, Clone, InputObject)]
pub struct DeleteAuthorityInput {
    /// The authority's id.
    pub id: ID,
}

/// Changes to the authorities the network engages.
/// Each resolver asks the domain whether the caller may write (`may_write`) before it reads
/// the ids it is sent, so a caller who may not write learns nothing from input errors.
#[derive(Default)]
pub struct AuthorityMutation;

#[Object]
impl AuthorityMutation {
    /// Adds an authority (admin only).
    async fn create_authority(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: CreateAuthorityInput,
    ) -> Result<Authority> {
        domain::may_write(principal(ctx))?;
        let input = input.into_domain()?;
        Ok(Authority::single(
            domain::create(db(ctx), principal(ctx), input).await?,
        ))
    }
    /// Changes an authority (admin only).
    async fn update_authority(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: UpdateAuthorityInput,
    ) -> Result<Authority> {
        domain::may_write(principal(ctx))?;
        let (id, row) = input.into_domain()?;
        Ok(Authority::single(
            domain::update(db(ctx), principal(ctx), id, row).await?,
        ))
    }
    /// Removes an authority nothing refers to (admin only); returns it as it was.
    async fn delete_authority(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: DeleteAuthorityInput,
    ) -> Result<Authority> {
        domain::may_write(principal(ctx))?;
        let id = ids::decode(NodeType::Authority, &input.id, "input.id")?;
        Ok(Authority::single(
            domain::delete(db(ctx), principal(ctx), id).await?,
        ))
    }
}
