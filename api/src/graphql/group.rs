//! Sibling groups: the records one batch returned (a page of organisations, all the
//! dialogues of that page's organisations, ...). When the first record of a group resolves
//! a relation, it loads that relation for the whole group with one call of the request's
//! loader; its siblings share the result. Batching thus follows the shape of
//! the query, one statement per level, and never depends on timing.

use crate::error::AppError;
use crate::paging::{IdHasher, Row};
use std::any::Any;
use std::collections::HashSet;
use std::future::Future;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;
use uuid::Uuid;

type Shared = Arc<dyn Any + Send + Sync>;
type Slot = (Box<dyn Any + Send + Sync>, Arc<OnceCell<Shared>>);

/// Records returned together, and what has been loaded for all of them.
pub struct Group {
    rows: Shared,
    ids: Vec<Uuid>,
    /// What has been loaded, by a key that tells the loads apart (the relation, and the
    /// page arguments of a connection). A group loads a handful of relations at most, so
    /// a list is searched faster than a map is hashed.
    slots: Mutex<Vec<Slot>>,
}

impl Group {
    /// A group of `rows` (duplicates are loaded once).
    pub fn new<R: Row>(rows: Vec<R>) -> Arc<Self> {
        let mut seen: HashSet<Uuid, BuildHasherDefault<IdHasher>> =
            HashSet::with_capacity_and_hasher(rows.len(), Default::default());
        let mut ids = Vec::with_capacity(rows.len());
        ids.extend(rows.iter().map(Row::id).filter(|id| seen.insert(*id)));
        Arc::new(Self {
            rows: Arc::new(rows),
            ids,
            slots: Mutex::new(Vec::new()),
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

    /// Gives the group what `key` names, read before any member asked for it (with the
    /// group's own rows): the members' [`Group::once`] for `key` returns it without loading.
    pub fn preset<K, T>(&self, key: K, value: T)
    where
        K: PartialEq + Send + Sync + 'static,
        T: Send + Sync + 'static,
    {
        let cell = OnceCell::new_with(Some(Arc::new(value) as Shared));
        self.slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((Box::new(key), Arc::new(cell)));
    }

    /// Loads what `key` names for the whole group once; every member gets the same result.
    ///
    /// # Errors
    /// Whatever `load` fails with.
    pub async fn once<K, T, F, Fut>(&self, key: K, load: F) -> Result<Arc<T>, AppError>
    where
        K: PartialEq + Send + Sync + 'static,
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, AppError>>,
    {
        let cell = {
            let mut slots = self
                .slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let found = slots
                .iter()
                .find(|(slot, _)| slot.downcast_ref::<K>() == Some(&key))
                .map(|(_, cell)| cell.clone());
            found.unwrap_or_else(|| {
                let cell = Arc::new(OnceCell::new());
                slots.push((Box::new(key), cell.clone()));
                cell
            })
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
