//! Documents compiled into plans: the answer's JSON written straight from the rows, one
//! statement per level, without the resolver engine.
//!
//! Even with records resolved directly ([`super::direct`]), the engine makes a value of
//! every field, a map of every object, and a future of every relation, then orders the
//! values and writes them out: on W2 (fifty organisations, ten dialogues each, their
//! authorities) that was half of the server's instructions (9.3 million per request through
//! the engine, 4.6 million through a plan, in `bench/instructions`). A plan does what the
//! engine would do for the documents it covers: it reads each level for all its parents at
//! once, with the same statements, loaders and visibility as the resolvers, and then
//! writes the answer's JSON text in one go, in the order the document asks.
//!
//! What a plan covers: a query without variables, directives or fragments, each response
//! key once per selection, over the lists of organisations, authorities, dialogues and
//! proposals (their connections' `nodes`, `edges` and `pageInfo`) and the lookups of an
//! organisation or an authority by slug, their plain fields, an organisation's
//! dialogues, a dialogue's authorities and a proposal's lead organisation. Every other
//! document (bad page arguments included: they fail the planning) goes to the engine, and
//! so does a planned one whose run fails (a database error, or a lead organisation that is
//! not there): the engine answers it as always, errors included. A plan only ever reads.
//!
//! The plain fields here are those whose resolvers read a column and nothing else; they
//! are written with the same GraphQL values the resolvers return. The tests check each of
//! them, by kind of field, against the engine's answer for the same records.

use super::authority::{Authority, AuthorityFilter};
use super::connection::{ColumnOf, Input, Member, Order, read_by, record_sets};
use super::dialogue::{Dialogue, DialogueFilter};
use super::enums::{
    AuthorityKind, AuthorityLevel, DialogueKind, DialogueStatus, OrganisationKind, ProposalStatus,
    Visibility,
};
use super::ids::{self, NodeType};
use super::json::{write_str, write_value};
use super::loaders::{ById, ListOrder, Loaders, Made, PagedRelation, Pages, Seen};
use super::organisation::{Organisation, OrganisationFilter};
use super::proposal::{Proposal, ProposalFilter};
use super::scalars::{Date, DateTime};
use crate::auth::Principal;
use crate::error::AppError;
use crate::paging::{self, Cursor, IdMap, Page, PageArgs, Row, Rows, Sort, SortKey, Wanted};
use crate::records::{self, ListFilter};
use async_graphql::parser::types::{Field, OperationDefinition, Selection, SelectionSet};
use async_graphql::{Data, InputType, Positioned};
use entity::{IdList, authority, dialogue, organisation, proposal};
use sea_orm::DatabaseConnection;
use std::any::{Any, TypeId};
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use uuid::Uuid;

type Loading<'a, T> = Pin<Box<dyn Future<Output = Result<T, AppError>> + Send + 'a>>;

/// What a plan runs with: the request's caller, connection and loaders, and the records
/// a page read with its rows for a reference below it ([`ListJoining`]).
struct Run<'a> {
    db: &'a DatabaseConnection,
    principal: &'a Principal,
    loaders: &'a Loaders,
    joined: Mutex<Vec<(&'static str, Box<dyn Any + Send>)>>,
}

impl Run<'_> {
    /// The records a page read for the reference `name`, once.
    fn joined<T: 'static>(&self, name: &str) -> Option<T> {
        let mut joined = self.joined.lock().ok()?;
        let at = joined.iter().position(|(kept, _)| *kept == name)?;
        joined.swap_remove(at).1.downcast::<T>().ok().map(|t| *t)
    }
}

/// Writes one field of a record, read off its row.
type Column<R> = fn(&R, &mut Vec<u8>);

/// A relation of the records of one level: it reads what the relation holds for all of
/// them (`parents`) at once, and what it read then writes its value for each.
trait Related<P>: Send + Sync {
    fn load<'a, 'p>(
        &'a self,
        run: &'a Run<'a>,
        parents: &'p [P],
    ) -> Loading<'p, Box<dyn Written + 'a>>
    where
        'a: 'p;
}

/// What a relation read for the parents of a level.
trait Written: Send {
    /// Appends the relation's value for parent `at`.
    fn write(&self, at: usize, out: &mut Vec<u8>);
}

/// A field of a record.
enum Part<R> {
    /// A plain field.
    Column(Column<R>),
    /// Text known when planned (`__typename`).
    Fixed(Vec<u8>),
    /// A relation.
    Related(Box<dyn Related<R>>),
}

/// The fields a selection asks of records of one type, each with its key written out.
struct Objects<R> {
    fields: Vec<(Vec<u8>, Part<R>)>,
}

/// The key of a field in the answer, written out with its colon.
fn key_of(field: &Field) -> Vec<u8> {
    let mut key = written(field.response_key().node.as_str());
    key.push(b':');
    key
}

/// The fields of `set` when it is plain ([`super::direct::plain`]: only fields, without
/// directives, each response key once); `None` otherwise.
fn fields(set: &SelectionSet) -> Option<Vec<&Field>> {
    let fields = set
        .items
        .iter()
        .filter_map(|selection| match &selection.node {
            Selection::Field(field) => Some(&field.node),
            _ => None,
        });
    super::direct::plain(set).then(|| fields.collect())
}

