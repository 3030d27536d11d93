//! What every aggregate's GraphQL room shares: Relay connections over keyset pages,
//! `totalCount`, the ordering input, and the resolution of relations for a whole sibling
//! group at once through the request's loaders.

use super::direct::{Direct, Records};
use super::enums::OrderDirection;
use super::group::Group;
use super::ids::{self, NodeType};
use super::loaders::{
    ById, Counts, ListOrder, ListRelation, Lists, Loaders, Made, PageKey, PagedRelation, Pages,
    Seen,
};
use crate::auth::Principal;
use crate::error::AppError;
use crate::paging::{
    self, Cursor, Direction, IdMap, Page, PageArgs, Row, Rows, Sort, SortKey, Wanted,
};
use crate::records::{self, ListFilter};
use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::dataloader::Loader;
use async_graphql::parser::types::{Selection, SelectionSet};
use async_graphql::resolver_utils::ContainerType;
use async_graphql::{Context, ID, InputObject, InputType, MaybeUndefined, Object, Result};
use entity::IdList;
use sea_orm::{ActiveValue, DatabaseConnection, Value};
use std::collections::HashMap;
use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Arc;
use uuid::Uuid;

/// The caller's database connection.
pub fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

/// The caller of the request.
pub fn principal<'a>(ctx: &Context<'a>) -> &'a Principal {
    ctx.data_unchecked::<Principal>()
}

/// A GraphQL input that becomes a domain value, checking its ids on the way.
pub trait Input {
    /// The domain value.
    type Domain;

    /// The domain value.
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the field of an id that is malformed or of another type.
    fn into_domain(self) -> Result<Self::Domain, AppError>;
}

impl<T: Input> Input for Option<T>
where
    T::Domain: Default,
{
    type Domain = T::Domain;

    fn into_domain(self) -> Result<T::Domain, AppError> {
        self.map_or_else(|| Ok(T::Domain::default()), Input::into_domain)
    }
}

/// A field of a change: set when given.
pub fn given<V: Into<Value>>(value: Option<V>) -> ActiveValue<V> {
    value.map_or(ActiveValue::NotSet, ActiveValue::Set)
}

/// A nullable field of a change: set when given, to nothing when `null`.
pub fn nullable<V>(value: MaybeUndefined<V>) -> ActiveValue<Option<V>>
where
    Option<V>: Into<Value>,
{
    match value {
        MaybeUndefined::Undefined => ActiveValue::NotSet,
        MaybeUndefined::Null => ActiveValue::Set(None),
        MaybeUndefined::Value(value) => ActiveValue::Set(Some(value)),
    }
}

/// The id and expected version of a change to a versioned record.
///
/// # Errors
/// BAD_USER_INPUT for an id that is malformed or of another type.
pub fn versioned(node_type: NodeType, id: &ID, expected: i32) -> Result<(Uuid, i32), AppError> {
    Ok((ids::decode(node_type, id, "input.id")?, expected))
}

impl<K: SortKey> CursorType for Cursor<K> {
    type Error = &'static str;

    /// Never called: the page arguments are checked, typed, by [`Page::new`].
    fn decode_cursor(_: &str) -> Result<Self, Self::Error> {
        Err("cursors are read by the page arguments")
    }

    fn encode_cursor(&self) -> String {
        self.encode()
    }
}

/// A connection of `N` with `totalCount`.
pub type Paged<N> = Connection<Cursor<<<N as Member>::Row as Row>::Key>, Direct<N>, TotalCount>;

/// How to order a list: a field and its direction; each list says its order when absent.
#[derive(Debug, Clone, Copy, InputObject)]
#[graphql(
    concrete(
        name = "OrganisationOrder",
        params(super::organisation::OrganisationOrderField)
    ),
    concrete(name = "AuthorityOrder", params(super::authority::AuthorityOrderField)),
    concrete(name = "DialogueOrder", params(super::dialogue::DialogueOrderField)),
    concrete(name = "ProposalOrder", params(super::proposal::ProposalOrderField)),
    concrete(name = "ThemeOrder", params(super::theme::ThemeOrderField)),
    concrete(name = "EvidenceOrder", params(super::evidence::EvidenceOrderField)),
    concrete(
        name = "CooperationOrder",
        params(super::cooperation::CooperationOrderField)
    ),
    concrete(name = "GoalOrder", params(super::goal::GoalOrderField))
)]
pub struct Order<F: InputType> {
    /// The field to order by.
    pub field: F,
    /// The direction.
    pub direction: OrderDirection,
}

