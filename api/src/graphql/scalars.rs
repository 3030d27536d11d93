//! The schema's own date and time scalars, written one way only: `Date` as ISO 8601
//! `YYYY-MM-DD`, `DateTime` as RFC 3339 in UTC with milliseconds and `Z`. Each names its
//! specification with `@specifiedBy`.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{Datelike, NaiveDate, SecondsFormat, Timelike, Utc};

/// A calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

/// A calendar day, written as ISO 8601 `YYYY-MM-DD`, such as `2026-11-20`.
#[Scalar(
    name = "Date",
    specified_by_url = "https://scalars.graphql.org/andimarek/local-date.html"
)]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text)
                if text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-' =>
            {
                NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map(Date)
                    .map_err(|_| InputValueError::custom(DATE_WANTED))
            }
            _ => Err(InputValueError::custom(DATE_WANTED)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn to_value(&self) -> Value {
        written(
            10,
            |text| write_day(text, self.0),
            || self.0.format("%Y-%m-%d").to_string(),
        )
    }
}

// Dates and times are written digit by digit: chrono's `format` parses its pattern for
// every value, and `format!` costs about 1,400 instructions for a date (3 % of the server's
// instructions in a list of 500 dialogues); these cost a tenth of that.

/// `value` as `N` decimal digits (its last ones), zero-padded, into a slice of the text's
/// bytes laid out before it is appended in one step: a `push` per digit checked the
/// vector's capacity each time (about 40 of the 150 instructions a date cost).
fn digits<const N: usize>(slot: &mut [u8], value: u32) {
    let mut rest = value;
    for byte in slot[..N].iter_mut().rev() {
        // A digit below ten: the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (rest % 10) as u8;
        *byte = b'0' + digit;
        rest /= 10;
    }
}

/// Appends `day` as `YYYY-MM-DD`; false, with nothing written, for a year outside 0-9999.
fn write_day(text: &mut Vec<u8>, day: NaiveDate) -> bool {
    let Ok(year @ 0..=9999) = u32::try_from(day.year()) else {
        return false;
    };
    let mut written = *b"0000-00-00";
    digits::<4>(&mut written[0..], year);
    digits::<2>(&mut written[5..], day.month());
    digits::<2>(&mut written[8..], day.day());
    text.extend_from_slice(&written);
    true
}

/// Appends `moment` as [`DateTime`] writes it; false, with nothing written, for a year
/// outside 0-9999.
fn write_moment(text: &mut Vec<u8>, moment: chrono::DateTime<Utc>) -> bool {
    if !write_day(text, moment.date_naive()) {
        return false;
    }
    let time = moment.time();
    // A leap second is kept in the nanoseconds, as chrono writes it: `:60`.
    let (second, nanos) = match time.nanosecond() {
        leap @ 1_000_000_000.. => (time.second() + 1, leap - 1_000_000_000),
        nanos => (time.second(), nanos),
    };
    let mut written = *b"T00:00:00.000Z";
    digits::<2>(&mut written[1..], time.hour());
    digits::<2>(&mut written[4..], time.minute());
    digits::<2>(&mut written[7..], second);
    digits::<3>(&mut written[10..], nanos / 1_000_000);
    text.extend_from_slice(&written);
    true
}

/// The text `write` appends, or `fallback`'s when it writes nothing.
fn written(
    capacity: usize,
    write: impl FnOnce(&mut Vec<u8>) -> bool,
    fallback: impl FnOnce() -> String,
) -> Value {
    let mut text = Vec::with_capacity(capacity);
    // What `write` appends is ASCII digits and punctuation.
    match write(&mut text)
        .then(|| String::from_utf8(text).ok())
        .flatten()
    {
        Some(text) => Value::String(text),
        None => Value::String(fallback()),
    }
}

/// Appends `value` to a JSON answer as a string, as `write` gives it, or as `to_value`
/// gives it when `write` writes nothing: the same text either way, without making a
/// [`Value`] of it (on a page of 500 dialogues, a tenth of the work of writing their dates).
fn write_json(
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> bool,
    to_value: impl FnOnce() -> Value,
) {
    let start = out.len();
    out.push(b'"');
    if write(out) {
        out.push(b'"');
    } else {
        out.truncate(start);
        super::json::write_value(out, &to_value());
    }
}

/// What to write for a value of the scalar named `type_name`, when it is one of ours.
pub fn wanted(type_name: &str) -> Option<&'static str> {
    match type_name {
        "Date" => Some(DATE_WANTED),
        "DateTime" => Some(DATE_TIME_WANTED),
        _ => None,
    }
}

/// What a bad `Date` is told.
const DATE_WANTED: &str = "expected a date written as YYYY-MM-DD, such as 2026-11-20";

