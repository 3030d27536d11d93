//! The read side of the schema: lookups and top-level lists, in the order the published
//! schema has them (field order is part of the committed SDL, so the lookups and lists of
//! every aggregate are listed here; each is one call into the aggregate's room).

use super::account::{ApiToken, User};
use super::authority::{Authority, AuthorityFilter, AuthorityOrder};
use super::connection::{
    Input, Member, Order, Paged, db, list, list_joining, load, principal, read_by_field,
};
use super::cooperation::{Cooperation, CooperationFilter, CooperationOrder};
use super::cost::Searches;
use super::dialogue::{Dialogue, DialogueFilter, DialogueOrder};
use super::direct::Direct;
use super::evidence::{Evidence, EvidenceFilter, EvidenceOrder};
use super::goal::{Goal, GoalFilter, GoalOrder};
use super::ids::{self, NodeType};
use super::organisation::{Organisation, OrganisationFilter, OrganisationOrder};
use super::proposal::{Proposal, ProposalFilter, ProposalOrder};
use super::theme::{Theme, ThemeFilter, ThemeOrder};
use super::webhook::{Webhook, WebhookDelivery};
use crate::account::{tokens, users};
use crate::paging::PageArgs;
use crate::{
    authority, cooperation, dialogue, evidence, goal, organisation, proposal, theme, webhook,
};
use async_graphql::{Context, ID, Interface, Object, Result};
use entity::{
    cooperation as cooperation_model, evidence as evidence_model, goal as goal_model,
    proposal as proposal_model,
};

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
    /// A theme.
    Theme(Theme),
    /// A piece of impact evidence.
    Evidence(Evidence),
    /// A local cooperation.
    Cooperation(Cooperation),
    /// A goal.
    Goal(Goal),
    /// A user account (admins, and the user themselves).
    User(User),
    /// A partner token (admins).
    ApiToken(ApiToken),
    /// A webhook endpoint (admins).
    Webhook(Webhook),
    /// A webhook delivery (admins).
    WebhookDelivery(WebhookDelivery),
}

/// Lookups and lists of the network's record.
///
/// The root fields box what they await when it is large (a statement of sea-orm's is
/// several kilobytes of future, a page's read several hundred bytes): the engine moves the
/// future of every root field, as large as the largest of all root fields, several times
/// on its way into a box of its own.
#[derive(Default)]
pub struct RecordQuery;