/// Whether a relation (a field with a selection of its own) is asked more than once in
/// `sets`, the selections of the records of one level. The engine reads such a relation
/// once for all the places that ask for it alike; a plan would read it once per place, so
/// it leaves such documents to the engine.
fn repeats_a_relation(sets: &[&SelectionSet]) -> bool {
    let mut relations = Vec::new();
    for set in sets {
        for selection in &set.items {
            if let Selection::Field(field) = &selection.node
                && !field.node.selection_set.node.items.is_empty()
            {
                let name = field.node.name.node.as_str();
                if relations.contains(&name) {
                    return true;
                }
                relations.push(name);
            }
        }
    }
    false
}

/// A record type that plans can write.
trait Planned: Member {
    /// The GraphQL name of the type.
    const NAME: &'static str;
    /// The GraphQL name of its connections.
    const CONNECTION: &'static str;
    /// The GraphQL name of its connections' edges.
    const EDGE: &'static str;
    /// The fields its lists are ordered by.
    type OrderField;
    /// The plain field `name`, if it is one plans write.
    fn column(name: &str) -> Option<Column<Self::Row>>;
    /// The relation `field`, if it is one plans follow.
    fn related(field: &Field) -> Option<Box<dyn Related<Self::Row>>>;
}

impl<R: Send + Sync> Objects<R> {
    /// The plan of `set` over records of `N`, and the columns it reads.
    fn of<N: Planned<Row = R>>(set: &SelectionSet) -> Option<(Self, Wanted)> {
        if repeats_a_relation(&[set]) {
            return None;
        }
        let mut planned = Vec::new();
        for field in fields(set)? {
            let name = field.name.node.as_str();
            let part = if name == "__typename" {
                Part::Fixed(written(N::NAME))
            } else if let Some(column) = N::column(name) {
                if !field.arguments.is_empty() {
                    return None;
                }
                Part::Column(column)
            } else {
                Part::Related(N::related(field)?)
            };
            planned.push((key_of(field), part));
        }
        Some((Self { fields: planned }, read_by::<N>(set)))
    }

    /// These fields for `rows`, with what their relations hold for them.
    async fn load<'a>(&'a self, run: &'a Run<'a>, rows: &[R]) -> Result<Level<'a, R>, AppError> {
        let mut fields = Vec::with_capacity(self.fields.len());
        for (key, part) in &self.fields {
            let read = match part {
                Part::Column(write) => Read::Column(*write),
                Part::Fixed(text) => Read::Fixed(text),
                Part::Related(relation) => Read::Related(relation.load(run, rows).await?),
            };
            fields.push((key.as_slice(), read));
        }
        Ok(Level { fields })
    }
}

/// A field of the records of one level, ready to be written.
enum Read<'a, R> {
    /// A plain field.
    Column(Column<R>),
    /// Text known when planned.
    Fixed(&'a [u8]),
    /// What a relation read for all the records.
    Related(Box<dyn Written + 'a>),
}

/// The fields of the records of one level, each with its key, ready to be written.
struct Level<'a, R> {
    fields: Vec<(&'a [u8], Read<'a, R>)>,
}

impl<R> Level<'_, R> {
    /// Appends the JSON object of `rows[at]`.
    fn write(&self, rows: &[R], at: usize, out: &mut Vec<u8>) {
        out.push(b'{');
        for (n, (key, read)) in self.fields.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            match read {
                Read::Column(write) => write(&rows[at], out),
                Read::Fixed(text) => out.extend_from_slice(text),
                Read::Related(written) => written.write(at, out),
            }
        }
        out.push(b'}');
    }

    /// Appends the JSON list of the objects of `places` in `rows`.
    fn write_list(&self, rows: &[R], places: impl IntoIterator<Item = usize>, out: &mut Vec<u8>) {
        out.push(b'[');
        for (n, at) in places.into_iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            self.write(rows, at, out);
        }
        out.push(b']');
    }
}

/// A field of a connection.
enum Side<R> {
    /// `nodes`: the page's records.
    Nodes(Objects<R>),
    /// `edges`: each record with its cursor.
    Edges(Vec<(Vec<u8>, Edge<R>)>),
    /// `pageInfo`.
    PageInfo(Vec<(Vec<u8>, PageInfo)>),
    /// `__typename`, written out.
    Fixed(Vec<u8>),
}

/// A field of an edge.
enum Edge<R> {
    /// `cursor`.
    Cursor,
    /// `node`.
    Node(Objects<R>),
    /// `__typename`, written out.
    Fixed(Vec<u8>),
}

/// A field of a page's `pageInfo`.
enum PageInfo {
    /// `hasPreviousPage`.
    HasPreviousPage,
    /// `hasNextPage`.
    HasNextPage,
    /// `startCursor`: the first record's cursor, `null` for an empty page.
    StartCursor,
    /// `endCursor`: the last record's cursor, `null` for an empty page.
    EndCursor,
    /// `__typename`, written out.
    Fixed(Vec<u8>),
}

/// `name` as a JSON string.
fn written(name: &str) -> Vec<u8> {
    let mut text = Vec::new();
    write_str(&mut text, name);
    text
}

/// The fields a connection's selection asks: `nodes`, `edges` and `pageInfo` (under any
/// key), `__typename`; and the ordering its cursors follow.
struct Connection<R: Row> {
    fields: Vec<(Vec<u8>, Side<R>)>,
    wanted: Wanted,
    sort: <R::Key as SortKey>::Field,
    /// Whether it writes `hasNextPage` or `hasPreviousPage`, which the row past the page
    /// tells.
    looks_ahead: bool,
}

