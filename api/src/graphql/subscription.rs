//! Live subscriptions over the `graphql-transport-ws` protocol ([`super::websocket`]): each
//! change committed to the record ([`crate::changes`]) is reloaded under the subscriber's
//! own visibility (and filter), so a record the subscriber may not see never reaches it.

use super::authority::Authority;
use super::connection::{Input, Member, db, principal};
use super::cooperation::Cooperation;
use super::dialogue::{Dialogue, DialogueFilter};
use super::evidence::Evidence;
use super::goal::Goal;
use super::ids::{self, NodeType};
use super::organisation::Organisation;
use super::proposal::{Proposal, ProposalFilter};
use super::query::Node;
use super::theme::Theme;
use super::websocket::{Running, SUBSCRIPTIONS_PER_CONNECTION};
use crate::auth::Principal;
use crate::changes::{Change, Changes, Event, row_if};
use crate::records::ListFilter;
use async_graphql::{Context, Enum, ID, Object, Result, Subscription};
use entity::RecordType as Stored;
use futures_util::Stream;
use sea_orm::{Condition, DatabaseConnection};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// The kinds of record a subscription follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum RecordType {
    /// Member organisations.
    Organisation,
    /// Authorities.
    Authority,
    /// Dialogues.
    Dialogue,
    /// Proposals.
    Proposal,
    /// Themes.
    Theme,
    /// Impact evidence.
    Evidence,
    /// Local cooperations.
    Cooperation,
    /// Goals.
    Goal,
}

impl RecordType {
    fn of(stored: Stored) -> Option<Self> {
        Some(match stored {
            Stored::Organisation => Self::Organisation,
            Stored::Authority => Self::Authority,
            Stored::Dialogue => Self::Dialogue,
            Stored::Proposal => Self::Proposal,
            Stored::Theme => Self::Theme,
            Stored::Evidence => Self::Evidence,
            Stored::Cooperation => Self::Cooperation,
            Stored::Goal => Self::Goal,
            Stored::User | Stored::ApiToken | Stored::Session | Stored::Webhook => return None,
        })
    }
}

/// What happened to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ChangeAction {
    /// Created or changed.
    Saved,
    /// Deleted.
    Deleted,
}

/// One change to a record the subscriber may see.
pub struct RecordChange {
    record_type: RecordType,
    id: ID,
    action: ChangeAction,
    node: Option<Node>,
}

/// One change to a record the subscriber may see.
#[Object]
impl RecordChange {
    /// The kind of record.
    async fn record_type(&self) -> RecordType {
        self.record_type
    }
    /// The record's global id.
    async fn id(&self) -> &ID {
        &self.id
    }
    /// What happened.
    async fn action(&self) -> ChangeAction {
        self.action
    }
    /// The record as it is now; null when it was deleted.
    async fn node(&self) -> Option<&Node> {
        self.node.as_ref()
    }
}

/// Live changes to the record.
#[derive(Default)]
pub struct Subscription;

