//! Goals: measurable targets of the network or of one organisation, each with a measure
//! that says as data which records count ([`measure`]); their progress is computed from the
//! record when asked ([`progress`]). Network goals are the admins'; an organisation's own
//! goals are its editors'.

pub mod facts;
pub mod measure;
pub mod progress;

use crate::audit;
use crate::auth::{self, Guarded, Principal};
use crate::db::{Connection, Transactional};
use crate::error::{AppError, AppResult};
use crate::paging::{self, Direction, Sort, column};
use crate::records::{self, Link, ListFilter, Unique};
use crate::sortable;
use crate::validate::{self, NAME_MAX, SUMMARY_MAX};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{AuditAction, GoalCategory, goal, goal_progress_entry, goal_reference};
use measure::Measure;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Condition, ExprTrait};
use sea_orm::{ActiveEnum, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

sortable! {
    /// Fields goals can be ordered by.
    pub enum GoalOrderField, GoalKey for goal {
        /// Alphabetically by title.
        Title(crate::collation::Swedish) = title,
        /// By slug.
        Slug(String) = slug,
        /// By the last day of the period.
        PeriodEnd(NaiveDate) = period_end,
        /// By creation time.
        CreatedAt(DateTime<Utc>) = created_at,
        /// By time of the last change.
        UpdatedAt(DateTime<Utc>) = updated_at,
    }
}

/// The order of lists of these when the client gives none: by title.
pub const DEFAULT_ORDER: Sort<GoalOrderField> = Sort::new(GoalOrderField::Title, Direction::Asc);

/// Writing goals needs an editor role somewhere (or admin); which goals, each write checks
/// on the owner.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN for anyone else who may not.
pub fn may_write(principal: &Principal) -> AppResult<()> {
    auth::require_writer(principal)
}

/// The goals the principal may read.
pub fn visible(principal: &Principal) -> Condition {
    auth::visible(principal, Guarded::Goal)
}

/// A goal of the network (no owner) is written by admins; an organisation's by its editors.
fn require_owner(principal: &Principal, owner: Option<Uuid>) -> AppResult<()> {
    match owner {
        None => auth::require_admin(principal).map_err(|error| match error {
            AppError::Forbidden(_) => {
                AppError::Forbidden("only an admin may write the network's own goals".into())
            }
            other => other,
        }),
        Some(owner) => auth::require_editor_of_any(principal, &[owner]),
    }
}

/// Which goals to list.
#[derive(Debug, Clone, Default)]
pub struct GoalFilter {
    /// Only this category.
    pub category: Option<GoalCategory>,
    /// Only goals whose measure names the theme of this slug.
    pub theme: Option<String>,
    /// Only goals of this organisation.
    pub owner_id: Option<Uuid>,
    /// Only goals reached (true) or not yet (false), as the caller sees their progress;
    /// turned into `ids` by [`resolve`] before the list is read.
    pub reached: Option<bool>,
    /// Only these goals.
    pub ids: Option<Vec<Uuid>>,
}

impl ListFilter for GoalFilter {
    type Row = goal::Model;

    fn searches(&self) -> bool {
        false
    }

    fn condition(&self, principal: &Principal) -> AppResult<Condition> {
        use goal::Column;
        let mut condition = Condition::all();
        if let Some(category) = self.category {
            condition =
                condition.add(column(Column::Category).eq(paging::vocabulary(category.to_value())));
        }
        if let Some(slug) = &self.theme {
            condition = condition.add(crate::theme::tagged(
                (
                    goal_reference::Column::GoalId.as_column_ref(),
                    goal_reference::Column::RecordId.as_column_ref(),
                ),
                Column::Id.as_column_ref(),
                slug,
            ));
        }
        if let Some(owner) = self.owner_id {
            condition = condition.add(column(Column::OwnerId).eq(owner));
        }
        if let Some(ids) = &self.ids {
            condition = condition.add(column(Column::Id).is_in(ids.clone()));
        }
        Ok(condition.add(visible(principal)))
    }
}

/// Turns the `reached` part of `filter` into the ids of the goals that match it, computing
/// the progress of every goal the rest of the filter selects (a bounded number of
/// statements, as for a page of goals).
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn resolve(
    db: &(impl Connection + sea_orm::StreamTrait),
    principal: &Principal,
    mut filter: GoalFilter,
) -> AppResult<GoalFilter> {
    let Some(reached) = filter.reached.take() else {
        return Ok(filter);
    };
    let goals = goal::Entity::find()
        .filter(filter.condition(principal)?)
        .all(db)
        .await?;
    let progress = progress::of_now(db, principal, &goals).await?;
    filter.ids = Some(
        goals
            .iter()
            .filter(|g| progress.get(&g.id).is_some_and(|p| p.reached() == reached))
            .map(|g| g.id)
            .collect(),
    );
    Ok(filter)
}

/// Finds a goal by slug, if the caller may see it.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_slug(
    db: &impl Connection,
    principal: &Principal,
    slug: &str,
) -> AppResult<Option<goal::Model>> {
    Ok(goal::Entity::find()
        .filter(goal::Column::Slug.eq(slug))
        .filter(visible(principal))
        .one(db)
        .await?)
}

