//! Full-text search across the record, in Swedish.
//!
//! The text searched is each record's row in `search_entries`, which the database keeps in
//! step with the record (see the migration `m20261130_000011_search`). A search is read into
//! words and quoted phrases; every word is a prefix (type-ahead: "socialdep" finds
//! Socialdepartementet) of its Swedish stem ("fattigdomen" finds "fattigdom"), and a record
//! must match them all. PostgreSQL stems both sides with its Swedish Snowball dictionary
//! (every word kept: no stop words, as on SQLite); SQLite's
//! index keeps the words as written, and the stem of each word searched is looked for as a
//! prefix, which finds the same inflections (Swedish Snowball stems are prefixes of their
//! words). Each kind of record is searched with the caller's visibility in the statement,
//! so neither the hits nor the count show a record the caller may not see.

use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::paging::{Row, column};
use crate::{cooperation, dialogue, evidence, goal, proposal};
use entity::{SearchType, search_entry};
use rust_stemmers::{Algorithm, Stemmer};
use sea_orm::sea_query::{Asterisk, Condition, Expr, ExprTrait, Func, Order, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, Iterable, PrimaryKeyToColumn,
    QueryResult,
};
use std::sync::LazyLock;
use uuid::Uuid;

/// Longest search text, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words a search may hold.
pub const MAX_WORDS: usize = 8;
/// How deep into the results a client may page: hits beyond are not served.
pub const MAX_DEPTH: u64 = 1_000;
/// Words shorter than this are left out (as prefixes they would match most of the index).
const MIN_WORD_CHARS: usize = 2;
/// Words of text shown around the first match in a snippet.
const SNIPPET_WORDS: usize = 24;
/// Of those, how many come before the match.
const SNIPPET_LEAD: usize = 6;

static STEMMER: LazyLock<Stemmer> = LazyLock::new(|| Stemmer::create(Algorithm::Swedish));

/// A search as read from what the user typed: parts that must all match, each a word or a
/// quoted phrase of words in a row. Words are in small letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    parts: Vec<Vec<String>>,
}

/// The words of a text, in small letters, with where each lies in the text: runs of letters
/// and digits, as both databases' tokenizers read them.
fn words(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                spans.push((from, at));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(from) = start {
        spans.push((from, text.len()));
    }
    spans
}

impl Terms {
    /// Reads a search: words, and phrases in double quotes.
    ///
    /// # Errors
    /// BAD_USER_INPUT naming `field` when the text is too long, holds too many words, or no
    /// word of at least two letters.
    pub fn parse(text: &str, field: &str) -> AppResult<Self> {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(AppError::bad_input(
                field,
                format!("{field} must be at most {MAX_QUERY_CHARS} characters"),
            ));
        }
        let mut parts = Vec::new();
        for (n, piece) in text.split('"').enumerate() {
            let found: Vec<String> = words(piece)
                .into_iter()
                .map(|(from, to)| piece[from..to].to_lowercase())
                .filter(|word| word.chars().count() >= MIN_WORD_CHARS)
                .collect();
            if n % 2 == 1 {
                // Inside quotes: one phrase.
                if !found.is_empty() {
                    parts.push(found);
                }
            } else {
                parts.extend(found.into_iter().map(|word| vec![word]));
            }
        }
        let count: usize = parts.iter().map(Vec::len).sum();
        if count == 0 {
            return Err(AppError::bad_input(
                field,
                format!("{field} must hold a word of at least {MIN_WORD_CHARS} letters"),
            ));
        }
        if count > MAX_WORDS {
            return Err(AppError::bad_input(
                field,
                format!("{field} may hold at most {MAX_WORDS} words"),
            ));
        }
        Ok(Self { parts })
    }

    /// The stems looked for, for snippets.
    fn stems(&self) -> Vec<String> {
        self.parts
            .iter()
            .flatten()
            .map(|word| STEMMER.stem(word).into_owned())
            .collect()
    }

    /// The FTS5 query: each word's stem as a prefix, phrases joined by `+`.
    fn fts5(&self) -> String {
        let phrase = |words: &Vec<String>| {
            words
                .iter()
                .map(|word| format!("\"{}\"*", STEMMER.stem(word)))
                .collect::<Vec<_>>()
                .join(" + ")
        };
        self.parts.iter().map(phrase).collect::<Vec<_>>().join(" ")
    }

    /// The `tsquery` text for `to_tsquery('samverkan_swedish', …)` (Swedish stems, no stop
    /// words), which stems each word itself.
    fn tsquery(&self) -> String {
        let phrase = |words: &Vec<String>| {
            words
                .iter()
                .map(|word| format!("{word}:*"))
                .collect::<Vec<_>>()
                .join(" <-> ")
        };
        self.parts
            .iter()
            .map(phrase)
            .collect::<Vec<_>>()
            .join(" & ")
    }
}