impl<R: Row> Connection<R> {
    /// The plan of the selection `set` of a connection of `N` ordered on `sort`.
    fn of<N: Planned<Row = R>>(
        set: &SelectionSet,
        sort: <R::Key as SortKey>::Field,
    ) -> Option<Self> {
        let mut planned = Vec::new();
        let mut wanted = Wanted::NONE;
        let mut looks_ahead = false;
        for field in fields(set)? {
            let below = &field.selection_set.node;
            let side = match field.name.node.as_str() {
                "nodes" => {
                    let (objects, reads) = Objects::of::<N>(below)?;
                    wanted = wanted.union(reads);
                    Side::Nodes(objects)
                }
                "edges" => {
                    let mut edge = Vec::new();
                    for field in fields(below)? {
                        edge.push((
                            key_of(field),
                            match field.name.node.as_str() {
                                "cursor" => Edge::Cursor,
                                "node" => {
                                    let (objects, reads) =
                                        Objects::of::<N>(&field.selection_set.node)?;
                                    wanted = wanted.union(reads);
                                    Edge::Node(objects)
                                }
                                "__typename" => Edge::Fixed(written(N::EDGE)),
                                _ => return None,
                            },
                        ));
                    }
                    Side::Edges(edge)
                }
                "pageInfo" => {
                    let mut info = Vec::new();
                    for field in fields(below)? {
                        info.push((
                            key_of(field),
                            match field.name.node.as_str() {
                                "hasPreviousPage" => {
                                    looks_ahead = true;
                                    PageInfo::HasPreviousPage
                                }
                                "hasNextPage" => {
                                    looks_ahead = true;
                                    PageInfo::HasNextPage
                                }
                                "startCursor" => PageInfo::StartCursor,
                                "endCursor" => PageInfo::EndCursor,
                                "__typename" => PageInfo::Fixed(written("PageInfo")),
                                _ => return None,
                            },
                        ));
                    }
                    Side::PageInfo(info)
                }
                "__typename" => Side::Fixed(written(N::CONNECTION)),
                _ => return None,
            };
            planned.push((key_of(field), side));
        }
        if repeats_a_relation(&record_sets(set)?) {
            return None;
        }
        Some(Self {
            fields: planned,
            wanted,
            sort,
            looks_ahead,
        })
    }

    /// `page` as this connection reads it: its columns, and the row past it only when it
    /// tells whether more follow.
    fn reading<K: SortKey>(&self, page: Page<K>) -> Page<K> {
        page.wanting(self.wanted).looking_ahead(self.looks_ahead)
    }

    /// The connections of `pages`, each a range of `rows` and whether rows lie before and
    /// after it.
    async fn load<'a>(
        &'a self,
        run: &'a Run<'a>,
        rows: Vec<R>,
        pages: Vec<(Range<usize>, bool, bool)>,
    ) -> Result<Box<dyn Written + 'a>, AppError>
    where
        R: 'a,
    {
        let mut sides = Vec::with_capacity(self.fields.len());
        for (key, side) in &self.fields {
            let read = match side {
                Side::Nodes(objects) => SideRead::Nodes(objects.load(run, &rows).await?),
                Side::Edges(edge) => {
                    let mut parts = Vec::with_capacity(edge.len());
                    for (key, part) in edge {
                        parts.push((
                            key.as_slice(),
                            match part {
                                Edge::Cursor => EdgeRead::Cursor,
                                Edge::Node(objects) => {
                                    EdgeRead::Node(objects.load(run, &rows).await?)
                                }
                                Edge::Fixed(text) => EdgeRead::Fixed(text),
                            },
                        ));
                    }
                    SideRead::Edges(parts)
                }
                Side::PageInfo(info) => SideRead::PageInfo(info),
                Side::Fixed(text) => SideRead::Fixed(text),
            };
            sides.push((key.as_slice(), read));
        }
        Ok(Box::new(PagesRead {
            sort: self.sort,
            rows,
            sides,
            pages,
        }))
    }
}

