//! The committed SDL is the contract partner sites code against.

use std::path::Path;

#[test]
fn committed_schema_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    samverkan::graphql::check_sdl(&path).expect("schema.graphql is current");
}

#[test]
fn schema_check_fails_on_drift() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("schema.graphql");
    std::fs::write(
        &path,
        samverkan::graphql::sdl().replace("leadOrganisation", "leader"),
    )
    .expect("write");
    let message = samverkan::graphql::check_sdl(&path).expect_err("drift detected");
    assert!(message.contains("differs"), "{message}");
}

#[test]
fn contract_names_are_present() {
    let sdl = without_descriptions(&samverkan::graphql::sdl());
    for name in [
        "enum OrganisationKind",
        "enum AuthorityLevel",
        "enum AuthorityKind",
        "enum DialogueKind",
        "enum DialogueStatus",
        "enum ProposalStatus",
        "enum Visibility",
        "interface Node",
        "node(id: ID!): Node",
        "organisation(slug: String!): Organisation",
        "authority(slug: String!): Authority",
        "dialogue(id: ID!): Dialogue",
        "proposal(id: ID!): Proposal",
        "transitionProposal(input: TransitionProposalInput!): Proposal!",
        "PARTIALLY_ACCEPTED",
        "ASSOCIATION_OF_AUTHORITIES",
        "CONSULTATION_RESPONSE",
        "FOLLOW_UP",
        "type Theme implements Node",
        "type Evidence implements Node",
        "type Cooperation implements Node",
        "type Goal implements Node",
        "enum EvidenceKind",
        "enum Reach",
        "enum CooperationKind",
        "enum GoalCategory",
        "enum GoalMeasureKind",
        "MUNICIPALITIES_COVERED",
        "ORGANISATION_COVERAGE",
        "goal(slug: String!): Goal",
        "statistics(filter: StatisticsFilter): Statistics!",
        "isMetropolitan: Boolean!",
        "recordGoalProgress(input: RecordGoalProgressInput!): Goal!",
        "byMonth: [GoalMonth!]!",
    ] {
        assert!(sdl.contains(name), "schema lacks {name}");
    }
    for verb in ["create", "update", "delete"] {
        for noun in [
            "Organisation",
            "Authority",
            "Dialogue",
            "Proposal",
            "Theme",
            "Evidence",
            "Cooperation",
            "Goal",
        ] {
            let mutation = format!(
                "{verb}{noun}(input: {}{noun}Input!): {noun}!",
                capitalise(verb)
            );
            assert!(sdl.contains(&mutation), "schema lacks {mutation}");
        }
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[test]
fn bad_settings_are_one_clear_message() {
    use samverkan::config::Settings;
    let lookup = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    };
    let defaults = Settings::from_lookup(lookup(&[])).expect("defaults are valid");
    assert_eq!(defaults.listen.to_string(), "127.0.0.1:8000");
    assert_eq!(defaults.database.url(), "sqlite://samverkan.db?mode=rwc");
    for (pairs, mentions) in [
        (&[("DATABASE_URL", "mysql://x")][..], "DATABASE_URL"),
        (&[("SAMVERKAN_LISTEN", "localhost")][..], "SAMVERKAN_LISTEN"),
        (&[("SAMVERKAN_SEED", "lots")][..], "SAMVERKAN_SEED"),
        (
            &[("SAMVERKAN_MAX_COST_IN_FLIGHT", "0")][..],
            "SAMVERKAN_MAX_COST_IN_FLIGHT",
        ),
    ] {
        let message = Settings::from_lookup(lookup(pairs)).expect_err("rejected");
        assert!(
            message.contains(mentions) && !message.contains('\n'),
            "{message}"
        );
    }
}

/// The SDL without descriptions, each field's arguments on its line as `a: A, b: B`, so that
/// signatures read as they are written in a query.
fn without_descriptions(sdl: &str) -> String {
    let mut text = String::new();
    let mut rest = sdl;
    while let Some(start) = rest.find("\"\"\"") {
        text.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        let end = after.find("\"\"\"").map_or(after.len(), |e| e + 3);
        rest = &after[end..];
    }
    text.push_str(rest);
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut joined = String::new();
    for line in lines {
        let in_arguments = joined.ends_with('(') || joined.ends_with(',');
        if in_arguments {
            if joined.ends_with(',') {
                joined.push(' ');
            }
        } else if line.starts_with(')') {
        } else {
            joined.push('\n');
        }
        joined.push_str(line);
    }
    joined
}
