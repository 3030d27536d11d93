//! Keyset pagination for every list: top-level connections and nested ones alike.
//!
//! A list is an entity, a condition (filters and the visibility rule), an ordering on one
//! column with the id as tie-breaker, and optionally a [`Parent`]: the rows of many
//! parents are fetched in one statement with `ROW_NUMBER() OVER (PARTITION BY parent ...)`,
//! which is how nested connections stay one query per level whatever the page size. Where
//! the link table keeps a copy of the ordering column under an index, each parent's page is
//! read from that index instead ([`Parent::dated`]).
//!
//! Each row type declares its orderings with [`sortable!`]: a field enum, and a key enum
//! that carries the typed value of each field. Cursors hold a key, so a value's type is
//! never guessed, and an ordering field the key does not cover fails to compile.

use crate::collation::{self, Swedish};
use crate::db::{Connection, ReadRow};
use crate::error::{AppError, AppResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use entity::FromColumns;
use entity::columns::{Cell, Elements, Source};
use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{
    Asterisk, Condition, DynIden, Expr, ExprTrait, Func, IntoIden, JoinType, Order, Query,
    SelectStatement, WindowStatement,
};
use sea_orm::{
    ColumnTrait, DatabaseBackend, EntityTrait, Identity, Iterable, PrimaryKeyToColumn, QueryResult,
    RelationDef, Statement, Value,
};
use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use uuid::Uuid;

/// A map keyed by record id, with a hash that costs a few instructions: the maps that
/// group a level's rows by parent are hashed once for every row and every parent. Ids are
/// made by the server (UUID v7: 74 random bits), so a client cannot pick keys that collide;
/// SipHash's defence against chosen keys would cost ten times as much for nothing.
pub type IdMap<V> = HashMap<Uuid, V, BuildHasherDefault<IdHasher>>;

/// Where each of `rows` lies in them, by id.
pub fn places_by_id<R: Row>(rows: &[R]) -> IdMap<usize> {
    let mut places = IdMap::with_capacity_and_hasher(rows.len(), Default::default());
    places.extend(
        rows.iter()
            .enumerate()
            .map(|(place, row)| (row.id(), place)),
    );
    places
}

/// `ids` without repeats, each where it first came. Through a set hashed as [`IdMap`] is:
/// on W2, the 750 authority ids of 500 dialogues, sorting them to find the repeats cost
/// five times as much (3 % of the server's instructions).
pub fn distinct(ids: &[Uuid]) -> Vec<Uuid> {
    let mut seen: HashSet<Uuid, BuildHasherDefault<IdHasher>> =
        HashSet::with_capacity_and_hasher(ids.len(), BuildHasherDefault::default());
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

/// The hash of [`IdMap`]: each 8 bytes of the key folded in with a multiplication.
#[derive(Default)]
pub struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Page size when the client gives neither `first` nor `last`.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// Which way an ordering runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// The typed value of one ordering field of a row: what a cursor keeps besides the id.
/// Declared for each row type by [`sortable!`].
pub trait SortKey: Clone + Debug + Ord + Hash + Send + Sync + 'static {
    /// The fields the rows can be ordered by.
    type Field: Copy + Debug + Eq + Hash + Send + Sync + 'static;

    /// The field this value belongs to.
    fn field(&self) -> Self::Field;
    /// The column of `field`, qualified by its table.
    fn column(field: Self::Field) -> (DynIden, DynIden);
    /// What the rows are sorted by for `field`: its column, under a collation for text.
    fn order_column(field: Self::Field) -> Expr;
    /// The value, for a statement.
    fn into_value(self) -> Value;
    /// The value as kept in a cursor.
    fn to_json(&self) -> serde_json::Value;
    /// A cursor's value read back as `field`'s type; `None` when it is not one.
    fn from_json(field: Self::Field, value: serde_json::Value) -> Option<Self>;
}

/// Rows that can be paginated: a table's model that knows its id and the key of each of
/// its ordering fields. Statements select its columns with [`select_row`] and read them
/// by position ([`FromColumns`]).
pub trait Row: FromColumns + Clone + Send + Sync + 'static {
    /// The table the rows come from.
    type Entity: EntityTrait;
    /// Its orderings.
    type Key: SortKey;
    /// The row's primary key.
    fn id(&self) -> Uuid;
    /// The row's value of `field`.
    fn key(&self, field: <Self::Key as SortKey>::Field) -> Self::Key;
    /// How this row's value of `field` compares with `other`'s, as their keys would, without
    /// making them: a key of text is a copy of it.
    fn compare(&self, other: &Self, field: <Self::Key as SortKey>::Field) -> std::cmp::Ordering;
}

