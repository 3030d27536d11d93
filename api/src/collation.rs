//! Swedish ordering of names and titles: å, ä and ö after z, and capitals beside their small
//! letters (Koopi before KRIS, Vårgårda before Vänersborg).
//!
//! PostgreSQL has the rule built in as ICU's collation [`SWEDISH`]; SQLite gets a collation of
//! the same name on each connection ([`compare`], from ICU4X's Swedish data), so one SQL text
//! orders both engines alike. Rows sorted in memory compare [`Swedish`] values the same way.
//!
//! SQLite's indexes under the collation are stored in the order [`compare`] gave when they
//! were built; [`fingerprint`] tells when a release orders differently, and the server then
//! builds them again at start (`db::migrate`).

use icu_collator::options::{CollatorOptions, Strength};
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

/// The order of the printable ASCII characters' base letters (primary weights) under the
/// Swedish collation, by byte: equal for a small letter and its capital, 0 for a character
/// left to the full comparison. Asked of the collator itself, so it cannot disagree with it.
static ASCII_PRIMARIES: LazyLock<Option<[u8; 128]>> = LazyLock::new(|| {
    let mut options = CollatorOptions::default();
    options.strength = Some(Strength::Primary);
    let primary = Collator::try_new(locale!("sv-SE").into(), options).ok()?;
    let text = |byte: u8| char::from(byte).to_string();
    // A character the primary level ignores has no place in the sequence: left out.
    let mut bytes: Vec<u8> = (b' '..=b'~')
        .filter(|byte| primary.compare(&text(*byte), "") != Ordering::Equal)
        .collect();
    bytes.sort_by(|a, b| primary.compare(&text(*a), &text(*b)));
    let mut ranks = [0; 128];
    let mut rank = 0u8;
    let mut previous: Option<u8> = None;
    for byte in bytes {
        if previous.is_none_or(|p| primary.compare(&text(p), &text(byte)) != Ordering::Equal) {
            rank += 1;
        }
        ranks[usize::from(byte)] = rank;
        previous = Some(byte);
    }
    Some(ranks)
});

/// The order of two texts when it is decided by their first difference in base letter within
/// plain ASCII: the full comparison's first level compares the base letters' weights in
/// turn, and plain ASCII characters have one weight each. `None` when it is not decided
/// there: a character outside the table comes first, or one that a following combining mark
/// could turn into another letter (a + ring is å), or the texts differ only in case.
fn by_ascii_primaries(ranks: &[u8; 128], a: &[u8], b: &[u8]) -> Option<Ordering> {
    let rank = |byte: u8| {
        ranks
            .get(usize::from(byte))
            .copied()
            .filter(|rank| *rank != 0)
    };
    let plain = |byte: Option<&u8>| byte.is_none_or(u8::is_ascii);
    // The bytes both texts begin with weigh the same in both when each has a weight of its
    // own: compared as bytes first, in one pass, then checked in another. Names such as
    // "Myndighet 0123" share 11 bytes; compared a byte at a time, the shared ones cost most.
    let shared = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    if a[..shared].iter().any(|byte| rank(*byte).is_none()) {
        return None;
    }
    let mut at = shared;
    loop {
        match (a.get(at), b.get(at)) {
            (None, None) => return None,
            // A text that is the other's beginning comes first.
            (None, Some(&next)) => return rank(next).map(|_| Ordering::Less),
            (Some(&next), None) => return rank(next).map(|_| Ordering::Greater),
            (Some(&x), Some(&y)) => {
                let (x, y) = (rank(x)?, rank(y)?);
                if x != y {
                    return (plain(a.get(at + 1)) && plain(b.get(at + 1))).then(|| x.cmp(&y));
                }
            }
        }
        at += 1;
    }
}

/// Compares two texts in Swedish order; texts the collation finds equal (there are few)
/// compare by their bytes, as PostgreSQL's deterministic collations do, so the order is total.
///
/// Most names differ early in a plain letter, which a table decides in a few instructions
/// ([`by_ascii_primaries`]); the full comparison costs about 1,500. SQLite calls this for
/// every comparison of an `ORDER BY` under the collation.
pub fn compare(a: &str, b: &str) -> Ordering {
    if let Some(order) = ASCII_PRIMARIES
        .as_ref()
        .and_then(|ranks| by_ascii_primaries(ranks, a.as_bytes(), b.as_bytes()))
    {
        return order;
    }
    full_compare(a, b)
}

/// [`compare`] by the collator alone.
fn full_compare(a: &str, b: &str) -> Ordering {
    COLLATOR
        .as_ref()
        .map_or(Ordering::Equal, |collator| collator.compare(a, b))
        .then_with(|| a.cmp(b))
}

/// Texts whose order shows the rule: Swedish and neighbouring letters, case, combining
/// marks, digits, spaces and punctuation.
const PROBES: [&str; 32] = [
    "a", "A", "aa", "Aa", "ab", "a b", "a-b", "b", "v", "w", "y", "ü", "z", "å", "Å", "a\u{30a}",
    "ä", "æ", "ö", "ø", "o\u{308}", "Ö", "e", "é", "ss", "ß", "1", "2", "10", "KRIS", "Koopi",
    "Örebro",
];

/// The order [`compare`] gives a fixed set of texts, as one text. SQLite's indexes under the
/// collation keep rows in the order it had when they were built; a release with other
/// collation data orders differently, and those indexes must be built again.
pub fn fingerprint() -> String {
    let mut probes = PROBES;
    probes.sort_by(|a, b| compare(a, b));
    probes.join("|")
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
    fn the_ascii_table_agrees_with_the_collator_on_every_pair_it_decides() {
        // Base letters, capitals, digits, punctuation, Swedish and other letters, and
        // combining marks that make letters of plain ones (a + ring is å).
        let alphabet: Vec<char> = "aAbBkKoOrRsSvVwWzZ09 -.,'&/()åÅäÄöÖéüæø\u{30a}\u{308}\u{301}"
            .chars()
            .collect();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |below: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % u64::try_from(below).unwrap_or(1)).unwrap_or(0)
        };
        let ranks = ASCII_PRIMARIES.as_ref().expect("the collator loads");
        let mut decided = 0;
        for _ in 0..100_000 {
            let mut text = || -> String {
                (0..next(6))
                    .map(|_| alphabet[next(alphabet.len())])
                    .collect()
            };
            let (a, b) = (text(), text());
            if let Some(order) = by_ascii_primaries(ranks, a.as_bytes(), b.as_bytes()) {
                decided += 1;
                assert_eq!(order, full_compare(&a, &b), "{a:?} against {b:?}");
            }
        }
        assert!(decided > 20_000, "the table decides most pairs: {decided}");
        assert_eq!(ranks[usize::from(b'a')], ranks[usize::from(b'A')]);
        assert!(ranks[usize::from(b'v')] < ranks[usize::from(b'w')]);
    }

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
