//! The reports a network sends its funder, as rows of text: its goals with their progress,
//! and its dialogues of a period page by page (so that a year of records is never in
//! memory at once). The HTTP layer writes them as CSV.

use crate::auth::Principal;
use crate::db::Connection;
use crate::dialogue::{DialogueFilter, DialogueOrderField};
use crate::error::AppResult;
use crate::goal::{self, GoalFilter};
use crate::paging::{Cursor, Direction, Page, Sort, Wanted, column};
use crate::records;
use chrono::NaiveDate;
use entity::{
    authority, dialogue, dialogue_authority, dialogue_organisation, dialogue_theme, organisation,
    theme,
};
use sea_orm::sea_query::{ExprTrait, JoinType, Query};
use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, QueryFilter};
use std::collections::HashMap;
use uuid::Uuid;

/// The header of the goals report.
pub const GOAL_COLUMNS: [&str; 12] = [
    "Slug",
    "Title",
    "Category",
    "Owner",
    "Period start",
    "Period end",
    "Measure",
    "Current",
    "Target",
    "Reached",
    "Reached on",
    "Complete",
];

/// Every goal the principal may see, by title, with its progress as they may see it.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn goal_rows(
    db: &(impl Connection + sea_orm::StreamTrait),
    principal: &Principal,
) -> AppResult<Vec<Vec<String>>> {
    use records::ListFilter;
    let goals = entity::goal::Entity::find()
        .filter(GoalFilter::default().condition(principal)?)
        .all(db)
        .await?;
    let progress = goal::progress::of_now(db, principal, &goals).await?;
    let owners: HashMap<Uuid, String> = organisation::Entity::find()
        .filter(organisation::Column::Id.is_in(goals.iter().filter_map(|g| g.owner_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let mut rows: Vec<(String, Vec<String>)> = goals
        .iter()
        .map(|g| {
            let p = progress.get(&g.id);
            let row = vec![
                g.slug.clone(),
                g.title.clone(),
                g.category.to_value(),
                g.owner_id
                    .and_then(|o| owners.get(&o).cloned())
                    .unwrap_or_default(),
                g.period_start.to_string(),
                g.period_end.to_string(),
                g.measure_kind.to_value(),
                p.map(|p| p.current.to_string()).unwrap_or_default(),
                g.target.to_string(),
                p.is_some_and(goal::progress::Progress::reached).to_string(),
                p.and_then(|p| p.reached_on)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
                p.is_some_and(|p| p.complete).to_string(),
            ];
            (g.title.clone(), row)
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(rows.into_iter().map(|(_, row)| row).collect())
}

/// The header of the dialogues report.
pub const DIALOGUE_COLUMNS: [&str; 10] = [
    "Held on",
    "Title",
    "Kind",
    "Status",
    "Organisations",
    "Authorities",
    "Themes",
    "Summary",
    "Outcome",
    "Visibility",
];

/// How many dialogues one page of the report reads.
pub const DIALOGUE_PAGE: u64 = 200;

/// Where the next page of the dialogues report starts; `None` when it is done.
pub type Resume = Option<Cursor<crate::dialogue::DialogueKey>>;

/// How many dialogues held from `from` to `to` the principal may see: what the report
/// will read, to price it before it starts.
///
/// # Errors
/// BAD_USER_INPUT for a bad period; INTERNAL on a database failure.
pub async fn dialogue_count(
    db: &impl Connection,
    principal: &Principal,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
) -> AppResult<i64> {
    let filter = DialogueFilter {
        held_from: from,
        held_to: to,
        ..DialogueFilter::default()
    };
    records::count_of(db, principal, &filter).await
}

/// One page of the dialogues held from `from` to `to` that the principal may see, oldest
/// first, after `after`; and where the next page starts.
///
/// # Errors
/// BAD_USER_INPUT when `to` is before `from`; INTERNAL on a database failure.
pub async fn dialogue_rows(
    db: &impl Connection,
    principal: &Principal,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    after: Resume,
) -> AppResult<(Vec<Vec<String>>, Resume)> {
    let filter = DialogueFilter {
        held_from: from,
        held_to: to,
        ..DialogueFilter::default()
    };
    let sort = Sort::new(DialogueOrderField::HeldOn, Direction::Asc);
    let page = Page {
        limit: DIALOGUE_PAGE,
        backward: false,
        after,
        before: None,
        sort,
        wanted: Wanted::ALL,
        look_ahead: true,
    };
    let found = records::list(db, principal, &filter, &page).await?;
    let ids: Vec<Uuid> = found.rows.iter().map(|d| d.id).collect();
    let organisations = names(
        db,
        &ids,
        (
            dialogue_organisation::Column::DialogueId,
            dialogue_organisation::Column::OrganisationId,
        ),
        (organisation::Column::Id, organisation::Column::Name),
    )
    .await?;
    let authorities = names(
        db,
        &ids,
        (
            dialogue_authority::Column::DialogueId,
            dialogue_authority::Column::AuthorityId,
        ),
        (authority::Column::Id, authority::Column::Name),
    )
    .await?;
    let themes = names(
        db,
        &ids,
        (
            dialogue_theme::Column::DialogueId,
            dialogue_theme::Column::ThemeId,
        ),
        (theme::Column::Id, theme::Column::Name),
    )
    .await?;
    let joined = |names: &HashMap<Uuid, Vec<String>>, id: &Uuid| {
        names.get(id).map(|n| n.join(", ")).unwrap_or_default()
    };
    let next = found
        .has_next
        .then(|| {
            found
                .rows
                .last()
                .map(|d| Cursor::of(d, DialogueOrderField::HeldOn))
        })
        .flatten();
    let rows = found
        .rows
        .iter()
        .map(|d: &dialogue::Model| {
            vec![
                d.held_on.to_string(),
                d.title.clone(),
                d.kind.to_value(),
                d.status.to_value(),
                joined(&organisations, &d.id),
                joined(&authorities, &d.id),
                joined(&themes, &d.id),
                d.summary.clone(),
                d.outcome.clone().unwrap_or_default(),
                d.visibility.to_value(),
            ]
        })
        .collect();
    Ok((rows, next))
}

/// The names the link table `(owner, other)` joins to each of `ids`, by name.
async fn names(
    db: &impl Connection,
    ids: &[Uuid],
    (owner, other): (impl ColumnTrait, impl ColumnTrait),
    (id, name): (impl ColumnTrait, impl ColumnTrait),
) -> AppResult<HashMap<Uuid, Vec<String>>> {
    let mut names: HashMap<Uuid, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(names);
    }
    let select = Query::select()
        .expr(column(owner))
        .expr(column(name))
        .from(owner.entity_name())
        .join(
            JoinType::InnerJoin,
            id.entity_name(),
            column(id).equals(other.as_column_ref()),
        )
        .and_where(column(owner).is_in(ids.iter().copied()))
        .order_by_expr(column(name), sea_orm::sea_query::Order::Asc)
        .to_owned();
    for row in db.query_all(&select).await? {
        let owner: Uuid = row.try_get_by_index(0)?;
        names
            .entry(owner)
            .or_default()
            .push(row.try_get_by_index(1)?);
    }
    Ok(names)
}