/// Declares the orderings of a table's rows: an enum of the fields, an enum of their typed
/// values (one variant per field, named as the entity's column) and [`Row`] for the model.
/// The entity's module must be in scope under its name.
///
/// ```ignore
/// sortable! {
///     /// Fields dialogues can be ordered by.
///     pub enum DialogueOrderField, DialogueKey for dialogue {
///         /// By the day it was held.
///         HeldOn(chrono::NaiveDate) = held_on,
///     }
/// }
/// ```
#[macro_export]
macro_rules! sortable {
    (
        $(#[$meta:meta])*
        pub enum $field:ident, $key:ident for $entity:ident {
            $( $(#[$vmeta:meta])* $variant:ident($ty:ty) = $attr:ident ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $field {
            $( $(#[$vmeta])* $variant ),+
        }

        #[doc = concat!("The typed value of a [`", stringify!($field), "`], as kept in cursors.")]
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $key {
            $( $(#[$vmeta])* $variant($ty) ),+
        }

        impl $crate::paging::SortKey for $key {
            type Field = $field;

            fn field(&self) -> $field {
                match self {
                    $( Self::$variant(_) => $field::$variant ),+
                }
            }

            fn column(
                field: $field,
            ) -> (sea_orm::sea_query::DynIden, sea_orm::sea_query::DynIden) {
                use sea_orm::ColumnTrait;
                match field {
                    $( $field::$variant => $entity::Column::$variant.as_column_ref() ),+
                }
            }

            fn order_column(field: $field) -> sea_orm::sea_query::Expr {
                use sea_orm::ColumnTrait;
                match field {
                    $( $field::$variant => <$ty as $crate::paging::Ordered>::order(
                        sea_orm::sea_query::Expr::col($entity::Column::$variant.as_column_ref()),
                    ) ),+
                }
            }

            fn into_value(self) -> sea_orm::Value {
                match self {
                    $( Self::$variant(value) => value.into() ),+
                }
            }

            fn to_json(&self) -> serde_json::Value {
                match self {
                    $( Self::$variant(value) => serde_json::to_value(value).unwrap_or_default() ),+
                }
            }

            fn from_json(field: $field, value: serde_json::Value) -> Option<Self> {
                match field {
                    $( $field::$variant => serde_json::from_value(value).ok().map(Self::$variant) ),+
                }
            }
        }

        impl $crate::paging::Row for $entity::Model {
            type Entity = $entity::Entity;
            type Key = $key;

            fn id(&self) -> uuid::Uuid {
                self.id
            }

            fn key(&self, field: $field) -> $key {
                match field {
                    $( $field::$variant => $key::$variant(self.$attr.clone().into()) ),+
                }
            }

            fn compare(&self, other: &Self, field: $field) -> std::cmp::Ordering {
                match field {
                    $( $field::$variant => <$ty as $crate::paging::Ordered>::compare(
                        &self.$attr,
                        &other.$attr,
                    ) ),+
                }
            }
        }
    };
}

/// How values of a type are ordered, in SQL and here: as the column holds them, or under a
/// collation.
pub trait Ordered {
    /// What a model holds of the value.
    type Stored;

    /// The expression rows are sorted by, given the column.
    fn order(column: Expr) -> Expr {
        column
    }

    /// How two stored values compare, as the values would.
    fn compare(a: &Self::Stored, b: &Self::Stored) -> std::cmp::Ordering;
}

/// [`Ordered`] for types a model holds as they are, ordered as the column orders them.
macro_rules! ordered_as_stored {
    ($($ty:ty),+) => {$(
        impl Ordered for $ty {
            type Stored = Self;

            fn compare(a: &Self, b: &Self) -> std::cmp::Ordering {
                a.cmp(b)
            }
        }
    )+};
}

ordered_as_stored!(String, chrono::NaiveDate, chrono::DateTime<chrono::Utc>);

impl Ordered for Swedish {
    type Stored = String;

    fn order(column: Expr) -> Expr {
        collation::collated(column)
    }

    fn compare(a: &String, b: &String) -> std::cmp::Ordering {
        collation::compare(a, b)
    }
}

/// An ordering: a field and its direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sort<F> {
    /// The field.
    pub field: F,
    /// Largest first.
    pub descending: bool,
}

impl<F> Sort<F> {
    /// `field` in `direction`.
    pub const fn new(field: F, direction: Direction) -> Self {
        Self {
            field,
            descending: matches!(direction, Direction::Desc),
        }
    }
}

/// The position of one row under an ordering: its key and id. Encoded, it is the opaque
/// cursor clients get (`{"c": column, "v": value, "i": id}` in base64url, as always).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor<K> {
    key: K,
    id: Uuid,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CursorBody {
    c: String,
    v: serde_json::Value,
    i: Uuid,
}

fn column_name<K: SortKey>(field: K::Field) -> String {
    K::column(field).1.to_string()
}

impl<K: SortKey> Cursor<K> {
    /// The cursor of `row` under an ordering on `field`.
    pub fn of<R: Row<Key = K>>(row: &R, field: K::Field) -> Self {
        Self {
            key: row.key(field),
            id: row.id(),
        }
    }

    /// The opaque text a client gets.
    pub fn encode(&self) -> String {
        let body = CursorBody {
            c: column_name::<K>(self.key.field()),
            v: self.key.to_json(),
            i: self.id,
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap_or_default())
    }

    /// Reads a cursor of an ordering on `field`; `None` when it is malformed, was made for
    /// another ordering, or its value is not of the field's type.
    pub fn decode(text: &str, field: K::Field) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let body: CursorBody = serde_json::from_slice(&bytes).ok()?;
        if body.c != column_name::<K>(field) {
            return None;
        }
        Some(Self {
            key: K::from_json(field, body.v)?,
            id: body.i,
        })
    }
}

/// A page size a client gave as `field`, checked against the limits.
///
/// # Errors
/// BAD_USER_INPUT naming `field` outside 0..=100.
pub fn page_size(field: &str, n: i32) -> AppResult<u64> {
    u64::try_from(n)
        .ok()
        .filter(|n| *n <= MAX_PAGE_SIZE)
        .ok_or_else(|| {
            AppError::bad_input(
                field,
                format!("{field} must be between 0 and {MAX_PAGE_SIZE}"),
            )
        })
}

/// What a client asked of a connection, checked: how many rows, from where, which way.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Page<K: SortKey> {
    /// Rows to return.
    pub limit: u64,
    /// Counting from the end (`last`) rather than the start.
    pub backward: bool,
    /// Only rows after this one.
    pub after: Option<Cursor<K>>,
    /// Only rows before this one.
    pub before: Option<Cursor<K>>,
    /// The ordering.
    pub sort: Sort<K::Field>,
    /// The columns the rows' readers use.
    pub wanted: Wanted,
    /// Whether the row past the page is read as well, to tell whether more follow. Without
    /// it, [`Rows`] say that none follow in the direction read: a reader that asks for
    /// neither `hasNextPage` nor `hasPreviousPage` leaves it out (on W2, 50 of the 550 rows
    /// of the dialogue pages).
    pub look_ahead: bool,
}

/// Which columns of a row type a statement reads for its readers, by their position in
/// [`FromColumns::FIELDS`]. It leaves the others out: the database sends, and the server
/// decodes, nothing for them, and the row's field holds its blank
/// ([`entity::columns::Cell::BLANK`]). The id and the ordering column are always read; so
/// is every column without a blank.
///
/// Rows read with fewer than [`Wanted::ALL`] must only reach the readers that asked: whatever
/// keeps them (a sibling group, a loader) keys them by their `Wanted` as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Wanted(u64);

impl Wanted {
    /// Every column.
    pub const ALL: Self = Self(u64::MAX);
    /// Only the columns always read.
    pub const NONE: Self = Self(0);

    /// These columns and column `name` of `R`; every column when `R` has no column of
    /// that name.
    #[must_use]
    pub fn and<R: Row>(self, name: &str) -> Self {
        R::FIELDS
            .iter()
            .position(|field| *field == name)
            .and_then(|at| 1_u64.checked_shl(u32::try_from(at).ok()?))
            .map_or(Self::ALL, |bit| Self(self.0 | bit))
    }

    /// The columns of both.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    fn reads(self, at: usize) -> bool {
        entity::columns::selects(self.0, at)
    }

    /// The columns of `R` a statement selects for these readers, ordered on `sort`: these,
    /// the id, the ordering column and every column without a blank.
    #[must_use]
    pub fn selected<R: Row>(self, sort: <R::Key as SortKey>::Field) -> Self {
        self.kept::<R>(Some(&column_name::<R::Key>(sort)))
    }

    /// These columns of `R`, the id, `also` when given, and every column without a blank.
    fn kept<R: Row>(self, also: Option<&str>) -> Self {
        let id = id_name::<R>().to_string();
        R::FIELDS
            .iter()
            .zip(R::SKIPPABLE)
            .filter(|(name, skippable)| !**skippable || Some(**name) == also || **name == id)
            .fold(self, |wanted, (name, _)| wanted.and::<R>(name))
    }

    /// How many columns of `R` these are.
    fn count<R: Row>(self) -> usize {
        (0..R::FIELDS.len()).filter(|at| self.reads(*at)).count()
    }
}

/// Relay's paging arguments as a client gave them.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    /// `first`.
    pub first: Option<i32>,
    /// `after`.
    pub after: Option<String>,
    /// `last`.
    pub last: Option<i32>,
    /// `before`.
    pub before: Option<String>,
}

impl PageArgs {
    /// The arguments as given.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Self {
        Self {
            first,
            after,
            last,
            before,
        }
    }
}

impl<K: SortKey> Page<K> {
    /// Checks Relay arguments against the limits.
    ///
    /// # Errors
    /// BAD_USER_INPUT for a page size outside 0..=100, both `first` and `last`, or a bad cursor.
    pub fn new(args: PageArgs, sort: Sort<K::Field>) -> AppResult<Self> {
        let (limit, backward) = match (args.first, args.last) {
            (Some(_), Some(_)) => {
                return Err(AppError::bad_input(
                    "last",
                    "pass either first or last, not both",
                ));
            }
            (Some(n), None) => (page_size("first", n)?, false),
            (None, Some(n)) => (page_size("last", n)?, true),
            (None, None) => (DEFAULT_PAGE_SIZE, false),
        };
        let cursor = |text: Option<String>, name: &str| {
            text.map(|text| {
                Cursor::decode(&text, sort.field).ok_or_else(|| {
                    AppError::bad_input(name, "invalid cursor for this list and ordering")
                })
            })
            .transpose()
        };
        Ok(Self {
            limit,
            backward,
            after: cursor(args.after, "after")?,
            before: cursor(args.before, "before")?,
            sort,
            wanted: Wanted::ALL,
            look_ahead: true,
        })
    }

    /// The same page, reading only the `wanted` columns.
    #[must_use]
    pub fn wanting(self, wanted: Wanted) -> Self {
        Self { wanted, ..self }
    }

    /// The same page, reading the row past it only when `look_ahead`.
    #[must_use]
    pub fn looking_ahead(self, look_ahead: bool) -> Self {
        Self { look_ahead, ..self }
    }

    /// How many rows a statement reads: the page, and the row past it when looking ahead.
    fn read_limit(&self) -> u64 {
        self.limit + u64::from(self.look_ahead)
    }

    fn column(&self) -> Expr {
        K::order_column(self.sort.field)
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

/// The only column of a single-column relation end (all of ours are).
fn only(identity: &Identity) -> DynIden {
    match identity {
        Identity::Unary(column) | Identity::Binary(column, _) | Identity::Ternary(column, _, _) => {
            column.clone()
        }
        Identity::Many(columns) => columns.first().cloned().unwrap_or_else(|| "".into_iden()),
    }
}

/// How the rows of a nested list hang off their parent, from the entities' relations.
#[derive(Debug, Clone)]
pub struct Parent {
    /// The table and column holding the parent's id.
    key: (DynIden, DynIden),
    /// The link table between row and parent, the link's column pointing at the row, and
    /// the join condition.
    link: Option<(DynIden, DynIden, Condition)>,
    /// The link's copy of a row column, indexed after the parent: (copy, the row column).
    dated: Option<(DynIden, DynIden)>,
}

impl Parent {
    /// Rows that hold their parent's id: `relation` runs from the rows' table to the parent.
    pub fn owner(relation: RelationDef) -> Self {
        Self {
            key: (
                relation.from_tbl.sea_orm_table().clone(),
                only(&relation.from_col),
            ),
            link: None,
            dated: None,
        }
    }

    /// Rows joined to their parent by a link table: both relations run from the link table,
    /// `to_row` to the rows' table and `to_parent` to the parent's.
    pub fn link(to_row: RelationDef, to_parent: RelationDef) -> Self {
        let table = to_row.from_tbl.sea_orm_table().clone();
        let row = only(&to_row.from_col);
        Self {
            key: (table.clone(), only(&to_parent.from_col)),
            link: Some((table, row, Condition::from(to_row))),
            dated: None,
        }
    }

    /// The link table also keeps a copy of the rows' column `of` in `copy`, indexed after
    /// the parent: pages in that order are read from the index.
    pub fn dated(self, copy: ColumnRef, of: ColumnRef) -> Self {
        Self {
            dated: Some((copy.1, of.1)),
            ..self
        }
    }

    fn key_expr(&self) -> Expr {
        Expr::col(self.key.clone())
    }

    fn join(&self, select: &mut SelectStatement) {
        if let Some((table, _, on)) = &self.link {
            select.inner_join(table.clone(), on.clone());
        }
    }
}

/// A column as (table, column).
pub type ColumnRef = (DynIden, DynIden);

/// `EXISTS (SELECT 1 FROM <link> WHERE <link> = <row> AND <also>)`: the row has a link,
/// through the link table's column `link` pointing at the row's column `row`, that
/// satisfies `also`.
pub fn linked(link: ColumnRef, row: ColumnRef, also: Expr) -> Expr {
    Expr::exists(
        Query::select()
            .expr(Expr::val(1))
            .from(link.0.clone())
            .and_where(Expr::col(link).equals(row))
            .and_where(also)
            .take(),
    )
}

/// A value from a closed vocabulary (an enum's text, a flag), written into the statement
/// instead of sent as a parameter. PostgreSQL plans a statement with parameters again for
/// each execution when the values could change the plan; written in, a status or a
/// visibility makes one statement per value, whose plan is kept. Never for values a client
/// chooses freely: each would be a statement of its own.
pub fn vocabulary(value: impl Into<Value>) -> Expr {
    Expr::Constant(value.into())
}

/// A column qualified by its table, for filters and orderings.
pub fn column(column: impl ColumnTrait) -> Expr {
    Expr::col(column.as_column_ref())
}

/// The name of the id column of a row type.
fn id_name<R: Row>() -> DynIden {
    <R::Entity as EntityTrait>::PrimaryKey::iter()
        .next()
        .map_or_else(|| "".into_iden(), |key| key.into_column().as_column_ref().1)
}

/// The columns of `R`'s table in the order [`FromColumns`] reads them, qualified by `table`
/// (the table's name or an alias of it).
fn row_columns<R: Row>(table: &DynIden) -> Vec<(DynIden, DynIden)> {
    let columns: Vec<(DynIden, DynIden)> = <R::Entity as EntityTrait>::Column::iter()
        .map(|column| (table.clone(), column.as_column_ref().1))
        .collect();
    debug_assert!(
        columns
            .iter()
            .map(|(_, column)| column.to_string())
            .eq(R::FIELDS.iter().map(|field| (*field).to_owned())),
        "the columns of {} are not its fields in order",
        table
    );
    columns
}

/// Selects the `selected` columns of `R`, qualified by `table` (its name, an alias, or a
/// subquery that selected them), in the order [`FromColumns`] reads them.
fn select_row<R: Row>(select: &mut SelectStatement, table: &DynIden, selected: Wanted) {
    for (at, column) in row_columns::<R>(table).into_iter().enumerate() {
        if selected.reads(at) {
            select.column(column);
        }
    }
}

/// Reads a row of `R` that holds the `selected` columns.
fn read_row<R: Row>(row: &QueryResult, selected: Wanted) -> Result<R, sea_orm::DbErr> {
    if selected == Wanted::ALL {
        R::from_columns(row)
    } else {
        R::from_selected(row, selected.0)
    }
}

/// Reads the `selected` columns of a row of `R` ([`read_row`]), on SQLite where the
/// statement is stepped ([`Connection::decoded`]).
struct Selected<R>(Wanted, std::marker::PhantomData<fn() -> R>);

impl<R> Selected<R> {
    fn new(selected: Wanted) -> Self {
        Self(selected, std::marker::PhantomData)
    }
}

impl<R: Row> ReadRow for Selected<R> {
    type Row = R;

    fn read(&self, columns: &mut impl Source) -> Result<R, sea_orm::DbErr> {
        R::from_source(columns, self.0.0)
    }
}

/// [`Selected`] followed by the parent's key ([`PARENT_KEY`]): a row of a nested list.
struct WithParent<R>(Selected<R>);

impl<R: Row> ReadRow for WithParent<R> {
    type Row = (Uuid, R);

    fn read(&self, columns: &mut impl Source) -> Result<(Uuid, R), sea_orm::DbErr> {
        let row = self.0.read(columns)?;
        Ok((columns.read::<Uuid>()?, row))
    }
}

/// Room for one parent's rows of a page, as many as it reads (at most a client's largest
/// page and one: it is only room).
fn page_rows<K: SortKey>(page: &Page<K>) -> usize {
    usize::try_from(std::cmp::Ord::min(page.read_limit(), MAX_PAGE_SIZE + 1)).unwrap_or(0)
}

/// The id column of a row type, qualified.
fn id_column<R: Row>() -> Expr {
    Expr::col((table::<R>(), id_name::<R>()))
}

/// The rows of `select`.
async fn read(
    db: &impl Connection,
    select: &SelectStatement,
) -> Result<Vec<QueryResult>, sea_orm::DbErr> {
    db.rows(db.get_database_backend().build(select)).await
}

/// The rows of `select`, each read by `decode`.
async fn read_as<D: ReadRow>(
    db: &impl Connection,
    select: &SelectStatement,
    decode: D,
) -> Result<Vec<D::Row>, sea_orm::DbErr> {
    db.decoded(db.get_database_backend().build(select), decode)
        .await
}

/// The rows of `select`, each read by `decode`, as [`limited`] as `limit`.
async fn read_limited_as<D: ReadRow>(
    db: &impl Connection,
    select: &SelectStatement,
    limit: u64,
    decode: D,
) -> Result<Vec<D::Row>, sea_orm::DbErr> {
    db.decoded(limited(db, select, limit), decode).await
}

/// Reads the first `limit` rows of `select`, a statement without a limit of its own.
async fn read_limited(
    db: &impl Connection,
    select: &SelectStatement,
    limit: u64,
) -> Result<Vec<QueryResult>, sea_orm::DbErr> {
    db.rows(limited(db, select, limit)).await
}

/// The statement of `select`, a statement without a limit of its own, for its first `limit`
/// rows. The limit is written into the statement rather than sent as a parameter:
/// PostgreSQL would otherwise plan the statement again on every execution, as a plan kept
/// for any limit assumes a tenth of the rows. A statement per page size is bounded by the
/// largest one.
fn limited(db: &impl Connection, select: &SelectStatement, limit: u64) -> Statement {
    let mut statement = db.get_database_backend().build(select);
    statement.sql = format!("{} LIMIT {limit}", statement.sql);
    statement
}

fn table<R: Row>() -> DynIden {
    R::Entity::default().into_iden()
}

/// Both conditions. A caller's condition may be an `any` (the visibility rule is one):
/// adding to it would widen it, so it is always nested.
fn both(condition: Condition, extra: impl sea_orm::sea_query::IntoCondition) -> Condition {
    Condition::all().add(condition).add(extra)
}

/// The keyset bounds of a page on the given ordering column and id.
fn keyset<K: SortKey>(page: &Page<K>, value: Expr, id: Expr) -> Condition {
    let key = || Expr::tuple([value.clone(), id.clone()]);
    let at = |c: &Cursor<K>| Expr::tuple([Expr::val(c.key.clone().into_value()), Expr::val(c.id)]);
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
fn read_order<K: SortKey>(page: &Page<K>) -> Order {
    if page.sort.descending != page.backward {
        Order::Desc
    } else {
        Order::Asc
    }
}

/// Turns the rows read, in read order, into a page in the requested order.
fn finish<R, K: SortKey>(mut rows: Vec<R>, page: &Page<K>) -> Rows<R> {
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
    db: &impl Connection,
    condition: Condition,
    page: &Page<R::Key>,
) -> AppResult<Rows<R>> {
    let (select, selected) = page_select::<R>(condition, page);
    let rows = read_limited_as(db, &select, page.read_limit(), Selected::new(selected)).await?;
    Ok(finish(rows, page))
}

/// A to-one reference read in the statement of a page rather than in one of its own: the
/// column of the page's rows that holds the target's id, which targets the caller may see,
/// and which of their columns are read.
pub struct Joined<T: Row> {
    key: DynIden,
    visible: Condition,
    wanted: Wanted,
    targets: std::marker::PhantomData<fn() -> T>,
}

impl<T: Row> Joined<T> {
    /// The rows of `T` that `key`, a column of the page's table, names, as far as `visible`
    /// lets the caller see them, with the `wanted` columns (and those always read).
    pub fn new(key: impl ColumnTrait, visible: Condition, wanted: Wanted) -> Self {
        Self {
            key: key.as_column_ref().1,
            visible,
            wanted,
            targets: std::marker::PhantomData,
        }
    }
}

/// [`page`] with the rows its rows reference through `joined`, by id: a left join in the
/// same statement instead of a second statement for the targets. A reference the caller may
/// not see, or that names no row, is absent from the map. Only when [`joinable`].
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn page_joining<R: Row, T: Row>(
    db: &impl Connection,
    condition: Condition,
    page: &Page<R::Key>,
    joined: &Joined<T>,
) -> AppResult<(Rows<R>, IdMap<T>)> {
    let (mut select, selected) = page_select::<R>(condition, page);
    debug_assert!(
        joinable::<R, T>(),
        "a table joined to itself needs an alias"
    );
    let target = table::<T>();
    let target_selected = joined.wanted.kept::<T>(None);
    select_row::<T>(&mut select, &target, target_selected);
    select.join(
        JoinType::LeftJoin,
        target.clone(),
        both(
            joined.visible.clone(),
            Expr::col((target, id_name::<T>())).equals((table::<R>(), joined.key.clone())),
        ),
    );
    let rows = read_limited(db, &select, page.read_limit()).await?;
    let first = selected.count::<R>();
    // The target's id, which is always read, tells a row that found a target from one
    // whose join found none (every column of the target NULL).
    let id_at = first
        + T::FIELDS
            .iter()
            .position(|field| *field == id_name::<T>().to_string())
            .map_or(0, |at| {
                (0..at).filter(|at| target_selected.reads(*at)).count()
            });
    let mut targets = IdMap::default();
    let mut read = Vec::with_capacity(rows.len());
    // The row past the limit only tells that more follow: its target is not on the page,
    // and in the targets' group it would have their relations loaded for nothing.
    let on_page = usize::try_from(page.limit).unwrap_or(usize::MAX);
    for (at, row) in rows.iter().enumerate() {
        read.push(read_row::<R>(row, selected)?);
        if at < on_page && Option::<Uuid>::read(row, id_at)?.is_some() {
            let target = T::from_selected_at(row, first, target_selected.0)?;
            targets.insert(target.id(), target);
        }
    }
    Ok((finish(read, page), targets))
}

/// Whether [`page_joining`] can read rows of `T` with a page of `R`: the statement names both
/// tables by their names, so not a table joined to itself (an authority's parent).
pub fn joinable<R: Row, T: Row>() -> bool {
    table::<T>() != table::<R>()
}

/// The statement of one page of a top-level list, with the columns of `R` it selects.
fn page_select<R: Row>(condition: Condition, page: &Page<R::Key>) -> (SelectStatement, Wanted) {
    let order = read_order(page);
    let selected = page.wanted.selected::<R>(page.sort.field);
    let mut select = Query::select();
    select_row::<R>(&mut select, &table::<R>(), selected);
    select
        .from(table::<R>())
        .cond_where(both(
            condition,
            keyset(page, page.column(), id_column::<R>()),
        ))
        .order_by_expr(page.column(), order.clone())
        .order_by_expr(id_column::<R>(), order);
    (select, selected)
}

/// Reads the row that `condition` selects (the first, if several do), by a unique column:
/// its `wanted` columns, its id and every column without a blank.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn one<R: Row>(
    db: &impl Connection,
    condition: Condition,
    wanted: Wanted,
) -> AppResult<Option<R>> {
    let wanted = wanted.kept::<R>(None);
    let mut select = Query::select();
    select_row::<R>(&mut select, &table::<R>(), wanted);
    select.from(table::<R>()).cond_where(condition);
    let rows = read_limited_as(db, &select, 1, Selected::new(wanted)).await?;
    Ok(rows.into_iter().next())
}

/// The alias of the counted rows in count statements.
const COUNT: &str = "n";
/// The alias of the parent's id in statements that read rows for many parents.
const PARENT_KEY: &str = "parent_key";
/// The alias of the one column of a list of ids given as a table.
const UUID: &str = "uuid";

/// Counts the rows of `table` that `condition` selects.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn count(
    db: &impl Connection,
    table: impl IntoIden,
    condition: Condition,
) -> AppResult<i64> {
    let select = Query::select()
        .expr_as(Func::count(Expr::col(Asterisk)), COUNT)
        .from(table.into_iden())
        .cond_where(condition)
        .take();
    let row = read(db, &select).await?.into_iter().next();
    Ok(row
        .map(|r| r.try_get::<i64>("", COUNT))
        .transpose()?
        .unwrap_or(0))
}

fn parent_key(row: &QueryResult) -> AppResult<Uuid> {
    Ok(row.try_get::<Uuid>("", PARENT_KEY)?)
}

/// Runs `select`, whose rows carry the parent's key right after the `selected` columns of
/// the row, and groups the rows by it (each group in the order the rows arrived). A group
/// is made room for `each` rows at first: grown from nothing, a page of 11 was moved three
/// times.
///
/// Rows on both engines. As arrays in one row (as [`rows_by_ids`] reads them), W2's ~500
/// dialogues cost the server 0.13 ms less but PostgreSQL 0.25 ms more per request
/// (pinned: server 0.52 against 0.65 ms, PostgreSQL 2.03 against 1.78 ms): PostgreSQL
/// builds and sends an array of every column, where it sends the rows anyway.
async fn rows_by_parent<R: Row>(
    db: &impl Connection,
    select: &SelectStatement,
    selected: Wanted,
    each: usize,
) -> AppResult<IdMap<Vec<R>>> {
    let rows = read_as(db, select, WithParent(Selected::new(selected))).await?;
    let mut grouped: IdMap<Vec<R>> =
        IdMap::with_capacity_and_hasher(rows.len(), Default::default());
    for (parent, row) in rows {
        grouped
            .entry(parent)
            .or_insert_with(|| Vec::with_capacity(each))
            .push(row);
    }
    Ok(grouped)
}

/// Reads one page of a nested list for many parents in one statement.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn pages_by_parent<R: Row>(
    db: &impl Connection,
    parent: &Parent,
    parents: &[Uuid],
    condition: Condition,
    page: &Page<R::Key>,
) -> AppResult<IdMap<Rows<R>>> {
    if let (Some((link, row, _)), Some((copy, of))) = (&parent.link, &parent.dated)
        && *of == <R::Key as SortKey>::column(page.sort.field).1
    {
        let link = Link {
            table: link.clone(),
            row: row.clone(),
            parent: parent.key.1.clone(),
            copy: copy.clone(),
        };
        return pages_from_link_index(db, &link, parents, condition, page).await;
    }
    let order = read_order(page);
    let key = parent.key_expr();
    const ROW_NUMBER: &str = "row_number";
    let selected = page.wanted.selected::<R>(page.sort.field);
    let mut inner = Query::select();
    select_row::<R>(&mut inner, &table::<R>(), selected);
    inner
        .expr_as(key.clone(), PARENT_KEY)
        .expr_window_as(
            Func::cust("ROW_NUMBER"),
            WindowStatement::partition_by(parent.key.clone())
                .order_by_expr(page.column(), order.clone())
                .order_by_expr(id_column::<R>(), order)
                .take(),
            ROW_NUMBER,
        )
        .from(table::<R>());
    parent.join(&mut inner);
    inner.cond_where(
        both(condition, one_of(db.get_database_backend(), key, parents)).add(keyset(
            page,
            page.column(),
            id_column::<R>(),
        )),
    );
    let mut select = Query::select();
    select_row::<R>(&mut select, &"numbered".into_iden(), selected);
    select
        .expr(Expr::col(PARENT_KEY))
        .from_subquery(inner.take(), "numbered")
        .and_where(Expr::col(ROW_NUMBER).lte(i64::try_from(page.read_limit()).unwrap_or(i64::MAX)))
        .order_by(PARENT_KEY, Order::Asc)
        .order_by(ROW_NUMBER, Order::Asc);
    let mut grouped = rows_by_parent::<R>(db, &select, selected, page_rows(page)).await?;
    Ok(parents
        .iter()
        .map(|id| (*id, finish(grouped.remove(id).unwrap_or_default(), page)))
        .collect())
}

/// `expr IN ids`, with the ids as one parameter whatever their number. On SQLite they
/// travel as JSON: `IN (?, …, ?)` was a statement text for each number of ids, each
/// prepared and kept (and, before SQLite was built with its plan stability guarantee, see
/// `.cargo/config.toml`, prepared again at every run). On PostgreSQL they travel as one
/// `uuid[]` (`= ANY($1)`): `IN ($1, …, $n)` was a statement of its own for each number of
/// ids, each parsed, planned and kept in the connection's statement cache, and writing its
/// placeholders was about 2 % of the server's instructions on W2.
fn one_of(backend: DatabaseBackend, expr: Expr, ids: &[Uuid]) -> Expr {
    if backend == DatabaseBackend::Sqlite {
        expr.in_subquery(sqlite_ids(ids))
    } else {
        expr.eq(PgFunc::any(Expr::val(ids.to_vec())))
    }
}

/// Raw SQL: `SELECT unhex(value) AS uuid FROM json_each(?)` on SQLite, whose uuids are 16-byte
/// blobs, from one JSON parameter. `json_each`'s column `value` and `unhex` are SQLite's
/// own, which the typed builder has no names for.
fn sqlite_ids(ids: &[Uuid]) -> SelectStatement {
    let hex: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
    let json = serde_json::to_string(&hex).unwrap_or_else(|_| "[]".into());
    Query::select()
        .expr_as(Expr::cust("unhex(\"value\")"), UUID)
        .from_function(Func::cust("json_each").arg(json), "ids")
        .take()
}

/// SQLite's own key of a row in a table that has one (every table of ours does).
const ROWID: &str = "rowid";

/// A link table that keeps a copy of the rows' ordering column, indexed after the parent.
struct Link {
    table: DynIden,
    row: DynIden,
    parent: DynIden,
    copy: DynIden,
}

/// [`pages_by_parent`] through a dated link's index: for each parent, its first rows in
/// index order that pass `condition`, so a parent's page costs about its size. PostgreSQL
/// runs one lateral subquery per parent; SQLite, which has no LATERAL, the same subquery
/// correlated to each parent.
async fn pages_from_link_index<R: Row>(
    db: &impl Connection,
    link: &Link,
    parents: &[Uuid],
    condition: Condition,
    page: &Page<R::Key>,
) -> AppResult<IdMap<Rows<R>>> {
    const PARENT: &str = "parent";
    const PAGE: &str = "page";
    let order = read_order(page);
    let on_link = |column: &DynIden| Expr::col((link.table.clone(), column.clone()));
    let parent_id = || Expr::col((PARENT, UUID));
    // The first rows of one parent, in index order; `condition` names the row table as is.
    let mut first = Query::select();
    first
        .from(link.table.clone())
        .inner_join(
            table::<R>(),
            id_column::<R>().equals((link.table.clone(), link.row.clone())),
        )
        .cond_where(
            both(condition, on_link(&link.parent).eq(parent_id())).add(keyset(
                page,
                on_link(&link.copy),
                on_link(&link.row),
            )),
        )
        .order_by_expr(on_link(&link.copy), order.clone())
        .order_by_expr(on_link(&link.row), order.clone())
        .limit(page.read_limit());
    let selected = page.wanted.selected::<R>(page.sort.field);
    let mut select = Query::select();
    select_row::<R>(&mut select, &PAGE.into_iden(), selected);
    select.expr_as(parent_id(), PARENT_KEY);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        // The parents as one `uuid[]`, unnested: one statement text for any number of
        // them, as [`one_of`] (a `VALUES` row per parent was a text per number).
        const IDS: &str = "ids";
        select_row::<R>(&mut first, &table::<R>(), selected);
        select
            .from_subquery(
                Query::select()
                    .expr_as(Expr::col(IDS), UUID)
                    .from_function(Func::cust("unnest").arg(Expr::val(parents.to_vec())), IDS)
                    .take(),
                PARENT,
            )
            .join_lateral(JoinType::InnerJoin, first, PAGE, Expr::val(true));
    } else {
        // The rows are found again by their rowid, which the subquery's join already read:
        // one step into the table instead of a search of the id's index and then that step
        // (on W2, 9 % of the statement's time).
        first.expr(Expr::col((table::<R>(), ROWID)));
        // The LIMIT (all of them) keeps SQLite from flattening the parents into the join,
        // which would decode each parent's id (`unhex`) again for every row it returns;
        // read from a co-routine, each is decoded once. On W2's statement, 6 % of SQLite's
        // instructions.
        let mut ids = sqlite_ids(parents);
        ids.limit(u64::try_from(parents.len()).unwrap_or(u64::MAX));
        select.from_subquery(ids, PARENT).join_as(
            JoinType::InnerJoin,
            table::<R>(),
            PAGE,
            Expr::col((PAGE, ROWID)).in_subquery(first),
        );
    }
    let mut grouped = rows_by_parent::<R>(db, &select, selected, page_rows(page)).await?;
    Ok(parents
        .iter()
        .map(|id| {
            let mut rows = grouped.remove(id).unwrap_or_default();
            // Each parent's rows arrive in read order, but SQL promises no order here.
            sort_rows(&mut rows, page.sort.field, order == Order::Desc);
            (*id, finish(rows, page))
        })
        .collect())
}