/// A field of a connection, ready to be written.
enum SideRead<'a, R> {
    /// `nodes`.
    Nodes(Level<'a, R>),
    /// `edges`.
    Edges(Vec<(&'a [u8], EdgeRead<'a, R>)>),
    /// `pageInfo`.
    PageInfo(&'a [(Vec<u8>, PageInfo)]),
    /// `__typename`.
    Fixed(&'a [u8]),
}

/// A field of an edge, ready to be written.
enum EdgeRead<'a, R> {
    /// `cursor`.
    Cursor,
    /// `node`.
    Node(Level<'a, R>),
    /// `__typename`.
    Fixed(&'a [u8]),
}

/// The pages of a connection, one per parent, with what their records' relations read.
struct PagesRead<'a, R: Row> {
    sort: <R::Key as SortKey>::Field,
    rows: Vec<R>,
    sides: Vec<(&'a [u8], SideRead<'a, R>)>,
    /// Per parent: where its page lies in `rows`, whether rows lie before it, after it.
    pages: Vec<(Range<usize>, bool, bool)>,
}

impl<R: Row> PagesRead<'_, R> {
    /// Appends the cursor of `rows[at]`, or `null`.
    fn cursor(&self, at: Option<usize>, out: &mut Vec<u8>) {
        match at {
            Some(at) => write_str(out, &Cursor::of(&self.rows[at], self.sort).encode()),
            None => out.extend_from_slice(b"null"),
        }
    }

    /// Appends the edges of the records of `place`.
    fn write_edges(
        &self,
        edge: &[(&[u8], EdgeRead<'_, R>)],
        place: Range<usize>,
        out: &mut Vec<u8>,
    ) {
        out.push(b'[');
        for (m, row) in place.enumerate() {
            if m > 0 {
                out.push(b',');
            }
            out.push(b'{');
            for (k, (key, part)) in edge.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(key);
                match part {
                    EdgeRead::Cursor => self.cursor(Some(row), out),
                    EdgeRead::Node(level) => level.write(&self.rows, row, out),
                    EdgeRead::Fixed(text) => out.extend_from_slice(text),
                }
            }
            out.push(b'}');
        }
        out.push(b']');
    }

    /// Appends the page info of `place`, with rows `before` and `after` it or not.
    fn write_page_info(
        &self,
        info: &[(Vec<u8>, PageInfo)],
        (place, before, after): (Range<usize>, bool, bool),
        out: &mut Vec<u8>,
    ) {
        out.push(b'{');
        for (k, (key, part)) in info.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            match part {
                PageInfo::HasPreviousPage => boolean(out, before),
                PageInfo::HasNextPage => boolean(out, after),
                PageInfo::StartCursor => self.cursor(place.clone().next(), out),
                PageInfo::EndCursor => self.cursor(place.clone().next_back(), out),
                PageInfo::Fixed(text) => out.extend_from_slice(text),
            }
        }
        out.push(b'}');
    }
}

/// Appends `true` or `false`.
fn boolean(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

impl<R: Row> Written for PagesRead<'_, R> {
    fn write(&self, at: usize, out: &mut Vec<u8>) {
        let page = self.pages.get(at).cloned().unwrap_or_default();
        out.push(b'{');
        for (n, (key, side)) in self.sides.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            match side {
                SideRead::Nodes(level) => level.write_list(&self.rows, page.0.clone(), out),
                SideRead::Edges(edge) => self.write_edges(edge, page.0.clone(), out),
                SideRead::PageInfo(info) => self.write_page_info(info, page.clone(), out),
                SideRead::Fixed(text) => out.extend_from_slice(text),
            }
        }
        out.push(b'}');
    }
}

/// The argument `name` of `field` as a `T`; `None` when it does not parse.
fn argument<T: InputType>(field: &Field, name: &str) -> Option<T> {
    let value = match field.get_argument(name) {
        Some(value) => Some(value.node.clone().into_const()?),
        None => None,
    };
    T::parse(value).ok()
}

/// Whether `field` has no arguments but these.
fn only(field: &Field, names: &[&str]) -> bool {
    field
        .arguments
        .iter()
        .all(|(name, _)| names.contains(&name.node.as_str()))
}

/// The page that `field` asks for, sorted by its `orderBy` or `default`.
fn page<K: SortKey, O>(field: &Field, default: Sort<K::Field>) -> Option<Page<K>>
where
    Order<O>: InputType,
    O: InputType + Into<K::Field>,
{
    let args = PageArgs::new(
        argument(field, "first")?,
        argument(field, "after")?,
        argument(field, "last")?,
        argument(field, "before")?,
    );
    let order: Option<Order<O>> = argument(field, "orderBy")?;
    Page::new(args, Order::or(order, default)).ok()
}

/// A top-level list: one page of the records the caller may see, as a connection.
struct List<N: Member, F> {
    page: Page<<N::Row as Row>::Key>,
    filter: F,
    connection: Connection<N::Row>,
}

impl<N, F> Related<()> for List<N, F>
where
    N: Planned,
    F: ListFilter<Row = N::Row>,
{
    fn load<'a, 'p>(&'a self, run: &'a Run<'a>, _: &'p [()]) -> Loading<'p, Box<dyn Written + 'a>>
    where
        'a: 'p,
    {
        Box::pin(async move {
            let rows = records::list(run.db, run.principal, &self.filter, &self.page).await?;
            let page = one_page(&rows);
            self.connection.load(run, rows.rows, vec![page]).await
        })
    }
}

/// The filter, connection and page of a top-level list `field` of `N`, filtered by a `G`.
#[allow(clippy::type_complexity, reason = "the three parts of one list")]
fn list_parts<N, G>(
    field: &Field,
    default: Sort<<<N::Row as Row>::Key as SortKey>::Field>,
) -> Option<(G::Domain, Connection<N::Row>, Page<<N::Row as Row>::Key>)>
where
    N: Planned,
    G: InputType + Input,
    Option<G>: Input<Domain = G::Domain>,
    G::Domain: Default,
    N::OrderField: InputType + Into<<<N::Row as Row>::Key as SortKey>::Field>,
    Order<N::OrderField>: InputType,
{
    if !only(
        field,
        &["first", "after", "last", "before", "filter", "orderBy"],
    ) {
        return None;
    }
    let filter: Option<G> = argument(field, "filter")?;
    let filter = filter.into_domain().ok()?;
    let page = page::<_, N::OrderField>(field, default)?;
    let connection = Connection::of::<N>(&field.selection_set.node, page.sort.field)?;
    let page = connection.reading(page);
    Some((filter, connection, page))
}

/// The plan of a top-level list `field` of `N`, filtered by a `G`.
fn list<N, G>(
    field: &Field,
    default: Sort<<<N::Row as Row>::Key as SortKey>::Field>,
) -> Option<Box<dyn Related<()>>>
where
    N: Planned + 'static,
    G: InputType + Input,
    Option<G>: Input<Domain = G::Domain>,
    G::Domain: ListFilter<Row = N::Row> + Default,
    N::OrderField: InputType + Into<<<N::Row as Row>::Key as SortKey>::Field>,
    Order<N::OrderField>: InputType,
{
    let (filter, connection, page) = list_parts::<N, G>(field, default)?;
    Some(Box::new(List::<N, G::Domain> {
        page,
        filter,
        connection,
    }))
}

