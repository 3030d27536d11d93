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

    /// The value of one element of a PostgreSQL array in the binary form, `None` for a NULL
    /// element (see [`Elements`]).
    ///
    /// # Errors
    /// `DbErr::Type` when the bytes are not a value of this type.
    fn element(bytes: Option<&[u8]>) -> Result<Self, DbErr>;

    /// The value SQLite holds for the column, read where it lies in the row ([`Stored`]):
    /// what sqlx would decode from what sqlx writes.
    ///
    /// # Errors
    /// `DbErr::Type` when it is NULL for a type without `None`, or not of this type.
    fn stored(value: Stored<'_>) -> Result<Self, DbErr>;

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
    fn from_selected_at(row: &QueryResult, first: usize, selected: u64) -> Result<Self, DbErr> {
        Self::from_source(&mut Columns::at(row, first), selected)
    }

    /// Reads the model's `selected` fields ([`FromColumns::from_selected`]) one after the
    /// other from `source`.
    ///
    /// # Errors
    /// `DbErr::Type` when a value is missing or of another type.
    fn from_source(source: &mut impl Source, selected: u64) -> Result<Self, DbErr>;
}

/// Where a model's values are read from, one after the other: a row's columns
/// ([`Columns`]) or the elements of arrays, one from each ([`Elements`]).
pub trait Source {
    /// The next value.
    ///
    /// # Errors
    /// `DbErr::Type` when it is missing or not of this type.
    fn read<T: Cell>(&mut self) -> Result<T, DbErr>;
}

/// A value of a row as SQLite holds it, by its storage class, borrowed from the statement
/// that steps through the rows: [`Cell::stored`] reads it there, without the copy of every
/// value that sqlx makes to send a row to another thread.
#[derive(Clone, Copy, Debug)]
pub enum Stored<'a> {
    /// NULL.
    Null,
    /// An integer.
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// A text, as its UTF-8 bytes.
    Text(&'a [u8]),
    /// Bytes.
    Blob(&'a [u8]),
}

impl<'a> Stored<'a> {
    /// The storage class's name, for errors (never the value, which may be anyone's data).
    fn class(self) -> &'static str {
        match self {
            Self::Null => "NULL",
            Self::Integer(_) => "an integer",
            Self::Real(_) => "a real number",
            Self::Text(_) => "a text",
            Self::Blob(_) => "bytes",
        }
    }

    /// The text, when it is one.
    fn text(self) -> Option<&'a str> {
        match self {
            Self::Text(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
    }
}

/// A stored value that is not NULL, read by `read`.
fn stored_required<T>(
    value: Stored<'_>,
    read: impl FnOnce(Stored<'_>) -> Option<T>,
) -> Result<T, DbErr> {
    stored_optional(value, read)?.ok_or_else(|| DbErr::Type("a column is NULL".into()))
}

/// A stored value or NULL, read by `read`.
fn stored_optional<T>(
    value: Stored<'_>,
    read: impl FnOnce(Stored<'_>) -> Option<T>,
) -> Result<Option<T>, DbErr> {
    match value {
        Stored::Null => Ok(None),
        value => read(value).map(Some).ok_or_else(|| {
            DbErr::Type(format!("a column holds {}, of another type", value.class()))
        }),
    }
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
}

impl Source for Columns<'_> {
    /// The next column's value.
    fn read<T: Cell>(&mut self) -> Result<T, DbErr> {
        let value = T::read(self.row, self.next);
        self.next += 1;
        value
    }
}

/// The records of a PostgreSQL statement that returned each of their columns as one array
/// (`array_agg`), in one row, read a record at a time: one element from each array.
///
/// The driver hands over each row of a result through several layers of streams, about
/// 1,000 instructions a row before any value is read; a lookup of 370 records by id spent
/// more there than on the records.
pub struct Elements<'a> {
    arrays: Vec<&'a [u8]>,
    records: usize,
    next: usize,
}

impl<'a> Elements<'a> {
    /// The first `columns` columns of `row`, each an array in the binary form of the same
    /// length (NULL, as `array_agg` gives for no records, reads as empty).
    ///
    /// # Errors
    /// `DbErr::Type` for a row that is not PostgreSQL's, a column in the text form, or
    /// arrays of another shape.
    pub fn new(row: &'a QueryResult, columns: usize) -> Result<Self, DbErr> {
        let shape = || DbErr::Type("a column is not a one-dimensional binary array".into());
        let row = row.try_as_pg_row().ok_or_else(shape)?;
        let mut arrays = Vec::with_capacity(columns);
        let mut records = None;
        for at in 0..columns {
            let value = row
                .try_get_raw(at)
                .map_err(|error| DbErr::Type(format!("column {at}: {error}")))?;
            let (length, elements) = if sqlx::ValueRef::is_null(&value) {
                (0, &[][..])
            } else if value.format() == sqlx::postgres::PgValueFormat::Binary {
                value.as_bytes().ok().and_then(array).ok_or_else(shape)?
            } else {
                return Err(shape());
            };
            if *records.get_or_insert(length) != length {
                return Err(shape());
            }
            arrays.push(elements);
        }
        Ok(Self {
            arrays,
            records: records.unwrap_or(0),
            next: 0,
        })
    }

    /// How many records the arrays hold.
    #[must_use]
    pub fn records(&self) -> usize {
        self.records
    }

    /// Moves on to the next record: the next value read is the first array's.
    pub fn next_record(&mut self) {
        self.next = 0;
    }
}

impl Source for Elements<'_> {
    /// The next array's next element.
    fn read<T: Cell>(&mut self) -> Result<T, DbErr> {
        let cut = || DbErr::Type(format!("array {} ends early", self.next));
        let rest = self.arrays.get_mut(self.next).ok_or_else(cut)?;
        let (length, tail) = rest.split_first_chunk::<4>().ok_or_else(cut)?;
        let element = match usize::try_from(i32::from_be_bytes(*length)) {
            // -1: NULL.
            Err(_) => {
                *rest = tail;
                None
            }
            Ok(length) => {
                let (element, tail) = tail.split_at_checked(length).ok_or_else(cut)?;
                *rest = tail;
                Some(element)
            }
        };
        self.next += 1;
        T::element(element)
    }
}

