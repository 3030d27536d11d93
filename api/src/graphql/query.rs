//! The read side of the schema: lookups and top-level connections. Resolvers only turn
//! arguments into a domain call and rows into GraphQL.

use super::types::{
    Authority, Dialogue, Member, Node, Organisation, PageArgs, Paged, Proposal, TotalCount,
    connection, load,
};
use crate::auth::Principal;
use crate::authority::{AuthorityFilter, AuthorityOrder};
use crate::dialogue::{DialogueFilter, DialogueOrder};
use crate::ids::{self, NodeType};
use crate::organisation::{OrganisationFilter, OrganisationOrder};
use crate::paging::{self, ListFilter};
use crate::proposal::{ProposalFilter, ProposalOrder};
use crate::{authority, organisation};
use async_graphql::{Context, ID, Object, Result};
use sea_orm::DatabaseConnection;

fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

fn principal<'a>(ctx: &Context<'a>) -> &'a Principal {
    ctx.data_unchecked::<Principal>()
}

/// One page of a top-level list, with its total counted only when asked for.
async fn listing<N: Member, F: ListFilter<Row = N::Row>>(
    ctx: &Context<'_>,
    args: PageArgs,
    sort: crate::paging::Sort,
    filter: Option<F>,
) -> Result<Paged<N>> {
    let page = args.page(sort)?;
    let filter = filter.unwrap_or_default();
    // Boxed, as the loaders' statements are (see `types::load_now`).
    let rows = Box::pin(paging::list(db(ctx), principal(ctx), &filter, &page)).await?;
    let (db, principal) = (db(ctx).clone(), principal(ctx).clone());
    let total = TotalCount::new(move || {
        let (db, principal, filter) = (db.clone(), principal.clone(), filter.clone());
        async move { paging::count_of(&db, &principal, &filter).await }
    });
    Ok(connection::<N>(rows, sort, total))
}

/// Lookups and lists of the network's record.
#[derive(Default)]
pub struct RecordQuery;

#[Object]
impl RecordQuery {
    /// Any record by its global id; null when it does not exist or the caller may not see it.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let Some((node_type, uuid)) = ids::decode_any(&id) else {
            return Ok(None);
        };
        Ok(match node_type {
            NodeType::Organisation => load(ctx, uuid).await?.map(Node::Organisation),
            NodeType::Authority => load(ctx, uuid).await?.map(Node::Authority),
            NodeType::Dialogue => load(ctx, uuid).await?.map(Node::Dialogue),
            NodeType::Proposal => load(ctx, uuid).await?.map(Node::Proposal),
            NodeType::User | NodeType::ApiToken => None,
        })
    }

    /// An organisation by slug.
    async fn organisation(&self, ctx: &Context<'_>, slug: String) -> Result<Option<Organisation>> {
        Ok(organisation::by_slug(db(ctx), principal(ctx), &slug)
            .await?
            .map(Organisation::single))
    }

    /// An authority by slug.
    async fn authority(&self, ctx: &Context<'_>, slug: String) -> Result<Option<Authority>> {
        Ok(authority::by_slug(db(ctx), principal(ctx), &slug)
            .await?
            .map(Authority::single))
    }

    /// A dialogue by id; null when it does not exist or the caller may not see it.
    async fn dialogue(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Dialogue>> {
        let id = ids::decode(NodeType::Dialogue, &id, "id")?;
        load::<Dialogue>(ctx, id).await
    }

    /// A proposal by id; null when it does not exist or the caller may not see it.
    async fn proposal(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Proposal>> {
        let id = ids::decode(NodeType::Proposal, &id, "id")?;
        load::<Proposal>(ctx, id).await
    }

    /// Member organisations; by name unless `orderBy` says otherwise.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<OrganisationFilter>,
        order_by: Option<OrganisationOrder>,
    ) -> Result<Paged<Organisation>> {
        listing::<Organisation, _>(
            ctx,
            PageArgs {
                first,
                after,
                last,
                before,
            },
            OrganisationOrder::sort(order_by),
            filter,
        )
        .await
    }

    /// Authorities; by name unless `orderBy` says otherwise.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn authorities(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<AuthorityFilter>,
        order_by: Option<AuthorityOrder>,
    ) -> Result<Paged<Authority>> {
        listing::<Authority, _>(
            ctx,
            PageArgs {
                first,
                after,
                last,
                before,
            },
            AuthorityOrder::sort(order_by),
            filter,
        )
        .await
    }

    /// Dialogues the caller may see; latest first unless `orderBy` says otherwise.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn dialogues(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<DialogueFilter>,
        order_by: Option<DialogueOrder>,
    ) -> Result<Paged<Dialogue>> {
        listing::<Dialogue, _>(
            ctx,
            PageArgs {
                first,
                after,
                last,
                before,
            },
            DialogueOrder::sort(order_by),
            filter,
        )
        .await
    }

    /// Proposals the caller may see; most recently changed first unless `orderBy` says otherwise.
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn proposals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<ProposalFilter>,
        order_by: Option<ProposalOrder>,
    ) -> Result<Paged<Proposal>> {
        listing::<Proposal, _>(
            ctx,
            PageArgs {
                first,
                after,
                last,
                before,
            },
            ProposalOrder::sort(order_by),
            filter,
        )
        .await
    }
}
