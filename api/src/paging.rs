//! Keyset pagination for every list: top-level connections and nested ones alike.
//!
//! A list is a table, a condition (filters and the visibility rule), an ordering on one
//! column with the id as tie-breaker, and optionally a parent: the rows of many parents
//! are fetched in one statement with `ROW_NUMBER() OVER (PARTITION BY parent ...)`, which
//! is how nested connections stay one query per level whatever the page size. Where the
//! link table keeps a copy of the ordering column under an index, each parent's page is
//! read from that index instead ([`Parent::DatedLink`]).

use crate::error::{AppError, AppResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{
    Alias, Asterisk, Condition, Expr, ExprTrait, Func, JoinType, Order, Query, SelectStatement,
    ValueTuple, WindowStatement,
};
use sea_orm::{ConnectionTrait, DatabaseBackend, FromQueryResult, QueryResult, Value};
use std::collections::HashMap;
use uuid::Uuid;

/// Page size when the client gives neither `first` nor `last`.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// The value of the ordering column of one row, as kept in a cursor.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(untagged)]
pub enum SortValue {
    /// A text column such as `name`.
    Text(String),
    /// A date column such as `held_on`.
    Date(NaiveDate),
    /// A timestamp column such as `updated_at`.
    Time(DateTime<Utc>),
}

impl SortValue {
    fn into_value(self) -> Value {
        match self {
            Self::Text(text) => text.into(),
            Self::Date(date) => date.into(),
            Self::Time(time) => time.into(),
        }
    }
}

/// An ordering: a column, its name in cursors, and the direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sort {
    /// Column name in the table.
    pub column: &'static str,
    /// Sort descending (newest or Z first).
    pub descending: bool,
}

/// Rows that can be paginated: they know their id and the value of any sort column.
pub trait Row: FromQueryResult + Clone + Send + Sync + 'static {
    /// The table the rows come from.
    const TABLE: &'static str;
    /// The row's primary key.
    fn id(&self) -> Uuid;
    /// The value of `column` (one of the columns the API orders by).
    fn sort_value(&self, column: &str) -> SortValue;
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CursorBody {
    c: String,
    v: serde_json::Value,
    i: Uuid,
}

/// The opaque cursor of a row under an ordering, kept as its parts and encoded only when
/// a client selects `cursor`, `startCursor` or `endCursor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    column: std::borrow::Cow<'static, str>,
    value: SortValue,
    id: Uuid,
}

impl Cursor {
    /// The cursor of `row` under `sort`.
    pub fn of<R: Row>(row: &R, sort: Sort) -> Self {
        Self {
            column: sort.column.into(),
            value: row.sort_value(sort.column),
            id: row.id(),
        }
    }
}

impl async_graphql::connection::CursorType for Cursor {
    type Error = &'static str;

    fn decode_cursor(cursor: &str) -> Result<Self, Self::Error> {
        let (column, value, id) = decode_parts(cursor).ok_or("invalid cursor")?;
        Ok(Self {
            column: column.into(),
            value,
            id,
        })
    }

    fn encode_cursor(&self) -> String {
        let body = CursorBody {
            c: self.column.clone().into_owned(),
            v: serde_json::to_value(&self.value).unwrap_or(serde_json::Value::Null),
            i: self.id,
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap_or_default())
    }
}

/// The column, its value (typed by the column's name) and the id a cursor holds.
fn decode_parts(cursor: &str) -> Option<(String, SortValue, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let body: CursorBody = serde_json::from_slice(&bytes).ok()?;
    let serde_json::Value::String(text) = body.v else {
        return None;
    };
    let value = if body.c.ends_with("_at") || body.c == "at" {
        SortValue::Time(text.parse().ok()?)
    } else if body.c == "held_on" {
        SortValue::Date(text.parse().ok()?)
    } else {
        SortValue::Text(text)
    };
    Some((body.c, value, body.i))
}

/// A decoded cursor: the position just after (or before) one row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position {
    value: SortValue,
    id: Uuid,
}

fn decode_cursor(cursor: &str, sort: Sort, field: &str) -> AppResult<Position> {
    match decode_parts(cursor) {
        Some((column, value, id)) if column == sort.column => Ok(Position { value, id }),
        _ => Err(AppError::bad_input(
            field,
            "invalid cursor for this list and ordering",
        )),
    }
}