/// [`List`] for records with a to-one reference that the page's statement reads too, as
/// [`super::connection::list_joining`] does: the reference then takes its records from the
/// page instead of a statement of its own.
struct ListJoining<N: Member, F, T: Member> {
    list: List<N, F>,
    name: &'static str,
    key: ColumnOf<N::Row>,
    wanted: Wanted,
    targets: PhantomData<fn() -> T>,
}

impl<N, F, T> Related<()> for ListJoining<N, F, T>
where
    N: Planned,
    F: ListFilter<Row = N::Row>,
    T: Member<Row: Seen> + 'static,
{
    fn load<'a, 'p>(&'a self, run: &'a Run<'a>, _: &'p [()]) -> Loading<'p, Box<dyn Written + 'a>>
    where
        'a: 'p,
    {
        Box::pin(async move {
            let List {
                page,
                filter,
                connection,
            } = &self.list;
            let visible = T::Row::visible(run.principal);
            let joined = paging::Joined::<T::Row>::new(self.key, visible, self.wanted);
            let (rows, targets) =
                records::list_joining(run.db, run.principal, filter, page, &joined).await?;
            if let Ok(mut kept) = run.joined.lock() {
                kept.push((self.name, Box::new(targets)));
            }
            let page = one_page(&rows);
            connection.load(run, rows.rows, vec![page]).await
        })
    }
}

/// The plan of a top-level list `field` of `N` whose reference `name` to `T`, through the
/// column `key`, is read with the page when exactly one place among its records' selections
/// (`nodes`, `edges { node }`) asks for it; [`list`] otherwise.
fn list_joining<N, G, T>(
    field: &Field,
    default: Sort<<<N::Row as Row>::Key as SortKey>::Field>,
    (name, key): (&'static str, ColumnOf<N::Row>),
) -> Option<Box<dyn Related<()>>>
where
    N: Planned + 'static,
    G: InputType + Input,
    Option<G>: Input<Domain = G::Domain>,
    G::Domain: ListFilter<Row = N::Row> + Default,
    N::OrderField: InputType + Into<<<N::Row as Row>::Key as SortKey>::Field>,
    Order<N::OrderField>: InputType,
    T: Member<Row: Seen> + 'static,
    ColumnOf<N::Row>: Send + Sync,
{
    let mut asking = Vec::new();
    for set in record_sets(&field.selection_set.node)? {
        asking.extend(fields(set)?.into_iter().filter(|f| f.name.node == name));
    }
    let ([asked], true) = (asking.as_slice(), paging::joinable::<N::Row, T::Row>()) else {
        return list::<N, G>(field, default);
    };
    let wanted = read_by::<T>(&asked.selection_set.node);
    let (filter, connection, page) = list_parts::<N, G>(field, default)?;
    Some(Box::new(ListJoining::<N, G::Domain, T> {
        list: List {
            page,
            filter,
            connection,
        },
        name,
        key,
        wanted,
        targets: PhantomData,
    }))
}

/// Finds one record by its slug, as the caller may see it, with these columns.
type Find<R> =
    for<'a> fn(&'a DatabaseConnection, &'a Principal, &'a str, Wanted) -> Loading<'a, Option<R>>;

/// A top-level lookup of one record by slug: its object, or `null`.
struct BySlug<N: Member> {
    find: Find<N::Row>,
    slug: String,
    objects: Objects<N::Row>,
    wanted: Wanted,
}

impl<N: Planned> Related<()> for BySlug<N> {
    fn load<'a, 'p>(&'a self, run: &'a Run<'a>, _: &'p [()]) -> Loading<'p, Box<dyn Written + 'a>>
    where
        'a: 'p,
    {
        Box::pin(async move {
            let rows: Vec<N::Row> = (self.find)(run.db, run.principal, &self.slug, self.wanted)
                .await?
                .into_iter()
                .collect();
            let level = self.objects.load(run, &rows).await?;
            let written: Box<dyn Written + 'a> = Box::new(FoundRead { rows, level });
            Ok(written)
        })
    }
}

/// What a [`BySlug`] found: one record or none.
struct FoundRead<'a, R> {
    rows: Vec<R>,
    level: Level<'a, R>,
}

impl<R: Send + Sync> Written for FoundRead<'_, R> {
    fn write(&self, _: usize, out: &mut Vec<u8>) {
        if self.rows.is_empty() {
            out.extend_from_slice(b"null");
        } else {
            self.level.write(&self.rows, 0, out);
        }
    }
}

/// The plan of a lookup `field` of `N` by its `slug`.
fn by_slug<N: Planned + 'static>(
    field: &Field,
    find: Find<N::Row>,
) -> Option<Box<dyn Related<()>>> {
    if !only(field, &["slug"]) {
        return None;
    }
    let slug: String = argument(field, "slug")?;
    let (objects, wanted) = Objects::of::<N>(&field.selection_set.node)?;
    Some(Box::new(BySlug::<N> {
        find,
        slug,
        objects,
        wanted,
    }))
}

/// A nested connection, one page per parent: all parents' pages read at once through the
/// request's loader of pages, as [`super::connection::nested_page`] reads them.
struct NestedPage<N: Member> {
    relation: PagedRelation,
    page: Page<<N::Row as Row>::Key>,
    connection: Connection<N::Row>,
}