impl<F: InputType> Order<F> {
    /// The ordering asked for, or `default`.
    pub fn or<D>(order: Option<Self>, default: Sort<D>) -> Sort<D>
    where
        F: Into<D>,
    {
        order.map_or(default, |order| {
            Sort::new(order.field.into(), Direction::from(order.direction))
        })
    }
}

type CountFuture = Pin<Box<dyn Future<Output = Result<i64, AppError>> + Send>>;

/// The `totalCount` of a connection, computed only when asked for.
pub enum TotalCount {
    /// Known already.
    Known(i64),
    /// A top-level list: one count statement, run once however many aliases ask.
    Top(
        tokio::sync::OnceCell<i64>,
        Box<dyn Fn() -> CountFuture + Send + Sync>,
    ),
    /// A nested list: counted for all parents of the group at once through the request's loader.
    Nested(Arc<Group>, PagedRelation, Uuid),
}

/// The key of a group's nested counts.
#[derive(PartialEq)]
struct CountKey(PagedRelation);

#[Object]
impl TotalCount {
    /// How many records the connection holds in all, across pages.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i64> {
        match self {
            Self::Known(n) => Ok(*n),
            Self::Top(counted, count) => Ok(*counted.get_or_try_init(count).await?),
            Self::Nested(group, relation, parent) => {
                let relation = *relation;
                let counts = group
                    .once(CountKey(relation), || {
                        let keys = group.ids().iter().map(|id| (relation, *id));
                        load_now::<Counts, _>(ctx, keys.collect())
                    })
                    .await?;
                Ok(counts.get(&(relation, *parent)).copied().unwrap_or(0))
            }
        }
    }
}

/// A GraphQL object over one row, resolved together with the other members of its group.
pub trait Member: ContainerType + Sized {
    /// The row type.
    type Row: Row;
    /// The columns each field reads off the row, by the field's GraphQL name: its own
    /// columns for a plain field, the key a to-one reference follows. A field with a
    /// selection of its own that is not named here is a relation keyed on the id, which
    /// is always read; any other field not named here reads every column. Empty: every
    /// field reads every column.
    const READS: &'static [(&'static str, &'static [ColumnOf<Self::Row>])] = &[];
    /// Wraps a row that belongs to `group`.
    fn in_group(row: Self::Row, group: Arc<Group>) -> Self;
    /// Wraps a row on its own (a lookup or a mutation result).
    fn single(row: Self::Row) -> Self {
        let group = Group::new(vec![row.clone()]);
        Self::in_group(row, group)
    }
}

/// The columns of a row type.
pub type ColumnOf<R> = <<R as Row>::Entity as sea_orm::EntityTrait>::Column;

/// Declares a GraphQL object over one row: its row, its sibling group, and [`Member`], with
/// the columns each of its fields reads when they are given
/// (`reads table::Column { "field" => [Column, ...], ... }`, [`Member::READS`]).
macro_rules! member {
    ($(#[$meta:meta])* $name:ident($row:ty)) => {
        $crate::graphql::connection::member!(@object $(#[$meta])* $name($row) {});
    };
    ($(#[$meta:meta])* $name:ident($row:ty) reads $columns:path {
        $($field:literal => [$($column:ident),*]),* $(,)?
    }) => {
        $crate::graphql::connection::member!(@object $(#[$meta])* $name($row) {
            const READS: &'static [(
                &'static str,
                &'static [$crate::graphql::connection::ColumnOf<$row>],
            )] = &[$(($field, &[$(<$columns>::$column),*])),*];
        });
    };
    (@object $(#[$meta:meta])* $name:ident($row:ty) { $($reads:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            row: $row,
            #[allow(dead_code, reason = "some objects resolve no relation")]
            group: std::sync::Arc<$crate::graphql::group::Group>,
        }

        impl $crate::graphql::connection::Member for $name {
            type Row = $row;
            $($reads)*
            fn in_group(row: $row, group: std::sync::Arc<$crate::graphql::group::Group>) -> Self {
                Self { row, group }
            }
        }
    };
}
pub(crate) use member;

/// The columns of `N` that the fields of `set` read ([`Member::READS`]); every column when
/// `set` holds a fragment, or a plain field `READS` does not name.
pub(super) fn read_by<N: Member>(set: &SelectionSet) -> Wanted {
    if N::READS.is_empty() {
        return Wanted::ALL;
    }
    let mut wanted = Wanted::NONE;
    for selection in &set.items {
        let Selection::Field(field) = &selection.node else {
            return Wanted::ALL;
        };
        let name = field.node.name.node.as_str();
        match N::READS.iter().find(|(field, _)| *field == name) {
            Some((_, columns)) => {
                for column in *columns {
                    wanted = wanted.and::<N::Row>(sea_orm::IdenStatic::as_str(column));
                }
            }
            None if name == "__typename" || !field.node.selection_set.node.items.is_empty() => {}
            None => return Wanted::ALL,
        }
    }
    wanted
}

/// The columns of `N` that the selection of the field of `ctx`, a lookup of one `N`, reads.
pub fn read_by_field<N: Member>(ctx: &Context<'_>) -> Wanted {
    read_by::<N>(&ctx.item.node.selection_set.node)
}

/// The selection sets that the connection field of `ctx` asks of its records: those of its
/// `nodes` and of its edges' `node`. `None` when a fragment may hide others.
fn node_sets<'a>(ctx: &Context<'a>) -> Option<Vec<&'a SelectionSet>> {
    record_sets(&ctx.item.node.selection_set.node)
}

