//! The schema's own date and time scalars, written one way only: `Date` as ISO 8601
//! `YYYY-MM-DD`, `DateTime` as RFC 3339 in UTC with milliseconds and `Z`. Each names its
//! specification with `@specifiedBy`.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{Datelike, NaiveDate, SecondsFormat, Utc};

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
        // Written directly: chrono's `format` parses its pattern again for every value (3 %
        // of the server's instructions in a list of 500 dialogues).
        let (year, month, day) = (self.0.year(), self.0.month(), self.0.day());
        if (0..=9999).contains(&year) {
            Value::String(format!("{year:04}-{month:02}-{day:02}"))
        } else {
            Value::String(self.0.format("%Y-%m-%d").to_string())
        }
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
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

/// What a bad `DateTime` is told.
const DATE_TIME_WANTED: &str = "expected a time written as RFC 3339, such as 2026-11-20T14:00:00Z";

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
            assert_eq!(
                Date(date).to_value(),
                Value::String(date.format("%Y-%m-%d").to_string()),
                "{date:?}"
            );
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
