//! Sibling groups: the records one batch returned (a page of organisations, all the
//! dialogues of that page's organisations, ...). When the first record of a group resolves
//! a relation, it loads that relation for the whole group with one call of the request's
//! loader; its siblings share the result. Batching thus follows the shape of
//! the query, one statement per level, and never depends on timing.

use super::loaders::{ListRelation, PagedRelation};
use crate::error::AppError;
use crate::paging::{Page, Row};
use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use uuid::Uuid;

/// What a group has loaded for all its members.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Slot {
    /// A nested connection with its arguments.
    Paged(PagedRelation, Page),
    /// The total counts of a nested connection.
    Count(PagedRelation),
    /// A short list.
    List(ListRelation),
    /// A to-one reference, by name of the relation.
    Reference(&'static str),
}

type Shared = Arc<dyn Any + Send + Sync>;

/// Records returned together, and what has been loaded for all of them.
pub struct Group {
    rows: Shared,
    ids: Vec<Uuid>,
    slots: Mutex<HashMap<Slot, Arc<OnceCell<Shared>>>>,
}

impl Group {
    /// A group of `rows` (duplicates are loaded once).
    pub fn new<R: Row>(rows: Vec<R>) -> Arc<Self> {
        let mut seen = HashSet::new();
        let ids = rows
            .iter()
            .map(Row::id)
            .filter(|id| seen.insert(*id))
            .collect();
        Arc::new(Self {
            rows: Arc::new(rows),
            ids,
            slots: Mutex::new(HashMap::new()),
        })
    }

    /// The ids of the members.
    pub fn ids(&self) -> &[Uuid] {
        &self.ids
    }

    /// The members, when they are of type `R`.
    pub fn rows<R: Row>(&self) -> &[R] {
        self.rows
            .downcast_ref::<Vec<R>>()
            .map_or(&[], Vec::as_slice)
    }

    /// Loads `slot` for the whole group once; every member gets the same result.
    ///
    /// # Errors
    /// Whatever `load` fails with.
    pub async fn once<T, F, Fut>(&self, slot: Slot, load: F) -> Result<Arc<T>, AppError>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        let cell = {
            let mut slots = self
                .slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            slots.entry(slot).or_default().clone()
        };
        let value = cell
            .get_or_try_init(|| async { load().await.map(|value| Arc::new(value) as Shared) })
            .await?;
        value.clone().downcast::<T>().map_err(|_| {
            AppError::Internal(Arc::new(std::io::Error::other(
                "sibling group slot loaded with another type",
            )))
        })
    }
}
