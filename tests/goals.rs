//! Goals that measure themselves: each measure kind counted against a hand-counted
//! fixture, the edges of the period, progress inside the caller's visibility, `reachedOn`,
//! `missing`, `byMonth`, the statements a page of goals costs, and the bad-input paths.

use samverkan_tests::{Caller, TestApp, assert_code};
use serde_json::{Value, json};

const CREATE_GOAL: &str =
    "mutation($input: CreateGoalInput!) { createGoal(input: $input) { id slug version } }";
const PROGRESS: &str = "query($slug: String!) { goal(slug: $slug) { progress {
    current target ratio reached reachedOn complete
    missing { ... on Authority { slug } ... on Organisation { slug } }
    contributing(first: 50) { totalCount nodes { __typename ... on Dialogue { title } ... on Cooperation { title } ... on Evidence { title } ... on Proposal { title } } }
    byMonth { month count cumulative } } } }";

/// The hand-counted world the measures run over; every goal's period is 2025 unless said.
struct World {
    app: TestApp,
    org: [String; 3],
    ministry: [String; 3],
    theme: String,
}

async fn authority(
    app: &TestApp,
    slug: &str,
    kind: &str,
    level: &str,
    metropolitan: bool,
) -> String {
    let data = app
        .ok(
            "mutation($input: CreateAuthorityInput!) { createAuthority(input: $input) { id } }",
            json!({ "input": { "slug": slug, "name": slug, "level": level, "kind": kind, "isMetropolitan": metropolitan } }),
        )
        .await;
    data["createAuthority"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

async fn dialogue(
    app: &TestApp,
    (kind, status, held_on, visibility): (&str, &str, &str, &str),
    organisations: &[&str],
    authorities: &[&str],
    themes: &[&str],
) {
    app.ok(
        "mutation($input: CreateDialogueInput!) { createDialogue(input: $input) { id } }",
        json!({ "input": {
            "title": format!("{kind} {held_on}"), "kind": kind, "status": status, "heldOn": held_on,
            "summary": "s", "visibility": visibility, "organisationIds": organisations,
            "authorityIds": authorities, "themeIds": themes } }),
    )
    .await;
}

async fn world() -> World {
    let app = TestApp::start().await;
    let org = [
        app.organisation("org-a", "A").await,
        app.organisation("org-b", "B").await,
        app.organisation("org-c", "C").await,
    ];
    let ministry = [
        authority(&app, "m-one", "MINISTRY", "NATIONAL", false).await,
        authority(&app, "m-two", "MINISTRY", "NATIONAL", false).await,
        authority(&app, "m-three", "MINISTRY", "NATIONAL", false).await,
    ];
    let theme = app
        .ok(
            "mutation { createTheme(input: { slug: \"jamstalldhet\", name: \"Jämställdhet\" }) { id } }",
            json!({}),
        )
        .await["createTheme"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let [a, b, c] = [&org[0], &org[1], &org[2]].map(String::as_str);
    let [m1, m2, m3] = [&ministry[0], &ministry[1], &ministry[2]].map(String::as_str);
    // Counted: d1 (first day of use), d2 (the period's last day), d5 (hidden from the public).
    dialogue(
        &app,
        ("MEETING", "HELD", "2025-01-10", "PUBLIC"),
        &[a],
        &[m1],
        &[&theme],
    )
    .await;
    dialogue(
        &app,
        ("SEMINAR", "HELD", "2025-12-31", "PUBLIC"),
        &[b],
        &[m2],
        &[],
    )
    .await;
    // Not counted: the day after the period, and a dialogue only planned.
    dialogue(
        &app,
        ("SEMINAR", "HELD", "2026-01-01", "PUBLIC"),
        &[c],
        &[m3],
        &[],
    )
    .await;
    dialogue(
        &app,
        ("MEETING", "PLANNED", "2025-06-01", "PUBLIC"),
        &[a],
        &[m3],
        &[],
    )
    .await;
    dialogue(
        &app,
        ("MEETING", "HELD", "2025-03-01", "NETWORK"),
        &[c],
        &[m3],
        &[],
    )
    .await;
    World {
        app,
        org,
        ministry,
        theme,
    }
}

async fn goal(app: &TestApp, slug: &str, target: i32, measure: Value) {
    goal_in(app, slug, target, ("2025-01-01", "2025-12-31"), measure).await;
}

async fn goal_in(
    app: &TestApp,
    slug: &str,
    target: i32,
    (start, end): (&str, &str),
    measure: Value,
) {
    app.ok(
        CREATE_GOAL,
        json!({ "input": { "slug": slug, "title": slug, "category": "OTHER", "periodStart": start,
            "periodEnd": end, "target": target, "measure": measure, "visibility": "PUBLIC" } }),
    )
    .await;
}

async fn progress(app: &TestApp, caller: &Caller, slug: &str) -> Value {
    let (_, body) = app.post_as(caller, PROGRESS, json!({ "slug": slug })).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["goal"]["progress"].clone()
}

/// current, reached, reachedOn, complete.
fn summary(progress: &Value) -> (i64, bool, Value, bool) {
    (
        progress["current"].as_i64().expect("current"),
        progress["reached"].as_bool().expect("reached"),
        progress["reachedOn"].clone(),
        progress["complete"].as_bool().expect("complete"),
    )
}

fn slugs(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("list")
        .iter()
        .map(|v| v["slug"].as_str().expect("slug").to_owned())
        .collect()
}

#[tokio::test]
async fn dialogue_measures_count_the_period_inclusively_and_inside_the_callers_view() {
    let w = world().await;
    let app = &w.app;
    goal(
        app,
        "held",
        3,
        json!({ "kind": "DIALOGUE_COUNT", "dialogueStatuses": ["HELD"] }),
    )
    .await;
    goal(
        app,
        "seminars",
        1,
        json!({ "kind": "DIALOGUE_COUNT", "dialogueKinds": ["SEMINAR"] }),
    )
    .await;
    goal(
        app,
        "themed",
        2,
        json!({ "kind": "DIALOGUE_COUNT", "themeIds": [w.theme] }),
    )
    .await;
    goal(
        app,
        "ministries",
        3,
        json!({ "kind": "AUTHORITIES_REACHED", "dialogueStatuses": ["HELD"], "authorityIds": w.ministry }),
    )
    .await;
    goal(
        app,
        "coverage",
        3,
        json!({ "kind": "ORGANISATION_COVERAGE", "dialogueStatuses": ["HELD"], "organisationIds": w.org }),
    )
    .await;
    let admin = Caller::User(app.admin_token.clone());
    let anonymous = Caller::Anonymous;

    // d1, d5 and d2 (held on the period's last day); not the one the day after, not the planned one.
    let held = progress(app, &admin, "held").await;
    assert_eq!(summary(&held), (3, true, json!("2025-12-31"), true));
    assert_eq!(held["ratio"], 1.0);
    let months = held["byMonth"].as_array().expect("months");
    assert_eq!(months.len(), 12);
    assert_eq!(
        months[0],
        json!({ "month": "2025-01", "count": 1, "cumulative": 1 })
    );
    assert_eq!(
        months[2],
        json!({ "month": "2025-03", "count": 1, "cumulative": 2 })
    );
    assert_eq!(
        months[11],
        json!({ "month": "2025-12", "count": 1, "cumulative": 3 })
    );
    assert_eq!(
        held["contributing"]["nodes"].as_array().map(Vec::len),
        Some(3)
    );
    // The public does not see d5, and is told that something was left out.
    let public = progress(app, &anonymous, "held").await;
    assert_eq!(summary(&public), (2, false, Value::Null, false));
    assert!((public["ratio"].as_f64().expect("ratio") - 2.0 / 3.0).abs() < 1e-9);

    assert_eq!(
        summary(&progress(app, &anonymous, "seminars").await),
        (1, true, json!("2025-12-31"), true)
    );
    assert_eq!(
        summary(&progress(app, &anonymous, "themed").await),
        (1, false, Value::Null, true)
    );

    // Three ministries, the third only through d5: the public sees it missing.
    let reached = progress(app, &admin, "ministries").await;
    assert_eq!(summary(&reached), (3, true, json!("2025-12-31"), true));
    assert_eq!(slugs(&reached["missing"]), Vec::<String>::new());
    let public = progress(app, &anonymous, "ministries").await;
    assert_eq!(summary(&public), (2, false, Value::Null, false));
    assert_eq!(slugs(&public["missing"]), ["m-three"]);

    let covered = progress(app, &anonymous, "coverage").await;
    assert_eq!(summary(&covered), (2, false, Value::Null, false));
    assert_eq!(slugs(&covered["missing"]), ["org-c"]);
    assert_eq!(
        summary(&progress(app, &admin, "coverage").await),
        (3, true, json!("2025-12-31"), true)
    );
}

#[tokio::test]
async fn cooperation_evidence_proposal_and_manual_measures_count_what_they_say() {
    let w = world().await;
    let app = &w.app;
    let [a, b, c] = [&w.org[0], &w.org[1], &w.org[2]];
    let stockholm = authority(app, "stockholm", "MUNICIPALITY", "LOCAL", true).await;
    let goteborg = authority(app, "goteborg", "MUNICIPALITY", "LOCAL", true).await;
    let malmo = authority(app, "malmo", "MUNICIPALITY", "LOCAL", true).await;
    let uppsala = authority(app, "uppsala", "MUNICIPALITY", "LOCAL", false).await;
    let cooperation = |authority: &str, from: &str, to: Option<&str>, org: &str| {
        json!({ "input": { "kind": "LOCAL_NETWORK", "title": format!("{authority} {from}"), "summary": "s",
            "authorityId": authority, "establishedOn": from, "endedOn": to, "visibility": "PUBLIC",
            "organisationIds": [org] } })
    };
    let create =
        "mutation($input: CreateCooperationInput!) { createCooperation(input: $input) { id } }";
    // Begun before the period and still going: counts from the period's first day.
    app.ok(create, cooperation(&stockholm, "2024-06-01", None, a))
        .await;
    // Begun and ended inside it.
    app.ok(
        create,
        cooperation(&goteborg, "2025-05-01", Some("2025-06-01"), b),
    )
    .await;
    app.ok(create, cooperation(&uppsala, "2025-02-01", None, c))
        .await;
    // Ended before it: does not count.
    app.ok(
        create,
        cooperation(&malmo, "2023-01-01", Some("2024-12-31"), c),
    )
    .await;
    goal(
        app,
        "metropolitan",
        2,
        json!({ "kind": "MUNICIPALITIES_COVERED", "municipalities": "METROPOLITAN", "authorityIds": [stockholm, goteborg, malmo] }),
    )
    .await;
    goal(
        app,
        "elsewhere",
        1,
        json!({ "kind": "MUNICIPALITIES_COVERED", "municipalities": "OUTSIDE_METROPOLITAN" }),
    )
    .await;
    let metro = progress(app, &Caller::Anonymous, "metropolitan").await;
    assert_eq!(summary(&metro), (2, true, json!("2025-05-01"), true));
    assert_eq!(slugs(&metro["missing"]), ["malmo"]);
    assert_eq!(
        metro["byMonth"][0]["count"], 1,
        "Stockholm counts from the first day"
    );
    assert_eq!(
        summary(&progress(app, &Caller::Anonymous, "elsewhere").await),
        (1, true, json!("2025-02-01"), true)
    );

    let evidence = |kind: &str, reach: &str, on: &str, visibility: &str| {
        json!({ "input": { "kind": kind, "title": format!("{kind} {on}"), "publisher": "Dagens Nyheter",
            "reach": reach, "publishedOn": on, "visibility": visibility, "organisationIds": [a],
            "url": "https://www.dn.se/a" } })
    };
    let create = "mutation($input: CreateEvidenceInput!) { createEvidence(input: $input) { id } }";
    app.ok(
        create,
        evidence("MEDIA_ARTICLE", "NATIONAL", "2025-04-01", "PUBLIC"),
    )
    .await;
    app.ok(
        create,
        evidence("MEDIA_ARTICLE", "LOCAL", "2025-04-02", "PUBLIC"),
    )
    .await;
    app.ok(
        create,
        evidence("BROADCAST", "INTERNATIONAL", "2025-12-31", "NETWORK"),
    )
    .await;
    app.ok(
        create,
        evidence("REPORT", "NATIONAL", "2025-05-01", "PUBLIC"),
    )
    .await;
    goal(
        app,
        "media",
        2,
        json!({ "kind": "EVIDENCE_COUNT", "evidenceKinds": ["MEDIA_ARTICLE", "BROADCAST"], "minimumReach": "NATIONAL" }),
    )
    .await;
    assert_eq!(
        summary(&progress(app, &Caller::User(app.admin_token.clone()), "media").await),
        (2, true, json!("2025-12-31"), true)
    );
    assert_eq!(
        summary(&progress(app, &Caller::Anonymous, "media").await),
        (1, false, Value::Null, false)
    );

    // Proposals move today, so this goal's period is the current year.
    let proposal = app.proposal("P", a, "PUBLIC").await;
    let other = app.proposal("Q", b, "PUBLIC").await;
    for (id, to) in [
        (&proposal, "OPEN_FOR_COMMENT"),
        (&proposal, "ADOPTED"),
        (&proposal, "SUBMITTED"),
        (&other, "OPEN_FOR_COMMENT"),
    ] {
        app.ok(
            "mutation($input: TransitionProposalInput!) { transitionProposal(input: $input) { status } }",
            json!({ "input": { "id": id, "to": to } }),
        )
        .await;
    }
    let today = chrono::Utc::now().date_naive();
    let year = (
        format!("{}-01-01", today.format("%Y")),
        format!("{}-12-31", today.format("%Y")),
    );
    goal_in(
        app,
        "submitted",
        1,
        (&year.0, &year.1),
        json!({ "kind": "PROPOSAL_COUNT", "proposalStatuses": ["SUBMITTED"] }),
    )
    .await;
    let submitted = progress(app, &Caller::Anonymous, "submitted").await;
    assert_eq!(
        summary(&submitted),
        (1, true, json!(today.to_string()), true)
    );
    assert_eq!(submitted["contributing"]["nodes"][0]["title"], "P");

    goal(app, "by-hand", 5, json!({ "kind": "MANUAL" })).await;
    let goal_id = app
        .ok("{ goal(slug: \"by-hand\") { id } }", json!({}))
        .await["goal"]["id"]
        .clone();
    let record = "mutation($input: RecordGoalProgressInput!) { recordGoalProgress(input: $input) { progressEntries { amount } progress { current } } }";
    for (amount, on) in [(3, "2025-02-10"), (2, "2025-03-05"), (1, "2026-02-01")] {
        app.ok(
            record,
            json!({ "input": { "goalId": goal_id, "amount": amount, "recordedOn": on, "note": "n" } }),
        )
        .await;
    }
    let by_hand = progress(app, &Caller::Anonymous, "by-hand").await;
    assert_eq!(
        summary(&by_hand),
        (5, true, json!("2025-03-05"), true),
        "the entry after the period does not count"
    );
    assert_eq!(
        by_hand["byMonth"][1],
        json!({ "month": "2025-02", "count": 3, "cumulative": 3 })
    );
    // A correction below the target clears reachedOn; rising again sets it anew.
    for (amount, on) in [(-1, "2025-04-01"), (1, "2025-05-01")] {
        app.ok(
            record,
            json!({ "input": { "goalId": goal_id, "amount": amount, "recordedOn": on } }),
        )
        .await;
        let expected = if amount < 0 {
            (4, false, Value::Null, true)
        } else {
            (5, true, json!("2025-05-01"), true)
        };
        assert_eq!(
            summary(&progress(app, &Caller::Anonymous, "by-hand").await),
            expected
        );
    }

    // A proposal counts for the organisations that co-sign it, not only for its lead.
    let version = app
        .ok(
            "query($id: ID!) { proposal(id: $id) { version } }",
            json!({ "id": proposal }),
        )
        .await["proposal"]["version"]
        .clone();
    app.ok(
        "mutation($input: UpdateProposalInput!) { updateProposal(input: $input) { version } }",
        json!({ "input": { "id": proposal, "expectedVersion": version, "coSignerIds": [c] } }),
    )
    .await;
    goal_in(
        app,
        "co-signed",
        1,
        (&year.0, &year.1),
        json!({ "kind": "PROPOSAL_COUNT", "proposalStatuses": ["SUBMITTED"], "organisationIds": [c] }),
    )
    .await;
    assert_eq!(
        summary(&progress(app, &Caller::Anonymous, "co-signed").await).0,
        1
    );
}

#[tokio::test]
async fn a_page_of_goals_costs_the_same_statements_whatever_its_size() {
    let w = world().await;
    let app = &w.app;
    let measures = [
        json!({ "kind": "DIALOGUE_COUNT" }),
        json!({ "kind": "AUTHORITIES_REACHED", "authorityIds": w.ministry }),
        json!({ "kind": "ORGANISATION_COVERAGE", "organisationIds": w.org }),
        json!({ "kind": "MUNICIPALITIES_COVERED" }),
        json!({ "kind": "PROPOSAL_COUNT", "proposalStatuses": ["ACCEPTED"] }),
        json!({ "kind": "EVIDENCE_COUNT" }),
        json!({ "kind": "MANUAL" }),
    ];
    let query = "{ goals(first: 100) { nodes { slug progress { current missing { __typename } byMonth { count } } } } }";
    let count = || async {
        let ((_, body), statements) = app
            .count_statements(app.post_as(&Caller::Anonymous, query, json!({})))
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        (
            body["data"]["goals"]["nodes"]
                .as_array()
                .map_or(0, Vec::len),
            statements,
        )
    };
    for (i, measure) in measures.iter().enumerate() {
        goal(app, &format!("first-{i}"), 1, measure.clone()).await;
    }
    let (seven, small) = count().await;
    for round in 0..5 {
        for (i, measure) in measures.iter().enumerate() {
            goal(app, &format!("more-{round}-{i}"), 1, measure.clone()).await;
        }
    }
    let (many, large) = count().await;
    let log = app.statement_log();
    assert_eq!((seven, many), (7, 42));
    // The page, the latest audit entry (what the record's state is), one statement for
    // each kind of record counted (dialogues, cooperations, proposals, evidence), one for
    // the amounts by hand, one for the organisations still missing (the public does not see
    // the dialogue that reached org-c).
    assert_eq!((small, large), (8, 8), "{log:#?}");
    // Asked again with nothing changed, the progress is not computed again...
    let (_, again) = count().await;
    assert_eq!(
        again,
        3,
        "the page, the latest audit entry, the organisations missing: {:#?}",
        app.statement_log()
    );
    // ...and a write is seen at once.
    let before = progress(app, &Caller::Anonymous, "first-0").await["current"].clone();
    dialogue(
        app,
        ("MEETING", "HELD", "2025-09-09", "PUBLIC"),
        &[&w.org[0]],
        &[],
        &[],
    )
    .await;
    let after = progress(app, &Caller::Anonymous, "first-0").await["current"].clone();
    assert_eq!(after, json!(before.as_i64().expect("count") + 1));
}

#[tokio::test]
async fn goals_filter_by_reached_category_and_theme() {
    let w = world().await;
    let app = &w.app;
    goal(app, "reached", 1, json!({ "kind": "DIALOGUE_COUNT" })).await;
    goal(
        app,
        "not-yet",
        10,
        json!({ "kind": "DIALOGUE_COUNT", "themeIds": [w.theme] }),
    )
    .await;
    let list = |filter: Value| async move {
        let data = app
            .ok(
                "query($f: GoalFilter) { goals(filter: $f) { totalCount nodes { slug } } }",
                json!({ "f": filter }),
            )
            .await;
        slugs(&data["goals"]["nodes"])
    };
    assert_eq!(list(json!({ "reached": true })).await, ["reached"]);
    assert_eq!(list(json!({ "reached": false })).await, ["not-yet"]);
    assert_eq!(list(json!({ "theme": "jamstalldhet" })).await, ["not-yet"]);
    assert_eq!(
        list(json!({ "category": "MEDIA" })).await,
        Vec::<String>::new()
    );
    // What is dated after today has not happened: a planned conference does not count yet.
    let planned = ("CONFERENCE", "PLANNED", "2099-06-01", "PUBLIC");
    dialogue(app, planned, &[&w.org[0]], &[], &[]).await;
    let measure = json!({ "kind": "DIALOGUE_COUNT", "dialogueKinds": ["CONFERENCE"] });
    goal_in(app, "future", 1, ("2025-01-01", "2099-12-31"), measure).await;
    let future = progress(app, &Caller::Anonymous, "future").await;
    assert_eq!(summary(&future), (0, false, Value::Null, true));
    let themed = app
        .ok("{ dialogues(filter: { theme: \"jamstalldhet\" }) { nodes { heldOn themes { slug } } } }", json!({}))
        .await;
    assert_eq!(
        themed["dialogues"]["nodes"],
        json!([{ "heldOn": "2025-01-10", "themes": [{ "slug": "jamstalldhet" }] }])
    );
}

#[tokio::test]
async fn bad_goals_are_refused_naming_the_field_and_change_nothing() {
    let w = world().await;
    let app = &w.app;
    let input = |target: i32, start: &str, end: &str, measure: Value| {
        json!({ "input": { "slug": "bad", "title": "Bad", "category": "OTHER", "periodStart": start,
            "periodEnd": end, "target": target, "measure": measure } })
    };
    let ok = json!({ "kind": "DIALOGUE_COUNT" });
    let cases = [
        (
            input(0, "2025-01-01", "2025-12-31", ok.clone()),
            "input.target",
        ),
        (
            input(1, "2025-12-31", "2025-01-01", ok.clone()),
            "input.periodEnd",
        ),
        (
            input(
                1,
                "2025-01-01",
                "2025-12-31",
                json!({ "kind": "DIALOGUE_COUNT", "minimumReach": "NATIONAL" }),
            ),
            "input.measure.minimumReach",
        ),
        (
            input(
                1,
                "2025-01-01",
                "2025-12-31",
                json!({ "kind": "AUTHORITIES_REACHED" }),
            ),
            "input.measure.authorityIds",
        ),
        (
            input(
                4,
                "2025-01-01",
                "2025-12-31",
                json!({ "kind": "AUTHORITIES_REACHED", "authorityIds": w.ministry }),
            ),
            "input.target",
        ),
        (
            input(
                1,
                "2025-01-01",
                "2025-12-31",
                json!({ "kind": "DIALOGUE_COUNT", "themeIds": [w.ministry[0]] }),
            ),
            "input.measure.themeIds",
        ),
        (
            input(
                1,
                "2025-01-01",
                "2025-12-31",
                json!({ "kind": "PROPOSAL_COUNT" }),
            ),
            "input.measure.proposalStatuses",
        ),
        (
            input(
                1,
                "2025-01-01",
                "2025-12-31",
                json!({ "kind": "MUNICIPALITIES_COVERED", "authorityIds": [w.ministry[0]] }),
            ),
            "input.measure.authorityIds",
        ),
    ];
    for (variables, field) in cases {
        let error = app.err(CREATE_GOAL, variables).await;
        assert_code(&error, "BAD_USER_INPUT", Some(field));
    }
    // A theme id that names no theme (deleted since).
    let gone = app
        .ok(
            "mutation { createTheme(input: { slug: \"gone\", name: \"Gone\" }) { id } }",
            json!({}),
        )
        .await["createTheme"]["id"]
        .clone();
    app.ok(
        "mutation($id: ID!) { deleteTheme(input: { id: $id }) { slug } }",
        json!({ "id": gone }),
    )
    .await;
    let error = app
        .err(
            CREATE_GOAL,
            input(
                1,
                "2025-01-01",
                "2025-12-31",
                json!({ "kind": "DIALOGUE_COUNT", "themeIds": [gone] }),
            ),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.measure.themeIds"));
    let none = app.ok("{ goals { totalCount } }", json!({})).await;
    assert_eq!(none["goals"]["totalCount"], 0, "nothing was written");

    // Progress by hand only on MANUAL goals.
    goal(
        app,
        "counted",
        1,
        json!({ "kind": "DIALOGUE_COUNT", "themeIds": [w.theme], "authorityIds": [w.ministry[0]] }),
    )
    .await;
    let id = app
        .ok("{ goal(slug: \"counted\") { id } }", json!({}))
        .await["goal"]["id"]
        .clone();
    let error = app
        .err(
            "mutation($input: RecordGoalProgressInput!) { recordGoalProgress(input: $input) { slug } }",
            json!({ "input": { "goalId": id, "amount": 1, "recordedOn": "2025-02-01" } }),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.goalId"));

    // What a goal's measure names cannot be deleted from under it: CONFLICT naming the goal.
    let error = app
        .err(
            "mutation($id: ID!) { deleteTheme(input: { id: $id }) { slug } }",
            json!({ "id": w.theme }),
        )
        .await;
    assert_code(&error, "CONFLICT", None);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"counted\"")),
        "{error}"
    );
    let error = app
        .err(
            "mutation($id: ID!) { deleteAuthority(input: { id: $id }) { slug } }",
            json!({ "id": w.ministry[0] }),
        )
        .await;
    assert_code(&error, "CONFLICT", None);
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains("\"counted\"")),
        "{error}"
    );
}

