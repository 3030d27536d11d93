//! `Query.search`: full-text search across the record, as a Relay connection of hits.

use super::authority::Authority;
use super::connection::{Member, TotalCount, db, principal};
use super::cooperation::Cooperation;
use super::dialogue::Dialogue;
use super::enums::SearchType;
use super::evidence::Evidence;
use super::goal::Goal;
use super::group::Group;
use super::organisation::Organisation;
use super::proposal::Proposal;
use super::query::Node;
use super::theme::Theme;
use crate::error::AppError;
use crate::paging::{DEFAULT_PAGE_SIZE, Row, page_size};
use crate::search::{self, Found, Terms};
use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Context, Object, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::sync::Arc;

/// One record a search found.
pub struct SearchHit {
    node: Node,
    score: f64,
    snippet: String,
}

#[Object]
impl SearchHit {
    /// The record.
    async fn node(&self) -> &Node {
        &self.node
    }

    /// How well it matches: higher is better. Comparable between the hits of one search
    /// only; words in a name or title count more than words in the text.
    async fn score(&self) -> f64 {
        self.score
    }

    /// The passage of the record's text where the words are found, as plain text, with "…"
    /// where it is cut; the start of the text when only the name or title matched.
    async fn snippet(&self) -> &str {
        &self.snippet
    }
}

/// The position of a hit in the results, as an opaque cursor.
pub struct SearchCursor(u64);

const CURSOR_PREFIX: &str = "search:";

impl CursorType for SearchCursor {
    type Error = &'static str;

    fn decode_cursor(text: &str) -> Result<Self, Self::Error> {
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.strip_prefix(CURSOR_PREFIX)?.parse().ok())
            .filter(|position| *position <= search::MAX_DEPTH)
            .map(Self)
            .ok_or("invalid cursor for a search")
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{}", self.0))
    }
}

/// A page of search hits with `totalCount`.
pub type SearchConnection = Connection<SearchCursor, SearchHit, TotalCount>;

/// The rows of one kind among the hits, as a group whose relations load together.
fn group_of<R: Row>(hits: &[search::Hit], pick: fn(&Found) -> Option<&R>) -> Arc<Group> {
    Group::new(
        hits.iter()
            .filter_map(|hit| pick(&hit.found))
            .cloned()
            .collect(),
    )
}

/// The hits as GraphQL nodes, each kind in a group of its own, with their positions.
fn nodes(hits: Vec<search::Hit>) -> Vec<(u64, SearchHit)> {
    macro_rules! groups {
        ($($variant:ident),+) => {{
            #[allow(non_snake_case, reason = "one group per variant, named after it")]
            struct Groups { $($variant: Arc<Group>),+ }
            let groups = Groups {
                $($variant: group_of(&hits, |found| match found {
                    Found::$variant(row) => Some(row),
                    _ => None,
                })),+
            };
            hits.into_iter()
                .map(|hit| (hit.position, SearchHit {
                    node: match hit.found {
                        $(Found::$variant(row) => {
                            Node::$variant($variant::in_group(row, groups.$variant.clone()))
                        })+
                    },
                    score: hit.score,
                    snippet: hit.snippet,
                }))
                .collect()
        }};
    }
    groups!(
        Organisation,
        Authority,
        Dialogue,
        Proposal,
        Goal,
        Evidence,
        Cooperation,
        Theme
    )
}

/// Full-text search.
#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// Records whose text matches a search, best first, among those the caller may see:
    /// organisations, authorities, dialogues, proposals, goals, evidence, cooperations and
    /// themes. Every word must match, as the start of a word in any Swedish inflection
    /// ("fattigdomen" finds "fattigdom", "socialdep" finds Socialdepartementet); words in
    /// double quotes must follow each other. Case does not matter; å, ä and ö are letters
    /// of their own. Results are served to a depth of 1,000.
    #[graphql(complexity = "crate::limits::search_cost(first, child_complexity)")]
    async fn search(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "What to look for: words, and phrases in double quotes (at most 200 characters, 8 words)."
        )]
        query: String,
        #[graphql(desc = "Which kinds of record to search; all when omitted.")] types: Option<
            Vec<SearchType>,
        >,
        #[graphql(
            desc = "How many hits to return from the start (at most 100; 20 when not given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the hits after this cursor (the `endCursor` of an earlier page)."
        )]
        after: Option<String>,
    ) -> Result<SearchConnection> {
        let terms = Terms::parse(&query, "query")?;
        let types = search::kinds(types.map(|types| types.into_iter().map(Into::into).collect()))?;
        let limit = first.map_or(Ok(DEFAULT_PAGE_SIZE), |n| page_size("first", n))?;
        let offset = after
            .map(|text| {
                SearchCursor::decode_cursor(&text)
                    .map(|cursor| cursor.0)
                    .map_err(|message| AppError::bad_input("after", message))
            })
            .transpose()?
            .unwrap_or(0);
        let found = Box::pin(search::search(
            db(ctx),
            principal(ctx),
            &terms,
            &types,
            offset,
            limit,
        ))
        .await?;
        let total = TotalCount::Known(found.total);
        let mut connection = Connection::with_additional_fields(offset > 0, found.has_next, total);
        connection.edges.extend(
            nodes(found.hits)
                .into_iter()
                .map(|(position, hit)| Edge::new(SearchCursor(position), hit)),
        );
        Ok(connection)
    }
}