/// Counts the rows of a nested list for many parents in one statement.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn counts_by_parent(
    db: &impl Connection,
    table: DynIden,
    parent: &Parent,
    parents: &[Uuid],
    condition: Condition,
) -> AppResult<HashMap<Uuid, i64>> {
    let key = parent.key_expr();
    let mut select = Query::select();
    select
        .expr_as(key.clone(), PARENT_KEY)
        .expr_as(Func::count(Expr::col(Asterisk)), COUNT)
        .from(table);
    parent.join(&mut select);
    select
        .cond_where(both(
            condition,
            one_of(db.get_database_backend(), key.clone(), parents),
        ))
        .add_group_by([key]);
    let mut counts = HashMap::new();
    for row in read(db, &select).await? {
        counts.insert(parent_key(&row)?, row.try_get::<i64>("", COUNT)?);
    }
    Ok(counts)
}

/// Reads every row of a short nested list (participants, co-signers, history) for many
/// parents in one statement, ordered by `sort`, with the `wanted` columns.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn all_by_parent<R: Row>(
    db: &impl Connection,
    parent: &Parent,
    parents: &[Uuid],
    condition: Condition,
    sort: Sort<<R::Key as SortKey>::Field>,
    wanted: Wanted,
) -> AppResult<IdMap<Vec<R>>> {
    let key = parent.key_expr();
    let selected = wanted.selected::<R>(sort.field);
    let mut select = Query::select();
    select_row::<R>(&mut select, &table::<R>(), selected);
    select.expr_as(key.clone(), PARENT_KEY).from(table::<R>());
    parent.join(&mut select);
    // No ORDER BY: it tempts planners to walk the whole table in that order (2.9 s for the
    // proposals of 500 dialogues on SQLite); these lists are short, so they are sorted here.
    select.cond_where(both(
        condition,
        one_of(db.get_database_backend(), key, parents),
    ));
    let mut grouped = rows_by_parent::<R>(db, &select, selected, 0).await?;
    for rows in grouped.values_mut() {
        sort_rows(rows, sort.field, sort.descending);
    }
    Ok(grouped)
}

