//! Local cooperation between network organisations in a municipality or region. Editors of
//! a taking-part organisation write it, as it is and as it will be.

use crate::audit;
use crate::auth::{self, Guarded, Principal};
use crate::db::{Connection, Transactional};
use crate::error::{AppError, AppResult};
use crate::paging::{self, Direction, Sort, column, linked};
use crate::records::{self, Link, ListFilter, Lists};
use crate::sortable;
use crate::validate::{self, NAME_MAX, SUMMARY_MAX};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    AuditAction, AuthorityKind, CooperationKind, authority, cooperation, cooperation_organisation,
    cooperation_theme, organisation,
};
use sea_orm::sea_query::{Condition, ExprTrait};
use sea_orm::{ActiveEnum, ActiveModelTrait, ActiveValue, ColumnTrait};
use uuid::Uuid;

sortable! {
    /// Fields cooperations can be ordered by.
    pub enum CooperationOrderField, CooperationKey for cooperation {
        /// By the day it began.
        EstablishedOn(NaiveDate) = established_on,
        /// Alphabetically by title.
        Title(crate::collation::Swedish) = title,
        /// By creation time.
        CreatedAt(DateTime<Utc>) = created_at,
        /// By time of the last change.
        UpdatedAt(DateTime<Utc>) = updated_at,
    }
}

/// The order of lists of these when the client gives none: latest begun first.
pub const DEFAULT_ORDER: Sort<CooperationOrderField> =
    Sort::new(CooperationOrderField::EstablishedOn, Direction::Desc);

/// Writing cooperations needs an editor role somewhere (or admin); which, each write
/// checks on the record itself.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN for anyone else who may not.
pub fn may_write(principal: &Principal) -> AppResult<()> {
    auth::require_writer(principal)
}

/// The cooperations the principal may read.
pub fn visible(principal: &Principal) -> Condition {
    auth::visible(principal, Guarded::Cooperation)
}

/// Which cooperations to list.
#[derive(Debug, Clone, Default)]
pub struct CooperationFilter {
    /// Only this kind.
    pub kind: Option<CooperationKind>,
    /// Only cooperations in this municipality or region.
    pub authority_id: Option<Uuid>,
    /// Only cooperations this organisation takes part in.
    pub organisation_id: Option<Uuid>,
    /// Only cooperations tagged with the theme of this slug.
    pub theme: Option<String>,
    /// Only cooperations in a metropolitan municipality (true) or elsewhere (false).
    pub metropolitan: Option<bool>,
    /// Only cooperations active on this day: begun on or before it, not ended before it.
    pub active_on: Option<NaiveDate>,
}

impl ListFilter for CooperationFilter {
    type Row = cooperation::Model;

    fn searches(&self) -> bool {
        false
    }

    fn condition(&self, principal: &Principal) -> AppResult<Condition> {
        use cooperation::Column;
        let mut condition = Condition::all();
        if let Some(kind) = self.kind {
            condition = condition.add(column(Column::Kind).eq(paging::vocabulary(kind.to_value())));
        }
        if let Some(id) = self.authority_id {
            condition = condition.add(column(Column::AuthorityId).eq(id));
        }
        if let Some(id) = self.organisation_id {
            condition = condition.add(links()[0].holds(Column::Id.as_column_ref(), id));
        }
        if let Some(slug) = &self.theme {
            condition = condition.add(crate::theme::tagged(
                (
                    cooperation_theme::Column::CooperationId.as_column_ref(),
                    cooperation_theme::Column::ThemeId.as_column_ref(),
                ),
                Column::Id.as_column_ref(),
                slug,
            ));
        }
        if let Some(metropolitan) = self.metropolitan {
            condition = condition.add(linked(
                authority::Column::Id.as_column_ref(),
                Column::AuthorityId.as_column_ref(),
                column(authority::Column::IsMetropolitan).eq(paging::vocabulary(metropolitan)),
            ));
        }
        if let Some(day) = self.active_on {
            validate::date("filter.activeOn", day)?;
            condition = condition.add(column(Column::EstablishedOn).lte(day)).add(
                Condition::any()
                    .add(column(Column::EndedOn).is_null())
                    .add(column(Column::EndedOn).gte(day)),
            );
        }
        Ok(condition.add(visible(principal)))
    }
}

/// The link tables of a cooperation, in the order of its [`Lists`]: the organisations
/// taking part, its themes.
pub fn links() -> [Link; 2] {
    [
        Link::new(
            cooperation_organisation::Column::CooperationId,
            cooperation_organisation::Column::OrganisationId,
            "input.organisationIds",
        ),
        Link::new(
            cooperation_theme::Column::CooperationId,
            cooperation_theme::Column::ThemeId,
            "input.themeIds",
        ),
    ]
}

/// Checks the lists that are given: known organisations (at least one), known themes.
async fn check_lists(db: &impl Connection, lists: &Lists<2>) -> AppResult<()> {
    let [organisations, themes] = lists;
    if organisations.as_ref().is_some_and(Vec::is_empty) {
        return Err(AppError::bad_input(
            "input.organisationIds",
            "a cooperation needs at least one network organisation",
        ));
    }
    let given = |list: &Option<Vec<Uuid>>| list.clone().unwrap_or_default();
    records::ensure_exist::<organisation::Model>(
        db,
        &given(organisations),
        Condition::all(),
        "input.organisationIds",
    )
    .await?;
    crate::theme::ensure_exist(db, &given(themes), "input.themeIds").await
}

