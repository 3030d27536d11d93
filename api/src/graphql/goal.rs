//! Goals in the schema: the object type with its measure and its progress (computed from
//! the record when asked, for the whole page of goals at once), inputs and mutations.

use super::authority::Authority;
use super::connection::{
    Input, Member, Order, db, given, group_once, load, member, principal, reference, versioned,
};
use super::cooperation::Cooperation;
use super::dialogue::Dialogue;
use super::direct::Direct;
use super::enums::{
    AuthorityKind, CooperationKind, DialogueKind, DialogueStatus, EvidenceKind, GoalCategory,
    GoalMeasureKind, MunicipalityScope, ProposalStatus, Reach, Visibility,
};
use super::evidence::Evidence;
use super::ids::{self, NodeType};
use super::loaders::{ById, GoalKey, GoalProgress as GoalProgressLoader, Loaders, Made};
use super::organisation::Organisation;
use super::proposal::Proposal;
use super::query::Node;
use super::scalars::{Date, DateTime};
use super::theme::Theme;
use crate::error::AppError;
use crate::goal::measure::Measure;
use crate::goal::progress::{Counted, Progress};
use crate::goal::{self as domain, Entry};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use entity::{goal, goal_progress_entry};
use futures_util::future::try_join_all;
use sea_orm::ActiveValue::Set;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

member! {
    /// A measurable target of the network (or of one organisation), with the measure that
    /// says which records count and the progress computed from them.
    Goal(goal::Model)
}

impl Goal {
    /// The progress of this goal, computed with that of its whole group (one page of goals)
    /// and of every other goal the request asks about ([`GoalProgressLoader`]).
    async fn computed(&self, ctx: &Context<'_>) -> Result<Progress> {
        let group = self.group.clone();
        let all: Arc<HashMap<GoalKey, Progress>> = group_once(&self.group, "progress", || async {
            let keys = group.rows::<goal::Model>().iter().cloned().map(GoalKey);
            let loader = ctx.data_unchecked::<Loaders>().get::<GoalProgressLoader>();
            Box::pin(loader.load_many(keys)).await
        })
        .await?;
        all.get(&GoalKey(self.row.clone()))
            .cloned()
            .ok_or_else(|| AppError::NotFound("goal").into())
    }
}

/// A measurable goal of the network (or of one member organisation), with the measure
/// that says which records count and its progress, computed live from the record.
#[Object]
impl Goal {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Goal, self.row.id)
    }
    /// Unique short name for URLs.
    async fn slug(&self) -> &str {
        &self.row.slug
    }
    /// Short title.
    async fn title(&self) -> &str {
        &self.row.title
    }
    /// What reaching it means.
    async fn description(&self) -> &str {
        &self.row.description
    }
    /// The area of work.
    async fn category(&self) -> GoalCategory {
        self.row.category.into()
    }
    /// The first day records count.
    async fn period_start(&self) -> Date {
        self.row.period_start.into()
    }
    /// The last day records count.
    async fn period_end(&self) -> Date {
        self.row.period_end.into()
    }
    /// How many count as reached.
    async fn target(&self) -> i32 {
        self.row.target
    }
    /// Which records count.
    async fn measure(&self) -> GoalMeasure {
        GoalMeasure(Measure::from_json(self.row.measure_kind, &self.row.measure))
    }
    /// How far it has come, computed now from the records the caller may see.
    #[graphql(complexity = "crate::limits::COUNT_COST + child_complexity")]
    async fn progress(&self, ctx: &Context<'_>) -> Result<GoalProgress> {
        Ok(GoalProgress(self.computed(ctx).await?))
    }
    /// Who may read it.
    async fn visibility(&self) -> Visibility {
        self.row.visibility.into()
    }
    /// The organisation whose goal it is; null for a goal of the whole network.
    async fn owner(&self, ctx: &Context<'_>) -> Result<Option<Direct<Organisation>>> {
        let Some(owner) = self.row.owner_id else {
            return Ok(None);
        };
        let key: fn(&goal::Model) -> _ = |g| g.owner_id;
        reference(ctx, &self.group, ("owner", key), owner).await
    }
    /// The progress recorded by hand (MANUAL goals), oldest first.
    async fn progress_entries(&self, ctx: &Context<'_>) -> Result<Vec<GoalProgressEntry>> {
        let ids = self.group.ids().to_vec();
        let all = group_once(&self.group, "progressEntries", || async move {
            domain::entries_of(db(ctx), &ids).await
        })
        .await?;
        Ok(all
            .iter()
            .filter(|e| e.goal_id == self.row.id)
            .cloned()
            .map(GoalProgressEntry)
            .collect())
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
}

