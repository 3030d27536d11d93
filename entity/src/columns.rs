//! Reading a model from a row by the position of its columns.
//!
//! sea-orm's `FromQueryResult` finds every column of every row by its name (a hashed
//! lookup), checks the column's type, and formats an error text for every NULL before
//! turning it into `None`: most of the server's work on a page of rows. A statement that
//! selects a table's columns in the order of its `Column` enum can instead be read by
//! position with [`FromColumns`], which [`model!`] derives from the same declaration as the
//! entity, so the two cannot disagree.

use sea_orm::entity::prelude::{Date, DateTimeUtc, Uuid};
use sea_orm::sqlx::{self, Row as _};
use sea_orm::{ActiveEnum, DbErr, QueryResult};

/// A value that can be read from one column of a row, by position.
pub trait Cell: Sized {
    /// The value of column `at` of `row`.
    ///
    /// # Errors
    /// `DbErr::Type` when the column is missing or its value is not of this type.
    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr>;

    /// What the field holds when a statement leaves its column out because nobody reads
    /// it: an empty value. `None` for the types whose columns are always read: the enums
    /// whose value decides what the server does (a record's visibility, a goal's measure;
    /// not their `Option`), and the copies of links ([`crate::IdList`]), which would read as
    /// an empty list.
    const BLANK: Option<fn() -> Self> = None;
}

/// A model that can be read from the first columns of a row, taken in the order of its
/// entity's `Column::iter()`.
pub trait FromColumns: Sized {
    /// The fields, in the order they are read; they are the column names.
    const FIELDS: &'static [&'static str];
    /// Whether each field has a [`Cell::BLANK`], in the same order: whether a statement
    /// may leave its column out.
    const SKIPPABLE: &'static [bool];

    /// Reads the model from `row`.
    ///
    /// # Errors
    /// `DbErr::Type` when a column is missing or holds a value of another type.
    fn from_columns(row: &QueryResult) -> Result<Self, DbErr>;

    /// Reads the model from a row that holds, in order, only the columns of the fields
    /// `selected` has a bit for (bit `n` for the field at position `n`; fields past the 64th
    /// are always read); the other fields get their blank.
    ///
    /// # Errors
    /// `DbErr::Type` when a column is missing or holds a value of another type.
    fn from_selected(row: &QueryResult, selected: u64) -> Result<Self, DbErr> {
        Self::from_selected_at(row, 0, selected)
    }

    /// [`FromColumns::from_selected`] from column `first` of the row on: the model's
    /// columns follow another table's in a statement that joins the two.
    ///
    /// # Errors
    /// `DbErr::Type` when a column is missing or holds a value of another type.
    fn from_selected_at(row: &QueryResult, first: usize, selected: u64) -> Result<Self, DbErr>;
}

/// Whether `selected` ([`FromColumns::from_selected`]) reads the field at position `at`.
#[must_use]
pub const fn selects(selected: u64, at: usize) -> bool {
    at >= 64 || selected & (1 << at) != 0
}

/// Reads the columns of a row one after the other.
pub struct Columns<'a> {
    row: &'a QueryResult,
    next: usize,
}

impl<'a> Columns<'a> {
    /// From the first column of `row`.
    pub fn new(row: &'a QueryResult) -> Self {
        Self::at(row, 0)
    }

    /// From column `first` of `row`.
    pub fn at(row: &'a QueryResult, first: usize) -> Self {
        Self { row, next: first }
    }

    /// The next column's value.
    ///
    /// # Errors
    /// As [`Cell::read`].
    pub fn read<T: Cell>(&mut self) -> Result<T, DbErr> {
        let value = T::read(self.row, self.next);
        self.next += 1;
        value
    }
}

/// Column `at` of `row`, decoded by its driver.
fn decode<T>(row: &QueryResult, at: usize) -> Result<T, DbErr>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + for<'r> sqlx::Decode<'r, sqlx::Sqlite>,
{
    let value = if let Some(row) = row.try_as_pg_row() {
        row.try_get_unchecked::<T, usize>(at)
    } else if let Some(row) = row.try_as_sqlite_row() {
        row.try_get_unchecked::<T, usize>(at)
    } else {
        return Err(DbErr::Type("a row of an unknown driver".into()));
    };
    value.map_err(|error| DbErr::Type(format!("column {at}: {error}")))
}

