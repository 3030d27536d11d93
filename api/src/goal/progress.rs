//! How far a goal has come, computed from the records at the moment it is asked, inside
//! the caller's visibility. Nothing is stored in the database; an answer is kept in memory
//! until the record changes ([`crate::kept`]).
//!
//! Every measure counts *units* (a dialogue, an authority reached, a municipality covered,
//! an organisation that took part, a proposal, a piece of evidence, an amount recorded by
//! hand), each on the first day it counted; what is dated after today has not happened yet
//! and does not count. The rest follows the same way for all: `current` is their sum,
//! `reachedOn` the day the running sum rose to the target (and stayed), `byMonth` the sums
//! by month.

use super::facts::{self, Fact, Needs, Source};
use super::measure::Measure;
use crate::auth::Principal;
use crate::db::Connection;
use crate::error::AppResult;
use crate::kept::Kept;
use chrono::{Datelike, NaiveDate};
use entity::{
    AuthorityKind, GoalMeasureKind, MunicipalityScope, goal, goal_progress_entry, organisation,
};
use sea_orm::{ActiveEnum, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, StreamTrait};
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// The kind of record that counted towards a goal or is still missing from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counted {
    /// A dialogue.
    Dialogue,
    /// A cooperation.
    Cooperation,
    /// A proposal.
    Proposal,
    /// A piece of evidence.
    Evidence,
    /// An authority.
    Authority,
    /// An organisation.
    Organisation,
}

/// One month of a goal's period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Month {
    /// Its first day.
    pub month: NaiveDate,
    /// What counted in it.
    pub count: i64,
    /// What counted up to its end, from the period's start.
    pub cumulative: i64,
}

/// How far a goal has come, as the caller may see it.
#[derive(Debug, Clone)]
pub struct Progress {
    /// What counts so far (not capped at the target).
    pub current: i64,
    /// The goal's target.
    pub target: i32,
    /// The day the running count last rose to the target and stayed there; none while
    /// below it.
    pub reached_on: Option<NaiveDate>,
    /// False when records the caller may not see would have counted.
    pub complete: bool,
    /// The records that count, latest first.
    pub contributing: Vec<(Counted, Uuid)>,
    /// For measures with a target list: the members not yet reached.
    pub missing: Vec<(Counted, Uuid)>,
    /// The period month by month.
    pub by_month: Vec<Month>,
}

impl Progress {
    /// `current / target`, at most 1.
    pub fn ratio(&self) -> f64 {
        let target = f64::from(self.target.max(1));
        (self.current as f64 / target).clamp(0.0, 1.0)
    }

    /// Whether the target is met.
    pub fn reached(&self) -> bool {
        self.current >= i64::from(self.target)
    }
}

/// A unit that counted: on which day, how much, through which record.
struct Unit {
    key: Uuid,
    day: NaiveDate,
    amount: i64,
    record: Option<(Counted, Uuid)>,
    visible: bool,
}

/// Which facts each kind of measure needs.
fn source(kind: GoalMeasureKind) -> Option<Source> {
    use GoalMeasureKind::*;
    match kind {
        DialogueCount | AuthoritiesReached | OrganisationCoverage => Some(Source::Dialogues),
        MunicipalitiesCovered => Some(Source::Cooperations),
        ProposalCount => Some(Source::Proposals),
        EvidenceCount => Some(Source::Evidence),
        Manual => None,
    }
}

/// Whether `list` is empty (no criterion) or holds one of `values`.
fn any_of<T: PartialEq>(list: &[T], mut values: impl Iterator<Item = T>) -> bool {
    list.is_empty() || values.any(|v| list.contains(&v))
}

fn named<T: ActiveEnum<Value = String>>(list: &[T]) -> Vec<String> {
    list.iter().map(ActiveEnum::to_value).collect()
}

