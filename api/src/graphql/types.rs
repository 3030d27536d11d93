//! The GraphQL object types: thin wrappers over the entities whose relation fields go
//! through the request's loaders.

use super::loaders::{ById, Counts, ListRelation, Lists, PageKey, PagedRelation, Pages};
use crate::auth::Principal;
use crate::dialogue::DialogueOrder;
use crate::error::AppError;
use crate::ids::{self, NodeType};
use crate::paging::{self, Page, Row, Rows, Sort};
use crate::proposal::ProposalOrder;
use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Interface, Object, OutputType, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    AuthorityKind, AuthorityLevel, DialogueKind, DialogueStatus, OrganisationKind, ProposalStatus,
    Visibility, authority, dialogue, organisation, proposal, proposal_status_change,
};
use std::future::Future;
use std::pin::Pin;
use uuid::Uuid;

/// A connection of `N` with `totalCount`.
pub type Paged<N> = Connection<String, N, TotalCount>;

type CountFuture = Pin<Box<dyn Future<Output = Result<i64, AppError>> + Send>>;

/// The `totalCount` of a connection, computed only when asked for.
pub enum TotalCount {
    /// A top-level list: one count statement.
    Top(Box<dyn Fn() -> CountFuture + Send + Sync>),
    /// A nested list: counted for all parents at once through the request's loader.
    Nested(PagedRelation, Uuid),
}

impl TotalCount {
    /// A count computed by `count` when the client selects `totalCount`.
    pub fn new<F, Fut>(count: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<i64, AppError>> + Send + 'static,
    {
        Self::Top(Box::new(move || Box::pin(count())))
    }
}

#[Object]
impl TotalCount {
    /// How many records the connection holds in all, across pages.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        match self {
            Self::Top(count) => Ok(count().await?),
            Self::Nested(relation, parent) => Ok(ctx
                .data_unchecked::<DataLoader<Counts>>()
                .load_one((*relation, *parent))
                .await?
                .unwrap_or(0)),
        }
    }
}

/// Builds a connection from a page of rows.
pub fn connection<R: Row, N: OutputType>(
    rows: Rows<R>,
    sort: Sort,
    total: TotalCount,
    node: impl Fn(R) -> N,
) -> Paged<N> {
    let mut connection =
        Connection::with_additional_fields(rows.has_previous, rows.has_next, total);
    connection.edges.extend(
        rows.rows
            .into_iter()
            .map(|row| Edge::new(paging::cursor(&row, sort), node(row))),
    );
    connection
}

/// Relay paging arguments as given, before checking.
pub struct PageArgs {
    /// `first`.
    pub first: Option<i32>,
    /// `after`.
    pub after: Option<String>,
    /// `last`.
    pub last: Option<i32>,
    /// `before`.
    pub before: Option<String>,
}

impl PageArgs {
    /// Checks the arguments for an ordering.
    ///
    /// # Errors
    /// BAD_USER_INPUT as [`Page::new`].
    pub fn page(self, sort: Sort) -> Result<Page, AppError> {
        Page::new(self.first, self.after, self.last, self.before, sort)
    }
}

fn principal<'a>(ctx: &Context<'a>) -> &'a Principal {
    ctx.data_unchecked::<Principal>()
}

async fn nested_page<R: Row, N: OutputType>(
    ctx: &Context<'_>,
    parent: Uuid,
    relation: PagedRelation,
    args: PageArgs,
    sort: Sort,
    node: impl Fn(R) -> N,
) -> Result<Paged<N>> {
    let page = args.page(sort)?;
    let rows = ctx
        .data_unchecked::<DataLoader<Pages<R>>>()
        .load_one(PageKey {
            parent,
            relation,
            page,
        })
        .await?
        .unwrap_or_default();
    Ok(connection(
        rows,
        sort,
        TotalCount::Nested(relation, parent),
        node,
    ))
}