impl<P: Row, N: Planned> Related<P> for NestedPage<N>
where
    Pages<N::Row>: Made,
{
    fn load<'a, 'p>(
        &'a self,
        run: &'a Run<'a>,
        parents: &'p [P],
    ) -> Loading<'p, Box<dyn Written + 'a>>
    where
        'a: 'p,
    {
        Box::pin(async move {
            let ids: Vec<Uuid> = parents.iter().map(Row::id).collect();
            if ids.is_empty() {
                return self.connection.load(run, Vec::new(), Vec::new()).await;
            }
            let loader = run.loaders.get::<Pages<N::Row>>();
            let mut pages = Box::pin(loader.loader().of(self.relation, &self.page, &ids)).await?;
            let mut rows = Vec::with_capacity(pages.values().map(|page| page.rows.len()).sum());
            let mut places = Vec::with_capacity(ids.len());
            for id in &ids {
                let start = rows.len();
                let (mut before, mut after) = (false, false);
                if let Some(page) = pages.remove(id) {
                    rows.extend(page.rows);
                    (before, after) = (page.has_previous, page.has_next);
                }
                places.push((start..rows.len(), before, after));
            }
            self.connection.load(run, rows, places).await
        })
    }
}

/// The plan of the nested connection `field` of `N`, by `relation`.
fn nested<N>(
    field: &Field,
    relation: PagedRelation,
    default: Sort<<<N::Row as Row>::Key as SortKey>::Field>,
) -> Option<Box<NestedPage<N>>>
where
    N: Planned,
    N::OrderField: InputType + Into<<<N::Row as Row>::Key as SortKey>::Field>,
    Order<N::OrderField>: InputType,
{
    if !only(field, &["first", "after", "last", "before", "orderBy"]) {
        return None;
    }
    let page = page::<_, N::OrderField>(field, default)?;
    let connection = Connection::of::<N>(&field.selection_set.node, page.sort.field)?;
    let page = connection.reading(page);
    Some(Box::new(NestedPage {
        relation,
        page,
        connection,
    }))
}

/// The records of `ids` that the caller may see, through the request's loader by id; no
/// statement for no ids.
async fn by_ids<R: Row>(run: &Run<'_>, wanted: Wanted, ids: &[Uuid]) -> Result<Vec<R>, AppError>
where
    ById<R>: Made,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let loader = run.loaders.get::<ById<R>>();
    Box::pin(loader.loader().rows(wanted, ids)).await
}

/// A short list each parent names on its own row, as
/// [`super::connection::named_list`] reads it: the named records the caller may see, read
/// at once, in the list's order.
struct NamedList<P, N: Member> {
    ids: fn(&P) -> &IdList,
    objects: Objects<N::Row>,
    wanted: Wanted,
}

impl<P: Row, N: Planned> Related<P> for NamedList<P, N>
where
    N::Row: ListOrder,
    ById<N::Row>: Made,
{
    fn load<'a, 'p>(
        &'a self,
        run: &'a Run<'a>,
        parents: &'p [P],
    ) -> Loading<'p, Box<dyn Written + 'a>>
    where
        'a: 'p,
    {
        Box::pin(async move {
            let sort = N::Row::list_order();
            // Every parent's ids, read once.
            let (listed, mut ends) = IdList::gather(parents.iter().map(self.ids));
            let ids = paging::distinct(&listed);
            let wanted = self.wanted.selected::<N::Row>(sort.field);
            let found: Vec<N::Row> = by_ids(run, wanted, &ids).await?;
            let at = paging::places_by_id(&found);
            let level = self.objects.load(run, &found).await?;
            // Each parent's records, in the list's order, are `places[ends[p - 1]..ends[p]]`
            // (from 0 for the first).
            let mut places = Vec::with_capacity(listed.len());
            let mut start = 0;
            for end in &mut ends {
                let first = places.len();
                places.extend(
                    listed[start..*end]
                        .iter()
                        .filter_map(|id| at.get(id).copied()),
                );
                paging::sort_places(&found, &mut places[first..], sort);
                start = *end;
                *end = places.len();
            }
            let written: Box<dyn Written + 'a> = Box::new(ListsRead {
                rows: found,
                level,
                places,
                ends,
            });
            Ok(written)
        })
    }
}

/// What a [`NamedList`] read: its records, and where each parent's lie among them.
struct ListsRead<'a, R> {
    rows: Vec<R>,
    level: Level<'a, R>,
    places: Vec<usize>,
    ends: Vec<usize>,
}

impl<R: Send + Sync> Written for ListsRead<'_, R> {
    fn write(&self, at: usize, out: &mut Vec<u8>) {
        let start = at.checked_sub(1).map_or(0, |before| self.ends[before]);
        let places = &self.places[start..self.ends[at]];
        self.level
            .write_list(&self.rows, places.iter().copied(), out);
    }
}

/// What a [`Reference`] read: its records, and which one each parent's is.
struct ReferencesRead<'a, R> {
    rows: Vec<R>,
    level: Level<'a, R>,
    places: Vec<usize>,
}

impl<R: Send + Sync> Written for ReferencesRead<'_, R> {
    fn write(&self, at: usize, out: &mut Vec<u8>) {
        self.level.write(&self.rows, self.places[at], out);
    }
}

/// A to-one reference each parent's row keys, as [`super::connection::reference`] reads
/// it; a parent whose record the caller may not see fails the plan (the engine answers
/// with the error).
struct Reference<P, N: Member> {
    name: &'static str,
    key: fn(&P) -> Uuid,
    objects: Objects<N::Row>,
    wanted: Wanted,
}