/// Loads records by id through the request's loaders, keeping their order.
async fn nodes<N: Member>(ctx: &Context<'_>, ids: &[Uuid]) -> Result<Vec<N>>
where
    ById<N::Row>: Made,
{
    Ok(try_join_all(ids.iter().map(|id| load::<N>(ctx, *id)))
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// Loads counted records as nodes, keeping their order.
async fn counted_nodes(ctx: &Context<'_>, records: &[(Counted, Uuid)]) -> Result<Vec<Node>> {
    let found = try_join_all(records.iter().map(|(counted, id)| async move {
        let id = *id;
        Ok::<_, async_graphql::Error>(match counted {
            Counted::Dialogue => load::<Dialogue>(ctx, id).await?.map(Node::Dialogue),
            Counted::Cooperation => load::<Cooperation>(ctx, id).await?.map(Node::Cooperation),
            Counted::Proposal => load::<Proposal>(ctx, id).await?.map(Node::Proposal),
            Counted::Evidence => load::<Evidence>(ctx, id).await?.map(Node::Evidence),
            Counted::Authority => load::<Authority>(ctx, id).await?.map(Node::Authority),
            Counted::Organisation => load::<Organisation>(ctx, id).await?.map(Node::Organisation),
        })
    }))
    .await?;
    Ok(found.into_iter().flatten().collect())
}

/// Which records count towards a goal: a kind and criteria; criteria left empty do not narrow.
pub struct GoalMeasure(Measure);

/// Which records count toward a goal.
#[Object]
impl GoalMeasure {
    /// What is counted.
    async fn kind(&self) -> GoalMeasureKind {
        self.0.kind.into()
    }
    /// Only dialogues of these kinds.
    async fn dialogue_kinds(&self) -> Vec<DialogueKind> {
        self.0.dialogue_kinds.iter().map(|&k| k.into()).collect()
    }
    /// Only dialogues in these statuses.
    async fn dialogue_statuses(&self) -> Vec<DialogueStatus> {
        self.0.dialogue_statuses.iter().map(|&k| k.into()).collect()
    }
    /// Only dialogues with an authority of these kinds.
    async fn authority_kinds(&self) -> Vec<AuthorityKind> {
        self.0.authority_kinds.iter().map(|&k| k.into()).collect()
    }
    /// For AUTHORITIES_REACHED (and MUNICIPALITIES_COVERED, when given) the authorities to
    /// reach; otherwise only records involving one of these authorities.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn authorities(&self, ctx: &Context<'_>) -> Result<Vec<Authority>> {
        nodes(ctx, &self.0.authorities).await
    }
    /// For ORGANISATION_COVERAGE the organisations to reach (empty: all of the network);
    /// otherwise only records involving one of these organisations.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn organisations(&self, ctx: &Context<'_>) -> Result<Vec<Organisation>> {
        nodes(ctx, &self.0.organisations).await
    }
    /// Only records tagged with one of these themes.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn themes(&self, ctx: &Context<'_>) -> Result<Vec<Theme>> {
        nodes(ctx, &self.0.themes).await
    }
    /// Which municipalities MUNICIPALITIES_COVERED counts (all when null).
    async fn municipalities(&self) -> Option<MunicipalityScope> {
        self.0.municipalities.map(Into::into)
    }
    /// Only cooperations of these kinds.
    async fn cooperation_kinds(&self) -> Vec<CooperationKind> {
        self.0.cooperation_kinds.iter().map(|&k| k.into()).collect()
    }
    /// The statuses a proposal must reach to count (PROPOSAL_COUNT).
    async fn proposal_statuses(&self) -> Vec<ProposalStatus> {
        self.0.proposal_statuses.iter().map(|&k| k.into()).collect()
    }
    /// Only evidence of these kinds.
    async fn evidence_kinds(&self) -> Vec<EvidenceKind> {
        self.0.evidence_kinds.iter().map(|&k| k.into()).collect()
    }
    /// Only evidence reaching at least this far.
    async fn minimum_reach(&self) -> Option<Reach> {
        self.0.minimum_reach.map(Into::into)
    }
}

/// How far a goal has come, computed from the records the caller may see.
pub struct GoalProgress(Progress);

/// One month of a goal's period, for a burn-up chart.
#[derive(SimpleObject)]
pub struct GoalMonth {
    /// The month, as YYYY-MM.
    month: String,
    /// What counted in it.
    count: i64,
    /// What counted from the start of the period to the end of this month.
    cumulative: i64,
}

