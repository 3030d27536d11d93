//! Input rules shared by every mutation, applied before anything reaches the database.
//! Each check names the input field so the client can point at it.

use crate::error::{AppError, AppResult};
use chrono::NaiveDate;

/// Longest name or title.
pub const NAME_MAX: usize = 200;
/// Longest summary, description or outcome.
pub const SUMMARY_MAX: usize = 5_000;
/// Longest proposal body.
pub const BODY_MAX: usize = 100_000;

/// Required text: trimmed, in Unicode's composed form (NFC, so that "é" typed as one
/// character or as "e" and an accent is the same text), not empty, at most `max` characters.
///
/// # Errors
/// BAD_USER_INPUT naming `field`.
pub fn text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let composed = compose(value.trim());
    let value = composed.as_str();
    if value.is_empty() {
        return Err(AppError::bad_input(
            field,
            format!("{field} must not be empty"),
        ));
    }
    if value.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    if value.chars().all(invisible) {
        return Err(AppError::bad_input(
            field,
            format!("{field} must not be empty"),
        ));
    }
    if value
        .chars()
        .any(|c| (c.is_control() && c != '\n' && c != '\t' && c != '\r') || direction_override(c))
    {
        return Err(AppError::bad_input(
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Characters that take no space: zero-width spaces and joiners, the word joiner and
/// invisible operators, the byte-order mark, the soft hyphen.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}')
}

/// Bidirectional embeddings, overrides and isolates, which make text read otherwise than
/// it is stored (a name shown reversed, a URL that hides its host).
fn direction_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Optional text: `None` and blank become `None`, anything else as [`text`].
///
/// # Errors
/// BAD_USER_INPUT naming `field`.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => text(field, value, max).map(Some),
    }
}

/// Checks a field of a new or changed row when it is given: `check` takes the value and
/// gives it back clean. A field not given stays so.
///
/// # Errors
/// Whatever `check` fails with.
pub fn given<V: Into<sea_orm::Value>>(
    value: &mut sea_orm::ActiveValue<V>,
    check: impl FnOnce(V) -> AppResult<V>,
) -> AppResult<()> {
    if value.is_set()
        && let Some(given) = value.take()
    {
        *value = sea_orm::ActiveValue::Set(check(given)?);
    }
    Ok(())
}

/// Longest text of a search filter: a pattern the database matches against every row it
/// reads, so its length is bounded like any other input (50,000 characters failed inside
/// SQLite's LIKE).
pub const SEARCH_MAX: usize = 200;

/// The text of a search filter: trimmed, composed as stored text is ([`text`]), `None`
/// when blank.
///
/// # Errors
/// BAD_USER_INPUT naming `field` when longer than [`SEARCH_MAX`] characters.
pub fn search_text(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|text| !text.is_empty()) {
        Some(text) if text.chars().count() > SEARCH_MAX => Err(AppError::bad_input(
            field,
            format!("{field} must be at most {SEARCH_MAX} characters"),
        )),
        text => Ok(text.map(compose)),
    }
}

/// A slug: 2-64 lowercase ASCII letters, digits and single inner hyphens.
///
/// # Errors
/// BAD_USER_INPUT naming `field`.
pub fn slug(field: &str, value: &str) -> AppResult<String> {
    let ok = (2..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--");
    if ok {
        Ok(value.to_owned())
    } else {
        Err(AppError::bad_input(
            field,
            format!(
                "{field} must be 2-64 lowercase letters, digits and single hyphens, like \"coompanion-stockholm\""
            ),
        ))
    }
}

/// An absolute http(s) URL with a host and no spaces.
///
/// # Errors
/// BAD_USER_INPUT naming `field`.
pub fn url(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or(""));
    let ok = value.len() <= 2048
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        && host.is_some_and(|h| {
            // No user info: `https://trusted.org@evil.example/` goes to evil.example.
            let name = h.split(':').next().unwrap_or(h);
            !h.contains('@') && name.contains('.') && !name.starts_with('.') && !name.ends_with('.')
        });
    if ok {
        Ok(Some(value.to_owned()))
    } else {
        Err(AppError::bad_input(
            field,
            format!("{field} must be an http or https address such as https://example.org"),
        ))
    }
}

/// `value` in Unicode's composed form (NFC).
/// `value` composed (NFC), as stored text is.
pub fn compose(value: &str) -> String {
    unicode_normalization::UnicodeNormalization::nfc(value).collect()
}

/// The form a sign-in address is stored and looked up in: trimmed, lower case, composed
/// (NFC), so that one address typed in different ways is one account.
pub fn sign_in_address(value: &str) -> String {
    compose(&value.trim().to_lowercase())
}

/// An email address of the plain `local@domain.tld` shape.
///
/// # Errors
/// BAD_USER_INPUT naming `field`.
pub fn email(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let ok = value.len() <= 254
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(|c| {
                    c.is_whitespace() || c.is_control() || c == ',' || c == '<' || c == '>'
                })
        });
    if ok {
        Ok(Some(value.to_owned()))
    } else {
        Err(AppError::bad_input(
            field,
            format!("{field} must be an email address such as kontakt@example.org"),
        ))
    }
}

/// A date between 1900-01-01 and 2100-12-31.
///
/// # Errors
/// BAD_USER_INPUT naming `field`.
pub fn date(field: &str, value: NaiveDate) -> AppResult<NaiveDate> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest = NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX);
    if (earliest..=latest).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::bad_input(
            field,
            format!("{field} must be between 1900-01-01 and 2100-12-31"),
        ))
    }
}