/// The units `fact` gives a goal with `measure` over `period`.
fn units(measure: &Measure, period: (NaiveDate, NaiveDate), fact: &Fact) -> Vec<Unit> {
    use GoalMeasureKind::*;
    let (start, end) = period;
    let within = |day: NaiveDate| start <= day && day <= end;
    let themed = any_of(&measure.themes, fact.themes.iter().copied());
    let unit = |key, day, record| Unit {
        key,
        day,
        amount: 1,
        record: Some(record),
        visible: fact.visible,
    };
    if !themed {
        return vec![];
    }
    match measure.kind {
        DialogueCount | AuthoritiesReached | OrganisationCoverage => {
            let Some(day) = fact.day.filter(|d| within(*d)) else {
                return vec![];
            };
            let places = || fact.authorities.iter();
            let matches = any_of(
                &named(&measure.dialogue_kinds),
                [fact.kind.clone()].into_iter(),
            ) && any_of(
                &named(&measure.dialogue_statuses),
                [fact.status.clone()].into_iter(),
            ) && any_of(
                &named(&measure.authority_kinds),
                places().map(|p| p.kind.clone()),
            );
            let record = (Counted::Dialogue, fact.id);
            match measure.kind {
                DialogueCount
                    if matches
                        && any_of(&measure.authorities, places().map(|p| p.id))
                        && any_of(&measure.organisations, fact.organisations.iter().copied()) =>
                {
                    vec![unit(fact.id, day, record)]
                }
                AuthoritiesReached
                    if matches
                        && any_of(&measure.organisations, fact.organisations.iter().copied()) =>
                {
                    places()
                        .filter(|p| measure.authorities.contains(&p.id))
                        .map(|p| unit(p.id, day, record))
                        .collect()
                }
                OrganisationCoverage
                    if matches && any_of(&measure.authorities, places().map(|p| p.id)) =>
                {
                    fact.organisations
                        .iter()
                        .filter(|o| {
                            measure.organisations.is_empty() || measure.organisations.contains(o)
                        })
                        .map(|o| unit(*o, day, record))
                        .collect()
                }
                _ => vec![],
            }
        }
        MunicipalitiesCovered => {
            let Some(established) = fact.day else {
                return vec![];
            };
            let active = established <= end && fact.until.is_none_or(|until| until >= start);
            let matches = active
                && any_of(
                    &named(&measure.cooperation_kinds),
                    [fact.kind.clone()].into_iter(),
                )
                && any_of(&measure.organisations, fact.organisations.iter().copied());
            if !matches {
                return vec![];
            }
            let scope = measure.municipalities.unwrap_or(MunicipalityScope::All);
            fact.authorities
                .iter()
                .filter(|p| p.kind == AuthorityKind::Municipality.to_value())
                .filter(|p| match scope {
                    MunicipalityScope::All => true,
                    MunicipalityScope::Metropolitan => p.metropolitan,
                    MunicipalityScope::OutsideMetropolitan => !p.metropolitan,
                })
                .filter(|p| measure.authorities.is_empty() || measure.authorities.contains(&p.id))
                .map(|p| {
                    unit(
                        p.id,
                        established.max(start),
                        (Counted::Cooperation, fact.id),
                    )
                })
                .collect()
        }
        ProposalCount => {
            if !any_of(&measure.organisations, fact.organisations.iter().copied()) {
                return vec![];
            }
            let statuses = named(&measure.proposal_statuses);
            fact.moves
                .iter()
                .filter(|(at, to)| within(at.date_naive()) && statuses.contains(to))
                .map(|(at, _)| unit(fact.id, at.date_naive(), (Counted::Proposal, fact.id)))
                .collect()
        }
        EvidenceCount => {
            let Some(day) = fact.day.filter(|d| within(*d)) else {
                return vec![];
            };
            let reach = measure
                .minimum_reach
                .map(crate::evidence::reaching)
                .unwrap_or_default();
            let matches = any_of(
                &named(&measure.evidence_kinds),
                [fact.kind.clone()].into_iter(),
            ) && any_of(&reach, [fact.status.clone()].into_iter())
                && any_of(&measure.authorities, fact.authorities.iter().map(|p| p.id))
                && any_of(&measure.organisations, fact.organisations.iter().copied());
            if matches {
                vec![unit(fact.id, day, (Counted::Evidence, fact.id))]
            } else {
                vec![]
            }
        }
        Manual => vec![],
    }
}

