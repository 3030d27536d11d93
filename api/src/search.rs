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
//! words). One statement reads the index for all kinds at once, with each kind's visibility
//! rule in it, so neither the hits nor their count show a record the caller may not see.

use crate::auth::Principal;
use crate::db::Connection;
use crate::error::{AppError, AppResult};
use crate::paging::{self, Row, column};
use crate::{cooperation, dialogue, evidence, goal, proposal};
use entity::{SearchType, search_entry};
use rust_stemmers::{Algorithm, Stemmer};
use sea_orm::sea_query::{
    Asterisk, Condition, Expr, ExprTrait, Func, Order, Query, SelectStatement, WindowStatement,
};
use sea_orm::{
    ColumnTrait, DatabaseBackend, EntityTrait, IdenStatic, Iterable, PrimaryKeyToColumn,
};
use std::collections::HashMap;
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

/// Whether a word is too short to be looked for as a prefix.
fn short(word: &str) -> bool {
    word.chars().count() < MIN_WORD_CHARS
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
    /// Reads a search: words, and phrases in double quotes. The text is composed (NFC) first,
    /// as stored text is, so that an "ö" typed as "o" and a combining mark is still one letter.
    /// Words of one letter are left out, except inside a phrase, where they are looked for as
    /// they are ("fattigdom i Sverige").
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
        let text = crate::validate::compose(text);
        let mut parts = Vec::new();
        for (n, piece) in text.split('"').enumerate() {
            let found = words(piece)
                .into_iter()
                .map(|(from, to)| piece[from..to].to_lowercase());
            if n % 2 == 1 {
                // Inside quotes: one phrase, every word kept.
                let phrase: Vec<String> = found.collect();
                if phrase.iter().any(|word| !short(word)) {
                    parts.push(phrase);
                }
            } else {
                parts.extend(found.filter(|word| !short(word)).map(|word| vec![word]));
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
            .filter(|word| !short(word))
            .map(|word| STEMMER.stem(word).into_owned())
            .collect()
    }

    /// The FTS5 query: each word's stem as a prefix, phrases joined by `+`.
    fn fts5(&self) -> String {
        let phrase = |words: &Vec<String>| {
            words
                .iter()
                .map(|word| {
                    if short(word) {
                        format!("\"{word}\"")
                    } else {
                        format!("\"{}\"*", STEMMER.stem(word))
                    }
                })
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
                .map(|word| {
                    if short(word) {
                        word.clone()
                    } else {
                        format!("{word}:*")
                    }
                })
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
    /// Its place in the results, counted from 1: a cursor.
    pub position: u64,
}

/// A page of hits, best first.
#[derive(Debug, Clone, Default)]
pub struct Hits {
    /// The hits.
    pub hits: Vec<Hit>,
    /// Whether more follow.
    pub has_next: bool,
    /// How many records the search finds in all that the caller may see.
    pub total: i64,
}

/// Column alias of the score.
const SCORE: &str = "search_score";
/// Column alias of the number of hits in all.
const TOTAL: &str = "search_total";
/// SQLite's FTS5 table over `search_entries` (see the migration).
const FTS: &str = "search_index";
/// SQLite's integer key of `search_entries`, the FTS5 table's rowid (not in the entity:
/// PostgreSQL has no such column).
const ENTRY: &str = "entry";

/// `EXISTS (a row of R with the entry's id that `visible` keeps)`.
fn seen<R: Row>(visible: Condition) -> Expr {
    let mut rows = Query::select();
    rows.expr(Expr::val(1)).from(R::Entity::default());
    if let Some(id) = <R::Entity as EntityTrait>::PrimaryKey::iter().next() {
        rows.and_where(
            Expr::col(id.into_column().as_column_ref())
                .equals(search_entry::Column::RecordId.as_column_ref()),
        );
    }
    Expr::exists(rows.cond_where(visible).to_owned())
}

/// The visibility rule of the records of `search_type` for `principal`; `None` for the
/// kinds that are public. The index read and the read of the records both apply it.
fn rule(search_type: SearchType, principal: &Principal) -> Option<Condition> {
    match search_type {
        SearchType::Organisation | SearchType::Authority | SearchType::Theme => None,
        SearchType::Dialogue => Some(dialogue::visible(principal)),
        SearchType::Proposal => Some(proposal::visible(principal)),
        SearchType::Goal => Some(goal::visible(principal)),
        SearchType::Evidence => Some(evidence::visible(principal)),
        SearchType::Cooperation => Some(cooperation::visible(principal)),
    }
}

/// Evaluates `$body` with `$model` the row type of the kind `$kind` and `$wrap` its
/// [`Found`] variant: the one place a kind is tied to its table.
macro_rules! per_kind {
    ($kind:expr, |$model:ident, $wrap:ident| $body:expr) => {
        match $kind {
            SearchType::Organisation => {
                type $model = entity::organisation::Model;
                let $wrap = Found::Organisation;
                $body
            }
            SearchType::Authority => {
                type $model = entity::authority::Model;
                let $wrap = Found::Authority;
                $body
            }
            SearchType::Dialogue => {
                type $model = entity::dialogue::Model;
                let $wrap = Found::Dialogue;
                $body
            }
            SearchType::Proposal => {
                type $model = entity::proposal::Model;
                let $wrap = Found::Proposal;
                $body
            }
            SearchType::Goal => {
                type $model = entity::goal::Model;
                let $wrap = Found::Goal;
                $body
            }
            SearchType::Evidence => {
                type $model = entity::evidence::Model;
                let $wrap = Found::Evidence;
                $body
            }
            SearchType::Cooperation => {
                type $model = entity::cooperation::Model;
                let $wrap = Found::Cooperation;
                $body
            }
            SearchType::Theme => {
                type $model = entity::theme::Model;
                let $wrap = Found::Theme;
                $body
            }
        }
    };
}

/// The entries of `search_type` that `principal` may see: those of a guarded kind only
/// when they are public or their record passes its rule (read only for the entries that
/// are not public).
fn kind(search_type: SearchType, principal: &Principal) -> Condition {
    let entry = Condition::all().add(column(search_entry::Column::RecordType).eq(search_type));
    match rule(search_type, principal) {
        None => entry,
        Some(rule) => entry.add(
            Condition::any()
                .add(column(search_entry::Column::Public).eq(true))
                .add(per_kind!(search_type, |Model, _wrap| seen::<Model>(rule))),
        ),
    }
}

/// The entries that match `terms`, of `types`, that the caller may see: one read of the
/// full-text index whatever the number of kinds.
fn matching(
    backend: DatabaseBackend,
    principal: &Principal,
    terms: &Terms,
    types: &[SearchType],
) -> SelectStatement {
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
    let kinds = types
        .iter()
        .fold(Condition::any(), |any, t| any.add(kind(*t, principal)));
    select.cond_where(Condition::all().add(kinds));
    select
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

/// The records of one kind among the entries, by id, as the caller may see them.
async fn records<R: Row>(
    db: &impl Connection,
    entries: &[Entry],
    search_type: SearchType,
    visible: Condition,
    wrap: fn(R) -> Found,
) -> AppResult<HashMap<Uuid, Found>> {
    let ids: Vec<Uuid> = entries
        .iter()
        .filter(|entry| entry.search_type == search_type)
        .map(|entry| entry.id)
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(paging::by_ids::<R>(db, &ids, visible)
        .await?
        .into_iter()
        .map(|(id, row)| (id, wrap(row)))
        .collect())
}

/// One matching entry of a page.
struct Entry {
    search_type: SearchType,
    id: Uuid,
    score: f64,
    body: String,
}

/// The hits from `offset` on, `limit` of them, best first across the kinds (ties by kind,
/// then id, so pages do not overlap), with the number of hits in all: one statement for
/// the page of the index, and one per kind on the page for its records.
///
/// # Errors
/// BAD_USER_INPUT when the page lies deeper than [`MAX_DEPTH`]; INTERNAL on a database
/// failure.
pub async fn search(
    db: &impl Connection,
    principal: &Principal,
    terms: &Terms,
    types: &[SearchType],
    offset: u64,
    limit: u64,
) -> AppResult<Hits> {
    if offset.checked_add(limit).is_none_or(|end| end > MAX_DEPTH) {
        return Err(AppError::bad_input(
            "after",
            format!("search results are served to a depth of {MAX_DEPTH}"),
        ));
    }
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
    let mut matches = matching(backend, principal, terms, types);
    matches
        .column(search_entry::Column::RecordType.as_column_ref())
        .column(search_entry::Column::RecordId.as_column_ref())
        .expr_as(score, SCORE);
    if backend == DatabaseBackend::Postgres {
        // Kept a subquery of its own (PostgreSQL does not pull a subquery with an OFFSET
        // up into the query around it), so that `ts_rank` is computed as the index is read.
        // Pulled up, it was computed after the count, which then had to keep every hit's
        // `tsvector` to rank it by and spilled them to disk: 10,000 hits took 49 ms, and
        // 26 ms kept apart and without their text (below).
        matches.offset(0);
    }
    // Ranked and counted outside: SQLite computes `bm25` only in the statement that reads
    // the index, not under a window function. Only the page's rows are joined to their
    // text, for the snippets: counted with it, 10,000 hits' text was kept to be sorted.
    const HITS: &str = "hits";
    const PAGE: &str = "page";
    let ranked = Query::select()
        .column(Asterisk)
        .expr_window_as(
            Func::count(Expr::col(Asterisk)),
            WindowStatement::default(),
            TOTAL,
        )
        .from_subquery(matches, HITS)
        .order_by(SCORE, Order::Desc)
        .order_by(search_entry::Column::RecordType, Order::Asc)
        .order_by(search_entry::Column::RecordId, Order::Asc)
        .limit(limit + 1)
        .offset(offset)
        .take();
    let on_page = |column: &'static str| Expr::col((PAGE, column));
    let record_type = search_entry::Column::RecordType.as_str();
    let record_id = search_entry::Column::RecordId.as_str();
    let select = Query::select()
        .expr_as(on_page(record_type), record_type)
        .expr_as(on_page(record_id), record_id)
        .expr_as(on_page(SCORE), SCORE)
        .expr_as(on_page(TOTAL), TOTAL)
        .column(search_entry::Column::Body.as_column_ref())
        .from_subquery(ranked, PAGE)
        .inner_join(
            search_entry::Entity,
            Expr::col(search_entry::Column::RecordId.as_column_ref()).equals((PAGE, record_id)),
        )
        .order_by((PAGE, SCORE), Order::Desc)
        .order_by((PAGE, record_type), Order::Asc)
        .order_by((PAGE, record_id), Order::Asc)
        .take();
    let rows = db.query_all(&select).await?;
    let mut total = 0;
    let mut entries = Vec::with_capacity(rows.len());
    for row in &rows {
        total = row.try_get::<i64>("", TOTAL)?;
        entries.push(Entry {
            search_type: row.try_get("", record_type)?,
            id: row.try_get("", record_id)?,
            score: row.try_get("", SCORE)?,
            body: row.try_get("", search_entry::Column::Body.as_str())?,
        });
    }
    if entries.is_empty() && offset > 0 {
        total = count(db, principal, terms, types).await?;
    }
    let has_next = entries.len() as u64 > limit;
    entries.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let mut found = HashMap::new();
    for search_type in types {
        let kind = *search_type;
        let visible = rule(kind, principal).unwrap_or_else(Condition::all);
        found.extend(per_kind!(kind, |Model, wrap| {
            records::<Model>(db, &entries, kind, visible, wrap).await?
        }));
    }
    let stems = terms.stems();
    // A record deleted between the two reads is left out.
    let hits = entries
        .into_iter()
        .zip(offset + 1..)
        .filter_map(|(entry, position)| {
            Some(Hit {
                found: found.remove(&entry.id)?,
                score: entry.score,
                snippet: snippet(&entry.body, &stems),
                position,
            })
        })
        .collect();
    Ok(Hits {
        hits,
        has_next,
        total,
    })
}

/// How many records of `types` the search finds that the caller may see.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn count(
    db: &impl Connection,
    principal: &Principal,
    terms: &Terms,
    types: &[SearchType],
) -> AppResult<i64> {
    const N: &str = "n";
    let mut select = matching(db.get_database_backend(), principal, terms, types);
    select.expr_as(Func::count(Expr::col(Asterisk)), N);
    Ok(match db.query_one(&select).await? {
        Some(row) => row.try_get::<i64>("", N)?,
        None => 0,
    })
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
        // One-letter words count inside a phrase, exactly; the text is composed first.
        let terms = Terms::parse("\"fattigdom i Sverige\" o\u{308}rebro", "query").expect("parses");
        assert_eq!(
            terms.fts5(),
            "\"fattigdom\"* + \"i\" + \"sver\"* \"örebro\"*"
        );
        assert_eq!(
            terms.tsquery(),
            "fattigdom:* <-> i <-> sverige:* & örebro:*"
        );
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