/// Sorts places in `rows` by their rows' `sort`, then id, as [`all_by_parent`] sorts each
/// parent's list.
pub fn sort_places<R: Row>(
    rows: &[R],
    places: &mut [usize],
    sort: Sort<<R::Key as SortKey>::Field>,
) {
    sort_by(places, |a, b| list_order(&rows[*a], &rows[*b], sort));
}

/// Sorts rows by `field`, then id.
fn sort_rows<R: Row>(rows: &mut [R], field: <R::Key as SortKey>::Field, descending: bool) {
    let sort = Sort { field, descending };
    sort_by(rows, |a, b| list_order(a, b, sort));
}

/// The order of two rows in a short list sorted by `sort`: by its field, then id.
fn list_order<R: Row>(a: &R, b: &R, sort: Sort<<R::Key as SortKey>::Field>) -> std::cmp::Ordering {
    let order = a.compare(b, sort.field).then_with(|| a.id().cmp(&b.id()));
    if sort.descending {
        order.reverse()
    } else {
        order
    }
}

/// Sorts items by `order`. The comparison runs on the rows themselves: a sort by keys
/// copied out of them made a text's copy for every comparison (on W2, the authorities of
/// 500 dialogues, 4 % of the server's instructions).
fn sort_by<T>(items: &mut [T], order: impl Fn(&T, &T) -> std::cmp::Ordering) {
    // A page read through an index arrives in order: checking costs less than sorting.
    if items
        .windows(2)
        .all(|pair| order(&pair[0], &pair[1]).is_le())
    {
        return;
    }
    items.sort_unstable_by(order);
}