impl Date {
    /// Appends the day to a JSON answer as [`ScalarType::to_value`] gives it.
    pub(super) fn write_json(self, out: &mut Vec<u8>) {
        write_json(out, |out| write_day(out, self.0), || self.to_value());
    }
}

impl From<NaiveDate> for Date {
    fn from(day: NaiveDate) -> Self {
        Self(day)
    }
}

impl From<Date> for NaiveDate {
    fn from(day: Date) -> Self {
        day.0
    }
}

/// A moment in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// A moment, written as RFC 3339 in UTC with milliseconds, such as
/// `2026-11-20T14:00:00.000Z`. Input may have any offset and precision; it is read as the
/// same moment in UTC.
#[Scalar(
    name = "DateTime",
    specified_by_url = "https://scalars.graphql.org/chillicream/date-time.html"
)]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map(|moment| DateTime(moment.with_timezone(&Utc)))
                .map_err(|_| InputValueError::custom(DATE_TIME_WANTED)),
            _ => Err(InputValueError::custom(DATE_TIME_WANTED)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn to_value(&self) -> Value {
        written(
            24,
            |text| write_moment(text, self.0),
            || self.0.to_rfc3339_opts(SecondsFormat::Millis, true),
        )
    }
}

/// What a bad `DateTime` is told.
const DATE_TIME_WANTED: &str = "expected a time written as RFC 3339, such as 2026-11-20T14:00:00Z";

impl DateTime {
    /// Appends the moment to a JSON answer as [`ScalarType::to_value`] gives it.
    pub(super) fn write_json(self, out: &mut Vec<u8>) {
        write_json(out, |out| write_moment(out, self.0), || self.to_value());
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(moment: chrono::DateTime<Utc>) -> Self {
        Self(moment)
    }
}

impl From<DateTime> for chrono::DateTime<Utc> {
    fn from(moment: DateTime) -> Self {
        moment.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `write` appends to an answer that already holds some text, without that text.
    fn answer(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = b"{\"a\":".to_vec();
        write(&mut out);
        String::from_utf8(out.split_off(5)).expect("UTF-8")
    }

    /// `text` as a JSON string.
    fn json(text: &str) -> String {
        serde_json::to_string(text).expect("a string")
    }

    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        for (year, month, day) in [
            (2026, 11, 20),
            (999, 1, 5),
            (0, 12, 31),
            (9999, 2, 28),
            (10000, 1, 1),
            (-1, 3, 4),
        ] {
            let date = NaiveDate::from_ymd_opt(year, month, day).expect("a day");
            let chrono = date.format("%Y-%m-%d").to_string();
            assert_eq!(
                Date(date).to_value(),
                Value::String(chrono.clone()),
                "{date:?}"
            );
            assert_eq!(
                answer(|out| Date(date).write_json(out)),
                json(&chrono),
                "{date:?}"
            );
        }
    }

    #[test]
    fn times_are_written_as_chrono_writes_them() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a day");
        for moment in [
            day(2026, 11, 20).and_hms_milli_opt(14, 0, 0, 500),
            day(2026, 1, 2).and_hms_nano_opt(3, 4, 5, 6_789_999),
            day(999, 12, 31).and_hms_milli_opt(23, 59, 59, 999),
            day(0, 1, 1).and_hms_opt(0, 0, 0),
            day(2016, 12, 31).and_hms_milli_opt(23, 59, 59, 1_500),
            day(10000, 1, 1).and_hms_opt(0, 0, 0),
            day(-1, 6, 7).and_hms_opt(8, 9, 10),
        ] {
            let moment = moment.expect("a time").and_utc();
            let chrono = moment.to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(
                DateTime(moment).to_value(),
                Value::String(chrono.clone()),
                "{moment:?}"
            );
            let written = answer(|out| DateTime(moment).write_json(out));
            assert_eq!(written, json(&chrono), "{moment:?}");
        }
    }

    #[test]
    fn dates_and_times_are_written_one_way() {
        let day = Date::parse(Value::String("2026-11-20".into())).expect("a date");
        assert_eq!(day.to_value(), Value::String("2026-11-20".into()));
        for bad in [
            "2026-11-31",
            "2026-1-2",
            "20261120",
            "2026-11-20T00:00:00Z",
            "",
        ] {
            assert!(Date::parse(Value::String(bad.into())).is_err(), "{bad}");
        }
        let moment =
            DateTime::parse(Value::String("2026-11-20T15:00:00.5+01:00".into())).expect("a time");
        assert_eq!(
            moment.to_value(),
            Value::String("2026-11-20T14:00:00.500Z".into())
        );
        assert!(DateTime::parse(Value::String("2026-11-20".into())).is_err());
        assert!(DateTime::parse(Value::from(3)).is_err());
    }
}
