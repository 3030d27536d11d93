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
    /// Adds the ids to `ids`, in their order; an entry that is not an id is passed over.
    pub fn push_to(&self, ids: &mut Vec<Uuid>) {
        let text = self.0.as_bytes();
        // As the database writes it, the list is ids of 32 digits, each but the last
        // followed by a comma: read in fixed steps, without a search for the commas.
        if text.len() % STEP == ID
            && text
                .chunks(STEP)
                .all(|entry| entry.get(ID).is_none_or(|&c| c == b','))
        {
            ids.extend(
                text.chunks(STEP)
                    .filter_map(|entry| Uuid::try_parse_ascii(&entry[..ID]).ok()),
            );
        } else {
            ids.extend(self.0.split(',').filter_map(|id| Uuid::try_parse(id).ok()));
        }
    }
}

impl IdList {
    /// The ids of every list, in one vector, and where each list's end lies in it: list
    /// `n`'s ids are `ids[ends[n - 1]..ends[n]]` (from 0 for the first).
    pub fn gather<'a>(lists: impl ExactSizeIterator<Item = &'a IdList>) -> (Vec<Uuid>, Vec<usize>) {
        let (mut ids, mut ends) = (Vec::new(), Vec::with_capacity(lists.len()));
        for list in lists {
            list.push_to(&mut ids);
            ends.push(ids.len());
        }
        (ids, ends)
    }
}

/// The digits of one id.
const ID: usize = 32;
/// An id and its comma.
const STEP: usize = ID + 1;

impl Cell for IdList {
    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        String::read(row, at).map(Self)
    }

    fn element(bytes: Option<&[u8]>) -> Result<Self, DbErr> {
        String::element(bytes).map(Self)
    }

    fn stored(value: crate::columns::Stored<'_>) -> Result<Self, DbErr> {
        String::stored(value).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &IdList) -> Vec<Uuid> {
        let mut ids = Vec::new();
        list.push_to(&mut ids);
        ids
    }

    #[test]
    fn reads_the_ids_as_the_database_writes_them() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(u128::MAX));
        let written = IdList(format!("{},{}", a.simple(), b.simple()));
        assert_eq!(ids(&written), vec![a, b]);
        assert_eq!(ids(&IdList::default()).len(), 0);
        let damaged = IdList(format!("{},x,{}", a.simple(), b.simple()));
        assert_eq!(ids(&damaged), vec![a, b]);
        // The same length as two ids, but not in their form.
        let shifted = IdList(format!("{};{},", a.simple(), b.simple()));
        assert_eq!(ids(&shifted).len(), 0);
        let upper = IdList(format!("{},{}", a.simple(), b.simple()).to_uppercase());
        assert_eq!(ids(&upper), vec![a, b]);
        let not_hex = IdList(format!("{},{}", a.simple(), "g".repeat(32)));
        assert_eq!(ids(&not_hex), vec![a]);
        let one = Uuid::parse_str("0123456789abcdef0123456789ABCDEF").expect("an id");
        assert_eq!(ids(&IdList(one.simple().to_string())), vec![one]);
    }
}
