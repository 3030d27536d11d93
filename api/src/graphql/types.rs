//! The GraphQL object types: thin wrappers over the entities whose relation fields go
//! through the request's loaders.

use super::group::{Group, Slot};
use super::loaders::{ById, Counts, ListRelation, Lists, PageKey, PagedRelation, Pages};
use crate::auth::Principal;
use crate::dialogue::DialogueOrder;
use crate::error::AppError;
use crate::ids::{self, NodeType};
use crate::paging::{self, Page, Row, Rows, Sort};
use crate::proposal::ProposalOrder;
use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, ID, Interface, Object, OutputType, Result, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    AuthorityKind, AuthorityLevel, DialogueKind, DialogueStatus, OrganisationKind, ProposalStatus,
    Visibility, authority, dialogue, organisation, proposal, proposal_status_change,
};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use uuid::Uuid;

/// A connection of `N` with `totalCount`.
pub type Paged<N> = Connection<paging::Cursor, N, TotalCount>;

type CountFuture = Pin<Box<dyn Future<Output = Result<i64, AppError>> + Send>>;

/// The `totalCount` of a connection, computed only when asked for.
pub enum TotalCount {
    /// A top-level list: one count statement.
    Top(Box<dyn Fn() -> CountFuture + Send + Sync>),
    /// A nested list: counted for all parents of the group at once through the request's loader.
    Nested(Arc<Group>, PagedRelation, Uuid),
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
            Self::Nested(group, relation, parent) => {
                let relation = *relation;
                let counts = group
                    .once(Slot::Count(relation), || {
                        let keys = group.ids().iter().map(|id| (relation, *id));
                        load_now::<Counts, _>(ctx, keys.collect())
                    })
                    .await?;
                Ok(counts.get(&(relation, *parent)).copied().unwrap_or(0))
            }
        }
    }
}

/// A GraphQL object over one row, resolved together with the other members of its group.
pub trait Member: OutputType + Sized {
    /// The row type.
    type Row: Row;
    /// Wraps a row that belongs to `group`.
    fn in_group(row: Self::Row, group: Arc<Group>) -> Self;
    /// Wraps a row on its own (a lookup or a mutation result).
    fn single(row: Self::Row) -> Self {
        let group = Group::new(vec![row.clone()]);
        Self::in_group(row, group)
    }
}

/// Builds a connection from a page of rows that belong to `group`.
fn connection_in<N: Member>(
    rows: Rows<N::Row>,
    sort: Sort,
    total: TotalCount,
    group: &Arc<Group>,
) -> Paged<N> {
    let mut connection =
        Connection::with_additional_fields(rows.has_previous, rows.has_next, total);
    connection.edges.extend(rows.rows.into_iter().map(|row| {
        Edge::new(
            paging::Cursor::of(&row, sort),
            N::in_group(row, group.clone()),
        )
    }));
    connection
}

/// Builds a top-level connection from a page of rows.
pub fn connection<N: Member>(rows: Rows<N::Row>, sort: Sort, total: TotalCount) -> Paged<N> {
    let group = Group::new(rows.rows.clone());
    connection_in(rows, sort, total, &group)
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

/// One page of a nested connection of the member `parent` of `group`; the page is loaded
/// for every member of the group at once.
async fn nested_page<N: Member>(
    ctx: &Context<'_>,
    group: &Arc<Group>,
    parent: Uuid,
    relation: PagedRelation,
    args: PageArgs,
    sort: Sort,
) -> Result<Paged<N>> {
    let page = args.page(sort)?;
    let loaded = group
        .once(Slot::Paged(relation, page.clone()), || async {
            let keys = group.ids().iter().map(|id| PageKey {
                parent: *id,
                relation,
                page: page.clone(),
            });
            let pages = load_now::<Pages<N::Row>, _>(ctx, keys.collect()).await?;
            let pages: HashMap<Uuid, Rows<N::Row>> = pages
                .into_iter()
                .map(|(key, rows)| (key.parent, rows))
                .collect();
            let children = Group::new(
                pages
                    .values()
                    .flat_map(|rows| rows.rows.iter().cloned())
                    .collect(),
            );
            Ok((pages, children))
        })
        .await?;
    let rows = loaded.0.get(&parent).cloned().unwrap_or_default();
    Ok(connection_in(
        rows,
        sort,
        TotalCount::Nested(group.clone(), relation, parent),
        &loaded.1,
    ))
}

/// Loads a short nested list for the whole group at once; returns the lists by parent and
/// the group of all their rows.
async fn group_lists<R: Row>(
    ctx: &Context<'_>,
    group: &Arc<Group>,
    relation: ListRelation,
) -> Result<Arc<(HashMap<Uuid, Vec<R>>, Arc<Group>)>, AppError> {
    group
        .once(Slot::List(relation), || async {
            let keys = group.ids().iter().map(|id| (relation, *id));
            let lists = load_now::<Lists<R>, _>(ctx, keys.collect()).await?;
            let lists: HashMap<Uuid, Vec<R>> = lists
                .into_iter()
                .map(|((_, id), rows)| (id, rows))
                .collect();
            let children = Group::new(
                lists
                    .values()
                    .flat_map(|rows| rows.iter().cloned())
                    .collect(),
            );
            Ok((lists, children))
        })
        .await
}

/// The rows of a short nested list of the member `parent` of `group`.
async fn group_list<R: Row>(
    ctx: &Context<'_>,
    group: &Arc<Group>,
    relation: ListRelation,
    parent: Uuid,
) -> Result<Vec<R>> {
    Ok(group_lists::<R>(ctx, group, relation)
        .await?
        .0
        .get(&parent)
        .cloned()
        .unwrap_or_default())
}

/// A short nested list of the member `parent` of `group`, loaded for the whole group at once.
async fn nested_list<N: Member>(
    ctx: &Context<'_>,
    group: &Arc<Group>,
    relation: ListRelation,
    parent: Uuid,
) -> Result<Vec<N>> {
    let loaded = group_lists::<N::Row>(ctx, group, relation).await?;
    let rows = loaded.0.get(&parent).cloned().unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|row| N::in_group(row, loaded.1.clone()))
        .collect())
}