#[tokio::test]
async fn network_goals_are_the_admins_and_an_organisations_goals_its_editors() {
    let w = world().await;
    let app = &w.app;
    let user = app.create_user("editor@example.org", false).await;
    app.ok(
        "mutation($u: ID!, $o: ID!) { grantMembership(input: { userId: $u, organisationId: $o, role: EDITOR }) { role } }",
        json!({ "u": user, "o": w.org[0] }),
    )
    .await;
    let editor = Caller::User(app.token_for("editor@example.org").await);
    let input = |slug: &str, owner: Option<&str>| {
        json!({ "input": { "slug": slug, "title": slug, "category": "NETWORK", "periodStart": "2025-01-01",
            "periodEnd": "2025-12-31", "target": 1, "measure": { "kind": "MANUAL" }, "ownerId": owner } })
    };
    let (_, body) = app
        .post_as(&editor, CREATE_GOAL, input("network", None))
        .await;
    assert_code(&body["errors"][0], "FORBIDDEN", None);
    let (_, body) = app
        .post_as(&editor, CREATE_GOAL, input("theirs", Some(&w.org[1])))
        .await;
    assert_code(&body["errors"][0], "FORBIDDEN", None);
    let (_, body) = app
        .post_as(&editor, CREATE_GOAL, input("ours", Some(&w.org[0])))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let id = body["data"]["createGoal"]["id"].clone();
    // Handing it to the network would leave a goal the editor may not write.
    let (_, body) = app
        .post_as(
            &editor,
            "mutation($input: UpdateGoalInput!) { updateGoal(input: $input) { slug } }",
            json!({ "input": { "id": id, "expectedVersion": 1, "ownerId": null } }),
        )
        .await;
    assert_code(&body["errors"][0], "FORBIDDEN", None);
    let (_, body) = app
        .post_as(&Caller::Anonymous, CREATE_GOAL, input("anon", None))
        .await;
    assert_code(&body["errors"][0], "UNAUTHENTICATED", None);

    // However narrow a measure an editor writes, records kept within other organisations
    // tell it nothing, not even that they exist.
    let probe = json!({ "input": { "slug": "probe", "title": "probe", "category": "OTHER",
        "periodStart": "2025-08-01", "periodEnd": "2025-08-01", "target": 1, "ownerId": w.org[0],
        "visibility": "PUBLIC",
        "measure": { "kind": "DIALOGUE_COUNT", "organisationIds": [w.org[2]], "authorityIds": [w.ministry[2]] } } });
    let (_, body) = app.post_as(&editor, CREATE_GOAL, probe).await;
    assert!(body.get("errors").is_none(), "{body}");
    let [c, m3] = [&w.org[2], &w.ministry[2]].map(String::as_str);
    dialogue(
        app,
        ("MEETING", "HELD", "2025-08-01", "ORGANISATION"),
        &[c],
        &[m3],
        &[],
    )
    .await;
    let nothing = (0, false, Value::Null, true);
    assert_eq!(summary(&progress(app, &editor, "probe").await), nothing);
    assert_eq!(
        summary(&progress(app, &Caller::Anonymous, "probe").await),
        nothing
    );
    let admin = Caller::User(app.admin_token.clone());
    let seen = (1, true, json!("2025-08-01"), true);
    assert_eq!(summary(&progress(app, &admin, "probe").await), seen);
}