/// A record a search found.
#[derive(Debug, Clone)]
pub enum Found {
    /// An organisation.
    Organisation(entity::organisation::Model),
    /// An authority.
    Authority(entity::authority::Model),
    /// A dialogue.
    Dialogue(entity::dialogue::Model),
    /// A proposal.
    Proposal(entity::proposal::Model),
    /// A goal.
    Goal(entity::goal::Model),
    /// A piece of evidence.
    Evidence(entity::evidence::Model),
    /// A local cooperation.
    Cooperation(entity::cooperation::Model),
    /// A theme.
    Theme(entity::theme::Model),
}

/// One hit: the record, how well it matches (higher is better; comparable within one
/// search), and the passage of its text where the words are found.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The record.
    pub found: Found,
    /// Relevance: PostgreSQL's `ts_rank`, SQLite's BM25 (negated), title words weighing more.
    pub score: f64,
    /// Plain text around the first match, "…" where cut.
    pub snippet: String,
    id: Uuid,
    search_type: SearchType,
}

/// A page of hits, best first.
#[derive(Debug, Clone, Default)]
pub struct Hits {
    /// The hits.
    pub hits: Vec<Hit>,
    /// Whether more follow.
    pub has_next: bool,
}

/// The visibility rule of a kind of record for `principal`.
fn visible(search_type: SearchType, principal: &Principal) -> Condition {
    match search_type {
        SearchType::Organisation | SearchType::Authority | SearchType::Theme => Condition::all(),
        SearchType::Dialogue => dialogue::visible(principal),
        SearchType::Proposal => proposal::visible(principal),
        SearchType::Goal => goal::visible(principal),
        SearchType::Evidence => evidence::visible(principal),
        SearchType::Cooperation => cooperation::visible(principal),
    }
}

/// Column alias of the score.
const SCORE: &str = "search_score";
/// Column alias of the body text.
const BODY: &str = "search_body";
/// SQLite's FTS5 table over `search_entries` (see the migration).
const FTS: &str = "search_index";
/// SQLite's integer key of `search_entries`, the FTS5 table's rowid (not in the entity:
/// PostgreSQL has no such column).
const ENTRY: &str = "entry";

/// The statement's skeleton for `R`: the entries of its type that match, joined to its rows
/// the caller may see.
fn matching<R: Row>(
    backend: DatabaseBackend,
    terms: &Terms,
    search_type: SearchType,
    visible: Condition,
) -> sea_orm::sea_query::SelectStatement {
    let mut select = Query::select();
    if backend == DatabaseBackend::Postgres {
        select
            .from(search_entry::Entity)
            .and_where(Expr::cust_with_values(
                "\"search_entries\".\"document\" @@ to_tsquery('samverkan_swedish', $1)",
                [terms.tsquery()],
            ));
    } else {
        // The index is read first, whatever the planner thinks of the other conditions:
        // `CROSS JOIN` fixes SQLite's join order. Left to itself, it counted the hits by
        // walking every visible dialogue and running the search once for each (33 s on
        // the benchmark data set, against 3 ms).
        select
            .from(FTS)
            .cross_join(search_entry::Entity)
            .and_where(Expr::col((FTS, "rowid")).equals((search_entry::Entity, ENTRY)))
            .and_where(Expr::cust_with_values(
                "\"search_index\" MATCH ?",
                [terms.fts5()],
            ));
    }
    if let Some(id) = <R::Entity as EntityTrait>::PrimaryKey::iter().next() {
        select.inner_join(
            R::Entity::default(),
            Expr::col(id.into_column().as_column_ref())
                .equals(search_entry::Column::RecordId.as_column_ref()),
        );
    }
    select
        .and_where(column(search_entry::Column::RecordType).eq(search_type))
        .cond_where(visible);
    select
}

