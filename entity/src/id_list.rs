//! The ids of the records a row names, kept on the row itself.

use crate::columns::Cell;
use sea_orm::entity::prelude::*;
use sea_orm::{DbErr, QueryResult};

/// The ids of the records a row names, stored as text: each id's 32 hex digits in small
/// letters, the ids separated by commas. A copy of what a link table holds, kept on the row
/// so that the rows of a page name their records without a read of the links.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveValueType)]
pub struct IdList(String);

impl IdList {
    /// The list of `ids`, each once, smallest first.
    #[must_use]
    pub fn new(ids: &[Uuid]) -> Self {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let mut text = String::with_capacity(ids.len() * 33);
        for id in ids {
            if !text.is_empty() {
                text.push(',');
            }
            text.push_str(id.simple().encode_lower(&mut Uuid::encode_buffer()));
        }
        Self(text)
    }

    /// The ids; text that is not an id is passed over.
    pub fn ids(&self) -> impl Iterator<Item = Uuid> + '_ {
        // Each id and its comma take 33 bytes.
        self.0
            .as_bytes()
            .chunks(33)
            .filter_map(|id| Uuid::try_parse_ascii(id.get(..32)?).ok())
    }
}

impl Cell for IdList {
    const BLANK: Option<fn() -> Self> = Some(Self::default);

    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        String::read(row, at).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_each_id_once_smallest_first() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(u128::MAX));
        let list = IdList::new(&[b, a, b]);
        assert_eq!(list.ids().collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(IdList::new(&[]).ids().count(), 0);
        let written = format!("{},{}", a.simple(), b.simple());
        assert_eq!(IdList(written), list, "as the migration writes it");
    }
}