/// [`Cell`] for types that both drivers decode themselves (`Option<T>` of them included).
macro_rules! decoded {
    ($($ty:ty $(= $blank:expr)?),+ $(,)?) => {$(
        impl Cell for $ty {
            $(const BLANK: Option<fn() -> Self> = Some($blank);)?

            fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                decode(row, at)
            }
        }
    )+};
}

decoded!(
    bool = || false,
    i32 = || 0,
    i64 = || 0,
    DateTimeUtc = DateTimeUtc::default,
    Option<bool> = || None,
    Option<i32> = || None,
    Option<i64> = || None,
    Option<DateTimeUtc> = || None,
);

/// Column `at` of a PostgreSQL row read from its binary form by `read`: `Some(None)` for
/// NULL, `None` for an SQLite row, the text form or bytes `read` refuses, which the driver
/// then reads. The driver's own decoding passes each value up through its error type,
/// several times the size of an id; read here, W2's 2,800 ids, texts and dates cost the
/// server 3 % fewer instructions.
fn postgres_binary<T>(
    row: &QueryResult,
    at: usize,
    read: impl FnOnce(&[u8]) -> Option<T>,
) -> Option<Option<T>> {
    let value = row.try_as_pg_row()?.try_get_raw(at).ok()?;
    if sqlx::ValueRef::is_null(&value) {
        return Some(None);
    }
    if value.format() != sqlx::postgres::PgValueFormat::Binary {
        return None;
    }
    read(value.as_bytes().ok()?).map(Some)
}

/// [`Cell`] for types read from PostgreSQL's binary form by `$read` (given the bytes) where
/// it can, and by the drivers otherwise; with their `Option`.
macro_rules! direct {
    ($($ty:ty = $blank:expr, $read:expr;)+) => {$(
        impl Cell for $ty {
            const BLANK: Option<fn() -> Self> = Some($blank);

            fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                match postgres_binary(row, at, $read) {
                    Some(Some(value)) => Ok(value),
                    _ => decode(row, at),
                }
            }
        }

        impl Cell for Option<$ty> {
            const BLANK: Option<fn() -> Self> = Some(|| None);

            fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                match postgres_binary(row, at, $read) {
                    Some(value) => Ok(value),
                    None => decode(row, at),
                }
            }
        }
    )+};
}

direct!(
    String = String::new, |bytes: &[u8]| std::str::from_utf8(bytes).ok().map(str::to_owned);
    Uuid = Uuid::nil, |bytes: &[u8]| Uuid::from_slice(bytes).ok();
);

impl Cell for Date {
    const BLANK: Option<fn() -> Self> = Some(Date::default);

    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        Option::<Date>::read(row, at)?.ok_or_else(|| DbErr::Type(format!("column {at}: NULL")))
    }
}

impl Cell for Option<Date> {
    const BLANK: Option<fn() -> Self> = Some(|| None);

    /// SQLite keeps a date as its text, `2026-11-20`, which the driver reads through
    /// chrono's format parser (about 1,300 instructions, 3 % of the server's work on a
    /// page of 500 dialogues); that form is read here directly, any other by the driver.
    /// PostgreSQL sends a date as its day from 2000-01-01, which the driver adds to that
    /// date by chrono's `add_days` (about 100 instructions); it is counted from the first
    /// day of the era here instead.
    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        if let Some(date) = postgres_binary(row, at, postgres_day) {
            return Ok(date);
        }
        if let Some(sqlite) = row.try_as_sqlite_row() {
            match sqlite.try_get_unchecked::<Option<&str>, usize>(at) {
                Ok(None) => return Ok(None),
                Ok(Some(text)) => {
                    if let Some(date) = iso_date(text) {
                        return Ok(Some(date));
                    }
                }
                Err(_) => {}
            }
        }
        decode(row, at)
    }
}

/// A PostgreSQL date in the binary form, the day from 2000-01-01 (day 730,120 of the era);
/// `None` for `infinity`, which the driver refuses.
fn postgres_day(bytes: &[u8]) -> Option<Date> {
    let day = i32::from_be_bytes(bytes.try_into().ok()?);
    Date::from_num_days_from_ce_opt(day.checked_add(730_120)?)
}