/// The selection sets that a connection's selection `set` asks of its records: those of
/// its `nodes` and of its edges' `node`. `None` when a fragment may hide others.
pub(super) fn record_sets(set: &SelectionSet) -> Option<Vec<&SelectionSet>> {
    let mut sets = Vec::new();
    for selection in &set.items {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let below = &field.node.selection_set.node;
        match field.node.name.node.as_str() {
            "nodes" => sets.push(below),
            "edges" => {
                for selection in &below.items {
                    let Selection::Field(field) = &selection.node else {
                        return None;
                    };
                    if field.node.name.node == "node" {
                        sets.push(&field.node.selection_set.node);
                    }
                }
            }
            _ => {}
        }
    }
    Some(sets)
}

/// The columns of `N` that the connection field of `ctx` reads: through its `nodes` and
/// its edges' `node`.
fn read_by_connection<N: Member>(ctx: &Context<'_>) -> Wanted {
    node_sets(ctx).map_or(Wanted::ALL, |sets| {
        sets.into_iter()
            .fold(Wanted::NONE, |wanted, set| wanted.union(read_by::<N>(set)))
    })
}

/// What the records of the connection field of `ctx` ask of their to-one reference `name`
/// to `T`: the columns of `T` its selection reads, when every place that asks for it reads
/// the same ones (as [`reference`] keys them). `None` when no place asks for it, places ask
/// for different columns, or a fragment may hide one.
fn asked_of<T: Member>(ctx: &Context<'_>, name: &str) -> Option<Wanted> {
    let mut asked = None;
    for set in node_sets(ctx)? {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) if field.node.name.node == name => {
                    let wanted = read_by::<T>(&field.node.selection_set.node);
                    if asked.is_some_and(|asked| asked != wanted) {
                        return None;
                    }
                    asked = Some(wanted);
                }
                Selection::Field(_) => {}
                _ => return None,
            }
        }
    }
    asked
}

/// Builds a connection from a page of rows that belong to `group`.
fn connection_in<N: Member>(
    rows: Rows<N::Row>,
    field: <<N::Row as Row>::Key as SortKey>::Field,
    total: TotalCount,
    group: &Arc<Group>,
) -> Paged<N> {
    let mut connection =
        Connection::with_additional_fields(rows.has_previous, rows.has_next, total);
    connection.edges.extend(rows.rows.into_iter().map(|row| {
        Edge::new(
            Cursor::of(&row, field),
            Direct(N::in_group(row, group.clone())),
        )
    }));
    connection
}

/// Builds a top-level connection from a page of rows.
pub fn connection<N: Member>(
    rows: Rows<N::Row>,
    field: <<N::Row as Row>::Key as SortKey>::Field,
    total: TotalCount,
) -> Paged<N> {
    let group = Group::new(rows.rows.clone());
    connection_in(rows, field, total, &group)
}

