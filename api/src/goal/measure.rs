//! A goal's measure: which records count, stated as data. Stored as JSON in the goal's row
//! (read and written only here); the records it names are also kept in `goal_references`.

use crate::db::Connection;
use crate::error::{AppError, AppResult};
use crate::records;
use entity::{
    AuthorityKind, CooperationKind, DialogueKind, DialogueStatus, EvidenceKind, GoalMeasureKind,
    MunicipalityScope, ProposalStatus, Reach, authority, organisation,
};
use sea_orm::ActiveEnum;
use sea_orm::sea_query::Condition;
use serde_json::{Map, Value as Json, json};
use uuid::Uuid;

/// Which records count towards a goal. Criteria left empty do not narrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Measure {
    /// What is counted.
    pub kind: GoalMeasureKind,
    /// Only dialogues of these kinds.
    pub dialogue_kinds: Vec<DialogueKind>,
    /// Only dialogues in these statuses.
    pub dialogue_statuses: Vec<DialogueStatus>,
    /// Only dialogues with an authority of these kinds.
    pub authority_kinds: Vec<AuthorityKind>,
    /// The authorities: a criterion (dialogues, evidence issuers) or, for
    /// AUTHORITIES_REACHED and MUNICIPALITIES_COVERED, the target list.
    pub authorities: Vec<Uuid>,
    /// The organisations: a criterion (taking part, credited, leading) or, for
    /// ORGANISATION_COVERAGE, the target list (empty: every organisation of the network).
    pub organisations: Vec<Uuid>,
    /// Only records tagged with one of these themes.
    pub themes: Vec<Uuid>,
    /// Which municipalities MUNICIPALITIES_COVERED counts.
    pub municipalities: Option<MunicipalityScope>,
    /// Only cooperations of these kinds.
    pub cooperation_kinds: Vec<CooperationKind>,
    /// The statuses a proposal must reach to count (PROPOSAL_COUNT).
    pub proposal_statuses: Vec<ProposalStatus>,
    /// Only evidence of these kinds.
    pub evidence_kinds: Vec<EvidenceKind>,
    /// Only evidence reaching at least this far.
    pub minimum_reach: Option<Reach>,
}

impl Measure {
    /// A measure of `kind` with no criteria.
    pub fn new(kind: GoalMeasureKind) -> Self {
        Self {
            kind,
            dialogue_kinds: vec![],
            dialogue_statuses: vec![],
            authority_kinds: vec![],
            authorities: vec![],
            organisations: vec![],
            themes: vec![],
            municipalities: None,
            cooperation_kinds: vec![],
            proposal_statuses: vec![],
            evidence_kinds: vec![],
            minimum_reach: None,
        }
    }