/// The best `limit` hits of one kind, best first.
async fn hits_of<R: Row>(
    db: &impl ConnectionTrait,
    terms: &Terms,
    search_type: SearchType,
    visible: Condition,
    limit: u64,
    wrap: fn(R) -> Found,
) -> AppResult<Vec<Hit>> {
    let backend = db.get_database_backend();
    let score = if backend == DatabaseBackend::Postgres {
        Expr::cust_with_values(
            "CAST(ts_rank(\"search_entries\".\"document\", to_tsquery('samverkan_swedish', $1)) AS double precision)",
            [terms.tsquery()],
        )
    } else {
        // Title words count four times the body's.
        Expr::cust("-bm25(\"search_index\", 4.0, 1.0)")
    };
    let mut select = matching::<R>(backend, terms, search_type, visible);
    select
        .column((R::Entity::default(), Asterisk))
        .expr_as(score, SCORE)
        .expr_as(Expr::col(search_entry::Column::Body.as_column_ref()), BODY)
        .order_by(SCORE, Order::Desc)
        .order_by(search_entry::Column::RecordId.as_column_ref(), Order::Asc)
        .limit(limit);
    let stems = terms.stems();
    let rows: Vec<QueryResult> = db.query_all(&select).await?;
    rows.iter()
        .map(|row| {
            let record = R::from_query_result(row, "")?;
            let body: String = row.try_get("", BODY)?;
            Ok(Hit {
                id: record.id(),
                search_type,
                score: row.try_get("", SCORE)?,
                snippet: snippet(&body, &stems),
                found: wrap(record),
            })
        })
        .collect()
}

/// The best `limit` hits of one kind, from its table.
async fn hits_by_type(
    db: &impl ConnectionTrait,
    principal: &Principal,
    terms: &Terms,
    search_type: SearchType,
    limit: u64,
) -> AppResult<Vec<Hit>> {
    let visible = visible(search_type, principal);
    match search_type {
        SearchType::Organisation => {
            hits_of(db, terms, search_type, visible, limit, Found::Organisation).await
        }
        SearchType::Authority => {
            hits_of(db, terms, search_type, visible, limit, Found::Authority).await
        }
        SearchType::Dialogue => {
            hits_of(db, terms, search_type, visible, limit, Found::Dialogue).await
        }
        SearchType::Proposal => {
            hits_of(db, terms, search_type, visible, limit, Found::Proposal).await
        }
        SearchType::Goal => hits_of(db, terms, search_type, visible, limit, Found::Goal).await,
        SearchType::Evidence => {
            hits_of(db, terms, search_type, visible, limit, Found::Evidence).await
        }
        SearchType::Cooperation => {
            hits_of(db, terms, search_type, visible, limit, Found::Cooperation).await
        }
        SearchType::Theme => hits_of(db, terms, search_type, visible, limit, Found::Theme).await,
    }
}

/// The kinds asked for, each once, in a fixed order; all when none are named.
///
/// # Errors
/// BAD_USER_INPUT when the list is given but empty.
pub fn kinds(types: Option<Vec<SearchType>>) -> AppResult<Vec<SearchType>> {
    match types {
        None => Ok(SearchType::iter().collect()),
        Some(types) if types.is_empty() => Err(AppError::bad_input(
            "types",
            "types must name at least one kind of record, or be left out",
        )),
        Some(mut types) => {
            types.sort();
            types.dedup();
            Ok(types)
        }
    }
}

/// The hits from `offset` on, `limit` of them, best first across the kinds; ties go by
/// kind, then id, so pages do not overlap.
///
/// # Errors
/// BAD_USER_INPUT when the page lies deeper than [`MAX_DEPTH`]; INTERNAL on a database
/// failure.
pub async fn search(
    db: &impl ConnectionTrait,
    principal: &Principal,
    terms: &Terms,
    types: &[SearchType],
    offset: u64,
    limit: u64,
) -> AppResult<Hits> {
    if offset + limit > MAX_DEPTH {
        return Err(AppError::bad_input(
            "after",
            format!("search results are served to a depth of {MAX_DEPTH}"),
        ));
    }
    let mut all = Vec::new();
    for search_type in types {
        all.extend(hits_by_type(db, principal, terms, *search_type, offset + limit + 1).await?);
    }
    all.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.search_type.cmp(&b.search_type))
            .then(a.id.cmp(&b.id))
    });
    let offset = usize::try_from(offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let has_next = all.len() > offset.saturating_add(limit);
    Ok(Hits {
        hits: all.into_iter().skip(offset).take(limit).collect(),
        has_next,
    })
}

