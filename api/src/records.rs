//! Rules shared by the domain modules: referenced ids must exist, referenced records may
//! not be deleted, updates are checked against the expected version, and every top-level
//! list is a filter whose condition includes what the caller may read.

use crate::audit::{self, Actor};
use crate::auth::Principal;
use crate::db::{Connection, Transactional};
use crate::error::{AppError, AppResult};
use crate::paging::{self, Page, Row, Rows};
use entity::AuditAction;
use entity::{
    authority, cooperation, dialogue, evidence, goal, organisation, proposal, theme, user,
};
use sea_orm::sea_query::{Condition, DynIden, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, SqlErr, TransactionSession,
};
use std::collections::HashSet;
use uuid::Uuid;

/// Checks that every id in `ids` names a row of `R` that `visible` lets the caller see: an
/// id the caller cannot see is refused exactly as an unknown one. The error names `field`.
///
/// # Errors
/// BAD_USER_INPUT when an id is unknown or invisible.
pub async fn ensure_exist<R: Row>(
    db: &impl Connection,
    ids: &[Uuid],
    visible: Condition,
    field: &str,
) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let unique: Vec<Uuid> = ids
        .iter()
        .copied()
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    if paging::count_ids::<R>(db, &unique, visible).await? == unique.len() {
        Ok(())
    } else {
        Err(AppError::bad_input(
            field,
            format!("{field} names a record that does not exist"),
        ))
    }
}

/// Record `id` as the caller may see it (`visible`); NOT_FOUND, naming `what`, when it is
/// absent or hidden, so existence does not leak.
///
/// # Errors
/// NOT_FOUND; INTERNAL on a database failure.
pub async fn visible_or_missing<R: Row>(
    db: &impl Connection,
    id: Uuid,
    visible: Condition,
    what: &'static str,
) -> AppResult<R> {
    paging::by_ids::<R>(db, &[id], visible)
        .await?
        .remove(&id)
        .ok_or(AppError::NotFound(what))
}

/// Ids as a JSON list, for audit changes.
pub fn ids_json(ids: &[Uuid]) -> serde_json::Value {
    ids.iter()
        .map(|id| serde_json::Value::String(id.to_string()))
        .collect()
}

/// A place that may point at a record: a column, how to name its rows in a message, and,
/// where some of them may be hidden from the caller, which of them the caller sees.
pub struct Reference {
    column: (DynIden, DynIden),
    label: &'static str,
    seen: Option<Condition>,
}

impl Reference {
    /// Rows whose `column` holds the record's id, named `label` (such as "proposal(s) as lead").
    pub fn new(column: impl ColumnTrait, label: &'static str) -> Self {
        Self {
            column: column.as_column_ref(),
            label,
            seen: None,
        }
    }

    /// Only the referring rows that meet `condition` may be counted to the caller; the others
    /// are "records you cannot see".
    #[must_use]
    pub fn seen_where(mut self, condition: Condition) -> Self {
        self.seen = Some(condition);
        self
    }
}

/// Refuses to delete a record that others still reference, naming them. Referring records
/// the caller cannot see are not counted to them: the message says only that records they
/// cannot see refer to it, as an id they cannot see is unknown.
///
/// # Errors
/// CONFLICT naming what references the record.
pub async fn ensure_unreferenced(
    db: &impl Connection,
    what: &str,
    id: Uuid,
    references: &[Reference],
) -> AppResult<()> {
    let mut found = Vec::new();
    let mut hidden = false;
    for reference in references {
        let referring = Condition::all().add(Expr::col(reference.column.clone()).eq(id));
        let table = reference.column.0.clone();
        let all = paging::count(db, table.clone(), referring.clone()).await?;
        let seen = match &reference.seen {
            Some(seen) if all > 0 => paging::count(db, table, referring.add(seen.clone())).await?,
            _ => all,
        };
        if seen > 0 {
            found.push(format!("{seen} {}", reference.label));
        }
        hidden |= all > seen;
    }
    if hidden {
        found.push("records you cannot see".to_owned());
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

/// Maps a unique-constraint violation to BAD_USER_INPUT naming `field`; other errors pass.
pub fn on_unique(field: &'static str, message: &'static str) -> impl FnOnce(DbErr) -> AppError {
    move |error| match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::bad_input(field, message),
        _ => error.into(),
    }
}

/// Replaces the links of `owner` in a link table with `others`: `owner_column` and
/// `other_column` are the link table's two sides.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn replace_links(
    db: &impl Connection,
    owner_column: impl ColumnTrait,
    other_column: impl ColumnTrait,
    owner: Uuid,
    others: &[Uuid],
) -> AppResult<()> {
    let link = Link::new(owner_column, other_column, "");
    link.replace(db, owner, others).await
}