/// How far a goal has come, computed from the records the caller may see.
#[Object]
impl GoalProgress {
    /// What counts so far; not capped at the target.
    async fn current(&self) -> i64 {
        self.0.current
    }
    /// The goal's target.
    async fn target(&self) -> i32 {
        self.0.target
    }
    /// `current / target`, capped at 1.0 for display.
    async fn ratio(&self) -> f64 {
        self.0.ratio()
    }
    /// Whether `current` has met the target.
    async fn reached(&self) -> bool {
        self.0.reached()
    }
    /// The day the running count rose to the target (and stayed there), from the records;
    /// null while below it.
    async fn reached_on(&self) -> Option<Date> {
        self.0.reached_on.map(Into::into)
    }
    /// False when records the caller may not see would have counted: the progress shown
    /// is then what the caller's view of the record supports.
    async fn complete(&self) -> bool {
        self.0.complete
    }
    /// The records that count (dialogues, cooperations, proposals or evidence), latest first.
    #[graphql(complexity = "crate::limits::page_cost(first, None, child_complexity)")]
    async fn contributing(
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
    ) -> Result<Connection<usize, Node, ContributingTotal>> {
        let size = first.map_or(crate::paging::DEFAULT_PAGE_SIZE as usize, |n| {
            usize::try_from(n).unwrap_or(0)
        });
        let size = size.min(crate::paging::MAX_PAGE_SIZE as usize);
        let start = match after {
            Some(cursor) => {
                cursor.parse::<usize>().map_err(|_| {
                    AppError::bad_input("after", "after is not a cursor of this list")
                })? + 1
            }
            None => 0,
        };
        let records = &self.0.contributing;
        let page: Vec<(usize, (Counted, Uuid))> = records
            .iter()
            .copied()
            .enumerate()
            .skip(start)
            .take(size)
            .collect();
        let has_next = start + page.len() < records.len();
        let found = counted_nodes(ctx, &page.iter().map(|(_, r)| *r).collect::<Vec<_>>()).await?;
        let total = ContributingTotal {
            total_count: i64::try_from(records.len()).unwrap_or(i64::MAX),
        };
        let mut connection = Connection::with_additional_fields(start > 0, has_next, total);
        connection.edges.extend(
            page.iter()
                .map(|(i, _)| *i)
                .zip(found)
                .map(|(i, node)| Edge::new(i, node)),
        );
        Ok(connection)
    }
    /// For measures with a list to reach (authorities, municipalities, organisations): the
    /// members not reached yet.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn missing(&self, ctx: &Context<'_>) -> Result<Vec<Node>> {
        counted_nodes(ctx, &self.0.missing).await
    }
    /// Every month of the period with what counted in it and the running sum.
    async fn by_month(&self) -> Vec<GoalMonth> {
        self.0
            .by_month
            .iter()
            .map(|m| GoalMonth {
                month: m.month.format("%Y-%m").to_string(),
                count: m.count,
                cumulative: m.cumulative,
            })
            .collect()
    }
}

/// How many records count towards a goal, across the pages of `contributing`.
#[derive(SimpleObject)]
pub struct ContributingTotal {
    /// How many records count, across pages.
    total_count: i64,
}

/// Progress recorded by hand on a MANUAL goal.
pub struct GoalProgressEntry(goal_progress_entry::Model);

/// Progress recorded by hand for a MANUAL goal.
#[Object]
impl GoalProgressEntry {
    /// How much was achieved (negative to correct an earlier entry).
    async fn amount(&self) -> i32 {
        self.0.amount
    }
    /// The day it was achieved.
    async fn recorded_on(&self) -> Date {
        self.0.recorded_on.into()
    }
    /// What was achieved.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

/// Fields goals can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::goal::GoalOrderField")]
pub enum GoalOrderField {
    /// Alphabetically by title.
    Title,
    /// By slug.
    Slug,
    /// By the last day of the period.
    PeriodEnd,
    /// By creation time.
    CreatedAt,
    /// By time of the last change.
    UpdatedAt,
}

/// How to order goals; by title when absent.
pub type GoalOrder = Order<GoalOrderField>;

/// Which goals to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct GoalFilter {
    /// Only this category.
    pub category: Option<GoalCategory>,
    /// Only goals whose measure names the theme of this slug.
    pub theme: Option<String>,
    /// Only goals reached (true) or not yet (false), as the caller sees their progress.
    pub reached: Option<bool>,
    /// Only goals of this organisation.
    pub owner_id: Option<ID>,
}