/// The amounts recorded by hand on `goals`, oldest first.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn entries_of(
    db: &impl Connection,
    goals: &[Uuid],
) -> AppResult<Vec<goal_progress_entry::Model>> {
    Ok(goal_progress_entry::Entity::find()
        .filter(goal_progress_entry::Column::GoalId.is_in(goals.to_vec()))
        .order_by_asc(goal_progress_entry::Column::RecordedOn)
        .order_by_asc(goal_progress_entry::Column::Id)
        .all(db)
        .await?)
}

/// Refuses to delete a record (`what`, such as "theme") that a goal's measure names,
/// naming the goals.
///
/// # Errors
/// CONFLICT naming the goals.
pub async fn ensure_unnamed(db: &impl Connection, what: &str, id: Uuid) -> AppResult<()> {
    let ids: Vec<Uuid> = goal_reference::Entity::find()
        .filter(goal_reference::Column::RecordId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.goal_id)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    let goals = goal::Entity::find()
        .filter(goal::Column::Id.is_in(ids))
        .order_by_asc(goal::Column::Slug)
        .all(db)
        .await?;
    let names: Vec<String> = goals
        .iter()
        .map(|g| format!("\"{}\" ({})", g.slug, g.title))
        .collect();
    Err(AppError::Conflict(format!(
        "{what} is named by the measure of goal {}; change the goal first",
        names.join(", ")
    )))
}

const SLUG_TAKEN: Unique = ("input.slug", "a goal with this slug already exists");

/// The link from a goal to the records its measure names (which then cannot be deleted).
pub(crate) fn references() -> Link {
    Link::new(
        goal_reference::Column::GoalId,
        goal_reference::Column::RecordId,
        "input.measure",
    )
}

/// Checks the fields a new or changed goal gives, with its measure, as they will be
/// together (`current` is the stored row of an update).
async fn check(
    db: &impl Connection,
    row: &mut goal::ActiveModel,
    measure: Option<&Measure>,
    current: Option<&goal::Model>,
) -> AppResult<()> {
    validate::given(&mut row.slug, |v| validate::slug("input.slug", &v))?;
    validate::given(&mut row.title, |v| {
        validate::text("input.title", &v, NAME_MAX)
    })?;
    validate::given(&mut row.description, |v| {
        Ok(
            validate::optional_text("input.description", Some(&v), SUMMARY_MAX)?
                .unwrap_or_default(),
        )
    })?;
    validate::given(&mut row.period_start, |v| {
        validate::date("input.periodStart", v)
    })?;
    validate::given(&mut row.period_end, |v| {
        validate::date("input.periodEnd", v)
    })?;
    let start = records::as_it_will_be(&row.period_start, current.map(|c| c.period_start));
    let end = records::as_it_will_be(&row.period_end, current.map(|c| c.period_end));
    if let (Some(start), Some(end)) = (start, end)
        && end < start
    {
        return Err(AppError::bad_input(
            "input.periodEnd",
            "input.periodEnd must not be before input.periodStart",
        ));
    }
    let target = records::as_it_will_be(&row.target, current.map(|c| c.target)).unwrap_or(1);
    if target < 1 {
        return Err(AppError::bad_input(
            "input.target",
            "input.target must be at least 1",
        ));
    }
    let stored = current.map(|c| Measure::from_json(c.measure_kind, &c.measure));
    if let Some(measure) = measure.or(stored.as_ref()) {
        measure.check(db, target).await?;
    }
    if let Some(measure) = measure {
        row.measure_kind = Set(measure.kind);
        row.measure = Set(measure.to_json());
    }
    Ok(())
}

/// Sets a goal from `row`, which sets every field but the id, the version, the times and
/// the measure, and `measure`.
///
/// # Errors
/// UNAUTHENTICATED/FORBIDDEN unless admin (network goals) or editor of the owner;
/// BAD_USER_INPUT for invalid fields or a measure naming unknown records.
pub async fn create(
    db: &impl Transactional,
    principal: &Principal,
    mut row: goal::ActiveModel,
    measure: Measure,
) -> AppResult<goal::Model> {
    may_write(principal)?;
    let owner = row.owner_id.clone().take().flatten();
    require_owner(principal, owner)?;
    if let Some(owner) = owner {
        records::ensure_exist::<entity::organisation::Model>(
            db,
            &[owner],
            Condition::all(),
            "input.ownerId",
        )
        .await?;
    }
    check(db, &mut row, Some(&measure), None).await?;
    records::stamp_new::<goal::Entity>(&mut row);
    let txn = records::begin_write(db).await?;
    let mut changes = audit::changes(&row);
    let created = row
        .insert(&txn)
        .await
        .map_err(records::on_unique(SLUG_TAKEN.0, SLUG_TAKEN.1))?;
    let lists = [Some(measure.named())];
    records::write_lists(&txn, created.id, &[references()], &lists, &mut changes).await?;
    audit::commit(txn, principal, AuditAction::CreateGoal, created.id, changes).await?;
    Ok(created)
}