/// The progress of one goal from its units (all of them, visible or not) and the members
/// of its target list.
fn summarise(goal: &goal::Model, units: Vec<Unit>, list: Option<(Counted, Vec<Uuid>)>) -> Progress {
    // What is dated after today (a planned dialogue) has not happened: it counts when its day comes.
    let today = chrono::Utc::now().date_naive();
    let units: Vec<Unit> = units.into_iter().filter(|u| u.day <= today).collect();
    let complete = units.iter().all(|u| u.visible);
    let units: Vec<Unit> = units.into_iter().filter(|u| u.visible).collect();
    let mut contributing: Vec<(NaiveDate, (Counted, Uuid))> = vec![];
    let mut seen = HashSet::new();
    for unit in &units {
        if let Some(record) = unit.record
            && seen.insert(record)
        {
            contributing.push((unit.day, record));
        }
    }
    contributing.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.1.cmp(&a.1.1)));
    // Each unit counts once, on the first day it counted; amounts recorded by hand
    // (no record) each count.
    let mut first: HashMap<Uuid, (NaiveDate, i64)> = HashMap::new();
    let mut by_hand = vec![];
    for unit in &units {
        if unit.record.is_none() {
            by_hand.push((unit.day, unit.amount));
            continue;
        }
        let entry = first.entry(unit.key).or_insert((unit.day, unit.amount));
        if unit.day < entry.0 {
            *entry = (unit.day, unit.amount);
        }
    }
    let missing = list
        .map(|(counted, members)| {
            let mut missing: Vec<(Counted, Uuid)> = vec![];
            for member in members {
                if !first.contains_key(&member) && !missing.contains(&(counted, member)) {
                    missing.push((counted, member));
                }
            }
            missing
        })
        .unwrap_or_default();
    let mut counted: Vec<(NaiveDate, i64)> = first.into_values().chain(by_hand).collect();
    counted.sort();
    // The day the running sum last rose to the target and stayed there: a correction by
    // hand that takes it below again clears it.
    let target = i64::from(goal.target);
    let mut running = 0;
    let mut reached_on = None;
    for (day, amount) in &counted {
        running += amount;
        if running < target {
            reached_on = None;
        } else if reached_on.is_none() {
            reached_on = Some(*day);
        }
    }
    Progress {
        current: running,
        target: goal.target,
        reached_on,
        complete,
        contributing: contributing.into_iter().map(|(_, record)| record).collect(),
        missing,
        by_month: months(goal.period_start, goal.period_end, &counted),
    }
}

/// The months from `start` to `end` with what counted in each, and the running sum.
fn months(start: NaiveDate, end: NaiveDate, counted: &[(NaiveDate, i64)]) -> Vec<Month> {
    let first_of = |day: NaiveDate| day.with_day(1).unwrap_or(day);
    let mut sums: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for (day, amount) in counted {
        *sums.entry(first_of(*day)).or_default() += amount;
    }
    let mut months = vec![];
    let mut month = first_of(start);
    let mut cumulative = 0;
    while month <= end {
        let count = sums.get(&month).copied().unwrap_or(0);
        cumulative += count;
        months.push(Month {
            month,
            count,
            cumulative,
        });
        let Some(next) = month.checked_add_months(chrono::Months::new(1)) else {
            break;
        };
        month = next;
    }
    months
}

/// A list of stored names narrowing every measure, or `None` when one does not narrow.
fn all_narrow(lists: impl Iterator<Item = Vec<String>>) -> Option<Vec<String>> {
    let mut union: Vec<String> = vec![];
    for list in lists {
        if list.is_empty() {
            return None;
        }
        union.extend(list);
    }
    union.sort();
    union.dedup();
    Some(union)
}

/// The linked records of one side the measures look at: `None` when none does, `Some(None)`
/// when one needs them all, else the ids any of them names.
fn linked(wants: impl Iterator<Item = Option<Option<Vec<Uuid>>>>) -> Option<Option<Vec<Uuid>>> {
    let mut merged: Option<Option<Vec<Uuid>>> = None;
    for want in wants.flatten() {
        merged = match (merged, want) {
            (Some(None), _) | (_, None) => Some(None),
            (Some(Some(mut ids)), Some(more)) => {
                ids.extend(more);
                ids.sort_unstable();
                ids.dedup();
                Some(Some(ids))
            }
            (None, Some(ids)) => Some(Some(ids)),
        };
    }
    merged
}