/// How many of `ids` (all different) name a row of `R` that `condition` allows.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn count_ids<R: Row>(
    db: &impl Connection,
    ids: &[Uuid],
    condition: Condition,
) -> AppResult<usize> {
    let condition = both(
        condition,
        one_of(db.get_database_backend(), id_column::<R>(), ids),
    );
    let n = count(db, table::<R>(), condition).await?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// Reads rows by id, keeping only those `condition` allows.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_ids<R: Row>(
    db: &impl Connection,
    ids: &[Uuid],
    condition: Condition,
) -> AppResult<HashMap<Uuid, R>> {
    let rows = rows_by_ids::<R>(db, ids, condition, Wanted::ALL).await?;
    Ok(rows.into_iter().map(|row| (row.id(), row)).collect())
}

/// The rows of `ids` that `condition` allows, in no particular order, with only the
/// `wanted` columns (and those always read).
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn rows_by_ids<R: Row>(
    db: &impl Connection,
    ids: &[Uuid],
    condition: Condition,
    wanted: Wanted,
) -> AppResult<Vec<R>> {
    let selected = wanted.kept::<R>(None);
    if db.get_database_backend() == DatabaseBackend::Sqlite {
        let mut select = Query::select();
        select_row::<R>(&mut select, &table::<R>(), selected);
        // Joined to the ids rather than `id IN (...)`, for which SQLite first builds a
        // temporary index of the ids (about 2,200 instructions each; W2 reads 450
        // authorities so). The join would repeat a row for an id given twice, so the ids
        // are made distinct, and sorted, so the lookups walk the id index in its order.
        const IDS: &str = "ids";
        let mut once = distinct(ids);
        // As numbers: a uuid's own order compares its bytes through `memcmp`, which cost
        // ten times as much. The order is the same.
        once.sort_unstable_by_key(|id| id.as_u128());
        select
            .from_subquery(sqlite_ids(&once), IDS)
            .inner_join(table::<R>(), id_column::<R>().equals((IDS, UUID)))
            .cond_where(condition);
        Ok(read_as(db, &select, Selected::new(selected)).await?)
    } else {
        // On PostgreSQL each column comes back as one array (`array_agg`), in one row: the
        // driver's cost per row exceeded the records' own (see `Elements`). The aggregates
        // take the rows in the same order, so the n-th elements are one record's. The ids
        // go distinct and in the index's order: PostgreSQL sorts the array and drops
        // repeats before its index scan, and W2's, 708 ids of 389 authorities, cost it
        // 0.57 ms of execution where the same ids distinct and sorted cost 0.44.
        let mut once = distinct(ids);
        once.sort_unstable_by_key(|id| id.as_u128());
        let mut arrays = Query::select();
        for (at, column) in row_columns::<R>(&table::<R>()).into_iter().enumerate() {
            if selected.reads(at) {
                arrays.expr(Func::cust("array_agg").arg(Expr::col(column)));
            }
        }
        arrays.from(table::<R>()).cond_where(both(
            condition,
            one_of(db.get_database_backend(), id_column::<R>(), &once),
        ));
        let rows = read(db, &arrays).await?;
        let Some(row) = rows.first() else {
            return Ok(Vec::new());
        };
        let mut elements = Elements::new(row, selected.count::<R>())?;
        let mut records = Vec::with_capacity(elements.records());
        for _ in 0..elements.records() {
            records.push(R::from_source(&mut elements, selected.0)?);
            elements.next_record();
        }
        Ok(records)
    }
}

