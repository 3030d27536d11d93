//! Bounds on what one request may ask for, checked before anything runs: the size and
//! shape of the document (cheap, linear checks that also protect the parser and the
//! validator), then its cost, then the caller's budget of cost points per minute.
//!
//! The cost of a document is computed as GitHub does: every field costs 1, and a
//! connection multiplies what is below it by its page size (`first` or `last`, else the
//! default 20); a plain list multiplies by [`LIST_FACTOR`].

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What a plain (unpaged) list is assumed to hold, for costing.
pub const LIST_FACTOR: usize = 10;

/// The cost of a connection field: its page size times what each node costs, plus itself.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first
        .or(last)
        .map_or(crate::paging::DEFAULT_PAGE_SIZE as usize, |n| {
            usize::try_from(n.clamp(0, 100)).unwrap_or(0)
        });
    size.saturating_mul(child_complexity).saturating_add(1)
}

/// The cost of a plain list field.
pub fn list_cost(child_complexity: usize) -> usize {
    LIST_FACTOR
        .saturating_mul(child_complexity)
        .saturating_add(1)
}

/// The limits, each with its default; all can be set from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest request body, bytes (`SAMVERKAN_MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Longest document, bytes.
    pub max_query_bytes: usize,
    /// Most lexical tokens in a document.
    pub max_tokens: usize,
    /// Deepest nesting of braces, brackets and parentheses in the text.
    pub max_nesting: usize,
    /// Deepest field nesting after fragments are expanded (`SAMVERKAN_MAX_DEPTH`).
    pub max_depth: usize,
    /// Most aliased fields.
    pub max_aliases: usize,
    /// Most field selections after fragments are expanded (repeated fields count each time).
    pub max_fields: usize,
    /// Most directives.
    pub max_directives: usize,
    /// Highest cost of one document (`SAMVERKAN_MAX_COST`).
    pub max_cost: usize,
    /// Cost points per minute per partner token, user or client address (`SAMVERKAN_RATE_LIMIT`; 0 turns it off).
    pub budget_per_minute: usize,
    /// Cost points executing at once on this server (`SAMVERKAN_MAX_COST_IN_FLIGHT`); a
    /// request that would exceed it waits its turn.
    pub max_cost_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_query_bytes: 32 * 1024,
            max_tokens: 4_000,
            max_nesting: 30,
            max_depth: 15,
            max_aliases: 30,
            max_fields: 1_000,
            max_directives: 30,
            max_cost: 25_000,
            budget_per_minute: 100_000,
            max_cost_in_flight: 50_000,
        }
    }
}

/// Why a document is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// Checks the text of a document in one linear pass: its length, tokens and nesting. This
/// runs before the parser, whose work it bounds.
///
/// # Errors
/// A refusal naming the limit.
pub fn check_text(query: &str, limits: &Limits) -> Result<(), Refusal> {
    if query.len() > limits.max_query_bytes {
        return Err(Refusal(format!(
            "the document is {} bytes; the limit is {}",
            query.len(),
            limits.max_query_bytes
        )));
    }
    let bytes = query.as_bytes();
    let (mut tokens, mut depth, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                tokens += 1;
                let block = bytes[i..].starts_with(b"\"\"\"");
                i += if block { 3 } else { 1 };
                while i < bytes.len() {
                    if block && bytes[i..].starts_with(b"\"\"\"") {
                        i += 3;
                        break;
                    }
                    if !block && bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if !block && (bytes[i] == b'"' || bytes[i] == b'\n') {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'{' | b'[' | b'(' => {
                tokens += 1;
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(Refusal(format!(
                        "the document nests deeper than {} levels",
                        limits.max_nesting
                    )));
                }
            }
            b'}' | b']' | b')' => {
                tokens += 1;
                depth = depth.saturating_sub(1);
            }
            b if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' => {
                tokens += 1;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || matches!(bytes[i], b'_' | b'.' | b'-' | b'+'))
                {
                    i += 1;
                }
                continue;
            }
            b if b.is_ascii_whitespace() || b == b',' => {}
            _ => tokens += 1,
        }
        if tokens > limits.max_tokens {
            return Err(Refusal(format!(
                "the document has more than {} tokens",
                limits.max_tokens
            )));
        }
        i += 1;
    }
    if tokens > limits.max_tokens {
        return Err(Refusal(format!(
            "the document has more than {} tokens",
            limits.max_tokens
        )));
    }
    Ok(())
}

#[derive(Default, Clone, Copy)]
struct Shape {
    fields: usize,
    depth: usize,
    aliases: usize,
    directives: usize,
}

struct Walker<'a> {
    doc: &'a ExecutableDocument,
    limits: &'a Limits,
    memo: HashMap<&'a str, Shape>,
    visiting: Vec<&'a str>,
}