async fn nested_list<R: Row>(
    ctx: &Context<'_>,
    relation: ListRelation,
    parent: Uuid,
) -> Result<Vec<R>> {
    Ok(ctx
        .data_unchecked::<DataLoader<Lists<R>>>()
        .load_one((relation, parent))
        .await?
        .unwrap_or_default())
}

async fn one<R: Row>(ctx: &Context<'_>, id: Uuid) -> Result<Option<R>> {
    Ok(ctx
        .data_unchecked::<DataLoader<ById<R>>>()
        .load_one(id)
        .await?)
}

/// Loads a record by id through the request's loader, as the caller may see it.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn load<R: Row>(ctx: &Context<'_>, id: Uuid) -> Result<Option<R>> {
    one(ctx, id).await
}

/// Any record with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The record's opaque global id."))]
pub enum Node {
    /// An organisation.
    Organisation(Organisation),
    /// An authority.
    Authority(Authority),
    /// A dialogue.
    Dialogue(Dialogue),
    /// A proposal.
    Proposal(Proposal),
}

/// A member organisation of the network.
pub struct Organisation(pub organisation::Model);

#[Object]
impl Organisation {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Organisation, self.0.id)
    }
    /// Unique short name for URLs.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What kind of body it is.
    async fn kind(&self) -> OrganisationKind {
        self.0.kind
    }
    /// What it does.
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// Public website.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    /// Contact address; null unless the caller is a member of the network.
    async fn contact_email(&self, ctx: &Context<'_>) -> Option<&str> {
        principal(ctx)
            .sees_contact_details()
            .then_some(self.0.contact_email.as_deref())
            .flatten()
    }
    /// Home city.
    async fn city(&self) -> Option<&str> {
        self.0.city.as_deref()
    }
    /// Version for optimistic concurrency: pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Dialogues it took part in; latest first unless `orderBy` says otherwise.
    async fn dialogues(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<DialogueOrder>,
    ) -> Result<Paged<Dialogue>> {
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        nested_page(
            ctx,
            self.0.id,
            PagedRelation::OrganisationDialogues,
            args,
            DialogueOrder::sort(order_by),
            Dialogue,
        )
        .await
    }
    /// Proposals it leads; most recently changed first unless `orderBy` says otherwise.
    async fn proposals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<ProposalOrder>,
    ) -> Result<Paged<Proposal>> {
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        nested_page(
            ctx,
            self.0.id,
            PagedRelation::OrganisationProposals,
            args,
            ProposalOrder::sort(order_by),
            Proposal,
        )
        .await
    }
}

/// A public body the network engages.
pub struct Authority(pub authority::Model);

#[Object]
impl Authority {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Authority, self.0.id)
    }
    /// Unique short name for URLs.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Level of government.
    async fn level(&self) -> AuthorityLevel {
        self.0.level
    }
    /// Kind of body.
    async fn kind(&self) -> AuthorityKind {
        self.0.kind
    }
    /// Public website.
    async fn website(&self) -> Option<&str> {
        self.0.website.as_deref()
    }
    /// An official identifier, such as the four-digit municipality code or two-digit county code.
    async fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }
    /// Version for optimistic concurrency: pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The body this one sits under.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Authority>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        Ok(one::<authority::Model>(ctx, parent).await?.map(Authority))
    }
    /// The bodies directly under this one, by name.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Authority>> {
        Ok(
            nested_list::<authority::Model>(ctx, ListRelation::AuthorityChildren, self.0.id)
                .await?
                .into_iter()
                .map(Authority)
                .collect(),
        )
    }
    /// Dialogues it took part in; latest first unless `orderBy` says otherwise.
    async fn dialogues(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<DialogueOrder>,
    ) -> Result<Paged<Dialogue>> {
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        nested_page(
            ctx,
            self.0.id,
            PagedRelation::AuthorityDialogues,
            args,
            DialogueOrder::sort(order_by),
            Dialogue,
        )
        .await
    }
}

/// One engagement between organisations and authorities.
pub struct Dialogue(pub dialogue::Model);