/// What a client asked of a connection, checked: how many rows, from where, which way.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Page {
    /// Rows to return.
    pub limit: u64,
    /// Counting from the end (`last`) rather than the start.
    pub backward: bool,
    /// Only rows after this one.
    pub after: Option<Position>,
    /// Only rows before this one.
    pub before: Option<Position>,
    /// The ordering.
    pub sort: Sort,
}

impl Page {
    /// Checks Relay arguments against the limits.
    ///
    /// # Errors
    /// BAD_USER_INPUT for a page size outside 0..=100, both `first` and `last`, or a bad cursor.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        sort: Sort,
    ) -> AppResult<Self> {
        let size = |field: &str, n: i32| -> AppResult<u64> {
            u64::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_PAGE_SIZE)
                .ok_or_else(|| {
                    AppError::bad_input(
                        field,
                        format!("{field} must be between 0 and {MAX_PAGE_SIZE}"),
                    )
                })
        };
        let (limit, backward) = match (first, last) {
            (Some(_), Some(_)) => {
                return Err(AppError::bad_input(
                    "last",
                    "pass either first or last, not both",
                ));
            }
            (Some(n), None) => (size("first", n)?, false),
            (None, Some(n)) => (size("last", n)?, true),
            (None, None) => (DEFAULT_PAGE_SIZE, false),
        };
        Ok(Self {
            limit,
            backward,
            after: after
                .map(|c| decode_cursor(&c, sort, "after"))
                .transpose()?,
            before: before
                .map(|c| decode_cursor(&c, sort, "before"))
                .transpose()?,
            sort,
        })
    }
}

/// One page of rows with what Relay's `pageInfo` needs.
#[derive(Debug, Clone)]
pub struct Rows<R> {
    /// The rows, in the requested order.
    pub rows: Vec<R>,
    /// Whether rows exist before the first one returned.
    pub has_previous: bool,
    /// Whether rows exist after the last one returned.
    pub has_next: bool,
}

impl<R> Default for Rows<R> {
    fn default() -> Self {
        Self {
            rows: vec![],
            has_previous: false,
            has_next: false,
        }
    }
}

/// How the rows of a nested list hang off their parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parent {
    /// A column of the row itself, such as `proposals.lead_organisation_id`.
    Column(&'static str),
    /// A link table: (`table`, column pointing at the row, column pointing at the parent).
    Link(&'static str, &'static str, &'static str),
    /// A link table as in [`Parent::Link`] that also keeps a copy of the row's column named
    /// last, indexed after the parent: pages in that order are read from the index.
    DatedLink(&'static str, &'static str, &'static str, &'static str),
}

impl Parent {
    fn key_column(self, table: &'static str) -> (Alias, Alias) {
        match self {
            Self::Column(column) => (Alias::new(table), Alias::new(column)),
            Self::Link(link, _, parent) | Self::DatedLink(link, _, parent, _) => {
                (Alias::new(link), Alias::new(parent))
            }
        }
    }

    fn key_expr(self, table: &'static str) -> Expr {
        Expr::col(self.key_column(table))
    }

    fn join(self, select: &mut SelectStatement, table: &'static str) {
        if let Self::Link(link, child, _) | Self::DatedLink(link, child, ..) = self {
            select.inner_join(
                Alias::new(link),
                Expr::col((Alias::new(link), Alias::new(child)))
                    .equals((Alias::new(table), Alias::new("id"))),
            );
        }
    }
}

/// A column qualified by its table, for filters and orderings.
pub fn column(table: &'static str, column_name: &'static str) -> Expr {
    Expr::col((Alias::new(table), Alias::new(column_name)))
}

/// Both conditions. A caller's condition may be an `any` (the visibility rule is one):
/// adding to it would widen it, so it is always nested.
fn both(condition: Condition, extra: impl sea_orm::sea_query::IntoCondition) -> Condition {
    Condition::all().add(condition).add(extra)
}

/// Adds the keyset bounds of a page to a condition.
fn keyset(table: &'static str, page: &Page) -> Condition {
    keyset_on(page, column(table, page.sort.column), column(table, "id"))
}

/// The keyset bounds of a page on the given ordering column and id.
fn keyset_on(page: &Page, value: Expr, id: Expr) -> Condition {
    let key = || Expr::tuple([value.clone(), id.clone()]);
    let at = |p: &Position| Expr::tuple([Expr::val(p.value.clone().into_value()), Expr::val(p.id)]);
    let mut condition = Condition::all();
    if let Some(after) = &page.after {
        condition = condition.add(if page.sort.descending {
            key().lt(at(after))
        } else {
            key().gt(at(after))
        });
    }
    if let Some(before) = &page.before {
        condition = condition.add(if page.sort.descending {
            key().gt(at(before))
        } else {
            key().lt(at(before))
        });
    }
    condition
}

/// The order rows are read in: the requested one, reversed when counting from the end.
fn read_order(page: &Page) -> Order {
    if page.sort.descending != page.backward {
        Order::Desc
    } else {
        Order::Asc
    }
}

/// Turns `limit + 1` rows read in read order into a page in the requested order.
fn finish<R>(mut rows: Vec<R>, page: &Page) -> Rows<R> {
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    if page.backward {
        rows.reverse();
        Rows {
            rows,
            has_previous: more,
            has_next: page.before.is_some(),
        }
    } else {
        Rows {
            rows,
            has_previous: page.after.is_some(),
            has_next: more,
        }
    }
}

/// Reads one page of a top-level list.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn page<R: Row>(
    db: &impl ConnectionTrait,
    condition: Condition,
    page: &Page,
) -> AppResult<Rows<R>> {
    let order = read_order(page);
    let select = Query::select()
        .column((Alias::new(R::TABLE), Asterisk))
        .from(Alias::new(R::TABLE))
        .cond_where(both(condition, keyset(R::TABLE, page)))
        .order_by_expr(column(R::TABLE, page.sort.column), order.clone())
        .order_by_expr(column(R::TABLE, "id"), order)
        .limit(page.limit + 1)
        .to_owned();
    let rows = db.query_all(&select).await?;
    let rows = rows
        .iter()
        .map(|row| R::from_query_result(row, ""))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(finish(rows, page))
}

