//! Swedish ordering of names and titles: å, ä and ö after z, and capitals beside their small
//! letters (Koopi before KRIS, Vårgårda before Vänersborg).
//!
//! PostgreSQL has the rule built in as ICU's collation [`SWEDISH`]; SQLite gets a collation of
//! the same name on each connection ([`compare`], from ICU4X's Swedish data), so one SQL text
//! orders both engines alike. Rows sorted in memory compare [`Swedish`] values the same way.

use icu_collator::options::CollatorOptions;
use icu_collator::{Collator, CollatorBorrowed};
use icu_locale_core::locale;
use sea_orm::Value;
use sea_orm::sea_query::{BinOper, Expr, ExprTrait};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::sync::LazyLock;

/// The collation's name on both engines: PostgreSQL's ICU collation for Swedish as spoken in
/// Sweden, and the name SQLite's connections register [`compare`] under.
pub const SWEDISH: &str = "sv-SE-x-icu";

static COLLATOR: LazyLock<Option<CollatorBorrowed<'static>>> =
    LazyLock::new(|| Collator::try_new(locale!("sv-SE").into(), CollatorOptions::default()).ok());

/// Compares two texts in Swedish order; texts the collation finds equal (there are few)
/// compare by their bytes, as PostgreSQL's deterministic collations do, so the order is total.
pub fn compare(a: &str, b: &str) -> Ordering {
    COLLATOR
        .as_ref()
        .map_or(Ordering::Equal, |collator| collator.compare(a, b))
        .then_with(|| a.cmp(b))
}

/// `expr COLLATE "sv-SE-x-icu"`.
pub fn collated(expr: Expr) -> Expr {
    expr.binary(
        BinOper::Custom("COLLATE"),
        // A name, so that it is quoted and not put in parentheses.
        Expr::col(SWEDISH),
    )
}

/// A name or title, ordered as Swedish readers expect.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Swedish(pub String);

impl Ord for Swedish {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.0, &other.0)
    }
}

impl PartialOrd for Swedish {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<String> for Swedish {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl From<Swedish> for Value {
    fn from(text: Swedish) -> Self {
        text.0.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swedish_letters_come_after_z_and_case_does_not_split_words() {
        let mut names = vec![
            "Älmhult",
            "Åmål",
            "Vänersborg",
            "Vårgårda",
            "KRIS",
            "Koopi",
            "Zinkgruvan",
            "örebro",
            "Örebro",
            "Östersund",
        ];
        names.sort_by(|a, b| compare(a, b));
        assert_eq!(
            names,
            [
                "Koopi",
                "KRIS",
                "Vårgårda",
                "Vänersborg",
                "Zinkgruvan",
                "Åmål",
                "Älmhult",
                "örebro",
                "Örebro",
                "Östersund"
            ]
        );
    }
}