/// What the measures counting `source` need of it ([`Needs`]), so that the facts read are
/// only those some measure may count.
fn needs(source: Source, measures: &[&Measure]) -> Needs {
    let given = |ids: &Vec<Uuid>| (!ids.is_empty()).then(|| Some(ids.clone()));
    let themes = linked(measures.iter().map(|m| given(&m.themes)));
    let organisations = linked(measures.iter().map(|m| {
        if m.kind == GoalMeasureKind::OrganisationCoverage && m.organisations.is_empty() {
            Some(None)
        } else {
            given(&m.organisations)
        }
    }));
    match source {
        Source::Dialogues => Needs {
            kinds: all_narrow(measures.iter().map(|m| named(&m.dialogue_kinds))),
            statuses: all_narrow(measures.iter().map(|m| named(&m.dialogue_statuses))),
            organisations,
            authorities: linked(measures.iter().map(|m| {
                if m.authority_kinds.is_empty() {
                    given(&m.authorities)
                } else {
                    Some(None)
                }
            })),
            themes,
            moves: None,
        },
        Source::Cooperations => Needs {
            kinds: all_narrow(measures.iter().map(|m| named(&m.cooperation_kinds))),
            organisations,
            themes,
            ..Needs::default()
        },
        Source::Evidence => Needs {
            kinds: all_narrow(measures.iter().map(|m| named(&m.evidence_kinds))),
            statuses: all_narrow(measures.iter().map(|m| {
                m.minimum_reach
                    .map(crate::evidence::reaching)
                    .unwrap_or_default()
            })),
            organisations,
            themes,
            ..Needs::default()
        },
        Source::Proposals => Needs {
            organisations,
            themes,
            moves: all_narrow(measures.iter().map(|m| named(&m.proposal_statuses))),
            ..Needs::default()
        },
    }
}

/// What progress depends on besides the goal: what the caller may see, the state of the
/// record, and the day (what is dated after today does not count yet).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Seen {
    goal: Uuid,
    version: i32,
    sight: crate::auth::Sight,
    record: Option<Uuid>,
    today: NaiveDate,
}

/// Progress already computed: a partner site showing its goals on every page view reads the
/// record once per change, not once per view. Two computations at most at once: each reads
/// the records its goals' measures may count (18 MiB for the benchmark's page of 20 goals);
/// without a bound, a burst of page views after a write computed the same progress once per
/// request (120 MiB at 32 connections).
static COMPUTED: Kept<Seen, Progress> =
    Kept::new(std::num::NonZeroUsize::new(256).expect("not zero"), 2);

/// The progress of each of `goals` as `principal` may see it, computed only for those
/// whose record, goal or viewer changed since last asked ([`of`]); one statement more, to
/// read the record's state.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn of_now(
    db: &(impl Connection + StreamTrait),
    principal: &Principal,
    goals: &[goal::Model],
) -> AppResult<HashMap<Uuid, Progress>> {
    let record = crate::kept::record_state(db).await?;
    let sight = principal.sight();
    let today = chrono::Utc::now().date_naive();
    let seen = |goal: &goal::Model| Seen {
        goal: goal.id,
        version: goal.version,
        sight: sight.clone(),
        record,
        today,
    };
    let mut found = HashMap::new();
    let mut missing = goals.to_vec();
    let mut kept = |missing: &mut Vec<goal::Model>| {
        missing.retain(|goal| match COMPUTED.get(&seen(goal)) {
            Some(progress) => {
                found.insert(goal.id, progress);
                false
            }
            None => true,
        });
    };
    kept(&mut missing);
    if missing.is_empty() {
        return Ok(found);
    }
    let _turn = COMPUTED.turn().await?;
    kept(&mut missing);
    if missing.is_empty() {
        return Ok(found);
    }
    let fresh = of(db, principal, &missing).await?;
    for goal in &missing {
        if let Some(progress) = fresh.get(&goal.id) {
            COMPUTED.put(seen(goal), progress.clone());
        }
    }
    found.extend(fresh);
    Ok(found)
}

