//! Themes: topics shared across dialogues, proposals, evidence and cooperations. Admins
//! manage them; every list of those records filters by one.

use crate::auth::Principal;
use crate::db::{Connection, Transactional};
use crate::error::AppResult;
use crate::paging::ColumnRef;
use crate::paging::{self, Direction, Sort, column, linked};
use crate::records::{self, ListFilter, Unique};
use crate::sortable;
use crate::validate::{self, NAME_MAX, SUMMARY_MAX};
use chrono::{DateTime, Utc};
use entity::{AuditAction, theme};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

sortable! {
    /// Fields themes can be ordered by.
    pub enum ThemeOrderField, ThemeKey for theme {
        /// Alphabetically by name.
        Name(crate::collation::Swedish) = name,
        /// By slug.
        Slug(String) = slug,
        /// By creation time.
        CreatedAt(DateTime<Utc>) = created_at,
        /// By time of the last change.
        UpdatedAt(DateTime<Utc>) = updated_at,
    }
}

/// Only admins add, change or remove themes.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN for anyone else.
pub fn may_write(principal: &Principal) -> AppResult<()> {
    crate::auth::require_admin(principal)
}

/// The order of lists of these when the client gives none: by name.
pub const DEFAULT_ORDER: Sort<ThemeOrderField> = Sort::new(ThemeOrderField::Name, Direction::Asc);

/// Which themes to list.
#[derive(Debug, Clone, Default)]
pub struct ThemeFilter {
    /// Only themes whose name, slug or description contains this text (case-insensitive).
    pub text: Option<String>,
}

impl ListFilter for ThemeFilter {
    type Row = theme::Model;

    fn searches(&self) -> bool {
        self.text.is_some()
    }

    fn condition(&self, _principal: &Principal) -> AppResult<Condition> {
        use theme::Column;
        let mut condition = Condition::all();
        if let Some(text) = validate::search_text("filter.text", self.text.as_deref())? {
            condition = condition.add(paging::text_search(
                &[Column::Name, Column::Slug, Column::Description],
                &text,
            ));
        }
        Ok(condition)
    }
}

/// The rows of a record's table tagged with the theme `slug`: `link` is the link table's
/// (record column, theme column), `row` the record's id column. An unknown slug selects
/// nothing.
pub fn tagged((link, link_theme): (ColumnRef, ColumnRef), row: ColumnRef, slug: &str) -> Expr {
    let theme_ids = Query::select()
        .column(theme::Column::Id)
        .from(theme::Entity)
        .and_where(column(theme::Column::Slug).eq(slug))
        .take();
    linked(link, row, Expr::col(link_theme).in_subquery(theme_ids))
}

/// Finds a theme by slug.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_slug(db: &impl Connection, slug: &str) -> AppResult<Option<theme::Model>> {
    Ok(theme::Entity::find()
        .filter(theme::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// Checks that every theme id names a theme; the error names `field`.
///
/// # Errors
/// BAD_USER_INPUT for an unknown theme.
pub async fn ensure_exist(db: &impl Connection, ids: &[Uuid], field: &str) -> AppResult<()> {
    records::ensure_exist::<theme::Model>(db, ids, Condition::all(), field).await
}

const SLUG_TAKEN: Unique = ("input.slug", "a theme with this slug already exists");

/// Checks the fields a new or changed theme gives.
fn check(row: &mut theme::ActiveModel) -> AppResult<()> {
    validate::given(&mut row.slug, |v| validate::slug("input.slug", &v))?;
    validate::given(&mut row.name, |v| {
        validate::text("input.name", &v, NAME_MAX)
    })?;
    validate::given(&mut row.description, |v| {
        Ok(
            validate::optional_text("input.description", Some(&v), SUMMARY_MAX)?
                .unwrap_or_default(),
        )
    })
}

/// Adds a theme.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for invalid fields or a taken slug.
pub async fn create(
    db: &impl Transactional,
    principal: &Principal,
    mut row: theme::ActiveModel,
) -> AppResult<theme::Model> {
    may_write(principal)?;
    check(&mut row)?;
    records::insert_logged::<theme::Entity>(
        db,
        principal,
        row,
        AuditAction::CreateTheme,
        Some(SLUG_TAKEN),
    )
    .await
}

/// Changes the fields `row` sets on theme `id`, if nobody else has since `expected_version`.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT; NOT_FOUND; CONFLICT on a stale version.
pub async fn update(
    db: &impl Transactional,
    principal: &Principal,
    (id, expected_version): (Uuid, i32),
    mut row: theme::ActiveModel,
) -> AppResult<theme::Model> {
    may_write(principal)?;
    check(&mut row)?;
    records::update_logged::<theme::Entity, _>(
        records::begin_write(db).await?,
        principal,
        row,
        (id, expected_version),
        "theme",
        AuditAction::UpdateTheme,
        Some(SLUG_TAKEN),
    )
    .await
}

/// Removes a theme: the records it tagged lose the tag. A goal whose measure names it
/// keeps it: CONFLICT naming the goal.
///
/// # Errors
/// FORBIDDEN unless admin; NOT_FOUND; CONFLICT naming a goal that counts by it.
pub async fn delete(
    db: &impl Transactional,
    principal: &Principal,
    id: Uuid,
) -> AppResult<theme::Model> {
    may_write(principal)?;
    let txn = records::begin_write(db).await?;
    crate::goal::ensure_unnamed(&txn, "theme", id).await?;
    records::delete_unreferenced_in::<theme::Entity, _>(
        txn,
        principal,
        id,
        "theme",
        &[],
        AuditAction::DeleteTheme,
    )
    .await
}