/// A one-dimensional array in PostgreSQL's binary form: its length and its elements, each
/// a 4-byte length (-1 for NULL) and that many bytes.
fn array(bytes: &[u8]) -> Option<(usize, &[u8])> {
    let word = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|word| word.try_into().ok())
            .map(i32::from_be_bytes)
    };
    // Dimensions, a flag for NULLs, the element type; per dimension its length and lower
    // bound.
    match word(0)? {
        0 => Some((0, &[])),
        1 => Some((usize::try_from(word(12)?).ok()?, bytes.get(20..)?)),
        _ => None,
    }
}

/// A value that is not NULL from its binary form, read by `read`.
fn required<T>(bytes: Option<&[u8]>, read: impl FnOnce(&[u8]) -> Option<T>) -> Result<T, DbErr> {
    optional(bytes, read)?.ok_or_else(|| DbErr::Type("an element is NULL".into()))
}

/// A value or NULL from its binary form, read by `read`.
fn optional<T>(
    bytes: Option<&[u8]>,
    read: impl FnOnce(&[u8]) -> Option<T>,
) -> Result<Option<T>, DbErr> {
    bytes
        .map(|bytes| read(bytes).ok_or_else(|| DbErr::Type("an element of another type".into())))
        .transpose()
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

/// [`Cell`] for types that both drivers decode themselves, and their `Option`; `$binary`
/// reads an array element's bytes, `$stored` an SQLite value.
macro_rules! decoded {
    ($($ty:ty = $blank:expr, $binary:expr, $stored:expr;)+) => {$(
        impl Cell for $ty {
            const BLANK: Option<fn() -> Self> = Some($blank);

            fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                decode(row, at)
            }

            fn element(bytes: Option<&[u8]>) -> Result<Self, DbErr> {
                required(bytes, $binary)
            }

            fn stored(value: Stored<'_>) -> Result<Self, DbErr> {
                stored_required(value, $stored)
            }
        }

        impl Cell for Option<$ty> {
            const BLANK: Option<fn() -> Self> = Some(|| None);

            fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                decode(row, at)
            }

            fn element(bytes: Option<&[u8]>) -> Result<Self, DbErr> {
                optional(bytes, $binary)
            }

            fn stored(value: Stored<'_>) -> Result<Self, DbErr> {
                stored_optional(value, $stored)
            }
        }
    )+};
}