/// The changes committed from now on, each turned into an item by `item` (`None`: the
/// subscriber does not get it).
fn follow<T, F, Fut>(ctx: &Context<'_>, item: F) -> Result<impl Stream<Item = T> + use<T, F, Fut>>
where
    F: Fn(Change) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Option<T>> + Send,
    T: Send + 'static,
{
    let changes = ctx.data::<Arc<Changes>>()?;
    let slot = ctx.data::<Running>()?.take().ok_or_else(|| {
        async_graphql::Error::new(format!(
            "at most {SUBSCRIPTIONS_PER_CONNECTION} subscriptions per connection"
        ))
    })?;
    let receiver = changes.subscribe();
    Ok(futures_util::stream::unfold(
        (receiver, item, slot),
        |(mut receiver, item, slot)| async move {
            loop {
                match receiver.recv().await {
                    Ok(Event::Change(change)) => {
                        if let Some(next) = item(change).await {
                            return Some((next, (receiver, item, slot)));
                        }
                    }
                    // Missed changes are gone; the next ones still come.
                    Ok(Event::Gap) => {}
                    // Fell behind: the missed changes are gone, the next ones still come.
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    ))
}

/// The row `id` of `E` if `condition` keeps it, wrapped as a GraphQL object.
async fn load<E, T>(
    db: &DatabaseConnection,
    id: uuid::Uuid,
    condition: Condition,
    wrap: impl FnOnce(E::Model) -> T,
) -> Option<T>
where
    E: sea_orm::EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<uuid::Uuid>,
{
    row_if::<E>(db, id, condition).await.ok()?.map(wrap)
}

/// The record of `change` as `principal` may see it, as a node.
async fn node_of(db: &DatabaseConnection, principal: &Principal, change: Change) -> Option<Node> {
    use entity::{authority, cooperation, dialogue, evidence, goal, organisation, proposal, theme};
    let id = change.id;
    let all = Condition::all;
    match change.record_type {
        Stored::Organisation => {
            load::<organisation::Entity, _>(db, id, all(), |row| {
                Node::Organisation(Organisation::single(row))
            })
            .await
        }
        Stored::Authority => {
            load::<authority::Entity, _>(db, id, all(), |row| {
                Node::Authority(Authority::single(row))
            })
            .await
        }
        Stored::Theme => {
            load::<theme::Entity, _>(db, id, all(), |row| Node::Theme(Theme::single(row))).await
        }
        Stored::Dialogue => {
            let visible = crate::dialogue::visible(principal);
            load::<dialogue::Entity, _>(db, id, visible, |row| {
                Node::Dialogue(Dialogue::single(row))
            })
            .await
        }
        Stored::Proposal => {
            let visible = crate::proposal::visible(principal);
            load::<proposal::Entity, _>(db, id, visible, |row| {
                Node::Proposal(Proposal::single(row))
            })
            .await
        }
        Stored::Evidence => {
            let visible = crate::evidence::visible(principal);
            load::<evidence::Entity, _>(db, id, visible, |row| {
                Node::Evidence(Evidence::single(row))
            })
            .await
        }
        Stored::Cooperation => {
            let visible = crate::cooperation::visible(principal);
            load::<cooperation::Entity, _>(db, id, visible, |row| {
                Node::Cooperation(Cooperation::single(row))
            })
            .await
        }
        Stored::Goal => {
            let visible = crate::goal::visible(principal);
            load::<goal::Entity, _>(db, id, visible, |row| Node::Goal(Goal::single(row))).await
        }
        Stored::User | Stored::ApiToken | Stored::Session | Stored::Webhook => None,
    }
}

/// The saved records of `record_type` that `condition` (the caller's filter and visibility)
/// keeps, as they are committed.
fn saved<E, T>(
    ctx: &Context<'_>,
    record_type: Stored,
    condition: Condition,
    wrap: fn(E::Model) -> T,
) -> Result<impl Stream<Item = T> + use<E, T>>
where
    E: sea_orm::EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<uuid::Uuid>,
    T: Send + 'static,
{
    let db = db(ctx).clone();
    follow(ctx, move |change| {
        let (db, condition) = (db.clone(), condition.clone());
        async move {
            if change.record_type != record_type || change.deleted() {
                return None;
            }
            load::<E, T>(&db, change.id, condition, wrap).await
        }
    })
}

#[Subscription]
impl Subscription {
    /// Changes to records of the given types (every type when omitted) that the caller may
    /// see, as they are committed. A deletion reaches only admins (it can no longer be
    /// checked against the record).
    async fn record_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The kinds of record to follow; every kind when omitted.")] types: Option<
            Vec<RecordType>,
        >,
    ) -> Result<impl Stream<Item = RecordChange>> {
        let db = db(ctx).clone();
        let principal = principal(ctx).clone();
        follow(ctx, move |change| {
            let (db, principal, types) = (db.clone(), principal.clone(), types.clone());
            async move {
                let record_type = RecordType::of(change.record_type)?;
                if types
                    .as_ref()
                    .is_some_and(|types| !types.contains(&record_type))
                {
                    return None;
                }
                let node_type = NodeType::of(change.record_type)?;
                let id = ids::encode(node_type, change.id);
                if change.deleted() {
                    return principal.admin.then_some(RecordChange {
                        record_type,
                        id,
                        action: ChangeAction::Deleted,
                        node: None,
                    });
                }
                let node = node_of(&db, &principal, change).await?;
                Some(RecordChange {
                    record_type,
                    id,
                    action: ChangeAction::Saved,
                    node: Some(node),
                })
            }
        })
    }

    /// Dialogues, as they are created or changed, that the caller may see and `filter`
    /// keeps.
    async fn dialogue_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which items to return; all that the caller may see when omitted.")]
        filter: Option<DialogueFilter>,
    ) -> Result<impl Stream<Item = Dialogue>> {
        let condition = filter.into_domain()?.condition(principal(ctx))?;
        saved::<entity::dialogue::Entity, _>(ctx, Stored::Dialogue, condition, Dialogue::single)
    }

    /// Proposals, as they are created, changed or moved along the lifecycle, that the
    /// caller may see and `filter` keeps.
    async fn proposal_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which items to return; all that the caller may see when omitted.")]
        filter: Option<ProposalFilter>,
    ) -> Result<impl Stream<Item = Proposal>> {
        let condition = filter.into_domain()?.condition(principal(ctx))?;
        saved::<entity::proposal::Entity, _>(ctx, Stored::Proposal, condition, Proposal::single)
    }

    /// The goal of `slug`, with its progress, whenever its progress as the caller sees it
    /// moves (what counts, the day it was reached) or the goal itself changes, if the
    /// caller may see the goal. Other changes send nothing: nothing tells the caller of a
    /// change to a record it cannot see.
    async fn goal_progress_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The unique short name.")] slug: String,
    ) -> Result<impl Stream<Item = Goal>> {
        let db = db(ctx).clone();
        let principal = principal(ctx).clone();
        // Where it stood when last sent (or at the subscription).
        let last = Arc::new(std::sync::Mutex::new(None));
        let stream = {
            let (db, principal, slug, last) =
                (db.clone(), principal.clone(), slug.clone(), last.clone());
            follow(ctx, move |change| {
                let (db, principal, slug, last) =
                    (db.clone(), principal.clone(), slug.clone(), last.clone());
                async move {
                    if !matches!(
                        change.record_type,
                        Stored::Dialogue
                            | Stored::Proposal
                            | Stored::Evidence
                            | Stored::Cooperation
                            | Stored::Goal
                    ) {
                        return None;
                    }
                    // Computed as the caller sees it: a change to a record it cannot see
                    // moves nothing here. (A record hidden from it moves its count down.)
                    let (row, now) = standing(&db, &principal, &slug).await?;
                    let mut last = last.lock().ok()?;
                    if last.as_ref() == Some(&now) {
                        return None;
                    }
                    *last = Some(now);
                    Some(Goal::single(row))
                }
            })?
        };
        // Read after following began, so that no change falls between the two.
        let initial = standing(&db, &principal, &slug).await.map(|(_, now)| now);
        if let Ok(mut last) = last.lock() {
            *last = initial;
        }
        Ok(stream)
    }
}

/// Where a goal stands for a caller: its version, and its progress as the caller sees it
/// (not whether that is complete, which records the caller cannot see move).
type Standing = (i32, i64, Option<chrono::NaiveDate>);

/// The goal of `slug` and where it stands, if the caller may see it.
async fn standing(
    db: &DatabaseConnection,
    principal: &Principal,
    slug: &str,
) -> Option<(entity::goal::Model, Standing)> {
    let row = crate::goal::by_slug(db, principal, slug).await.ok()??;
    let progress = crate::goal::progress::of_now(db, principal, std::slice::from_ref(&row))
        .await
        .ok()?
        .remove(&row.id)?;
    let now = (row.version, progress.current, progress.reached_on);
    Some((row, now))
}
