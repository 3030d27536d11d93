//! The ids of the records a row names, kept on the row itself.

use crate::columns::Cell;
use sea_orm::entity::prelude::*;
use sea_orm::{DbErr, QueryResult};

/// The ids of the records a row names, stored as text: each id's 32 hex digits in small
/// letters, the ids separated by commas. A copy of what a link table holds, which the
/// database keeps on the row (by triggers on the links), so that the rows of a page name
/// their records without a read of the links.
///
/// Always read with its row: left out, it would read as an empty list.
#[derive(Clone, Debug, Default, PartialEq, Eq, DeriveValueType)]
pub struct IdList(String);

impl IdList {
    /// The ids; an entry that is not an id is passed over.
    pub fn ids(&self) -> impl Iterator<Item = Uuid> + '_ {
        // Split as text: its search for the comma skips ahead a word at a time, where a
        // split of the bytes looks at each one.
        self.0.split(',').filter_map(|id| Uuid::try_parse(id).ok())
    }
}

impl Cell for IdList {
    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        String::read(row, at).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_ids_as_the_database_writes_them() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(u128::MAX));
        let written = IdList(format!("{},{}", a.simple(), b.simple()));
        assert_eq!(written.ids().collect::<Vec<_>>(), vec![a, b]);
        assert_eq!(IdList::default().ids().count(), 0);
        let damaged = IdList(format!("{},x,{}", a.simple(), b.simple()));
        assert_eq!(damaged.ids().collect::<Vec<_>>(), vec![a, b]);
    }
}