decoded!(
    bool = || false, |bytes: &[u8]| match bytes {
        [0] => Some(false),
        [1] => Some(true),
        _ => None,
    }, |value| match value {
        Stored::Integer(number) => Some(number != 0),
        _ => None,
    };
    i32 = || 0, |bytes: &[u8]| bytes.try_into().ok().map(i32::from_be_bytes), |value| match value {
        Stored::Integer(number) => i32::try_from(number).ok(),
        _ => None,
    };
    i64 = || 0, |bytes: &[u8]| bytes.try_into().ok().map(i64::from_be_bytes), |value| match value {
        Stored::Integer(number) => Some(number),
        _ => None,
    };
    DateTimeUtc = DateTimeUtc::default, postgres_moment, sqlite_moment;
);

/// An SQLite time as sqlx reads one: a text in one of SQLite's time formats (sqlx writes
/// RFC 3339), seconds from 1970 as an integer, or a Julian day as a real number.
fn sqlite_moment(value: Stored<'_>) -> Option<DateTimeUtc> {
    match value {
        Stored::Text(_) => {
            let text = value.text()?;
            if let Ok(moment) = chrono::DateTime::parse_from_rfc3339(text) {
                return Some(moment.to_utc());
            }
            // SQLite's other time formats, as sqlx tries them; without an offset, UTC.
            const FORMATS: [&str; 12] = [
                "%F %T%.f",
                "%F %R",
                "%F %RZ",
                "%F %R%:z",
                "%F %T%.fZ",
                "%F %T%.f%:z",
                "%FT%R",
                "%FT%RZ",
                "%FT%R%:z",
                "%FT%T%.f",
                "%FT%T%.fZ",
                "%FT%T%.f%:z",
            ];
            FORMATS.iter().find_map(|format| {
                chrono::DateTime::parse_from_str(text, format)
                    .map(|moment| moment.to_utc())
                    .or_else(|_| {
                        chrono::NaiveDateTime::parse_from_str(text, format)
                            .map(|moment| moment.and_utc())
                    })
                    .ok()
            })
        }
        Stored::Integer(seconds) => DateTimeUtc::from_timestamp(seconds, 0),
        Stored::Real(day) => {
            /// 1970-01-01 as a Julian day.
            const EPOCH: f64 = 2_440_587.5;
            let micros = ((day - EPOCH) * 86_400_000_000.0).round();
            #[allow(clippy::cast_possible_truncation)]
            (micros.is_finite() && micros.abs() < 9.0e18)
                .then(|| DateTimeUtc::from_timestamp_micros(micros as i64))
                .flatten()
        }
        _ => None,
    }
}