/// Letters outside ASCII whose case [`text_search`] tries both ways, counted from the
/// start of the text: each doubles the patterns.
const CASED_LETTERS_TRIED: usize = 4;

/// A case-insensitive "contains" condition on any of `columns`, with LIKE wildcards in
/// the user's text taken literally.
///
/// `LOWER()` folds every letter on PostgreSQL but only ASCII on SQLite, whose `LIKE` is
/// as blind to the case of `Ö`. So the text is also tried with each of its first
/// [`CASED_LETTERS_TRIED`] non-ASCII letters in capitals (`örebro` and `Örebro`, `åmål`,
/// `Åmål`, `åmÅl` and `ÅmÅl`): on SQLite one of them meets the stored name as it is
/// written; on PostgreSQL the lower-case one meets `LOWER()` of it, and the others never
/// match. Both give the same answers for the same data.
pub fn text_search<C: ColumnTrait>(columns: &[C], text: &str) -> Condition {
    let escaped: String = text
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    let patterns: Vec<String> = case_variants(&escaped)
        .into_iter()
        .map(|variant| format!("%{variant}%"))
        .collect();
    columns.iter().fold(Condition::any(), |any, name| {
        patterns.iter().fold(any, |any, pattern| {
            any.add(
                Expr::expr(Func::lower(column(*name)))
                    .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\')),
            )
        })
    })
}