/// One page of a top-level list, with its total counted only when asked for.
///
/// # Errors
/// BAD_USER_INPUT for bad page arguments or filter ids; INTERNAL on a database failure.
pub async fn list<N, F>(
    ctx: &Context<'_>,
    args: PageArgs,
    sort: Sort<<<N::Row as Row>::Key as SortKey>::Field>,
    filter: F,
) -> Result<Paged<N>>
where
    N: Member,
    F: ListFilter<Row = N::Row>,
{
    let page = Page::new(args, sort)?.wanting(read_by_connection::<N>(ctx));
    // Boxed, as the loaders' statements are (see `load_now`).
    let rows = Box::pin(records::list(db(ctx), principal(ctx), &filter, &page)).await?;
    Ok(connection::<N>(rows, sort.field, top_total(ctx, filter)))
}

/// The total of a top-level list, counted only when asked for.
fn top_total<F: ListFilter>(ctx: &Context<'_>, filter: F) -> TotalCount {
    let (db, principal) = (db(ctx).clone(), principal(ctx).clone());
    TotalCount::Top(
        Default::default(),
        Box::new(move || {
            let (db, principal, filter) = (db.clone(), principal.clone(), filter.clone());
            Box::pin(async move { records::count_of(&db, &principal, &filter).await })
        }),
    )
}

/// [`list`] for records with a to-one reference, the field `name` that [`reference`]
/// resolves through `key`, a column of the records' table: when the query asks for the
/// reference, the page's statement reads the referenced records too, and the page's group
/// holds them before any member asks ([`Group::preset`]). A page and its references then
/// cost one statement instead of two.
///
/// # Errors
/// As [`list`].
pub async fn list_joining<N, T, F>(
    ctx: &Context<'_>,
    args: PageArgs,
    sort: Sort<<<N::Row as Row>::Key as SortKey>::Field>,
    filter: F,
    (name, key): (&'static str, impl sea_orm::ColumnTrait),
) -> Result<Paged<N>>
where
    N: Member,
    T: Member<Row: Seen>,
    F: ListFilter<Row = N::Row>,
{
    // A reference that cannot be joined is loaded after the page.
    let joinable = paging::joinable::<N::Row, T::Row>();
    let Some(wanted) = asked_of::<T>(ctx, name).filter(|_| joinable) else {
        return list(ctx, args, sort, filter).await;
    };
    let page = Page::new(args, sort)?.wanting(read_by_connection::<N>(ctx));
    let joined = paging::Joined::<T::Row>::new(key, T::Row::visible(principal(ctx)), wanted);
    let (rows, targets) = Box::pin(records::list_joining(
        db(ctx),
        principal(ctx),
        &filter,
        &page,
        &joined,
    ))
    .await?;
    let group = Group::new(rows.rows.clone());
    let target_group = Group::new(targets.values().cloned().collect());
    group.preset((ReferenceKey(name), wanted), (targets, target_group));
    Ok(connection_in::<N>(
        rows,
        sort.field,
        top_total(ctx, filter),
        &group,
    ))
}

/// The key of a group's nested pages.
#[derive(PartialEq)]
struct PagesKey<K: SortKey>(PagedRelation, Page<K>);

/// One page of a nested connection of the member `parent` of `group`; the page is loaded
/// for every member of the group at once.
///
/// # Errors
/// BAD_USER_INPUT for bad page arguments; INTERNAL on a database failure.
pub async fn nested_page<N: Member>(
    ctx: &Context<'_>,
    (group, parent): (&Arc<Group>, Uuid),
    relation: PagedRelation,
    args: PageArgs,
    sort: Sort<<<N::Row as Row>::Key as SortKey>::Field>,
) -> Result<Paged<N>> {
    let page = Page::new(args, sort)?.wanting(read_by_connection::<N>(ctx));
    let loaded = group
        .once(PagesKey(relation, page.clone()), || async {
            let keys = group.ids().iter().map(|id| PageKey {
                parent: *id,
                relation,
                page: page.clone(),
            });
            let pages = load_now::<Pages<N::Row>, _>(ctx, keys.collect()).await?;
            // Every page's rows are kept once, one page after the other, in the group of
            // their records; each parent keeps where its page lies and what lies around it.
            let mut rows = Vec::with_capacity(pages.values().map(|rows| rows.rows.len()).sum());
            let mut places = IdMap::with_capacity_and_hasher(pages.len(), Default::default());
            for (key, page) in pages {
                let place = rows.len()..rows.len() + page.rows.len();
                places.insert(key.parent, (place, page.has_previous, page.has_next));
                rows.extend(page.rows);
            }
            Ok((places, Group::new(rows)))
        })
        .await?;
    let (places, children) = &*loaded;
    let rows = places
        .get(&parent)
        .map(|(place, has_previous, has_next)| Rows {
            rows: children
                .rows::<N::Row>()
                .get(place.clone())
                .unwrap_or_default()
                .to_vec(),
            has_previous: *has_previous,
            has_next: *has_next,
        })
        .unwrap_or_default();
    Ok(connection_in(
        rows,
        sort.field,
        TotalCount::Nested(group.clone(), relation, parent),
        children,
    ))
}

/// Loads a short nested list for the whole group at once; returns the group of all their
/// rows, one list after the other, and where each parent's list lies in it. The rows are
/// kept once, in the group, and copied only into the records that resolve them.
async fn group_lists<R: ListOrder>(
    ctx: &Context<'_>,
    group: &Arc<Group>,
    relation: ListRelation,
    wanted: Wanted,
) -> Result<Arc<(IdMap<Range<usize>>, Arc<Group>)>, AppError> {
    group
        .once((relation, wanted), || async {
            let keys = group.ids().iter().map(|id| (relation, wanted, *id));
            let lists = load_now::<Lists<R>, _>(ctx, keys.collect()).await?;
            let mut places = IdMap::with_capacity_and_hasher(lists.len(), Default::default());
            let mut rows = Vec::with_capacity(lists.values().map(Vec::len).sum());
            for ((_, _, id), list) in lists {
                places.insert(id, rows.len()..rows.len() + list.len());
                rows.extend(list);
            }
            Ok((places, Group::new(rows)))
        })
        .await
}

/// The rows of `parent`'s list in what [`group_lists`] loaded.
fn list_of<R: ListOrder>(loaded: &(IdMap<Range<usize>>, Arc<Group>), parent: Uuid) -> &[R] {
    let (places, children) = loaded;
    places
        .get(&parent)
        .and_then(|place| children.rows::<R>().get(place.clone()))
        .unwrap_or_default()
}

/// The rows of a short nested list of the member `parent` of `group`.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn group_list<R: ListOrder>(
    ctx: &Context<'_>,
    (group, parent): (&Arc<Group>, Uuid),
    relation: ListRelation,
) -> Result<Vec<R>> {
    let loaded = group_lists::<R>(ctx, group, relation, Wanted::ALL).await?;
    Ok(list_of::<R>(&loaded, parent).to_vec())
}