/// Changes the fields `row` sets on goal `id` and, when given, its measure, if nobody else
/// has since `expected_version`.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller may write the goal as
/// it is and as it will be; BAD_USER_INPUT; CONFLICT on a stale version.
pub async fn update(
    db: &impl Transactional,
    principal: &Principal,
    (id, expected_version): (Uuid, i32),
    mut row: goal::ActiveModel,
    measure: Option<Measure>,
) -> AppResult<goal::Model> {
    may_write(principal)?;
    let txn = records::begin_write(db).await?;
    let current =
        records::visible_or_missing::<goal::Model>(&txn, id, visible(principal), "goal").await?;
    require_owner(principal, current.owner_id)?;
    if let sea_orm::ActiveValue::Set(owner) = row.owner_id {
        require_owner(principal, owner)?;
        if let Some(owner) = owner {
            records::ensure_exist::<entity::organisation::Model>(
                &txn,
                &[owner],
                Condition::all(),
                "input.ownerId",
            )
            .await?;
        }
    }
    check(&txn, &mut row, measure.as_ref(), Some(&current)).await?;
    let mut changes = audit::changes(&row);
    let updated =
        records::versioned_update::<goal::Entity, _>(&txn, row, id, expected_version, "goal")
            .await
            .map_err(|error| match error {
                records::UpdateError::Db(e) => records::on_unique(SLUG_TAKEN.0, SLUG_TAKEN.1)(e),
                records::UpdateError::App(e) => e,
            })?;
    let lists = [measure.map(|m| m.named())];
    records::write_lists(&txn, id, &[references()], &lists, &mut changes).await?;
    audit::commit(txn, principal, AuditAction::UpdateGoal, id, changes).await?;
    Ok(updated)
}

/// Removes a goal with its recorded progress; returns it as it was.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller may write it.
pub async fn delete(
    db: &impl Transactional,
    principal: &Principal,
    id: Uuid,
) -> AppResult<goal::Model> {
    may_write(principal)?;
    let txn = records::begin_write(db).await?;
    let current =
        records::visible_or_missing::<goal::Model>(&txn, id, visible(principal), "goal").await?;
    require_owner(principal, current.owner_id)?;
    records::delete_unreferenced_in::<goal::Entity, _>(
        txn,
        principal,
        id,
        "goal",
        &[],
        AuditAction::DeleteGoal,
    )
    .await
}

/// Progress recorded by hand.
#[derive(Debug, Clone)]
pub struct Entry {
    /// How much was achieved (a negative amount corrects an earlier entry).
    pub amount: i32,
    /// The day it was achieved.
    pub recorded_on: NaiveDate,
    /// What was achieved.
    pub note: Option<String>,
}

/// Records progress on a MANUAL goal; the entries are kept as its history. Returns the goal.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller may write the goal;
/// BAD_USER_INPUT for a goal that is not MANUAL, an amount of 0, or a bad date or note.
pub async fn record_progress(
    db: &impl Transactional,
    principal: &Principal,
    id: Uuid,
    entry: Entry,
) -> AppResult<goal::Model> {
    may_write(principal)?;
    let recorded_on = validate::date("input.recordedOn", entry.recorded_on)?;
    let note = validate::optional_text("input.note", entry.note.as_deref(), SUMMARY_MAX)?;
    if entry.amount == 0 {
        return Err(AppError::bad_input(
            "input.amount",
            "input.amount must not be 0",
        ));
    }
    let txn = records::begin_write(db).await?;
    let goal =
        records::visible_or_missing::<goal::Model>(&txn, id, visible(principal), "goal").await?;
    require_owner(principal, goal.owner_id)?;
    if goal.measure_kind != entity::GoalMeasureKind::Manual {
        return Err(AppError::bad_input(
            "input.goalId",
            format!(
                "progress is recorded by hand only on MANUAL goals; this goal's measure is {}, counted from the record",
                goal.measure_kind.to_value()
            ),
        ));
    }
    let row = goal_progress_entry::ActiveModel {
        id: Set(Uuid::now_v7()),
        goal_id: Set(id),
        amount: Set(entry.amount),
        recorded_on: Set(recorded_on),
        note: Set(note),
        created_at: Set(validate::now()),
    };
    let changes = audit::changes(&row);
    row.insert(&txn).await?;
    audit::commit(txn, principal, AuditAction::RecordGoalProgress, id, changes).await?;
    Ok(goal)
}