/// `text` as a date when it is exactly `YYYY-MM-DD`.
fn iso_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| {
        bytes[range].iter().try_fold(0_u32, |value, digit| {
            digit
                .is_ascii_digit()
                .then(|| value * 10 + u32::from(digit - b'0'))
        })
    };
    let year = i32::try_from(number(0..4)?).ok()?;
    Date::from_ymd_opt(year, number(5..7)?, number(8..10)?)
}

/// Reads an enum stored as its text value, as sea-orm does.
///
/// # Errors
/// `DbErr::Type` when the text is none of the enum's values.
pub(crate) fn read_enum<E: ActiveEnum<Value = String>>(
    row: &QueryResult,
    at: usize,
) -> Result<E, DbErr> {
    E::try_from_value(&String::read(row, at)?)
}

/// Reads an enum stored as its text value that may be NULL.
///
/// # Errors
/// `DbErr::Type` when the text is none of the enum's values.
pub(crate) fn read_optional_enum<E: ActiveEnum<Value = String>>(
    row: &QueryResult,
    at: usize,
) -> Result<Option<E>, DbErr> {
    Option::<String>::read(row, at)?
        .map(|text| E::try_from_value(&text))
        .transpose()
}

/// [`Cell`] for the enums the tables store as text; `= blank` gives an enum that only
/// describes a record a [`Cell::BLANK`], so that a statement may leave its column out.
macro_rules! stored_as_text {
    ($($ty:ty $(= $blank:expr)?),+ $(,)?) => {$(
        impl $crate::columns::Cell for $ty {
            $(const BLANK: Option<fn() -> Self> = Some($blank);)?

            fn read(
                row: &sea_orm::QueryResult,
                at: usize,
            ) -> Result<Self, sea_orm::DbErr> {
                $crate::columns::read_enum(row, at)
            }
        }

        impl $crate::columns::Cell for Option<$ty> {
            const BLANK: Option<fn() -> Self> = Some(|| None);

            fn read(
                row: &sea_orm::QueryResult,
                at: usize,
            ) -> Result<Self, sea_orm::DbErr> {
                $crate::columns::read_optional_enum(row, at)
            }
        }
    )+};
}

pub(crate) use stored_as_text;

/// Declares a table's model, as sea-orm's `DeriveEntityModel` expects it, together with
/// its [`FromColumns`]: the fields are read in the order they are declared, which is the
/// order of the `Column` enum the derive makes from them.
macro_rules! model {
    (
        $(#[$meta:meta])*
        pub struct Model {
            $( $(#[$field_meta:meta])* pub $field:ident: $ty:ty ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct Model {
            $( $(#[$field_meta])* pub $field: $ty ),+
        }

        impl $crate::columns::FromColumns for Model {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),+];
            const SKIPPABLE: &'static [bool] =
                &[$(<$ty as $crate::columns::Cell>::BLANK.is_some()),+];

            fn from_columns(row: &sea_orm::QueryResult) -> Result<Self, sea_orm::DbErr> {
                let mut columns = $crate::columns::Columns::new(row);
                Ok(Self {
                    $( $field: columns.read::<$ty>()? ),+
                })
            }

            fn from_selected_at(
                row: &sea_orm::QueryResult,
                first: usize,
                selected: u64,
            ) -> Result<Self, sea_orm::DbErr> {
                let mut columns = $crate::columns::Columns::at(row, first);
                let mut field = 0_usize;
                let mut next = || {
                    field += 1;
                    field - 1
                };
                Ok(Self {
                    $( $field: {
                        let at = next();
                        match <$ty as $crate::columns::Cell>::BLANK {
                            Some(blank) if !$crate::columns::selects(selected, at) => blank(),
                            _ => columns.read::<$ty>()?,
                        }
                    } ),+
                })
            }
        }
    };
}

pub(crate) use model;

#[cfg(test)]
mod tests {
    use super::{Date, iso_date};

    #[test]
    fn only_an_iso_date_is_read_directly() {
        assert_eq!(iso_date("2026-11-20"), Date::from_ymd_opt(2026, 11, 20));
        assert_eq!(iso_date("0999-01-01"), Date::from_ymd_opt(999, 1, 1));
        for other in [
            "2026-02-30",
            "2026-13-01",
            "2026-1-20",
            "2026/11/20",
            "2026-11-2x",
            "+2026-11-2",
            "",
        ] {
            assert_eq!(iso_date(other), None, "{other}");
        }
    }
}