/// `text` (in lower case) with its first [`CASED_LETTERS_TRIED`] non-ASCII letters in
/// either case: every combination, the lower-case text first.
fn case_variants(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let cased: Vec<(usize, char)> = chars
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.is_ascii())
        .filter_map(|(at, c)| {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) if u != *c => Some((at, u)),
                _ => None,
            }
        })
        .take(CASED_LETTERS_TRIED)
        .collect();
    (0..1_usize << cased.len())
        .map(|mask| {
            let mut variant = chars.clone();
            for (bit, (at, upper)) in cased.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    variant[*at] = *upper;
                }
            }
            variant.into_iter().collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::{DialogueKey, DialogueOrderField};

    #[test]
    fn non_ascii_letters_are_tried_in_both_cases() {
        assert_eq!(case_variants("örebro"), ["örebro", "Örebro"]);
        assert_eq!(case_variants("åmål"), ["åmål", "Åmål", "åmÅl", "ÅmÅl"]);
        assert_eq!(case_variants("socialdep"), ["socialdep"]);
        assert_eq!(
            case_variants("straße"),
            ["straße"],
            "ß has no one-letter capital"
        );
        assert_eq!(case_variants("äääää").len(), 16, "the first four only");
    }
    use chrono::{NaiveDate, TimeZone, Utc};
    use entity::{DialogueKind, DialogueStatus, Visibility, dialogue};

    fn dialogue() -> dialogue::Model {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 29, 14, 3, 40)
            .single()
            .unwrap_or_default();
        dialogue::Model {
            id: Uuid::now_v7(),
            title: "Möte med Socialdepartementet".into(),
            kind: DialogueKind::Meeting,
            status: DialogueStatus::Held,
            held_on: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default(),
            summary: String::new(),
            outcome: None,
            visibility: Visibility::Public,
            authority_ids: entity::IdList::default(),
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    /// The cursor name of dialogues' date, as clients hold it: written out, so that a renamed
    /// column, which would change what clients hold, fails here.
    const HELD_ON: &str = "held_on";

    fn raw(body: serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(body.to_string())
    }

    #[test]
    fn a_cursor_round_trips_under_every_ordering_with_its_typed_value() {
        let row = dialogue();
        let fields = [
            DialogueOrderField::HeldOn,
            DialogueOrderField::Title,
            DialogueOrderField::CreatedAt,
            DialogueOrderField::UpdatedAt,
        ];
        for field in fields {
            let cursor = Cursor::<DialogueKey>::of(&row, field);
            let decoded = Cursor::<DialogueKey>::decode(&cursor.encode(), field);
            assert_eq!(decoded.as_ref(), Some(&cursor), "{field:?}");
        }
        let held_on = Cursor::<DialogueKey>::of(&row, DialogueOrderField::HeldOn);
        assert_eq!(held_on.key, DialogueKey::HeldOn(row.held_on));
    }

    #[test]
    fn cursors_keep_the_encoding_clients_already_hold() {
        let id = Uuid::now_v7();
        // Written out: json! would sort the keys, and the encoding keeps c, v, i in order.
        let text = URL_SAFE_NO_PAD.encode(format!(
            r#"{{"c":"{HELD_ON}","v":"2026-11-20","i":"{id}"}}"#
        ));
        let cursor = Cursor::<DialogueKey>::decode(&text, DialogueOrderField::HeldOn);
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default();
        assert_eq!(
            cursor,
            Some(Cursor {
                key: DialogueKey::HeldOn(day),
                id
            })
        );
        assert_eq!(cursor.map(|c| c.encode()), Some(text));
    }

    #[test]
    fn a_cursor_of_another_ordering_a_wrong_type_or_tampered_is_refused() {
        let row = dialogue();
        let by_title = Cursor::<DialogueKey>::of(&row, DialogueOrderField::Title).encode();
        let field = DialogueOrderField::HeldOn;
        let id = row.id;
        let refused = [
            by_title.clone(),
            raw(serde_json::json!({ "c": HELD_ON, "v": "not a day", "i": id })),
            raw(serde_json::json!({ "c": HELD_ON, "v": 20261120, "i": id })),
            raw(serde_json::json!({ "c": HELD_ON, "v": "2026-11-20T10:00:00Z", "i": id })),
            raw(serde_json::json!({ "c": HELD_ON, "v": "2026-11-20", "i": "not an id" })),
            raw(serde_json::json!({ "c": HELD_ON, "v": "2026-11-20" })),
            URL_SAFE_NO_PAD.encode("not json"),
            "%%% not base64".into(),
            String::new(),
            format!("{by_title}x"),
        ];
        for text in refused {
            assert_eq!(Cursor::<DialogueKey>::decode(&text, field), None, "{text}");
        }
    }

    #[test]
    fn page_arguments_are_checked() {
        let sort = Sort::new(DialogueOrderField::HeldOn, Direction::Desc);
        let page = |first, after: Option<&str>, last| {
            Page::<DialogueKey>::new(
                PageArgs::new(first, after.map(Into::into), last, None),
                sort,
            )
        };
        let field = |result: AppResult<Page<DialogueKey>>| match result {
            Err(AppError::BadUserInput { field, .. }) => field,
            other => format!("{other:?}"),
        };
        assert_eq!(
            page(None, None, None).map(|p| p.limit).ok(),
            Some(DEFAULT_PAGE_SIZE)
        );
        assert_eq!(page(Some(0), None, None).map(|p| p.limit).ok(), Some(0));
        assert_eq!(
            page(None, None, Some(100)).map(|p| p.backward).ok(),
            Some(true)
        );
        assert_eq!(field(page(Some(101), None, None)), "first");
        assert_eq!(field(page(Some(-1), None, None)), "first");
        assert_eq!(field(page(None, None, Some(101))), "last");
        assert_eq!(field(page(Some(1), None, Some(1))), "last");
        assert_eq!(field(page(Some(1), Some("bogus"), None)), "after");
    }
}