#[Object]
impl Dialogue {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Dialogue, self.0.id)
    }
    /// Short title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Form of the dialogue.
    async fn kind(&self) -> DialogueKind {
        self.0.kind
    }
    /// Where it stands.
    async fn status(&self) -> DialogueStatus {
        self.0.status
    }
    /// The day it was (or is to be) held or sent.
    async fn held_on(&self) -> NaiveDate {
        self.0.held_on
    }
    /// What it was about.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// What came of it.
    async fn outcome(&self) -> Option<&str> {
        self.0.outcome.as_deref()
    }
    /// Who may read it.
    async fn visibility(&self) -> Visibility {
        self.0.visibility
    }
    /// Version for optimistic concurrency: pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// Participating organisations, by name.
    async fn organisations(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        Ok(
            nested_list::<organisation::Model>(ctx, ListRelation::DialogueOrganisations, self.0.id)
                .await?
                .into_iter()
                .map(Organisation)
                .collect(),
        )
    }
    /// Participating authorities, by name.
    async fn authorities(&self, ctx: &Context<'_>) -> Result<Vec<Authority>> {
        Ok(
            nested_list::<authority::Model>(ctx, ListRelation::DialogueAuthorities, self.0.id)
                .await?
                .into_iter()
                .map(Authority)
                .collect(),
        )
    }
    /// Proposals discussed that the caller may see, by title.
    async fn proposals(&self, ctx: &Context<'_>) -> Result<Vec<Proposal>> {
        Ok(
            nested_list::<proposal::Model>(ctx, ListRelation::DialogueProposals, self.0.id)
                .await?
                .into_iter()
                .map(Proposal)
                .collect(),
        )
    }
}

/// A policy proposal of the network.
pub struct Proposal(pub proposal::Model);

#[Object]
impl Proposal {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Proposal, self.0.id)
    }
    /// Short title.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// One-paragraph summary.
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// Full text.
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// Place in the lifecycle; changed by `transitionProposal`.
    async fn status(&self) -> ProposalStatus {
        self.0.status
    }
    /// Who may read it.
    async fn visibility(&self) -> Visibility {
        self.0.visibility
    }
    /// Version for optimistic concurrency: pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    /// The organisation that leads it.
    async fn lead_organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        one::<organisation::Model>(ctx, self.0.lead_organisation_id)
            .await?
            .map(Organisation)
            .ok_or_else(|| AppError::NotFound("organisation").into())
    }
    /// Organisations co-signing it, by name.
    async fn co_signers(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        Ok(
            nested_list::<organisation::Model>(ctx, ListRelation::ProposalCoSigners, self.0.id)
                .await?
                .into_iter()
                .map(Organisation)
                .collect(),
        )
    }
    /// Authorities it is addressed to, by name.
    async fn target_authorities(&self, ctx: &Context<'_>) -> Result<Vec<Authority>> {
        Ok(
            nested_list::<authority::Model>(ctx, ListRelation::ProposalTargets, self.0.id)
                .await?
                .into_iter()
                .map(Authority)
                .collect(),
        )
    }
    /// Dialogues where it was discussed; latest first unless `orderBy` says otherwise.
    async fn dialogues(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        order_by: Option<DialogueOrder>,
    ) -> Result<Paged<Dialogue>> {
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        nested_page(
            ctx,
            self.0.id,
            PagedRelation::ProposalDialogues,
            args,
            DialogueOrder::sort(order_by),
            Dialogue,
        )
        .await
    }
    /// Its moves along the lifecycle, oldest first; the first entry is its creation.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<StatusChange>> {
        Ok(nested_list::<proposal_status_change::Model>(
            ctx,
            ListRelation::ProposalHistory,
            self.0.id,
        )
        .await?
        .into_iter()
        .map(Into::into)
        .collect())
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
    pub at: DateTime<Utc>,
    /// Why it moved.
    pub note: Option<String>,
}

impl From<proposal_status_change::Model> for StatusChange {
    fn from(change: proposal_status_change::Model) -> Self {
        Self {
            from: change.from_status,
            to: change.to_status,
            at: change.changed_at,
            note: change.note,
        }
    }
}