/// Counts the rows of a top-level list.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn count(
    db: &impl ConnectionTrait,
    table: &'static str,
    condition: Condition,
) -> AppResult<i64> {
    let select = Query::select()
        .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"))
        .from(Alias::new(table))
        .cond_where(condition)
        .to_owned();
    let row = db.query_one(&select).await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

fn parent_key(row: &QueryResult) -> AppResult<Uuid> {
    Ok(row.try_get::<Uuid>("", "parent_key")?)
}

/// Runs `select`, whose rows carry a `parent_key` column, and groups the rows by it (each
/// group in the order the rows arrived).
async fn rows_by_parent<R: Row>(
    db: &impl ConnectionTrait,
    select: &SelectStatement,
) -> AppResult<HashMap<Uuid, Vec<R>>> {
    let mut grouped: HashMap<Uuid, Vec<R>> = HashMap::new();
    for row in db.query_all(select).await? {
        grouped
            .entry(parent_key(&row)?)
            .or_default()
            .push(R::from_query_result(&row, "")?);
    }
    Ok(grouped)
}

/// Reads one page of a nested list for many parents in one statement.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn pages_by_parent<R: Row>(
    db: &impl ConnectionTrait,
    parent: Parent,
    parents: &[Uuid],
    condition: Condition,
    page: &Page,
) -> AppResult<HashMap<Uuid, Rows<R>>> {
    if let Parent::DatedLink(link, child, parent_column, copy) = parent
        && copy == page.sort.column
    {
        let link = (link, child, parent_column);
        return pages_from_link_index(db, link, parents, condition, page).await;
    }
    let order = read_order(page);
    let key = parent.key_expr(R::TABLE);
    let mut inner = Query::select();
    inner
        .column((Alias::new(R::TABLE), Asterisk))
        .expr_as(key.clone(), Alias::new("parent_key"))
        .expr_window_as(
            Func::cust(Alias::new("ROW_NUMBER")),
            WindowStatement::partition_by(parent.key_column(R::TABLE))
                .order_by_expr(column(R::TABLE, page.sort.column), order.clone())
                .order_by_expr(column(R::TABLE, "id"), order)
                .to_owned(),
            Alias::new("row_number"),
        )
        .from(Alias::new(R::TABLE));
    parent.join(&mut inner, R::TABLE);
    inner.cond_where(
        both(condition, one_of(db.get_database_backend(), key, parents))
            .add(keyset(R::TABLE, page)),
    );
    let select = Query::select()
        .column(Asterisk)
        .from_subquery(inner.to_owned(), Alias::new("numbered"))
        .and_where(
            Expr::col(Alias::new("row_number"))
                .lte(i64::try_from(page.limit + 1).unwrap_or(i64::MAX)),
        )
        .order_by(Alias::new("parent_key"), Order::Asc)
        .order_by(Alias::new("row_number"), Order::Asc)
        .to_owned();
    let mut grouped = rows_by_parent::<R>(db, &select).await?;
    Ok(parents
        .iter()
        .map(|id| (*id, finish(grouped.remove(id).unwrap_or_default(), page)))
        .collect())
}