/// A link table seen from one side: the column pointing at the owning record, the one
/// pointing at the other side, and the input field that sets the list.
#[derive(Clone)]
pub struct Link {
    owner: (DynIden, DynIden),
    other: (DynIden, DynIden),
    /// The input field that sets the list, such as `input.organisationIds`.
    pub field: &'static str,
}

impl Link {
    /// The link table of `owner` and `other`, set by `field`.
    pub fn new(owner: impl ColumnTrait, other: impl ColumnTrait, field: &'static str) -> Self {
        Self {
            owner: owner.as_column_ref(),
            other: other.as_column_ref(),
            field,
        }
    }

    /// The link table's name, under which audit entries keep the list.
    pub fn table(&self) -> String {
        self.owner.0.to_string()
    }

    /// The condition that the record whose id is in `row` links to `other`.
    pub fn holds(&self, row: (DynIden, DynIden), other: Uuid) -> Expr {
        paging::linked(
            self.owner.clone(),
            row,
            Expr::col(self.other.clone()).eq(other),
        )
    }

    /// The ids `owner` links to.
    ///
    /// # Errors
    /// INTERNAL on a database failure.
    pub async fn of(&self, db: &impl Connection, owner: Uuid) -> AppResult<Vec<Uuid>> {
        let select = Query::select()
            .column(self.other.clone())
            .from(self.owner.0.clone())
            .and_where(Expr::col(self.owner.clone()).eq(owner))
            .take();
        db.query_all(&select)
            .await?
            .iter()
            .map(|row| Ok(row.try_get_by_index::<Uuid>(0)?))
            .collect()
    }

    /// Replaces the links of `owner` with `others`.
    ///
    /// # Errors
    /// INTERNAL on a database failure.
    pub async fn replace(
        &self,
        db: &impl Connection,
        owner: Uuid,
        others: &[Uuid],
    ) -> AppResult<()> {
        let table = self.owner.0.clone();
        let delete = Query::delete()
            .from_table(table.clone())
            .and_where(Expr::col(self.owner.clone()).eq(owner))
            .take();
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
            .into_table(table)
            .columns([self.owner.1.clone(), self.other.1.clone()]);
        for other in unique {
            insert.values_panic([owner.into(), other.into()]);
        }
        db.execute(&insert).await?;
        Ok(())
    }
}

/// The lists of a write to a record with link tables, each `None` when not given (it stays).
pub type Lists<const N: usize> = [Option<Vec<Uuid>>; N];

/// Replaces the given lists of record `id` and adds them to the audit `changes` under
/// their link tables' names.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn write_lists<const N: usize>(
    db: &impl Connection,
    id: Uuid,
    links: &[Link; N],
    lists: &Lists<N>,
    changes: &mut serde_json::Map<String, serde_json::Value>,
) -> AppResult<()> {
    for (link, list) in links.iter().zip(lists) {
        if let Some(list) = list {
            link.replace(db, id, list).await?;
            changes.insert(link.table(), ids_json(list));
        }
    }
    Ok(())
}

/// A table whose rows carry an optimistic-concurrency `version` and `updated_at`.
pub trait Versioned: EntityTrait {
    /// The primary key column.
    const ID: Self::Column;
    /// The version column, bumped by every update.
    const VERSION: Self::Column;
    /// The time of the last change.
    const UPDATED_AT: Self::Column;
    /// The time of creation.
    const CREATED_AT: Self::Column;
}

/// The value a change sets, or else the stored one: a field as it will be after an update,
/// for rules that tie two fields together (a period's end not before its start).
pub fn as_it_will_be<T: Copy + Into<sea_orm::Value>>(
    set: &sea_orm::ActiveValue<T>,
    stored: Option<T>,
) -> Option<T> {
    match set {
        sea_orm::ActiveValue::Set(value) => Some(*value),
        _ => stored,
    }
}

/// Gives a new row its id, version 1 and its times, whatever the caller set.
pub fn stamp_new<E: Versioned>(row: &mut E::ActiveModel) {
    let now = crate::validate::now();
    row.set(E::ID, Uuid::now_v7().into());
    row.set(E::VERSION, 1.into());
    row.set(E::CREATED_AT, now.into());
    row.set(E::UPDATED_AT, now.into());
}

macro_rules! versioned {
    ($($table:ident),+) => {
        $(impl Versioned for $table::Entity {
            const ID: Self::Column = $table::Column::Id;
            const VERSION: Self::Column = $table::Column::Version;
            const UPDATED_AT: Self::Column = $table::Column::UpdatedAt;
            const CREATED_AT: Self::Column = $table::Column::CreatedAt;
        })+
    };
}