/// The current time, at the microsecond precision both databases keep, so that a value
/// read back equals the value written (cursors depend on it).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    let now = chrono::Utc::now();
    chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::microseconds(1)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    /// The field a BAD_USER_INPUT error names, or a note of what else it was.
    fn field_of<T: std::fmt::Debug>(result: AppResult<T>) -> String {
        match result {
            Err(AppError::BadUserInput { field, .. }) => field,
            other => format!("not BAD_USER_INPUT: {other:?}"),
        }
    }

    #[test]
    fn slugs_are_lowercase_words_joined_by_single_hyphens() {
        for good in ["ab", "coompanion-stockholm", "a1-b2-c3", &"a".repeat(64)] {
            assert_eq!(
                slug("input.slug", good).ok().as_deref(),
                Some(good),
                "{good}"
            );
        }
        let too_long = "a".repeat(65);
        for bad in [
            "", "a", "-ab", "ab-", "a--b", "Ab", "åsa", "a b", "a_b", &too_long,
        ] {
            assert_eq!(field_of(slug("input.slug", bad)), "input.slug", "{bad:?}");
        }
    }

    #[test]
    fn text_is_trimmed_counted_in_characters_and_free_of_control_characters() {
        assert_eq!(text("f", "  Möte  ", 10).ok().as_deref(), Some("Möte"));
        assert_eq!(
            text("f", "rad ett\nrad två\tflik", 50).ok().as_deref(),
            Some("rad ett\nrad två\tflik")
        );
        // Four characters of two bytes each fit a limit of four.
        assert!(text("f", "åäöÅ", 4).is_ok());
        assert_eq!(field_of(text("input.title", "åäöÅx", 4)), "input.title");
        assert_eq!(field_of(text("input.title", "   ", 4)), "input.title");
        assert_eq!(field_of(text("input.title", "a\u{7}b", 4)), "input.title");
        assert_eq!(
            field_of(text("input.name", "\u{200B}\u{200D}\u{FEFF}", 10)),
            "input.name"
        );
        assert_eq!(
            field_of(text("input.name", "abc\u{202E}gpj.exe", 20)),
            "input.name"
        );
        assert_eq!(
            field_of(text("input.name", "\u{2066}a\u{2069}", 20)),
            "input.name"
        );
        assert!(text("input.name", "Anna\u{200D}Lisa", 20).is_ok());
        assert_eq!(optional_text("f", Some("  "), 4).ok(), Some(None));
        assert_eq!(optional_text("f", None, 4).ok(), Some(None));
    }

    #[test]
    fn urls_are_absolute_http_with_a_dotted_host() {
        for good in [
            "https://example.org",
            "http://sub.example.org/path?q=1#x",
            "https://example.org:8443",
        ] {
            assert_eq!(url("f", Some(good)).ok().flatten().as_deref(), Some(good));
        }
        assert_eq!(url("f", Some("  ")).ok(), Some(None));
        for bad in [
            "example.org",
            "ftp://example.org",
            "https://localhost",
            "https://exa mple.org",
            "https://.org",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                field_of(url("input.website", Some(bad))),
                "input.website",
                "{bad}"
            );
        }
    }

    #[test]
    fn emails_have_one_at_and_a_dotted_domain() {
        assert_eq!(
            email("f", Some(" kontakt@example.org "))
                .ok()
                .flatten()
                .as_deref(),
            Some("kontakt@example.org")
        );
        for bad in [
            "kontakt",
            "@example.org",
            "a@b",
            "a@@example.org",
            "a@example.org.",
            "a b@example.org",
            "a@example.org,b@example.org",
        ] {
            assert_eq!(
                field_of(email("input.email", Some(bad))),
                "input.email",
                "{bad}"
            );
        }
    }

    #[test]
    fn search_text_is_trimmed_and_bounded() {
        assert_eq!(
            search_text("f", Some("  mo\u{308}te ")).ok(),
            Some(Some("möte".to_owned()))
        );
        assert_eq!(search_text("f", Some("   ")).ok(), Some(None));
        assert_eq!(search_text("f", None).ok(), Some(None));
        let longest = "å".repeat(SEARCH_MAX);
        assert_eq!(
            search_text("f", Some(&longest)).ok(),
            Some(Some(longest.clone()))
        );
        let longer = "å".repeat(SEARCH_MAX + 1);
        assert_eq!(
            field_of(search_text("filter.text", Some(&longer))),
            "filter.text"
        );
    }

    #[test]
    fn dates_lie_between_1900_and_2100() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert!(date("f", day(1900, 1, 1)).is_ok());
        assert!(date("f", day(2100, 12, 31)).is_ok());
        assert_eq!(
            field_of(date("input.heldOn", day(1899, 12, 31))),
            "input.heldOn"
        );
        assert_eq!(
            field_of(date("input.heldOn", day(2101, 1, 1))),
            "input.heldOn"
        );
    }

    #[test]
    fn a_given_field_is_checked_and_one_not_given_stays_so() {
        let mut given_value = sea_orm::ActiveValue::Set(" Möte ".to_owned());
        assert!(given(&mut given_value, |v| text("f", &v, 10)).is_ok());
        assert_eq!(given_value, sea_orm::ActiveValue::Set("Möte".to_owned()));
        let mut not_given: sea_orm::ActiveValue<String> = sea_orm::ActiveValue::NotSet;
        assert!(given(&mut not_given, |v| text("f", &v, 10)).is_ok());
        assert_eq!(not_given, sea_orm::ActiveValue::NotSet);
        let mut bad = sea_orm::ActiveValue::Set(String::new());
        assert_eq!(
            field_of(given(&mut bad, |v| text("input.title", &v, 10))),
            "input.title"
        );
    }
}