#[Object]
impl RecordQuery {
    /// Any record by its global id; null when it does not exist or the caller may not see it.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The global id.")] id: ID,
    ) -> Result<Option<Node>> {
        let Some((node_type, uuid)) = ids::decode_any(&id) else {
            return Ok(None);
        };
        Ok(match node_type {
            NodeType::Organisation => load(ctx, uuid).await?.map(Node::Organisation),
            NodeType::Authority => load(ctx, uuid).await?.map(Node::Authority),
            NodeType::Dialogue => load(ctx, uuid).await?.map(Node::Dialogue),
            NodeType::Proposal => load(ctx, uuid).await?.map(Node::Proposal),
            NodeType::Theme => load(ctx, uuid).await?.map(Node::Theme),
            NodeType::Evidence => load(ctx, uuid).await?.map(Node::Evidence),
            NodeType::Cooperation => load(ctx, uuid).await?.map(Node::Cooperation),
            NodeType::Goal => load(ctx, uuid).await?.map(Node::Goal),
            NodeType::User => Box::pin(users::by_id(db(ctx), principal(ctx), uuid))
                .await?
                .map(|row| Node::User(User::single(row))),
            NodeType::ApiToken => Box::pin(tokens::by_id(db(ctx), principal(ctx), uuid))
                .await?
                .map(|row| Node::ApiToken(ApiToken::single(row))),
            NodeType::Webhook => Box::pin(webhook::by_id(db(ctx), principal(ctx), uuid))
                .await?
                .map(|row| Node::Webhook(Webhook::single(row))),
            NodeType::WebhookDelivery => {
                Box::pin(webhook::delivery_by_id(db(ctx), principal(ctx), uuid))
                    .await?
                    .map(|row| Node::WebhookDelivery(WebhookDelivery::single(row)))
            }
        })
    }

    /// An organisation by slug.
    async fn organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unique short name.")] slug: String,
    ) -> Result<Option<Direct<Organisation>>> {
        Ok(Box::pin(organisation::by_slug(
            db(ctx),
            principal(ctx),
            &slug,
            read_by_field::<Organisation>(ctx),
        ))
        .await?
        .map(|row| Direct(Organisation::single(row))))
    }

    /// An authority by slug.
    async fn authority(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unique short name.")] slug: String,
    ) -> Result<Option<Direct<Authority>>> {
        let wanted = read_by_field::<Authority>(ctx);
        Ok(
            Box::pin(authority::by_slug(db(ctx), principal(ctx), &slug, wanted))
                .await?
                .map(|row| Direct(Authority::single(row))),
        )
    }

    /// A dialogue by id; null when it does not exist or the caller may not see it.
    async fn dialogue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The global id.")] id: ID,
    ) -> Result<Option<Dialogue>> {
        load(ctx, ids::decode(NodeType::Dialogue, &id, "id")?).await
    }

    /// A proposal by id; null when it does not exist or the caller may not see it.
    async fn proposal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The global id.")] id: ID,
    ) -> Result<Option<Proposal>> {
        load(ctx, ids::decode(NodeType::Proposal, &id, "id")?).await
    }

    /// A theme by slug.
    async fn theme(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unique short name.")] slug: String,
    ) -> Result<Option<Theme>> {
        Ok(Box::pin(theme::by_slug(db(ctx), &slug))
            .await?
            .map(Theme::single))
    }

    /// A goal by slug, with its progress; null when it does not exist or the caller may not see it.
    async fn goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unique short name.")] slug: String,
    ) -> Result<Option<Goal>> {
        Ok(Box::pin(goal::by_slug(db(ctx), principal(ctx), &slug))
            .await?
            .map(Goal::single))
    }

    /// Member organisations; by name unless `orderBy` says otherwise.
    #[graphql(
        complexity = "crate::limits::list_page_cost(first, last, child_complexity, super::cost::asks_total(__field), filter.searches())"
    )]
    async fn organisations(
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
        #[graphql(desc = "Which items to return; all that the caller may see when omitted.")]
        filter: Option<OrganisationFilter>,
        #[graphql(desc = "How to order the items; each list has its own default.")]
        order_by: Option<OrganisationOrder>,
    ) -> Result<Paged<Organisation>> {
        let args = PageArgs::new(first, after, last, before);
        let sort = Order::or(order_by, organisation::DEFAULT_ORDER);
        Box::pin(list(ctx, args, sort, filter.into_domain()?)).await
    }

    /// Authorities; by name unless `orderBy` says otherwise.
    #[graphql(
        complexity = "crate::limits::list_page_cost(first, last, child_complexity, super::cost::asks_total(__field), filter.searches())"
    )]
    async fn authorities(
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
        #[graphql(desc = "Which items to return; all that the caller may see when omitted.")]
        filter: Option<AuthorityFilter>,
        #[graphql(desc = "How to order the items; each list has its own default.")]
        order_by: Option<AuthorityOrder>,
    ) -> Result<Paged<Authority>> {
        let args = PageArgs::new(first, after, last, before);
        let sort = Order::or(order_by, authority::DEFAULT_ORDER);
        Box::pin(list(ctx, args, sort, filter.into_domain()?)).await
    }

    /// Dialogues the caller may see; latest first unless `orderBy` says otherwise.
    #[graphql(
        complexity = "crate::limits::list_page_cost(first, last, child_complexity, super::cost::asks_total(__field), filter.searches())"
    )]
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
        #[graphql(desc = "Which items to return; all that the caller may see when omitted.")]
        filter: Option<DialogueFilter>,
        #[graphql(desc = "How to order the items; each list has its own default.")]
        order_by: Option<DialogueOrder>,
    ) -> Result<Paged<Dialogue>> {
        let args = PageArgs::new(first, after, last, before);
        let sort = Order::or(order_by, dialogue::DEFAULT_ORDER);
        Box::pin(list(ctx, args, sort, filter.into_domain()?)).await
    }

    /// Proposals the caller may see; most recently changed first unless `orderBy` says otherwise.
    #[graphql(
        complexity = "crate::limits::list_page_cost(first, last, child_complexity, super::cost::asks_total(__field), filter.searches())"
    )]
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
        #[graphql(desc = "Which items to return; all that the caller may see when omitted.")]
        filter: Option<ProposalFilter>,
        #[graphql(desc = "How to order the items; each list has its own default.")]
        order_by: Option<ProposalOrder>,
    ) -> Result<Paged<Proposal>> {
        let args = PageArgs::new(first, after, last, before);
        let sort = Order::or(order_by, proposal::DEFAULT_ORDER);
        let lead = (
            "leadOrganisation",
            proposal_model::Column::LeadOrganisationId,
        );
        let filter = filter.into_domain()?;
        Box::pin(list_joining::<_, Organisation, _>(
            ctx, args, sort, filter, lead,
        ))
        .await
    }

    /// Themes; by name unless `orderBy` says otherwise.
    #[graphql(
        complexity = "crate::limits::list_page_cost(first, last, child_complexity, super::cost::asks_total(__field), filter.searches())"
    )]
    async fn themes(
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
        #[graphql(desc = "Which items to return; all that the caller may see when omitted.")]
        filter: Option<ThemeFilter>,
        #[graphql(desc = "How to order the items; each list has its own default.")]
        order_by: Option<ThemeOrder>,
    ) -> Result<Paged<Theme>> {
        let args = PageArgs::new(first, after, last, before);
        let sort = Order::or(order_by, theme::DEFAULT_ORDER);
        Box::pin(list(ctx, args, sort, filter.into_domain()?)).await
    }

    /// Impact evidence the caller may see; latest first unless `orderBy` says otherwise.
    #[graphql(
        complexity = "crate::limits::list_page_cost(first, last, child_complexity, super::cost::asks_total(__field), filter.searches())"
    )]
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
        #[graphql(desc = "Which items to return; all that the caller may see when omitted.")]
        filter: Option<EvidenceFilter>,
        #[graphql(desc = "How to order the items; each list has its own default.")]
        order_by: Option<EvidenceOrder>,
    ) -> Result<Paged<Evidence>> {
        let args = PageArgs::new(first, after, last, before);
        let sort = Order::or(order_by, evidence::DEFAULT_ORDER);
        let authority = ("authority", evidence_model::Column::AuthorityId);
        let filter = filter.into_domain()?;
        Box::pin(list_joining::<_, Authority, _>(
            ctx, args, sort, filter, authority,
        ))
        .await
    }

    /// Local cooperations the caller may see; latest begun first unless `orderBy` says otherwise.
    #[graphql(
        complexity = "crate::limits::list_page_cost(first, last, child_complexity, super::cost::asks_total(__field), filter.searches())"
    )]
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
        #[graphql(desc = "Which items to return; all that the caller may see when omitted.")]
        filter: Option<CooperationFilter>,
        #[graphql(desc = "How to order the items; each list has its own default.")]
        order_by: Option<CooperationOrder>,
    ) -> Result<Paged<Cooperation>> {
        let args = PageArgs::new(first, after, last, before);
        let sort = Order::or(order_by, cooperation::DEFAULT_ORDER);
        let authority = ("authority", cooperation_model::Column::AuthorityId);
        let filter = filter.into_domain()?;
        Box::pin(list_joining::<_, Authority, _>(
            ctx, args, sort, filter, authority,
        ))
        .await
    }

    /// Goals the caller may see, with their progress; by title unless `orderBy` says
    /// otherwise. Filtering by `reached` computes the progress of every goal the rest of the
    /// filter selects.
    #[graphql(
        complexity = "crate::limits::list_page_cost(first, last, child_complexity, super::cost::asks_total(__field), filter.as_ref().is_some_and(|f| f.reached.is_some()))"
    )]
    async fn goals(
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
        #[graphql(desc = "Which items to return; all that the caller may see when omitted.")]
        filter: Option<GoalFilter>,
        #[graphql(desc = "How to order the items; each list has its own default.")]
        order_by: Option<GoalOrder>,
    ) -> Result<Paged<Goal>> {
        let args = PageArgs::new(first, after, last, before);
        let sort = Order::or(order_by, goal::DEFAULT_ORDER);
        let filter = Box::pin(goal::resolve(
            db(ctx),
            principal(ctx),
            filter.into_domain()?,
        ))
        .await?;
        let owner = ("owner", goal_model::Column::OwnerId);
        Box::pin(list_joining::<_, Organisation, _>(
            ctx, args, sort, filter, owner,
        ))
        .await
    }

    /// Counts of the record for a period (by kind, status, authority level, month, reach),
    /// inside the caller's visibility: one statement per group.
    // Each statement reads all of a table's rows in the period, or all their links, as a
    // text filter may: priced as one each (about 400 ms in all on SQLite on the benchmark
    // data set, 120 ms of PostgreSQL's time, for the whole period).
    #[graphql(complexity = "crate::statistics::STATEMENTS * crate::limits::SEARCH_COST")]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which items to return; all that the caller may see when omitted.")]
        filter: Option<super::statistics::StatisticsFilter>,
    ) -> Result<super::statistics::Statistics> {
        Box::pin(super::statistics::statistics(ctx, filter)).await
    }
}