/// A short nested list of the member `parent` of `group`, loaded for the whole group at once.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn nested_list<N: Member>(
    ctx: &Context<'_>,
    (group, parent): (&Arc<Group>, Uuid),
    relation: ListRelation,
) -> Result<Records<N>>
where
    N::Row: ListOrder,
{
    let wanted = read_by::<N>(&ctx.item.node.selection_set.node);
    let loaded = group_lists::<N::Row>(ctx, group, relation, wanted).await?;
    Ok(Records(
        list_of::<N::Row>(&loaded, parent)
            .iter()
            .map(|row| Direct(N::in_group(row.clone(), loaded.1.clone())))
            .collect(),
    ))
}

/// The key of what a group loads once by the name of a relation: its to-one references and
/// the lists its rows name (and, for [`reference`] and [`named_list`], the columns their
/// readers use).
#[derive(PartialEq)]
struct ReferenceKey(&'static str);

/// A short list of records of `N` that each member of `group` names on its own row (`ids`
/// reads the names, `name` names the relation): the named records of all members are
/// loaded at once, by id, as the caller may see them, and kept once; each member's list
/// is where its records lie among them, in the order [`ListOrder`] gives, as a list read
/// through its links would be.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn named_list<P: Row, N: Member>(
    ctx: &Context<'_>,
    (group, parent): (&Arc<Group>, Uuid),
    (name, ids): (&'static str, fn(&P) -> &IdList),
) -> Result<Records<N>>
where
    N::Row: ListOrder,
    ById<N::Row>: Made,
{
    let wanted = read_by::<N>(&ctx.item.node.selection_set.node);
    let loaded = group
        .once((ReferenceKey(name), wanted), || async {
            let sort = N::Row::list_order();
            let reading = wanted.selected::<N::Row>(sort.field);
            let members = group.rows::<P>();
            // Every member's ids, read once.
            let (listed, ends) = IdList::gather(members.iter().map(ids));
            let ids = paging::distinct(&listed);
            let found = rows_now::<N::Row>(ctx, reading, &ids).await?;
            let at = paging::places_by_id(&found);
            let mut lists = IdMap::with_capacity_and_hasher(members.len(), Default::default());
            let mut start = 0;
            for (member, end) in members.iter().zip(ends) {
                let mut list: Vec<usize> = listed[start..end]
                    .iter()
                    .filter_map(|id| at.get(id).copied())
                    .collect();
                start = end;
                paging::sort_places(&found, &mut list, sort);
                lists.insert(member.id(), list);
            }
            Ok((lists, Group::new(found)))
        })
        .await?;
    let (lists, named) = &*loaded;
    let found = named.rows::<N::Row>();
    Ok(Records(
        lists
            .get(&parent)
            .into_iter()
            .flatten()
            .filter_map(|place| found.get(*place))
            .map(|row| Direct(N::in_group(row.clone(), named.clone())))
            .collect(),
    ))
}

/// A to-one reference of a member of `group`: `key` reads it off any member's row, and the
/// referenced records of all members are loaded at once.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn reference<P: Row, N: Member>(
    ctx: &Context<'_>,
    group: &Arc<Group>,
    (name, key): (&'static str, fn(&P) -> Option<Uuid>),
    id: Uuid,
) -> Result<Option<Direct<N>>>
where
    ById<N::Row>: Made,
{
    let wanted = read_by::<N>(&ctx.item.node.selection_set.node);
    let loaded = group
        .once((ReferenceKey(name), wanted), || async {
            let keys: Vec<Uuid> = group.rows::<P>().iter().filter_map(key).collect();
            let ids = paging::distinct(&keys);
            let found: IdMap<N::Row> = rows_now::<N::Row>(ctx, wanted, &ids)
                .await?
                .into_iter()
                .map(|row| (row.id(), row))
                .collect();
            let targets = Group::new(found.values().cloned().collect());
            Ok((found, targets))
        })
        .await?;
    Ok(loaded
        .0
        .get(&id)
        .cloned()
        .map(|row| Direct(N::in_group(row, loaded.1.clone()))))
}

/// Loads what `key` names for the whole group once, by `load`, for relations that do not
/// go through a loader.
///
/// # Errors
/// Whatever `load` fails with.
pub async fn group_once<T, F, Fut>(group: &Group, key: &'static str, load: F) -> Result<Arc<T>>
where
    T: Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, AppError>>,
{
    Ok(group.once(ReferenceKey(key), load).await?)
}

/// Runs the request's loader `L` for `keys` at once. A sibling group already holds every
/// key of its level, so it skips the DataLoader's wait for more keys (1 ms a level) and
/// its copy of every value. The statement's future is boxed: inline, its size would be
/// carried by the future of every field of every member, loading or not.
async fn load_now<L, K>(ctx: &Context<'_>, keys: Vec<K>) -> Result<HashMap<K, L::Value>, AppError>
where
    L: Loader<K, Error = AppError> + Made,
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
{
    let loader = ctx.data_unchecked::<Loaders>().get::<L>();
    Box::pin(loader.loader().load(&keys)).await
}

/// The records of `ids` that the caller may see, read at once with the request's loader
/// of records by id but without its maps: a sibling group keys them itself. Boxed, as in
/// [`load_now`].
async fn rows_now<R>(ctx: &Context<'_>, wanted: Wanted, ids: &[Uuid]) -> Result<Vec<R>, AppError>
where
    R: Row,
    ById<R>: Made,
{
    let loader = ctx.data_unchecked::<Loaders>().get::<ById<R>>();
    Box::pin(loader.loader().rows(wanted, ids)).await
}

/// Loads a record by id through the request's loader, as the caller may see it.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn load<N: Member>(ctx: &Context<'_>, id: Uuid) -> Result<Option<N>>
where
    ById<N::Row>: Made,
{
    let loader = ctx.data_unchecked::<Loaders>().get::<ById<N::Row>>();
    Ok(Box::pin(loader.load_one(id)).await?.map(N::single))
}