/// A to-one reference of a member of `group`: `key` reads it off any member's row, and the
/// referenced records of all members are loaded at once.
async fn reference<P: Row, N: Member>(
    ctx: &Context<'_>,
    group: &Arc<Group>,
    name: &'static str,
    key: fn(&P) -> Option<Uuid>,
    id: Uuid,
) -> Result<Option<N>> {
    let loaded = group
        .once(Slot::Reference(name), || async {
            let mut keys: Vec<Uuid> = group.rows::<P>().iter().filter_map(key).collect();
            keys.sort_unstable();
            keys.dedup();
            let found = load_now::<ById<N::Row>, _>(ctx, keys).await?;
            let targets = Group::new(found.values().cloned().collect());
            Ok((found, targets))
        })
        .await?;
    Ok(loaded
        .0
        .get(&id)
        .cloned()
        .map(|row| N::in_group(row, loaded.1.clone())))
}

/// Runs the request's loader `L` for `keys` at once. A sibling group already holds every
/// key of its level, so it skips the DataLoader's wait for more keys (1 ms a level) and
/// its copy of every value. The statement's future is boxed: inline, its size would be
/// carried by the future of every field of every member, loading or not.
async fn load_now<L, K>(ctx: &Context<'_>, keys: Vec<K>) -> Result<HashMap<K, L::Value>, AppError>
where
    L: Loader<K, Error = AppError>,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
{
    Box::pin(ctx.data_unchecked::<DataLoader<L>>().loader().load(&keys)).await
}

/// Loads a record by id through the request's loader, as the caller may see it.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn load<N: Member>(ctx: &Context<'_>, id: Uuid) -> Result<Option<N>> {
    let loader = ctx.data_unchecked::<DataLoader<ById<N::Row>>>();
    Ok(Box::pin(loader.load_one(id)).await?.map(N::single))
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
pub struct Organisation {
    row: organisation::Model,
    group: Arc<Group>,
}

impl Member for Organisation {
    type Row = organisation::Model;
    fn in_group(row: Self::Row, group: Arc<Group>) -> Self {
        Self { row, group }
    }
}

#[Object]
impl Organisation {
    /// Opaque global id.
    async fn id(&self) -> ID {
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
        self.row.kind
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
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
    /// Dialogues it took part in; latest first unless `orderBy` says otherwise.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
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
        nested_page::<Dialogue>(
            ctx,
            &self.group,
            self.row.id,
            PagedRelation::OrganisationDialogues,
            args,
            DialogueOrder::sort(order_by),
        )
        .await
    }
    /// Proposals it leads; most recently changed first unless `orderBy` says otherwise.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
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
        nested_page::<Proposal>(
            ctx,
            &self.group,
            self.row.id,
            PagedRelation::OrganisationProposals,
            args,
            ProposalOrder::sort(order_by),
        )
        .await
    }
}

/// A public body the network engages.
pub struct Authority {
    row: authority::Model,
    group: Arc<Group>,
}

impl Member for Authority {
    type Row = authority::Model;
    fn in_group(row: Self::Row, group: Arc<Group>) -> Self {
        Self { row, group }
    }
}