/// `expr IN ids`. On SQLite the ids travel as one JSON parameter: a statement with dozens
/// of parameters is compiled again at every run by SQLite's planner (its STAT4 build marks
/// them as plan-dependent), which cost more than running it.
fn one_of(backend: DatabaseBackend, expr: Expr, ids: &[Uuid]) -> Expr {
    if backend == DatabaseBackend::Sqlite {
        expr.in_subquery(sqlite_ids(ids))
    } else {
        expr.is_in(ids.iter().copied())
    }
}

/// `SELECT id FROM <ids>` on SQLite, whose uuids are 16-byte blobs, from one JSON parameter.
fn sqlite_ids(ids: &[Uuid]) -> SelectStatement {
    let hex: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
    let json = serde_json::to_string(&hex).unwrap_or_else(|_| "[]".into());
    Query::select()
        .expr_as(Expr::cust("unhex(\"value\")"), Alias::new("id"))
        .from_function(
            Func::cust(Alias::new("json_each")).arg(json),
            Alias::new("ids"),
        )
        .to_owned()
}

/// [`pages_by_parent`] through a [`Parent::DatedLink`] index: for each parent, its first
/// rows in index order that pass `condition`, so a parent's page costs about its size.
/// PostgreSQL runs one lateral subquery per parent; SQLite, which has no LATERAL, the same
/// subquery correlated to each parent.
async fn pages_from_link_index<R: Row>(
    db: &impl ConnectionTrait,
    (link, child, parent): (&'static str, &'static str, &'static str),
    parents: &[Uuid],
    condition: Condition,
    page: &Page,
) -> AppResult<HashMap<Uuid, Rows<R>>> {
    let order = read_order(page);
    let parent_id = || Expr::col((Alias::new("parent"), Alias::new("id")));
    // The first rows of one parent, in index order; `condition` names the row table as is.
    let mut first = Query::select();
    first
        .from(Alias::new(link))
        .inner_join(
            Alias::new(R::TABLE),
            column(R::TABLE, "id").equals((Alias::new(link), Alias::new(child))),
        )
        .cond_where(
            both(condition, column(link, parent).eq(parent_id())).add(keyset_on(
                page,
                column(link, page.sort.column),
                column(link, child),
            )),
        )
        .order_by_expr(column(link, page.sort.column), order.clone())
        .order_by_expr(column(link, child), order.clone())
        .limit(page.limit + 1);
    let mut select = Query::select();
    select
        .column((Alias::new("page"), Asterisk))
        .expr_as(parent_id(), Alias::new("parent_key"));
    if db.get_database_backend() == DatabaseBackend::Postgres {
        let values = parents.iter().map(|id| ValueTuple::One((*id).into()));
        first.column((Alias::new(R::TABLE), Asterisk));
        select
            .from_subquery(
                Query::select()
                    .expr_as(Expr::col(Alias::new("column1")), Alias::new("id"))
                    .from_values(values, Alias::new("ids"))
                    .to_owned(),
                Alias::new("parent"),
            )
            .join_lateral(
                JoinType::InnerJoin,
                first,
                Alias::new("page"),
                Expr::cust("TRUE"),
            );
    } else {
        first.column((Alias::new(link), Alias::new(child)));
        select
            .from_subquery(sqlite_ids(parents), Alias::new("parent"))
            .join_as(
                JoinType::InnerJoin,
                Alias::new(R::TABLE),
                Alias::new("page"),
                Expr::col((Alias::new("page"), Alias::new("id"))).in_subquery(first),
            );
    }
    let mut grouped = rows_by_parent::<R>(db, &select).await?;
    Ok(parents
        .iter()
        .map(|id| {
            let mut rows = grouped.remove(id).unwrap_or_default();
            // Each parent's rows arrive in read order, but SQL promises no order here.
            sort_rows(&mut rows, page.sort.column, order == Order::Desc);
            (*id, finish(rows, page))
        })
        .collect())
}

/// Counts the rows of a nested list for many parents in one statement.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn counts_by_parent(
    db: &impl ConnectionTrait,
    table: &'static str,
    parent: Parent,
    parents: &[Uuid],
    condition: Condition,
) -> AppResult<HashMap<Uuid, i64>> {
    let key = parent.key_expr(table);
    let mut select = Query::select();
    select
        .expr_as(key.clone(), Alias::new("parent_key"))
        .expr_as(Func::count(Expr::col(Asterisk)), Alias::new("n"))
        .from(Alias::new(table));
    parent.join(&mut select, table);
    select
        .cond_where(both(
            condition,
            one_of(db.get_database_backend(), key.clone(), parents),
        ))
        .add_group_by([key]);
    let mut counts = HashMap::new();
    for row in db.query_all(&select).await? {
        counts.insert(parent_key(&row)?, row.try_get::<i64>("", "n")?);
    }
    Ok(counts)
}

