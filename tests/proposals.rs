//! Proposals: the lifecycle (every pair of statuses), history, versions, lists and filters.

use samverkan_tests::{TestApp, assert_code};
use serde_json::{Value, json};

const TRANSITION: &str = "mutation($input: TransitionProposalInput!) { transitionProposal(input: $input) { status version } }";
const UPDATE: &str = "mutation($input: UpdateProposalInput!) { updateProposal(input: $input) { title version leadOrganisation { slug } coSigners { slug } targetAuthorities { slug } } }";

const STATUSES: [&str; 9] = [
    "DRAFT",
    "OPEN_FOR_COMMENT",
    "ADOPTED",
    "SUBMITTED",
    "UNDER_CONSIDERATION",
    "ACCEPTED",
    "PARTIALLY_ACCEPTED",
    "REJECTED",
    "WITHDRAWN",
];

/// The lifecycle as the README states it, written here independently of the code.
fn allowed(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        ("DRAFT", "OPEN_FOR_COMMENT" | "WITHDRAWN")
            | ("OPEN_FOR_COMMENT", "DRAFT" | "ADOPTED" | "WITHDRAWN")
            | ("ADOPTED", "SUBMITTED" | "WITHDRAWN")
            | (
                "SUBMITTED",
                "UNDER_CONSIDERATION"
                    | "ACCEPTED"
                    | "PARTIALLY_ACCEPTED"
                    | "REJECTED"
                    | "WITHDRAWN"
            )
            | (
                "UNDER_CONSIDERATION",
                "ACCEPTED" | "PARTIALLY_ACCEPTED" | "REJECTED" | "WITHDRAWN"
            )
    )
}

/// A legal path from DRAFT to `status`.
fn path_to(status: &str) -> Vec<&'static str> {
    let submitted = vec!["OPEN_FOR_COMMENT", "ADOPTED", "SUBMITTED"];
    match status {
        "DRAFT" => vec![],
        "OPEN_FOR_COMMENT" => vec!["OPEN_FOR_COMMENT"],
        "ADOPTED" => vec!["OPEN_FOR_COMMENT", "ADOPTED"],
        "WITHDRAWN" => vec!["WITHDRAWN"],
        "SUBMITTED" => submitted,
        other => {
            let last = STATUSES
                .into_iter()
                .find(|s| *s == other)
                .expect("known status");
            [submitted, vec![last]].concat()
        }
    }
}

async fn move_to(app: &TestApp, id: &str, to: &str) -> Value {
    app.post(TRANSITION, json!({ "input": { "id": id, "to": to } }))
        .await
}

#[tokio::test]
async fn every_move_follows_the_lifecycle_table() {
    let app = TestApp::start().await;
    let lead = app.organisation("coompanion", "Coompanion").await;
    for from in STATUSES {
        for to in STATUSES {
            let id = app
                .proposal(&format!("{from} to {to}"), &lead, "PUBLIC")
                .await;
            for step in path_to(from) {
                let response = move_to(&app, &id, step).await;
                assert!(
                    response.get("errors").is_none(),
                    "path to {from} via {step}: {response}"
                );
            }
            let response = move_to(&app, &id, to).await;
            let current = app
                .ok(
                    "query($id: ID!) { proposal(id: $id) { status } }",
                    json!({ "id": id }),
                )
                .await;
            if allowed(from, to) {
                assert_eq!(
                    response["data"]["transitionProposal"]["status"], to,
                    "{from} -> {to} must be allowed: {response}"
                );
                assert_eq!(current["proposal"]["status"], to);
            } else {
                assert_code(&response["errors"][0], "BAD_USER_INPUT", Some("input.to"));
                assert_eq!(
                    current["proposal"]["status"], from,
                    "{from} -> {to} refused and nothing changed"
                );
            }
        }
    }
}

#[tokio::test]
async fn history_records_every_move_with_its_note() {
    let app = TestApp::start().await;
    let lead = app.organisation("coompanion", "Coompanion").await;
    let id = app
        .proposal("Equalerfarenheter i handlingsplanen", &lead, "PUBLIC")
        .await;
    app.ok(
        TRANSITION,
        json!({ "input": { "id": id, "to": "OPEN_FOR_COMMENT", "note": "Till nätverket" } }),
    )
    .await;
    let adopted = app
        .ok(
            TRANSITION,
            json!({ "input": { "id": id, "to": "ADOPTED", "expectedVersion": 2 } }),
        )
        .await;
    assert_eq!(adopted["transitionProposal"]["version"], 3);
    let error = app
        .err(
            TRANSITION,
            json!({ "input": { "id": id, "to": "SUBMITTED", "expectedVersion": 2 } }),
        )
        .await;
    assert_code(&error, "CONFLICT", None);
    let history = app
        .ok(
            "query($id: ID!) { proposal(id: $id) { status history { from to note at } } }",
            json!({ "id": id }),
        )
        .await;
    let history = history["proposal"]["history"]
        .as_array()
        .expect("history")
        .clone();
    let moves: Vec<(Value, Value, Value)> = history
        .iter()
        .map(|h| (h["from"].clone(), h["to"].clone(), h["note"].clone()))
        .collect();
    assert_eq!(
        moves,
        vec![
            (Value::Null, json!("DRAFT"), Value::Null),
            (
                json!("DRAFT"),
                json!("OPEN_FOR_COMMENT"),
                json!("Till nätverket")
            ),
            (json!("OPEN_FOR_COMMENT"), json!("ADOPTED"), Value::Null),
        ]
    );
}