/// A PostgreSQL `timestamptz` in the binary form: microseconds from 2000-01-01 UTC.
fn postgres_moment(bytes: &[u8]) -> Option<DateTimeUtc> {
    /// 2000-01-01 in microseconds from 1970-01-01.
    const EPOCH: i64 = 946_684_800_000_000;
    let micros = i64::from_be_bytes(bytes.try_into().ok()?);
    DateTimeUtc::from_timestamp_micros(micros.checked_add(EPOCH)?)
}

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
/// it can, and by the drivers otherwise; with their `Option`. `$stored` reads an SQLite
/// value.
macro_rules! direct {
    ($($ty:ty = $blank:expr, $read:expr, $stored:expr;)+) => {$(
        impl Cell for $ty {
            const BLANK: Option<fn() -> Self> = Some($blank);

            fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
                match postgres_binary(row, at, $read) {
                    Some(Some(value)) => Ok(value),
                    _ => decode(row, at),
                }
            }

            fn element(bytes: Option<&[u8]>) -> Result<Self, DbErr> {
                required(bytes, $read)
            }

            fn stored(value: Stored<'_>) -> Result<Self, DbErr> {
                stored_required(value, $stored)
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

            fn element(bytes: Option<&[u8]>) -> Result<Self, DbErr> {
                optional(bytes, $read)
            }

            fn stored(value: Stored<'_>) -> Result<Self, DbErr> {
                stored_optional(value, $stored)
            }
        }
    )+};
}

direct!(
    String = String::new, |bytes: &[u8]| std::str::from_utf8(bytes).ok().map(str::to_owned),
        |value: Stored<'_>| value.text().map(str::to_owned);
    // sqlx writes an id as its 16 bytes.
    Uuid = Uuid::nil, |bytes: &[u8]| Uuid::from_slice(bytes).ok(), |value| match value {
        Stored::Blob(bytes) => Uuid::from_slice(bytes).ok(),
        _ => None,
    };
);

impl Cell for Date {
    const BLANK: Option<fn() -> Self> = Some(Date::default);

    fn read(row: &QueryResult, at: usize) -> Result<Self, DbErr> {
        Option::<Date>::read(row, at)?.ok_or_else(|| DbErr::Type(format!("column {at}: NULL")))
    }

    fn element(bytes: Option<&[u8]>) -> Result<Self, DbErr> {
        required(bytes, postgres_day)
    }

    fn stored(value: Stored<'_>) -> Result<Self, DbErr> {
        stored_required(value, sqlite_day)
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

    fn element(bytes: Option<&[u8]>) -> Result<Self, DbErr> {
        optional(bytes, postgres_day)
    }

    fn stored(value: Stored<'_>) -> Result<Self, DbErr> {
        stored_optional(value, sqlite_day)
    }
}

/// An SQLite date, kept as its text `2026-11-20`, as sqlx reads one.
fn sqlite_day(value: Stored<'_>) -> Option<Date> {
    let text = value.text()?;
    iso_date(text).or_else(|| Date::parse_from_str(text, "%F").ok())
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

            fn element(bytes: Option<&[u8]>) -> Result<Self, sea_orm::DbErr> {
                <Self as sea_orm::ActiveEnum>::try_from_value(&String::element(bytes)?)
            }

            fn stored(
                value: $crate::columns::Stored<'_>,
            ) -> Result<Self, sea_orm::DbErr> {
                <Self as sea_orm::ActiveEnum>::try_from_value(&String::stored(value)?)
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

            fn element(bytes: Option<&[u8]>) -> Result<Self, sea_orm::DbErr> {
                Option::<String>::element(bytes)?
                    .map(|text| <$ty as sea_orm::ActiveEnum>::try_from_value(&text))
                    .transpose()
            }

            fn stored(
                value: $crate::columns::Stored<'_>,
            ) -> Result<Self, sea_orm::DbErr> {
                Option::<String>::stored(value)?
                    .map(|text| <$ty as sea_orm::ActiveEnum>::try_from_value(&text))
                    .transpose()
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
                    $( $field: $crate::columns::Source::read::<$ty>(&mut columns)? ),+
                })
            }

            fn from_source(
                source: &mut impl $crate::columns::Source,
                selected: u64,
            ) -> Result<Self, sea_orm::DbErr> {
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
                            _ => source.read::<$ty>()?,
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