/// Reads every row of a short nested list (participants, co-signers, history) for many
/// parents in one statement, ordered by `sort`.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn all_by_parent<R: Row>(
    db: &impl ConnectionTrait,
    parent: Parent,
    parents: &[Uuid],
    condition: Condition,
    sort: Sort,
) -> AppResult<HashMap<Uuid, Vec<R>>> {
    let key = parent.key_expr(R::TABLE);
    let mut select = Query::select();
    select
        .column((Alias::new(R::TABLE), Asterisk))
        .expr_as(key.clone(), Alias::new("parent_key"))
        .from(Alias::new(R::TABLE));
    parent.join(&mut select, R::TABLE);
    // No ORDER BY: it tempts planners to walk the whole table in that order (2.9 s for the
    // proposals of 500 dialogues on SQLite); these lists are short, so they are sorted here.
    select.cond_where(both(
        condition,
        one_of(db.get_database_backend(), key, parents),
    ));
    let mut grouped = rows_by_parent::<R>(db, &select).await?;
    for rows in grouped.values_mut() {
        sort_rows(rows, sort.column, sort.descending);
    }
    Ok(grouped)
}

/// Sorts rows by `column`, then id.
fn sort_rows<R: Row>(rows: &mut [R], column: &str, descending: bool) {
    rows.sort_by(|a, b| {
        let order = a
            .sort_value(column)
            .cmp(&b.sort_value(column))
            .then_with(|| a.id().cmp(&b.id()));
        if descending { order.reverse() } else { order }
    });
}

/// Reads rows by id, keeping only those `condition` allows.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_ids<R: Row>(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    condition: Condition,
) -> AppResult<HashMap<Uuid, R>> {
    let select = Query::select()
        .column((Alias::new(R::TABLE), Asterisk))
        .from(Alias::new(R::TABLE))
        .cond_where(both(
            condition,
            one_of(db.get_database_backend(), column(R::TABLE, "id"), ids),
        ))
        .to_owned();
    let mut found = HashMap::new();
    for row in db.query_all(&select).await? {
        let row = R::from_query_result(&row, "")?;
        found.insert(row.id(), row);
    }
    Ok(found)
}

/// A case-insensitive "contains" condition on any of `columns`, with LIKE wildcards in
/// the user's text taken literally.
pub fn text_search(table: &'static str, columns: &[&'static str], text: &str) -> Condition {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let pattern = format!("%{escaped}%");
    columns.iter().fold(Condition::any(), |any, name| {
        any.add(
            Expr::expr(Func::lower(column(table, name)))
                .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\')),
        )
    })
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, async_graphql::Enum)]
pub enum OrderDirection {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

impl OrderDirection {
    /// Whether this is [`OrderDirection::Desc`].
    pub fn is_descending(self) -> bool {
        self == Self::Desc
    }
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
    fn condition(&self, principal: &crate::auth::Principal) -> AppResult<Condition>;
}

/// One page of a top-level list.
///
/// # Errors
/// As [`ListFilter::condition`]; INTERNAL on a database failure.
pub async fn list<F: ListFilter>(
    db: &impl ConnectionTrait,
    principal: &crate::auth::Principal,
    filter: &F,
    page: &Page,
) -> AppResult<Rows<F::Row>> {
    self::page(db, filter.condition(principal)?, page).await
}

/// How many rows a top-level list holds across its pages.
///
/// # Errors
/// As [`ListFilter::condition`]; INTERNAL on a database failure.
pub async fn count_of<F: ListFilter>(
    db: &impl ConnectionTrait,
    principal: &crate::auth::Principal,
    filter: &F,
) -> AppResult<i64> {
    count(db, F::Row::TABLE, filter.condition(principal)?).await
}