impl Input for GoalFilter {
    type Domain = domain::GoalFilter;

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        Ok(domain::GoalFilter {
            category: self.category.map(Into::into),
            theme: self.theme,
            owner_id: ids::decode_optional(
                NodeType::Organisation,
                self.owner_id,
                "filter.ownerId",
            )?,
            reached: self.reached,
            ids: None,
        })
    }
}

/// Which records count towards a goal. Give only the criteria that apply to `kind`
/// (another is BAD_USER_INPUT naming it); criteria left empty do not narrow.
#[derive(Debug, Clone, InputObject)]
pub struct GoalMeasureInput {
    /// What is counted.
    pub kind: GoalMeasureKind,
    /// Only dialogues of these kinds.
    #[graphql(default)]
    pub dialogue_kinds: Vec<DialogueKind>,
    /// Only dialogues in these statuses.
    #[graphql(default)]
    pub dialogue_statuses: Vec<DialogueStatus>,
    /// Only dialogues with an authority of these kinds.
    #[graphql(default)]
    pub authority_kinds: Vec<AuthorityKind>,
    /// The authorities to reach (AUTHORITIES_REACHED, MUNICIPALITIES_COVERED) or to involve.
    #[graphql(default)]
    pub authority_ids: Vec<ID>,
    /// The organisations to reach (ORGANISATION_COVERAGE) or to involve.
    #[graphql(default)]
    pub organisation_ids: Vec<ID>,
    /// Only records tagged with one of these themes.
    #[graphql(default)]
    pub theme_ids: Vec<ID>,
    /// Which municipalities MUNICIPALITIES_COVERED counts.
    pub municipalities: Option<MunicipalityScope>,
    /// Only cooperations of these kinds.
    #[graphql(default)]
    pub cooperation_kinds: Vec<CooperationKind>,
    /// The statuses a proposal must reach to count (PROPOSAL_COUNT).
    #[graphql(default)]
    pub proposal_statuses: Vec<ProposalStatus>,
    /// Only evidence of these kinds.
    #[graphql(default)]
    pub evidence_kinds: Vec<EvidenceKind>,
    /// Only evidence reaching at least this far.
    pub minimum_reach: Option<Reach>,
}

impl Input for GoalMeasureInput {
    type Domain = Measure;

    fn into_domain(self) -> Result<Measure, AppError> {
        fn all<T: Copy, D: From<T>>(values: &[T]) -> Vec<D> {
            values.iter().map(|&v| v.into()).collect()
        }
        let list = |node_type, ids: &[ID], field| ids::decode_list(node_type, ids, field);
        Ok(Measure {
            kind: self.kind.into(),
            dialogue_kinds: all(&self.dialogue_kinds),
            dialogue_statuses: all(&self.dialogue_statuses),
            authority_kinds: all(&self.authority_kinds),
            authorities: list(
                NodeType::Authority,
                &self.authority_ids,
                "input.measure.authorityIds",
            )?,
            organisations: list(
                NodeType::Organisation,
                &self.organisation_ids,
                "input.measure.organisationIds",
            )?,
            themes: list(NodeType::Theme, &self.theme_ids, "input.measure.themeIds")?,
            municipalities: self.municipalities.map(Into::into),
            cooperation_kinds: all(&self.cooperation_kinds),
            proposal_statuses: all(&self.proposal_statuses),
            evidence_kinds: all(&self.evidence_kinds),
            minimum_reach: self.minimum_reach.map(Into::into),
        })
    }
}

/// Input of `createGoal`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateGoalInput {
    /// Unique short name: 2-64 lowercase letters, digits and single hyphens.
    pub slug: String,
    /// Short title.
    pub title: String,
    /// What reaching it means.
    #[graphql(default)]
    pub description: String,
    /// The area of work.
    pub category: GoalCategory,
    /// The first day records count.
    pub period_start: Date,
    /// The last day records count.
    pub period_end: Date,
    /// How many count as reached (at least 1).
    pub target: i32,
    /// Which records count.
    pub measure: GoalMeasureInput,
    /// Who may read it; NETWORK when absent, so nothing becomes public by accident.
    #[graphql(default_with = "Visibility::Network")]
    pub visibility: Visibility,
    /// The organisation whose goal it is (its editors write it); none for a goal of the
    /// whole network (admins write it).
    pub owner_id: Option<ID>,
}

impl Input for CreateGoalInput {
    type Domain = (goal::ActiveModel, Measure);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let owner = ids::decode_optional(NodeType::Organisation, self.owner_id, "input.ownerId")?;
        let measure = self.measure.into_domain()?;
        let row = goal::ActiveModel {
            slug: Set(self.slug),
            title: Set(self.title),
            description: Set(self.description),
            category: Set(self.category.into()),
            period_start: Set(self.period_start.into()),
            period_end: Set(self.period_end.into()),
            target: Set(self.target),
            visibility: Set(self.visibility.into()),
            owner_id: Set(owner),
            ..Default::default()
        };
        Ok((row, measure))
    }
}

