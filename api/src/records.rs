//! Rules shared by the domain modules: referenced ids must exist, referenced records may
//! not be deleted, updates are checked against the expected version.

use crate::error::{AppError, AppResult};
use crate::paging;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DbErr, QueryFilter, SqlErr};
use std::collections::HashSet;
use uuid::Uuid;

/// Checks that every id in `ids` names a row of `table`; the error names `field`.
///
/// # Errors
/// BAD_USER_INPUT when an id is unknown.
pub async fn ensure_exist(
    db: &impl ConnectionTrait,
    table: &'static str,
    ids: &[Uuid],
    field: &str,
) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let unique: HashSet<Uuid> = ids.iter().copied().collect();
    let select = Query::select()
        .column(Alias::new("id"))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("id")).is_in(unique.iter().copied()))
        .to_owned();
    let found = db.query_all(&select).await?.len();
    if found == unique.len() {
        Ok(())
    } else {
        Err(AppError::bad_input(
            field,
            format!("{field} names a record that does not exist"),
        ))
    }
}

/// A place that may point at a record: (table, column, how to name it in a message).
pub type Reference = (&'static str, &'static str, &'static str);

/// Refuses to delete a record that others still reference, naming them.
///
/// # Errors
/// CONFLICT naming what references the record.
pub async fn ensure_unreferenced(
    db: &impl ConnectionTrait,
    what: &str,
    id: Uuid,
    references: &[Reference],
) -> AppResult<()> {
    let mut found = Vec::new();
    for (table, column, label) in references {
        let n = paging::count(
            db,
            table,
            Condition::all().add(paging::column(table, column).eq(id)),
        )
        .await?;
        if n > 0 {
            found.push(format!("{n} {label}"));
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "{what} is still referenced by {}",
            found.join(", ")
        )))
    }
}

/// After an update matched no row: the record is gone, or its version moved on.
///
/// # Errors
/// Always: NOT_FOUND or CONFLICT.
pub async fn stale_or_missing(
    db: &impl ConnectionTrait,
    table: &'static str,
    what: &'static str,
    id: Uuid,
    expected: i32,
) -> AppError {
    let select = Query::select()
        .column(Alias::new("version"))
        .from(Alias::new(table))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    match db.query_one(&select).await {
        Ok(Some(row)) => match row.try_get::<i32>("", "version") {
            Ok(current) => AppError::Conflict(format!(
                "{what} was changed by someone else: expected version {expected}, current version {current}"
            )),
            Err(e) => e.into(),
        },
        Ok(None) => AppError::NotFound(what),
        Err(e) => e.into(),
    }
}

/// Maps a unique-constraint violation to BAD_USER_INPUT naming `field`; other errors pass.
pub fn on_unique(field: &'static str, message: &'static str) -> impl FnOnce(DbErr) -> AppError {
    move |error| match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::bad_input(field, message),
        _ => error.into(),
    }
}

/// Replaces the links of `owner` in a link table with `others`.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn replace_links(
    db: &impl ConnectionTrait,
    table: &'static str,
    owner_column: &'static str,
    other_column: &'static str,
    owner: Uuid,
    others: &[Uuid],
) -> AppResult<()> {
    let delete = Query::delete()
        .from_table(Alias::new(table))
        .and_where(Expr::col(Alias::new(owner_column)).eq(owner))
        .to_owned();
    db.execute(&delete).await?;
    let unique: Vec<Uuid> = {
        let mut seen = HashSet::new();
        others
            .iter()
            .copied()
            .filter(|id| seen.insert(*id))
            .collect()
    };
    if unique.is_empty() {
        return Ok(());
    }
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new(table))
        .columns([Alias::new(owner_column), Alias::new(other_column)]);
    for other in unique {
        insert.values_panic([owner.into(), other.into()]);
    }
    db.execute(&insert).await?;
    Ok(())
}

/// Why a versioned update failed: a database error the caller may map (a taken slug), or
/// a domain error.
#[derive(Debug)]
pub enum UpdateError {
    /// The statement failed.
    Db(DbErr),
    /// NOT_FOUND or CONFLICT.
    App(AppError),
}

impl UpdateError {
    /// Maps a unique-constraint violation to BAD_USER_INPUT naming `field`.
    pub fn or_unique(
        field: &'static str,
        message: &'static str,
    ) -> impl FnOnce(UpdateError) -> AppError {
        move |error| match error {
            UpdateError::Db(e) => on_unique(field, message)(e),
            UpdateError::App(e) => e,
        }
    }
}

impl From<UpdateError> for AppError {
    fn from(error: UpdateError) -> Self {
        match error {
            UpdateError::Db(e) => e.into(),
            UpdateError::App(e) => e,
        }
    }
}

/// Writes the set fields of `row` to record `id` only if its version is still `expected`,
/// bumping the version and `updated_at`; returns the stored row.
///
/// # Errors
/// NOT_FOUND when the record is gone, CONFLICT when its version moved on.
pub async fn versioned_update<E, C>(
    db: &C,
    row: E::ActiveModel,
    id: Uuid,
    expected: i32,
    what: &'static str,
) -> Result<E::Model, UpdateError>
where
    E: sea_orm::EntityTrait,
    E::Model: paging::Row,
    C: ConnectionTrait,
{
    let version = || Expr::col(Alias::new("version"));
    let result = E::update_many()
        .set(row)
        .col_expr(Alias::new("version"), version().add(1))
        .col_expr(Alias::new("updated_at"), Expr::val(crate::validate::now()))
        .filter(Expr::col(Alias::new("id")).eq(id))
        .filter(version().eq(expected))
        .exec(db)
        .await
        .map_err(UpdateError::Db)?;
    if result.rows_affected == 0 {
        return Err(UpdateError::App(
            stale_or_missing(db, <E::Model as paging::Row>::TABLE, what, id, expected).await,
        ));
    }
    let mut found = paging::by_ids::<E::Model>(db, &[id], Condition::all())
        .await
        .map_err(UpdateError::App)?;
    found
        .remove(&id)
        .ok_or(UpdateError::App(AppError::NotFound(what)))
}

/// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
/// IMMEDIATE`), where the busy timeout applies: a deferred transaction that reads first
/// and then writes fails with SQLITE_BUSY at once if another write landed in between.
///
/// # Errors
/// INTERNAL when the transaction cannot start.
pub async fn begin_write<C: sea_orm::TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    let options = sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    db.begin_with_options(options).await
}