#[Object]
impl Authority {
    /// Opaque global id.
    async fn id(&self) -> ID {
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
        self.row.level
    }
    /// Kind of body.
    async fn kind(&self) -> AuthorityKind {
        self.row.kind
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
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
    /// The body this one sits under.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Authority>> {
        let Some(parent) = self.row.parent_id else {
            return Ok(None);
        };
        reference::<authority::Model, Authority>(
            ctx,
            &self.group,
            "parent",
            |a| a.parent_id,
            parent,
        )
        .await
    }
    /// The bodies directly under this one, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Authority>> {
        nested_list::<Authority>(
            ctx,
            &self.group,
            ListRelation::AuthorityChildren,
            self.row.id,
        )
        .await
    }
    /// Dialogues it took part in; latest first unless `orderBy` says otherwise.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
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
        nested_page::<Dialogue>(
            ctx,
            &self.group,
            self.row.id,
            PagedRelation::AuthorityDialogues,
            args,
            DialogueOrder::sort(order_by),
        )
        .await
    }
}

/// One engagement between organisations and authorities.
pub struct Dialogue {
    row: dialogue::Model,
    group: Arc<Group>,
}

impl Member for Dialogue {
    type Row = dialogue::Model;
    fn in_group(row: Self::Row, group: Arc<Group>) -> Self {
        Self { row, group }
    }
}

#[Object]
impl Dialogue {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::Dialogue, self.row.id)
    }
    /// Short title.
    async fn title(&self) -> &str {
        &self.row.title
    }
    /// Form of the dialogue.
    async fn kind(&self) -> DialogueKind {
        self.row.kind
    }
    /// Where it stands.
    async fn status(&self) -> DialogueStatus {
        self.row.status
    }
    /// The day it was (or is to be) held or sent.
    async fn held_on(&self) -> NaiveDate {
        self.row.held_on
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
        self.row.visibility
    }
    /// Version for optimistic concurrency: pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.row.version
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
    /// Participating organisations, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn organisations(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        nested_list::<Organisation>(
            ctx,
            &self.group,
            ListRelation::DialogueOrganisations,
            self.row.id,
        )
        .await
    }
    /// Participating authorities, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn authorities(&self, ctx: &Context<'_>) -> Result<Vec<Authority>> {
        nested_list::<Authority>(
            ctx,
            &self.group,
            ListRelation::DialogueAuthorities,
            self.row.id,
        )
        .await
    }
    /// Proposals discussed that the caller may see, by title.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn proposals(&self, ctx: &Context<'_>) -> Result<Vec<Proposal>> {
        nested_list::<Proposal>(
            ctx,
            &self.group,
            ListRelation::DialogueProposals,
            self.row.id,
        )
        .await
    }
}

/// A policy proposal of the network.
pub struct Proposal {
    row: proposal::Model,
    group: Arc<Group>,
}

impl Member for Proposal {
    type Row = proposal::Model;
    fn in_group(row: Self::Row, group: Arc<Group>) -> Self {
        Self { row, group }
    }
}

#[Object]
impl Proposal {
    /// Opaque global id.
    async fn id(&self) -> ID {
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
        self.row.status
    }
    /// Who may read it.
    async fn visibility(&self) -> Visibility {
        self.row.visibility
    }
    /// Version for optimistic concurrency: pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.row.version
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
    /// The organisation that leads it.
    async fn lead_organisation(&self, ctx: &Context<'_>) -> Result<Organisation> {
        reference::<proposal::Model, Organisation>(
            ctx,
            &self.group,
            "leadOrganisation",
            |p| Some(p.lead_organisation_id),
            self.row.lead_organisation_id,
        )
        .await?
        .ok_or_else(|| AppError::NotFound("organisation").into())
    }
    /// Organisations co-signing it, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn co_signers(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        nested_list::<Organisation>(
            ctx,
            &self.group,
            ListRelation::ProposalCoSigners,
            self.row.id,
        )
        .await
    }
    /// Authorities it is addressed to, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn target_authorities(&self, ctx: &Context<'_>) -> Result<Vec<Authority>> {
        nested_list::<Authority>(ctx, &self.group, ListRelation::ProposalTargets, self.row.id).await
    }
    /// Dialogues where it was discussed; latest first unless `orderBy` says otherwise.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
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
        nested_page::<Dialogue>(
            ctx,
            &self.group,
            self.row.id,
            PagedRelation::ProposalDialogues,
            args,
            DialogueOrder::sort(order_by),
        )
        .await
    }
    /// Its moves along the lifecycle, oldest first; the first entry is its creation.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<StatusChange>> {
        Ok(group_list::<proposal_status_change::Model>(
            ctx,
            &self.group,
            ListRelation::ProposalHistory,
            self.row.id,
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