    /// The criteria given, by input field name, and whether each was given.
    fn given(&self) -> [(&'static str, bool); 11] {
        [
            ("dialogueKinds", !self.dialogue_kinds.is_empty()),
            ("dialogueStatuses", !self.dialogue_statuses.is_empty()),
            ("authorityKinds", !self.authority_kinds.is_empty()),
            ("authorityIds", !self.authorities.is_empty()),
            ("organisationIds", !self.organisations.is_empty()),
            ("themeIds", !self.themes.is_empty()),
            ("municipalities", self.municipalities.is_some()),
            ("cooperationKinds", !self.cooperation_kinds.is_empty()),
            ("proposalStatuses", !self.proposal_statuses.is_empty()),
            ("evidenceKinds", !self.evidence_kinds.is_empty()),
            ("minimumReach", self.minimum_reach.is_some()),
        ]
    }

    /// The criteria that apply to each kind of measure: the one table of them.
    fn applies(kind: GoalMeasureKind, criterion: &str) -> bool {
        use GoalMeasureKind::*;
        let allowed: &[&str] = match kind {
            DialogueCount | OrganisationCoverage => &[
                "dialogueKinds",
                "dialogueStatuses",
                "authorityKinds",
                "authorityIds",
                "organisationIds",
                "themeIds",
            ],
            AuthoritiesReached => &[
                "dialogueKinds",
                "dialogueStatuses",
                "authorityIds",
                "organisationIds",
                "themeIds",
            ],
            MunicipalitiesCovered => &[
                "municipalities",
                "cooperationKinds",
                "authorityIds",
                "organisationIds",
                "themeIds",
            ],
            ProposalCount => &["proposalStatuses", "organisationIds", "themeIds"],
            EvidenceCount => &[
                "evidenceKinds",
                "minimumReach",
                "authorityIds",
                "organisationIds",
                "themeIds",
            ],
            Manual => &[],
        };
        allowed.contains(&criterion)
    }

    /// The list whose members are the goal's units, when the measure has one: its size
    /// bounds the target.
    pub fn target_list(&self) -> Option<(&'static str, &[Uuid])> {
        match self.kind {
            GoalMeasureKind::AuthoritiesReached => Some(("authorityIds", &self.authorities)),
            GoalMeasureKind::MunicipalitiesCovered if !self.authorities.is_empty() => {
                Some(("authorityIds", &self.authorities))
            }
            GoalMeasureKind::OrganisationCoverage if !self.organisations.is_empty() => {
                Some(("organisationIds", &self.organisations))
            }
            _ => None,
        }
    }

    /// Every record the measure names, for `goal_references`.
    pub fn named(&self) -> Vec<Uuid> {
        let mut named: Vec<Uuid> = [&self.authorities, &self.organisations, &self.themes]
            .into_iter()
            .flatten()
            .copied()
            .collect();
        named.sort_unstable();
        named.dedup();
        named
    }

    /// Checks the measure against the goal's `target`: the criteria apply to its kind, the
    /// records it names exist, a target list can reach the target.
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the field of the measure at fault.
    pub async fn check(&self, db: &impl Connection, target: i32) -> AppResult<()> {
        let field = |name: &str| format!("input.measure.{name}");
        for (criterion, given) in self.given() {
            if given && !Self::applies(self.kind, criterion) {
                return Err(AppError::bad_input(
                    field(criterion),
                    format!(
                        "{} does not apply to a {} measure",
                        field(criterion),
                        self.kind.to_value()
                    ),
                ));
            }
        }
        let required = match self.kind {
            GoalMeasureKind::AuthoritiesReached if self.authorities.is_empty() => {
                Some(("authorityIds", "the authorities to reach"))
            }
            GoalMeasureKind::ProposalCount if self.proposal_statuses.is_empty() => {
                Some(("proposalStatuses", "the statuses a proposal must reach"))
            }
            _ => None,
        };
        if let Some((name, what)) = required {
            return Err(AppError::bad_input(
                field(name),
                format!(
                    "a {} measure needs {what} in {}",
                    self.kind.to_value(),
                    field(name)
                ),
            ));
        }
        if let Some((name, list)) = self.target_list() {
            let mut unique = list.to_vec();
            unique.sort_unstable();
            unique.dedup();
            if i64::from(target) > unique.len() as i64 {
                return Err(AppError::bad_input(
                    "input.target",
                    format!(
                        "input.target is {target}, more than the {} records of {}",
                        unique.len(),
                        field(name)
                    ),
                ));
            }
        }
        let authorities = &field("authorityIds");
        // Municipalities to cover must be municipalities, or the goal could never be met.
        let places = if self.kind == GoalMeasureKind::MunicipalitiesCovered {
            Condition::all().add(sea_orm::sea_query::ExprTrait::eq(
                crate::paging::column(authority::Column::Kind),
                AuthorityKind::Municipality.to_value(),
            ))
        } else {
            Condition::all()
        };
        records::ensure_exist::<authority::Model>(db, &self.authorities, places, authorities)
            .await?;
        let organisations = &field("organisationIds");
        records::ensure_exist::<organisation::Model>(
            db,
            &self.organisations,
            Condition::all(),
            organisations,
        )
        .await?;
        crate::theme::ensure_exist(db, &self.themes, &field("themeIds")).await
    }

    /// The measure as stored.
    pub fn to_json(&self) -> String {
        let mut map = Map::new();
        let mut put = |key: &str, value: Json| {
            if value.as_array().is_none_or(|a| !a.is_empty()) && !value.is_null() {
                map.insert(key.to_owned(), value);
            }
        };
        put("dialogueKinds", names(&self.dialogue_kinds));
        put("dialogueStatuses", names(&self.dialogue_statuses));
        put("authorityKinds", names(&self.authority_kinds));
        put("authorityIds", records::ids_json(&self.authorities));
        put("organisationIds", records::ids_json(&self.organisations));
        put("themeIds", records::ids_json(&self.themes));
        put(
            "municipalities",
            json!(self.municipalities.map(|m| m.to_value())),
        );
        put("cooperationKinds", names(&self.cooperation_kinds));
        put("proposalStatuses", names(&self.proposal_statuses));
        put("evidenceKinds", names(&self.evidence_kinds));
        put(
            "minimumReach",
            json!(self.minimum_reach.map(|r| r.to_value())),
        );
        Json::Object(map).to_string()
    }

    /// The measure of kind `kind` stored as `text`; what cannot be read counts as absent.
    pub fn from_json(kind: GoalMeasureKind, text: &str) -> Self {
        let stored: Json = serde_json::from_str(text).unwrap_or_default();
        let ids = |key: &str| -> Vec<Uuid> {
            stored
                .get(key)
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .filter_map(|s| Uuid::parse_str(s).ok())
                        .collect()
                })
                .unwrap_or_default()
        };
        Self {
            kind,
            dialogue_kinds: read_names(&stored, "dialogueKinds"),
            dialogue_statuses: read_names(&stored, "dialogueStatuses"),
            authority_kinds: read_names(&stored, "authorityKinds"),
            authorities: ids("authorityIds"),
            organisations: ids("organisationIds"),
            themes: ids("themeIds"),
            municipalities: read_names(&stored, "municipalities").into_iter().next(),
            cooperation_kinds: read_names(&stored, "cooperationKinds"),
            proposal_statuses: read_names(&stored, "proposalStatuses"),
            evidence_kinds: read_names(&stored, "evidenceKinds"),
            minimum_reach: read_names(&stored, "minimumReach").into_iter().next(),
        }
    }
}