/// The progress of each of `goals` as `principal` may see it. One statement for each kind
/// of record the goals count, one for the amounts recorded by hand, and one for the
/// network's organisations when a goal covers them all: never more, however many goals.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn of(
    db: &(impl Connection + StreamTrait),
    principal: &Principal,
    goals: &[goal::Model],
) -> AppResult<HashMap<Uuid, Progress>> {
    let measures: Vec<(&goal::Model, Measure)> = goals
        .iter()
        .map(|g| (g, Measure::from_json(g.measure_kind, &g.measure)))
        .collect();
    // The period each kind of record is read for: the span of the goals that need it.
    let mut spans: HashMap<Source, (NaiveDate, NaiveDate)> = HashMap::new();
    for (goal, measure) in &measures {
        if let Some(source) = source(measure.kind) {
            let span = spans
                .entry(source)
                .or_insert((goal.period_start, goal.period_end));
            *span = (span.0.min(goal.period_start), span.1.max(goal.period_end));
        }
    }
    let mut loaded: HashMap<Source, HashMap<Uuid, Fact>> = HashMap::new();
    for (source, span) in spans {
        let of_source: Vec<&Measure> = measures
            .iter()
            .map(|(_, m)| m)
            .filter(|m| self::source(m.kind) == Some(source))
            .collect();
        let needs = needs(source, &of_source);
        loaded.insert(
            source,
            facts::load(db, principal, source, span, &needs).await?,
        );
    }
    let manual: Vec<Uuid> = measures
        .iter()
        .filter(|(_, m)| m.kind == GoalMeasureKind::Manual)
        .map(|(g, _)| g.id)
        .collect();
    let mut entries: HashMap<Uuid, Vec<goal_progress_entry::Model>> = HashMap::new();
    if !manual.is_empty() {
        for entry in goal_progress_entry::Entity::find()
            .filter(goal_progress_entry::Column::GoalId.is_in(manual))
            .all(db)
            .await?
        {
            entries.entry(entry.goal_id).or_default().push(entry);
        }
    }
    let every_organisation = measures.iter().any(|(_, m)| {
        m.kind == GoalMeasureKind::OrganisationCoverage && m.organisations.is_empty()
    });
    let organisations: Vec<Uuid> = if every_organisation {
        organisation::Entity::find()
            .select_only()
            .column(organisation::Column::Id)
            .into_tuple()
            .all(db)
            .await?
    } else {
        vec![]
    };
    let mut progress = HashMap::new();
    for (goal, measure) in &measures {
        let period = (goal.period_start, goal.period_end);
        let mut found: Vec<Unit> = source(measure.kind)
            .and_then(|source| loaded.get(&source))
            .map(|facts| {
                facts
                    .values()
                    .flat_map(|f| units(measure, period, f))
                    .collect()
            })
            .unwrap_or_default();
        for entry in entries.get(&goal.id).into_iter().flatten() {
            if period.0 <= entry.recorded_on && entry.recorded_on <= period.1 {
                found.push(Unit {
                    key: entry.id,
                    day: entry.recorded_on,
                    amount: i64::from(entry.amount),
                    record: None,
                    visible: true,
                });
            }
        }
        let list = match measure.kind {
            GoalMeasureKind::AuthoritiesReached | GoalMeasureKind::MunicipalitiesCovered
                if !measure.authorities.is_empty() =>
            {
                Some((Counted::Authority, measure.authorities.clone()))
            }
            GoalMeasureKind::OrganisationCoverage => Some((
                Counted::Organisation,
                if measure.organisations.is_empty() {
                    organisations.clone()
                } else {
                    measure.organisations.clone()
                },
            )),
            _ => None,
        };
        progress.insert(goal.id, summarise(goal, found, list));
    }
    Ok(progress)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn only_what_some_measure_may_count_is_read() {
        use entity::DialogueKind;
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let seminars = Measure {
            dialogue_kinds: vec![DialogueKind::Seminar],
            authorities: vec![a],
            ..Measure::new(GoalMeasureKind::DialogueCount)
        };
        let reached = Measure {
            authorities: vec![b, a],
            ..Measure::new(GoalMeasureKind::AuthoritiesReached)
        };
        let needs = needs(Source::Dialogues, &[&seminars, &reached]);
        assert_eq!(needs.kinds, None, "one measure counts every kind");
        let mut both = vec![a, b];
        both.sort_unstable();
        assert_eq!(needs.authorities, Some(Some(both)));
        assert_eq!(
            needs.organisations, None,
            "no measure looks at organisations"
        );
        let needs = needs_of_one(&seminars);
        assert_eq!(needs.kinds, Some(vec!["SEMINAR".to_owned()]));
        let coverage = Measure::new(GoalMeasureKind::OrganisationCoverage);
        assert_eq!(
            needs_of_one(&coverage).organisations,
            Some(None),
            "all of them"
        );
    }

    fn needs_of_one(measure: &Measure) -> Needs {
        needs(Source::Dialogues, &[measure])
    }

    #[test]
    fn months_run_over_the_whole_period_with_a_running_sum() {
        let months = months(
            day("2008-01-15"),
            day("2008-03-31"),
            &[(day("2008-01-20"), 1), (day("2008-03-01"), 2)],
        );
        let sums: Vec<(String, i64, i64)> = months
            .iter()
            .map(|m| (m.month.to_string(), m.count, m.cumulative))
            .collect();
        assert_eq!(
            sums,
            [
                ("2008-01-01".to_owned(), 1, 1),
                ("2008-02-01".to_owned(), 0, 1),
                ("2008-03-01".to_owned(), 2, 3)
            ]
        );
    }
}