/// How many records of `types` the search finds that the caller may see.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn count(
    db: &impl ConnectionTrait,
    principal: &Principal,
    terms: &Terms,
    types: &[SearchType],
) -> AppResult<i64> {
    const N: &str = "n";
    let backend = db.get_database_backend();
    let mut total = 0;
    for search_type in types {
        let visible = visible(*search_type, principal);
        let mut select = match search_type {
            SearchType::Organisation => {
                matching::<entity::organisation::Model>(backend, terms, *search_type, visible)
            }
            SearchType::Authority => {
                matching::<entity::authority::Model>(backend, terms, *search_type, visible)
            }
            SearchType::Dialogue => {
                matching::<entity::dialogue::Model>(backend, terms, *search_type, visible)
            }
            SearchType::Proposal => {
                matching::<entity::proposal::Model>(backend, terms, *search_type, visible)
            }
            SearchType::Goal => {
                matching::<entity::goal::Model>(backend, terms, *search_type, visible)
            }
            SearchType::Evidence => {
                matching::<entity::evidence::Model>(backend, terms, *search_type, visible)
            }
            SearchType::Cooperation => {
                matching::<entity::cooperation::Model>(backend, terms, *search_type, visible)
            }
            SearchType::Theme => {
                matching::<entity::theme::Model>(backend, terms, *search_type, visible)
            }
        };
        select.expr_as(Func::count(Expr::col(Asterisk)), N);
        if let Some(row) = db.query_one(&select).await? {
            total += row.try_get::<i64>("", N)?;
        }
    }
    Ok(total)
}

/// The passage of `text` around the first word that begins with one of `stems`: a few
/// words before it and more after, whitespace made single spaces, "…" where cut; the start
/// of the text when no word matches (the match was in the title).
pub fn snippet(text: &str, stems: &[String]) -> String {
    let spans = words(text);
    if spans.is_empty() {
        return String::new();
    }
    let first = spans
        .iter()
        .position(|&(from, to)| {
            let word = text[from..to].to_lowercase();
            stems.iter().any(|stem| word.starts_with(stem.as_str()))
        })
        .unwrap_or(0);
    let start = first.saturating_sub(SNIPPET_LEAD);
    let end = (start + SNIPPET_WORDS).min(spans.len());
    let passage = &text[spans[start].0..spans[end - 1].1];
    let mut snippet = String::new();
    if start > 0 {
        snippet.push('…');
    }
    snippet.push_str(&passage.split_whitespace().collect::<Vec<_>>().join(" "));
    if end < spans.len() {
        snippet.push('…');
    }
    snippet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_are_read_into_prefixes_of_stems() {
        let terms = Terms::parse("Fattigdomen \"Örebro län\" i", "query").expect("parses");
        assert_eq!(terms.fts5(), "\"fattigdom\"* \"örebro\"* + \"län\"*");
        assert_eq!(terms.tsquery(), "fattigdomen:* & örebro:* <-> län:*");
    }

    #[test]
    fn searches_without_words_or_with_too_many_are_refused() {
        assert!(Terms::parse(" \" ' * ", "query").is_err());
        assert!(Terms::parse("a b c", "query").is_err());
        assert!(Terms::parse(&"ord ".repeat(9), "query").is_err());
        assert!(Terms::parse(&"x".repeat(201), "query").is_err());
        // Syntax of either engine is only ever text to look for.
        let terms = Terms::parse("NEAR(a b) OR x:* & !y", "query").expect("parses");
        assert_eq!(terms.fts5(), "\"near\"* \"or\"*");
    }

    #[test]
    fn snippets_show_the_words_around_the_first_match() {
        let text = "Ett två tre fyra fem sex sju åtta nio tio elva tolv tretton fjorton \
                    femton sexton sjutton arton nitton tjugo tjugoett tjugotvå fattigdomen \
                    i Sverige ska halveras till år 2030 enligt nätverkets mål";
        let snippet = snippet(text, &["fattigdom".to_owned()]);
        assert!(snippet.starts_with("…sjutton arton"), "{snippet}");
        assert!(snippet.contains("fattigdomen i Sverige"), "{snippet}");
        assert_eq!(super::snippet("Kort   text", &[]), "Kort text");
    }
}