impl<P: Row, N: Planned> Related<P> for Reference<P, N>
where
    ById<N::Row>: Made,
{
    fn load<'a, 'p>(
        &'a self,
        run: &'a Run<'a>,
        parents: &'p [P],
    ) -> Loading<'p, Box<dyn Written + 'a>>
    where
        'a: 'p,
    {
        Box::pin(async move {
            let found: Vec<N::Row> = match run.joined::<IdMap<N::Row>>(self.name) {
                Some(joined) => joined.into_values().collect(),
                None => {
                    let keys: Vec<Uuid> = parents.iter().map(self.key).collect();
                    let ids = paging::distinct(&keys);
                    by_ids(run, self.wanted, &ids).await?
                }
            };
            let at = paging::places_by_id(&found);
            let places = parents
                .iter()
                .map(|parent| at.get(&(self.key)(parent)).copied())
                .collect::<Option<Vec<usize>>>()
                .ok_or(AppError::NotFound("record"))?;
            let level = self.objects.load(run, &found).await?;
            let written: Box<dyn Written + 'a> = Box::new(ReferencesRead {
                rows: found,
                level,
                places,
            });
            Ok(written)
        })
    }
}

/// Where the one page of `rows` lies in them, and what lies around it.
fn one_page<R>(rows: &Rows<R>) -> (Range<usize>, bool, bool) {
    (0..rows.rows.len(), rows.has_previous, rows.has_next)
}

/// The name of `field` of the type `parent`, as `Type.field`.
fn qualified(parent: &str, field: &Field) -> String {
    format!("{parent}.{}", field.name.node)
}

/// The plan of a field with a selection of its own and no arguments, over `N`.
fn objects<N: Planned>(field: &Field) -> Option<(Objects<N::Row>, Wanted)> {
    if !field.arguments.is_empty() {
        return None;
    }
    Objects::of::<N>(&field.selection_set.node)
}