/// Stored names of enum values.
fn names<T: ActiveEnum<Value = String>>(values: &[T]) -> Json {
    values.iter().map(|v| Json::String(v.to_value())).collect()
}

/// The enum values stored under `key`, as a list or a single name.
fn read_names<T: ActiveEnum<Value = String>>(stored: &Json, key: &str) -> Vec<T> {
    let values = match stored.get(key) {
        Some(Json::Array(values)) => values.clone(),
        Some(value @ Json::String(_)) => vec![value.clone()],
        _ => vec![],
    };
    values
        .iter()
        .filter_map(Json::as_str)
        .filter_map(|name| T::try_from_value(&name.to_owned()).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_measure_round_trips_through_its_stored_form() {
        let mut measure = Measure::new(GoalMeasureKind::EvidenceCount);
        measure.evidence_kinds = vec![EvidenceKind::MediaArticle, EvidenceKind::Broadcast];
        measure.minimum_reach = Some(Reach::National);
        measure.themes = vec![Uuid::now_v7()];
        let stored = measure.to_json();
        assert_eq!(
            Measure::from_json(GoalMeasureKind::EvidenceCount, &stored),
            measure
        );
        assert!(!stored.contains("dialogueKinds"), "{stored}");
    }

    #[test]
    fn criteria_apply_only_to_their_kinds() {
        assert!(Measure::applies(
            GoalMeasureKind::EvidenceCount,
            "minimumReach"
        ));
        assert!(!Measure::applies(
            GoalMeasureKind::DialogueCount,
            "minimumReach"
        ));
        assert!(!Measure::applies(GoalMeasureKind::Manual, "themeIds"));
    }
}