#[tokio::test]
async fn update_changes_text_and_lists_and_checks_references() {
    let app = TestApp::start().await;
    let lead = app.organisation("hso", "HSO").await;
    let other = app.organisation("rsmh", "RSMH").await;
    let agency = app
        .authority("forsakringskassan", "Försäkringskassan", None)
        .await;
    let id = app.proposal("Bättre bemötande", &lead, "PUBLIC").await;
    let updated = app
        .ok(
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "title": "Bättre bemötande i myndigheterna", "coSignerIds": [other], "targetAuthorityIds": [agency], "leadOrganisationId": other } }),
        )
        .await["updateProposal"]
        .clone();
    assert_eq!(updated["title"], "Bättre bemötande i myndigheterna");
    assert_eq!(updated["coSigners"], json!([{ "slug": "rsmh" }]));
    assert_eq!(
        updated["targetAuthorities"],
        json!([{ "slug": "forsakringskassan" }])
    );
    assert_eq!(updated["leadOrganisation"]["slug"], "rsmh");
    for (field, value, expected) in [
        ("coSignerIds", json!([agency]), "input.coSignerIds"),
        (
            "targetAuthorityIds",
            json!([other]),
            "input.targetAuthorityIds",
        ),
        (
            "leadOrganisationId",
            json!("QXV0aG9yaXR5OjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA"),
            "input.leadOrganisationId",
        ),
        ("body", json!(" "), "input.body"),
    ] {
        let mut input = json!({ "id": id, "expectedVersion": 2 });
        input[field] = value;
        let error = app.err(UPDATE, json!({ "input": input })).await;
        assert_code(&error, "BAD_USER_INPUT", Some(expected));
    }
    let error = app
        .err(
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "title": "Stale" } }),
        )
        .await;
    assert_code(&error, "CONFLICT", None);
}

#[tokio::test]
async fn a_proposal_discussed_in_a_dialogue_cannot_be_deleted() {
    let app = TestApp::start().await;
    let lead = app.organisation("hso", "HSO").await;
    let id = app.proposal("Förslag", &lead, "PUBLIC").await;
    let dialogue = app
        .dialogue("Möte", "2010-01-01", &[&lead], &[], "PUBLIC")
        .await;
    app.ok(
        "mutation($d: ID!, $p: ID!) { updateDialogue(input: { id: $d, expectedVersion: 1, proposalIds: [$p] }) { id } }",
        json!({ "d": dialogue, "p": id }),
    )
    .await;
    let q = "mutation($id: ID!) { deleteProposal(input: { id: $id }) { title } }";
    let error = app.err(q, json!({ "id": id })).await;
    assert_code(&error, "CONFLICT", None);
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("1 dialogue")
    );
    app.ok(
        "mutation($id: ID!) { deleteDialogue(input: { id: $id }) { id } }",
        json!({ "id": dialogue }),
    )
    .await;
    let deleted = app.ok(q, json!({ "id": id })).await;
    assert_eq!(deleted["deleteProposal"]["title"], "Förslag");
    let gone = app
        .ok(
            "query($id: ID!) { proposal(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(gone["proposal"].is_null());
}

#[tokio::test]
async fn filters_and_default_order() {
    let app = TestApp::start().await;
    let a = app.organisation("coompanion", "Coompanion").await;
    let b = app.organisation("koopi", "Koopi").await;
    let skl = app.authority("skl", "SKL", None).await;
    let first = app.proposal("Sociala arbetskooperativ", &a, "PUBLIC").await;
    let second = app.proposal("Lokal samverkan", &b, "PUBLIC").await;
    app.proposal("Jämställdhet", &a, "PUBLIC").await;
    app.ok(
        UPDATE,
        json!({ "input": { "id": second, "expectedVersion": 1, "targetAuthorityIds": [skl] } }),
    )
    .await;
    for step in path_to("SUBMITTED") {
        move_to(&app, &first, step).await;
    }
    let q = "query($f: ProposalFilter) { proposals(filter: $f) { totalCount nodes { title } } }";
    let titles = |data: Value| -> Vec<String> {
        data["proposals"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["title"].as_str().expect("title").to_owned())
            .collect()
    };
    assert_eq!(
        titles(app.ok(q, json!({})).await),
        [
            "Sociala arbetskooperativ",
            "Lokal samverkan",
            "Jämställdhet"
        ],
        "most recently changed first"
    );
    assert_eq!(
        titles(app.ok(q, json!({ "f": { "status": "SUBMITTED" } })).await),
        ["Sociala arbetskooperativ"]
    );
    assert_eq!(
        titles(app.ok(q, json!({ "f": { "leadOrganisationId": b } })).await),
        ["Lokal samverkan"]
    );
    assert_eq!(
        titles(
            app.ok(q, json!({ "f": { "targetAuthorityId": skl } }))
                .await
        ),
        ["Lokal samverkan"]
    );
    assert_eq!(
        titles(app.ok(q, json!({ "f": { "text": "JÄMSTÄLLDHET" } })).await),
        ["Jämställdhet"]
    );
    assert_eq!(
        titles(app.ok(q, json!({ "f": { "text": "samverkan" } })).await),
        ["Lokal samverkan"]
    );
    let led = app
        .ok(
            "{ organisation(slug: \"coompanion\") { proposals { totalCount nodes { title } } } }",
            json!({}),
        )
        .await;
    assert_eq!(led["organisation"]["proposals"]["totalCount"], 2);
}