/// Appends a string or `null`.
fn maybe(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => write_str(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends a value as GraphQL gives it.
fn value(out: &mut Vec<u8>, value: impl InputType) {
    write_value(out, &value.to_value());
}

/// The plain fields of a record type: each one's GraphQL name and what it writes off the
/// row `r` into `out`.
macro_rules! columns {
    ($row:ty { $($name:literal => |$r:ident, $out:ident| $write:expr),* $(,)? }) => {
        fn column(name: &str) -> Option<Column<$row>> {
            let column: Column<$row> = match name {
                $($name => |$r: &$row, $out: &mut Vec<u8>| $write,)*
                _ => return None,
            };
            Some(column)
        }
    };
}

impl Planned for Organisation {
    const NAME: &'static str = "Organisation";
    const CONNECTION: &'static str = "OrganisationConnection";
    const EDGE: &'static str = "OrganisationEdge";
    type OrderField = super::organisation::OrganisationOrderField;

    columns!(organisation::Model {
        "id" => |r, out| value(out, ids::encode(NodeType::Organisation, r.id)),
        "slug" => |r, out| write_str(out, &r.slug),
        "name" => |r, out| write_str(out, &r.name),
        "kind" => |r, out| value(out, OrganisationKind::from(r.kind)),
        "description" => |r, out| write_str(out, &r.description),
        "website" => |r, out| maybe(out, r.website.as_deref()),
        "city" => |r, out| maybe(out, r.city.as_deref()),
        "version" => |r, out| value(out, r.version),
        "createdAt" => |r, out| DateTime::from(r.created_at).write_json(out),
        "updatedAt" => |r, out| DateTime::from(r.updated_at).write_json(out),
    });

    fn related(field: &Field) -> Option<Box<dyn Related<organisation::Model>>> {
        match qualified(Self::NAME, field).as_str() {
            "Organisation.dialogues" => Some(nested::<Dialogue>(
                field,
                PagedRelation::OrganisationDialogues,
                crate::dialogue::DEFAULT_ORDER,
            )?),
            _ => None,
        }
    }
}

impl Planned for Authority {
    const NAME: &'static str = "Authority";
    const CONNECTION: &'static str = "AuthorityConnection";
    const EDGE: &'static str = "AuthorityEdge";
    type OrderField = super::authority::AuthorityOrderField;

    columns!(authority::Model {
        "id" => |r, out| value(out, ids::encode(NodeType::Authority, r.id)),
        "slug" => |r, out| write_str(out, &r.slug),
        "name" => |r, out| write_str(out, &r.name),
        "level" => |r, out| value(out, AuthorityLevel::from(r.level)),
        "kind" => |r, out| value(out, AuthorityKind::from(r.kind)),
        "website" => |r, out| maybe(out, r.website.as_deref()),
        "code" => |r, out| maybe(out, r.code.as_deref()),
        "version" => |r, out| value(out, r.version),
        "createdAt" => |r, out| DateTime::from(r.created_at).write_json(out),
        "updatedAt" => |r, out| DateTime::from(r.updated_at).write_json(out),
        "isMetropolitan" => |r, out| value(out, r.is_metropolitan),
    });

    fn related(_: &Field) -> Option<Box<dyn Related<authority::Model>>> {
        None
    }
}

impl Planned for Dialogue {
    const NAME: &'static str = "Dialogue";
    const CONNECTION: &'static str = "DialogueConnection";
    const EDGE: &'static str = "DialogueEdge";
    type OrderField = super::dialogue::DialogueOrderField;

    columns!(dialogue::Model {
        "id" => |r, out| value(out, ids::encode(NodeType::Dialogue, r.id)),
        "title" => |r, out| write_str(out, &r.title),
        "kind" => |r, out| value(out, DialogueKind::from(r.kind)),
        "status" => |r, out| value(out, DialogueStatus::from(r.status)),
        "heldOn" => |r, out| Date::from(r.held_on).write_json(out),
        "summary" => |r, out| write_str(out, &r.summary),
        "outcome" => |r, out| maybe(out, r.outcome.as_deref()),
        "visibility" => |r, out| value(out, Visibility::from(r.visibility)),
        "version" => |r, out| value(out, r.version),
        "createdAt" => |r, out| DateTime::from(r.created_at).write_json(out),
        "updatedAt" => |r, out| DateTime::from(r.updated_at).write_json(out),
    });

    fn related(field: &Field) -> Option<Box<dyn Related<dialogue::Model>>> {
        match qualified(Self::NAME, field).as_str() {
            "Dialogue.authorities" => {
                let (objects, wanted) = objects::<Authority>(field)?;
                Some(Box::new(NamedList::<dialogue::Model, Authority> {
                    ids: |d| &d.authority_ids,
                    objects,
                    wanted,
                }))
            }
            _ => None,
        }
    }
}

impl Planned for Proposal {
    const NAME: &'static str = "Proposal";
    const CONNECTION: &'static str = "ProposalConnection";
    const EDGE: &'static str = "ProposalEdge";
    type OrderField = super::proposal::ProposalOrderField;

    columns!(proposal::Model {
        "id" => |r, out| value(out, ids::encode(NodeType::Proposal, r.id)),
        "title" => |r, out| write_str(out, &r.title),
        "summary" => |r, out| write_str(out, &r.summary),
        "body" => |r, out| write_str(out, &r.body),
        "status" => |r, out| value(out, ProposalStatus::from(r.status)),
        "visibility" => |r, out| value(out, Visibility::from(r.visibility)),
        "version" => |r, out| value(out, r.version),
        "createdAt" => |r, out| DateTime::from(r.created_at).write_json(out),
        "updatedAt" => |r, out| DateTime::from(r.updated_at).write_json(out),
    });

    fn related(field: &Field) -> Option<Box<dyn Related<proposal::Model>>> {
        match qualified(Self::NAME, field).as_str() {
            "Proposal.leadOrganisation" => {
                let (objects, wanted) = objects::<Organisation>(field)?;
                Some(Box::new(Reference::<proposal::Model, Organisation> {
                    name: "leadOrganisation",
                    key: |p| p.lead_organisation_id,
                    objects,
                    wanted,
                }))
            }
            _ => None,
        }
    }
}

/// The plan of an operation: its root fields, in order.
pub struct Plan {
    root: Objects<()>,
    /// The length of its last answer.
    size: AtomicUsize,
}

impl Plan {
    /// The plan of `operation`, a query that [`super::prepared`] found needs no
    /// preparation; `None` when it asks for anything plans do not cover.
    pub fn of(operation: &Positioned<OperationDefinition>) -> Option<Self> {
        let mut root = Vec::new();
        for field in fields(&operation.node.selection_set.node)? {
            let list = match qualified("Query", field).as_str() {
                "Query.organisations" => list::<Organisation, OrganisationFilter>(
                    field,
                    crate::organisation::DEFAULT_ORDER,
                ),
                "Query.authorities" => {
                    list::<Authority, AuthorityFilter>(field, crate::authority::DEFAULT_ORDER)
                }
                "Query.dialogues" => {
                    list::<Dialogue, DialogueFilter>(field, crate::dialogue::DEFAULT_ORDER)
                }
                "Query.organisation" => {
                    by_slug::<Organisation>(field, |db, principal, slug, wanted| {
                        Box::pin(crate::organisation::by_slug(db, principal, slug, wanted))
                    })
                }
                "Query.authority" => by_slug::<Authority>(field, |db, principal, slug, wanted| {
                    Box::pin(crate::authority::by_slug(db, principal, slug, wanted))
                }),
                "Query.proposals" => list_joining::<Proposal, ProposalFilter, Organisation>(
                    field,
                    crate::proposal::DEFAULT_ORDER,
                    ("leadOrganisation", proposal::Column::LeadOrganisationId),
                ),
                _ => None,
            };
            root.push((key_of(field), Part::Related(list?)));
        }
        Some(Self {
            root: Objects { fields: root },
            size: AtomicUsize::new(1024),
        })
    }

    /// The JSON text of the answer's `data` for the request whose data (caller, connection,
    /// loaders) is `data`; `None` when the plan could not answer (the engine then does).
    pub async fn run(&self, data: &Data) -> Option<Vec<u8>> {
        fn get<T: 'static>(data: &Data) -> Option<&T> {
            data.get(&TypeId::of::<T>())?.downcast_ref::<T>()
        }
        let run = Run {
            db: get::<DatabaseConnection>(data)?,
            principal: get::<Principal>(data)?,
            loaders: get::<Loaders>(data)?,
            joined: Mutex::default(),
        };
        let level = match self.root.load(&run, &[()]).await {
            Ok(level) => level,
            Err(error) => {
                // The engine runs the document again, and answers with its error.
                if !matches!(error, AppError::NotFound(_)) {
                    tracing::warn!(error = ?error, "a plan failed; the engine answers");
                }
                return None;
            }
        };
        // As long as the last answer (up to a mebibyte): the buffer then grows, and is
        // copied, seldom.
        let hint = self.size.load(Ordering::Relaxed).min(1 << 20);
        let mut out = Vec::with_capacity(hint);
        level.write(&[()], 0, &mut out);
        self.size.store(out.len(), Ordering::Relaxed);
        Some(out)
    }
}