/// Checks the fields a new or changed cooperation gives; `current` is the stored row of an
/// update, so that the dates are checked as they will be together.
async fn check(
    db: &impl Connection,
    row: &mut cooperation::ActiveModel,
    current: Option<&cooperation::Model>,
) -> AppResult<()> {
    validate::given(&mut row.title, |v| {
        validate::text("input.title", &v, NAME_MAX)
    })?;
    validate::given(&mut row.summary, |v| {
        validate::text("input.summary", &v, SUMMARY_MAX)
    })?;
    validate::given(&mut row.established_on, |v| {
        validate::date("input.establishedOn", v)
    })?;
    validate::given(&mut row.ended_on, |v| {
        v.map(|v| validate::date("input.endedOn", v)).transpose()
    })?;
    let established =
        records::as_it_will_be(&row.established_on, current.map(|c| c.established_on));
    let ended = records::as_it_will_be(&row.ended_on, current.map(|c| c.ended_on)).flatten();
    if let (Some(established), Some(ended)) = (established, ended)
        && ended < established
    {
        return Err(AppError::bad_input(
            "input.endedOn",
            "input.endedOn must not be before input.establishedOn",
        ));
    }
    if let ActiveValue::Set(id) = row.authority_id {
        let places = Condition::all().add(column(authority::Column::Kind).is_in([
            AuthorityKind::Municipality.to_value(),
            AuthorityKind::Region.to_value(),
        ]));
        records::ensure_exist::<authority::Model>(db, &[id], places, "input.authorityId")
            .await
            .map_err(|_| {
                AppError::bad_input(
                    "input.authorityId",
                    "input.authorityId must name a municipality or a region",
                )
            })?;
    }
    Ok(())
}

/// Records a cooperation from `row`, which sets every field but the id, the version and
/// the times, with its organisations and themes.
///
/// # Errors
/// UNAUTHENTICATED/FORBIDDEN unless the caller edits for a taking-part organisation;
/// BAD_USER_INPUT for invalid fields or unknown records.
pub async fn create(
    db: &impl Transactional,
    principal: &Principal,
    mut row: cooperation::ActiveModel,
    lists: Lists<2>,
) -> AppResult<cooperation::Model> {
    may_write(principal)?;
    check(db, &mut row, None).await?;
    let lists = lists.map(|list| Some(list.unwrap_or_default()));
    check_lists(db, &lists).await?;
    auth::require_editor_of_any(principal, lists[0].as_deref().unwrap_or_default())?;
    records::stamp_new::<cooperation::Entity>(&mut row);
    let txn = records::begin_write(db).await?;
    let mut changes = audit::changes(&row);
    let created = row.insert(&txn).await?;
    records::write_lists(&txn, created.id, &links(), &lists, &mut changes).await?;
    let action = AuditAction::CreateCooperation;
    audit::commit(txn, principal, action, created.id, changes).await?;
    Ok(created)
}

/// Changes the fields `row` sets and the lists given on cooperation `id`, if nobody else
/// has since `expected_version`.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for a taking-part
/// organisation before and after the change; BAD_USER_INPUT; CONFLICT on a stale version.
pub async fn update(
    db: &impl Transactional,
    principal: &Principal,
    (id, expected_version): (Uuid, i32),
    mut row: cooperation::ActiveModel,
    lists: Lists<2>,
) -> AppResult<cooperation::Model> {
    may_write(principal)?;
    check_lists(db, &lists).await?;
    let txn = records::begin_write(db).await?;
    let current = records::visible_or_missing::<cooperation::Model>(
        &txn,
        id,
        visible(principal),
        "cooperation",
    )
    .await?;
    check(&txn, &mut row, Some(&current)).await?;
    let before = links()[0].of(&txn, id).await?;
    auth::require_editor_of_change(principal, &before, lists[0].as_deref())?;
    let mut changes = audit::changes(&row);
    let updated = records::versioned_update::<cooperation::Entity, _>(
        &txn,
        row,
        id,
        expected_version,
        "cooperation",
    )
    .await?;
    records::write_lists(&txn, id, &links(), &lists, &mut changes).await?;
    audit::commit(txn, principal, AuditAction::UpdateCooperation, id, changes).await?;
    Ok(updated)
}

/// Removes a cooperation with its links; returns it as it was.
///
/// # Errors
/// NOT_FOUND when absent or invisible; FORBIDDEN unless the caller edits for a taking-part
/// organisation.
pub async fn delete(
    db: &impl Transactional,
    principal: &Principal,
    id: Uuid,
) -> AppResult<cooperation::Model> {
    may_write(principal)?;
    let txn = records::begin_write(db).await?;
    records::visible_or_missing::<cooperation::Model>(&txn, id, visible(principal), "cooperation")
        .await?;
    auth::require_editor_of_any(principal, &links()[0].of(&txn, id).await?)?;
    records::delete_unreferenced_in::<cooperation::Entity, _>(
        txn,
        principal,
        id,
        "cooperation",
        &[],
        AuditAction::DeleteCooperation,
    )
    .await
}