/// Input of `updateGoal`: only the fields given change; a measure given replaces the old one.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateGoalInput {
    /// The goal's id.
    pub id: ID,
    /// The version the change was based on; a newer stored version is a CONFLICT.
    pub expected_version: i32,
    /// New slug.
    pub slug: Option<String>,
    /// New title.
    pub title: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New category.
    pub category: Option<GoalCategory>,
    /// New first day.
    pub period_start: Option<Date>,
    /// New last day.
    pub period_end: Option<Date>,
    /// New target.
    pub target: Option<i32>,
    /// New measure.
    pub measure: Option<GoalMeasureInput>,
    /// New visibility.
    pub visibility: Option<Visibility>,
    /// New owner, or `null` to make it a goal of the whole network (admins only).
    pub owner_id: MaybeUndefined<ID>,
}

impl Input for UpdateGoalInput {
    type Domain = ((Uuid, i32), goal::ActiveModel, Option<Measure>);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let id = versioned(NodeType::Goal, &self.id, self.expected_version)?;
        let owner = match self.owner_id {
            MaybeUndefined::Undefined => sea_orm::ActiveValue::NotSet,
            MaybeUndefined::Null => Set(None),
            MaybeUndefined::Value(id) => Set(Some(ids::decode(
                NodeType::Organisation,
                &id,
                "input.ownerId",
            )?)),
        };
        let measure = self.measure.map(Input::into_domain).transpose()?;
        let row = goal::ActiveModel {
            slug: given(self.slug),
            title: given(self.title),
            description: given(self.description),
            category: given(self.category.map(Into::into)),
            period_start: given(self.period_start.map(Into::into)),
            period_end: given(self.period_end.map(Into::into)),
            target: given(self.target),
            visibility: given(self.visibility.map(Into::into)),
            owner_id: owner,
            ..Default::default()
        };
        Ok((id, row, measure))
    }
}

/// Input of `deleteGoal`.
#[derive(Debug, Clone, InputObject)]
pub struct DeleteGoalInput {
    /// The goal's id.
    pub id: ID,
}

/// Input of `recordGoalProgress`.
#[derive(Debug, Clone, InputObject)]
pub struct RecordGoalProgressInput {
    /// The goal's id; its measure must be MANUAL.
    pub goal_id: ID,
    /// How much was achieved (negative to correct an earlier entry; not 0).
    pub amount: i32,
    /// The day it was achieved; counts when inside the goal's period.
    pub recorded_on: Date,
    /// What was achieved.
    pub note: Option<String>,
}

/// Changes to goals.
#[derive(Default)]
pub struct GoalMutation;

#[Object]
impl GoalMutation {
    /// Sets a goal.
    async fn create_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: CreateGoalInput,
    ) -> Result<Goal> {
        domain::may_write(principal(ctx))?;
        let (row, measure) = input.into_domain()?;
        Ok(Goal::single(
            domain::create(db(ctx), principal(ctx), row, measure).await?,
        ))
    }
    /// Changes a goal.
    async fn update_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: UpdateGoalInput,
    ) -> Result<Goal> {
        domain::may_write(principal(ctx))?;
        let (id, row, measure) = input.into_domain()?;
        Ok(Goal::single(
            domain::update(db(ctx), principal(ctx), id, row, measure).await?,
        ))
    }
    /// Removes a goal with its recorded progress; returns it as it was.
    async fn delete_goal(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: DeleteGoalInput,
    ) -> Result<Goal> {
        domain::may_write(principal(ctx))?;
        let id = ids::decode(NodeType::Goal, &input.id, "input.id")?;
        Ok(Goal::single(
            domain::delete(db(ctx), principal(ctx), id).await?,
        ))
    }
    /// Records progress by hand on a MANUAL goal; returns the goal with its new progress.
    async fn record_goal_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: RecordGoalProgressInput,
    ) -> Result<Goal> {
        domain::may_write(principal(ctx))?;
        let id = ids::decode(NodeType::Goal, &input.goal_id, "input.goalId")?;
        let entry = Entry {
            amount: input.amount,
            recorded_on: input.recorded_on.into(),
            note: input.note,
        };
        Ok(Goal::single(
            domain::record_progress(db(ctx), principal(ctx), id, entry).await?,
        ))
    }
}