versioned!(
    organisation,
    authority,
    dialogue,
    proposal,
    user,
    theme,
    evidence,
    cooperation,
    goal
);

/// Why a versioned update failed: a database error the caller may map (a taken slug), or
/// a domain error.
#[derive(Debug)]
pub enum UpdateError {
    /// The statement failed.
    Db(DbErr),
    /// NOT_FOUND or CONFLICT.
    App(AppError),
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
    E: Versioned,
    E::Model: Row,
    C: Connection,
{
    let mut row = row;
    // Bookkeeping is this function's: whatever the caller set, only the change is written.
    for column in [E::ID, E::VERSION, E::CREATED_AT, E::UPDATED_AT] {
        row.not_set(column);
    }
    let result = E::update_many()
        .set(row)
        .col_expr(E::VERSION, Expr::col(E::VERSION).add(1))
        .col_expr(E::UPDATED_AT, Expr::val(crate::validate::now()))
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(expected))
        .exec(db)
        .await
        .map_err(UpdateError::Db)?;
    if result.rows_affected == 0 {
        return Err(UpdateError::App(
            match current_version::<E>(db, id)
                .await
                .map_err(UpdateError::App)?
            {
                Some(current) => AppError::Conflict(format!(
                    "{what} was changed by someone else: expected version {expected}, current version {current}"
                )),
                None => AppError::NotFound(what),
            },
        ));
    }
    paging::by_ids::<E::Model>(db, &[id], Condition::all())
        .await
        .map_err(UpdateError::App)?
        .remove(&id)
        .ok_or(UpdateError::App(AppError::NotFound(what)))
}

/// The stored version of record `id`, if it exists.
async fn current_version<E: Versioned>(db: &impl Connection, id: Uuid) -> AppResult<Option<i32>> {
    let select = Query::select()
        .column(E::VERSION)
        .from(E::default())
        .and_where(Expr::col(E::ID).eq(id))
        .to_owned();
    match db.query_one(&select).await? {
        Some(row) => Ok(Some(row.try_get_by_index::<i32>(0)?)),
        None => Ok(None),
    }
}

/// A unique column a write may collide on: the input field that sets it and the message.
pub type Unique = (&'static str, &'static str);

fn unique_error(unique: Option<Unique>) -> impl FnOnce(DbErr) -> AppError {
    move |error| match unique {
        Some((field, message)) => on_unique(field, message)(error),
        None => error.into(),
    }
}

/// Inserts a new record ([`stamp_new`]) and its audit entry in one transaction.
///
/// # Errors
/// BAD_USER_INPUT when `unique` collides; INTERNAL on a database failure.
pub async fn insert_logged<E>(
    db: &impl Transactional,
    actor: impl Into<Actor<'_>>,
    mut row: E::ActiveModel,
    action: AuditAction,
    unique: Option<Unique>,
) -> AppResult<E::Model>
where
    E: Versioned,
    E::ActiveModel: ActiveModelBehavior + Send,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
{
    stamp_new::<E>(&mut row);
    let changes = audit::changes(&row);
    let txn = begin_write(db).await?;
    let created = row.insert(&txn).await.map_err(unique_error(unique))?;
    audit::commit(txn, actor, action, created.id(), changes).await?;
    Ok(created)
}

/// Applies a change to a versioned record ([`versioned_update`]) and commits it with its
/// audit entry.
///
/// # Errors
/// As [`versioned_update`]; BAD_USER_INPUT when `unique` collides.
pub async fn update_logged<E, T>(
    txn: T,
    actor: impl Into<Actor<'_>>,
    row: E::ActiveModel,
    (id, expected): (Uuid, i32),
    what: &'static str,
    action: AuditAction,
    unique: Option<Unique>,
) -> AppResult<E::Model>
where
    E: Versioned,
    E::Model: Row,
    T: Connection + TransactionSession,
{
    let changes = audit::changes(&row);
    let updated = versioned_update::<E, _>(&txn, row, id, expected, what)
        .await
        .map_err(|error| match error {
            UpdateError::Db(e) => unique_error(unique)(e),
            UpdateError::App(e) => e,
        })?;
    audit::commit(txn, actor, action, id, changes).await?;
    Ok(updated)
}

/// Deletes record `id` unless something still references it, with its audit entry, in
/// one transaction; returns it as it was.
///
/// # Errors
/// NOT_FOUND; CONFLICT naming what still references it.
pub async fn delete_unreferenced<E>(
    db: &impl Transactional,
    actor: impl Into<Actor<'_>>,
    id: Uuid,
    what: &'static str,
    references: &[Reference],
    action: AuditAction,
) -> AppResult<E::Model>
where
    E: Versioned,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
{
    let txn = begin_write(db).await?;
    delete_unreferenced_in::<E, _>(txn, actor, id, what, references, action).await
}