impl<'a> Walker<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) -> Result<Shape, Refusal> {
        let mut shape = Shape::default();
        for selection in &set.items {
            let (inner, own_fields, own_aliases, own_directives) = match &selection.node {
                Selection::Field(field) => {
                    let inner = self.selection_set(&field.node.selection_set.node)?;
                    (
                        Shape {
                            depth: inner.depth + 1,
                            ..inner
                        },
                        1,
                        usize::from(field.node.alias.is_some()),
                        field.node.directives.len(),
                    )
                }
                Selection::InlineFragment(fragment) => (
                    self.selection_set(&fragment.node.selection_set.node)?,
                    0,
                    0,
                    fragment.node.directives.len(),
                ),
                Selection::FragmentSpread(spread) => (
                    self.fragment(spread.node.fragment_name.node.as_str())?,
                    0,
                    0,
                    spread.node.directives.len(),
                ),
            };
            shape.fields = shape
                .fields
                .saturating_add(inner.fields)
                .saturating_add(own_fields);
            shape.aliases = shape
                .aliases
                .saturating_add(inner.aliases)
                .saturating_add(own_aliases);
            shape.directives = shape
                .directives
                .saturating_add(inner.directives)
                .saturating_add(own_directives);
            shape.depth = shape.depth.max(inner.depth);
            self.check(shape)?;
        }
        Ok(shape)
    }

    fn fragment(&mut self, name: &'a str) -> Result<Shape, Refusal> {
        if let Some(shape) = self.memo.get(name) {
            return Ok(*shape);
        }
        if self.visiting.contains(&name) {
            return Err(Refusal(format!("fragment {name} spreads itself")));
        }
        let Some((key, fragment)) = self.doc.fragments.get_key_value(name) else {
            return Ok(Shape::default()); // reported by validation
        };
        self.visiting.push(key.as_str());
        let shape = self.selection_set(&fragment.node.selection_set.node)?;
        self.visiting.pop();
        self.memo.insert(key.as_str(), shape);
        Ok(shape)
    }

    fn check(&self, shape: Shape) -> Result<(), Refusal> {
        let l = self.limits;
        if shape.fields > l.max_fields {
            return Err(Refusal(format!(
                "the document selects more than {} fields (fragments expanded)",
                l.max_fields
            )));
        }
        if shape.depth > l.max_depth {
            return Err(Refusal(format!(
                "the document is deeper than {} levels",
                l.max_depth
            )));
        }
        if shape.aliases > l.max_aliases {
            return Err(Refusal(format!(
                "the document has more than {} aliases",
                l.max_aliases
            )));
        }
        if shape.directives > l.max_directives {
            return Err(Refusal(format!(
                "the document has more than {} directives",
                l.max_directives
            )));
        }
        Ok(())
    }
}

/// Checks the shape of a parsed document, expanding each fragment once (memoised, so
/// fan-out cannot blow up the work) and refusing cycles.
///
/// # Errors
/// A refusal naming the limit.
pub fn check_document(doc: &ExecutableDocument, limits: &Limits) -> Result<(), Refusal> {
    let mut walker = Walker {
        doc,
        limits,
        memo: HashMap::new(),
        visiting: Vec::new(),
    };
    for (name, _) in doc.fragments.iter() {
        walker.fragment(name.as_str())?;
    }
    for (_, operation) in doc.operations.iter() {
        walker.selection_set(&operation.node.selection_set.node)?;
    }
    Ok(())
}

/// Budgets of cost points per caller, refilled continuously (a token bucket per key), and
/// the bound on cost points executing at once.
pub struct RateLimiter {
    per_minute: usize,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
    in_flight: Arc<tokio::sync::Semaphore>,
    in_flight_capacity: usize,
}

/// The outcome of charging a request.
#[derive(Debug, Clone, Copy)]
pub struct Charge {
    /// Points left after this request.
    pub remaining: usize,
    /// When refused: seconds until the request would fit.
    pub retry_after: Option<u64>,
}

impl RateLimiter {
    /// A limiter granting `per_minute` points per key (0: unlimited) and letting
    /// `in_flight` points execute at once.
    pub fn new(per_minute: usize, in_flight: usize) -> Self {
        let in_flight_capacity = in_flight.clamp(1, tokio::sync::Semaphore::MAX_PERMITS);
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
            in_flight: Arc::new(tokio::sync::Semaphore::new(in_flight_capacity)),
            in_flight_capacity,
        }
    }

    /// Waits until `cost` more points may execute; they are released when the returned
    /// permit is dropped. Memory under load grows with the rows being resolved, which grow
    /// with cost: a dozen large queries at once finish no sooner than a few, and hold more.
    /// A query costlier than the whole bound runs alone.
    pub async fn admit(&self, cost: usize) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let points = u32::try_from(cost.clamp(1, self.in_flight_capacity)).unwrap_or(u32::MAX);
        self.in_flight.clone().acquire_many_owned(points).await.ok()
    }

    /// The budget per minute.
    pub fn budget(&self) -> usize {
        self.per_minute
    }

    /// Charges `cost` points to `key`, or refuses without charging.
    pub fn charge(&self, key: &str, cost: usize) -> Charge {
        if self.per_minute == 0 {
            return Charge {
                remaining: usize::MAX,
                retry_after: None,
            };
        }
        let capacity = self.per_minute as f64;
        let per_second = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            // Forget full buckets so that many one-off clients cannot grow the map forever.
            buckets.retain(|_, (points, at)| {
                *points + now.duration_since(*at).as_secs_f64() * per_second < capacity
            });
        }
        let (points, at) = buckets.entry(key.to_owned()).or_insert((capacity, now));
        *points = (*points + now.duration_since(*at).as_secs_f64() * per_second).min(capacity);
        *at = now;
        let cost = cost as f64;
        if cost <= *points {
            *points -= cost;
            Charge {
                remaining: *points as usize,
                retry_after: None,
            }
        } else {
            let wait = ((cost.min(capacity) - *points) / per_second)
                .ceil()
                .max(1.0);
            Charge {
                remaining: *points as usize,
                retry_after: Some(wait as u64),
            }
        }
    }
}