/// As [`delete_unreferenced`], inside a write transaction the caller has begun (and may
/// have checked more in); commits it.
///
/// # Errors
/// NOT_FOUND; CONFLICT naming what still references it.
pub async fn delete_unreferenced_in<E, T>(
    txn: T,
    actor: impl Into<Actor<'_>>,
    id: Uuid,
    what: &'static str,
    references: &[Reference],
    action: AuditAction,
) -> AppResult<E::Model>
where
    E: Versioned,
    E::Model: Row + IntoActiveModel<E::ActiveModel>,
    T: Connection + TransactionSession,
{
    let row = paging::by_ids::<E::Model>(&txn, &[id], Condition::all())
        .await?
        .remove(&id)
        .ok_or(AppError::NotFound(what))?;
    ensure_unreferenced(&txn, what, id, references).await?;
    E::delete_many().filter(E::ID.eq(id)).exec(&txn).await?;
    let removed = audit::removed(&row.clone().into_active_model());
    audit::commit(txn, actor, action, id, removed).await?;
    Ok(row)
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

/// The filter of a top-level list. Its domain module turns it into the SQL condition of
/// the rows it selects *that the principal may read*; paging and counting are the same
/// for every list ([`list`], [`count_of`]).
pub trait ListFilter: Clone + Default + Send + Sync + 'static {
    /// The rows listed.
    type Row: Row;

    /// The rows this filter selects and the principal may read.
    ///
    /// # Errors
    /// BAD_USER_INPUT for a malformed filter.
    fn condition(&self, principal: &Principal) -> AppResult<Condition>;

    /// Whether it searches text, which may read a whole table to find a few matches: such
    /// statements cost more ([`crate::limits::SEARCH_COST`]) and take turns ([`search_turn`]).
    fn searches(&self) -> bool;
}

/// A turn to run a statement that searches text, when `searches`: at most one such
/// statement per two cores (and at least one) runs at once, so that searches cannot take
/// every database connection and core from the requests around them. Others wait.
async fn search_turn(searches: bool) -> Option<tokio::sync::SemaphorePermit<'static>> {
    static TURNS: crate::limits::CoreTurns = crate::limits::CoreTurns::new(2);
    if !searches {
        return None;
    }
    TURNS.get().acquire().await.ok()
}

/// One page of a top-level list.
///
/// # Errors
/// As [`ListFilter::condition`]; INTERNAL on a database failure.
pub async fn list<F: ListFilter>(
    db: &impl Connection,
    principal: &Principal,
    filter: &F,
    page: &Page<<F::Row as Row>::Key>,
) -> AppResult<Rows<F::Row>> {
    let condition = filter.condition(principal)?;
    let _turn = search_turn(filter.searches()).await;
    paging::page(db, condition, page).await
}

/// [`list`] with the rows its rows reference through `joined`, read in the same statement
/// ([`paging::page_joining`]).
///
/// # Errors
/// As [`list`].
pub async fn list_joining<F: ListFilter, T: Row>(
    db: &impl Connection,
    principal: &Principal,
    filter: &F,
    page: &Page<<F::Row as Row>::Key>,
    joined: &paging::Joined<T>,
) -> AppResult<(Rows<F::Row>, paging::IdMap<T>)> {
    let condition = filter.condition(principal)?;
    let _turn = search_turn(filter.searches()).await;
    paging::page_joining(db, condition, page, joined).await
}

/// One page of a list only admins read, and how many rows the list holds in all.
///
/// # Errors
/// UNAUTHENTICATED/FORBIDDEN unless admin; INTERNAL on a database failure.
pub async fn admin_list<R: Row>(
    db: &impl Connection,
    principal: &Principal,
    condition: Condition,
    page: &Page<R::Key>,
) -> AppResult<(Rows<R>, i64)> {
    crate::account::may_manage(principal)?;
    Ok((
        paging::page(db, condition.clone(), page).await?,
        paging::count(db, R::Entity::default(), condition).await?,
    ))
}

/// How many rows a top-level list holds across its pages.
///
/// # Errors
/// As [`ListFilter::condition`]; INTERNAL on a database failure.
pub async fn count_of<F: ListFilter>(
    db: &impl Connection,
    principal: &Principal,
    filter: &F,
) -> AppResult<i64> {
    let condition = filter.condition(principal)?;
    let _turn = search_turn(filter.searches()).await;
    paging::count(db, <F::Row as Row>::Entity::default(), condition).await
}
