//! The funder reports (`/reports/goals.csv`, `/reports/dialogues.csv`) parsed back as a
//! spreadsheet would read them, and `Query.statistics`, each inside the caller's view.

use samverkan_tests::{Caller, TestApp, assert_code};
use serde_json::json;

/// Reads CSV as RFC 4180 says, with semicolons between fields.
fn parse(text: &str) -> Vec<Vec<String>> {
    let mut records = vec![];
    let mut record = vec![];
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ';') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && record.is_empty(),
        "the last record ends with CRLF"
    );
    records
}

async fn get(app: &TestApp, caller: Option<&str>, path: &str) -> (u16, String, String) {
    let mut request = app.client.get(format!("{}{path}", app.url));
    if let Some(token) = caller {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let media = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, media, response.text().await.expect("body"))
}

#[tokio::test]
async fn the_reports_read_back_with_swedish_letters_quotes_and_the_callers_view() {
    let app = TestApp::start().await;
    let org = app.organisation("forening-a", "Förening Å; Ö").await;
    let ministry = app
        .authority("socialdepartementet", "Socialdepartementet", None)
        .await;
    let title = "Möte om \"bemötande\"; del 1";
    let create = "mutation($input: CreateDialogueInput!) { createDialogue(input: $input) { id } }";
    app.ok(
        create,
        json!({ "input": { "title": title, "kind": "MEETING", "status": "HELD", "heldOn": "2025-01-01",
            "summary": "Två rader:\nåäö", "visibility": "PUBLIC", "organisationIds": [org], "authorityIds": [ministry] } }),
    )
    .await;
    app.dialogue("Internt", "2025-06-30", &[&org], &[], "NETWORK")
        .await;
    app.dialogue("Efter perioden", "2025-07-01", &[&org], &[], "PUBLIC")
        .await;
    // More than one page of the report (200 dialogues a page).
    for i in 0..205 {
        app.dialogue(&format!("Rad {i}"), "2024-03-01", &[&org], &[], "PUBLIC")
            .await;
    }

    let (status, media, body) = get(
        &app,
        None,
        "/reports/dialogues.csv?from=2025-01-01&to=2025-06-30",
    )
    .await;
    assert_eq!((status, media.as_str()), (200, "text/csv; charset=utf-8"));
    let text = body
        .strip_prefix('\u{feff}')
        .expect("a byte-order mark first");
    let rows = parse(text);
    assert_eq!(rows[0][..4], ["Held on", "Title", "Kind", "Status"]);
    assert_eq!(
        rows.len(),
        2,
        "the header and the public dialogue of the period: {rows:?}"
    );
    assert_eq!(
        rows[1][..7],
        [
            "2025-01-01",
            title,
            "MEETING",
            "HELD",
            "Förening Å; Ö",
            "Socialdepartementet",
            ""
        ]
    );
    assert_eq!(rows[1][7], "Två rader:\nåäö");
    let admin = app.admin_token.clone();
    let (_, _, body) = get(
        &app,
        Some(&admin),
        "/reports/dialogues.csv?from=2025-01-01&to=2025-06-30",
    )
    .await;
    assert_eq!(
        parse(&body[3..]).len(),
        3,
        "the admin sees the network's dialogue too"
    );
    let (_, _, body) = get(&app, Some(&admin), "/reports/dialogues.csv").await;
    let all = parse(&body[3..]);
    assert_eq!(all.len(), 1 + 208, "every page of the report");
    assert!(
        all[1..].windows(2).all(|w| w[0][0] <= w[1][0]),
        "oldest first"
    );

    let (status, _, body) = get(&app, None, "/reports/dialogues.csv?from=2025-13-01").await;
    assert_eq!(status, 400);
    let error: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_code(&error["errors"][0], "BAD_USER_INPUT", Some("from"));
    for (query, field) in [
        ("from=0001-01-01", "from"),
        ("from=2025-02-01&to=2025-01-01", "to"),
    ] {
        let (status, _, body) = get(&app, None, &format!("/reports/dialogues.csv?{query}")).await;
        assert_eq!(status, 400, "{query}");
        let error: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_code(&error["errors"][0], "BAD_USER_INPUT", Some(field));
    }
    let (status, _, _) = get(&app, Some("not-a-token"), "/reports/goals.csv").await;
    assert_eq!(
        status, 401,
        "a credential that does not work is refused, as on /graphql"
    );

    app.ok(
        "mutation($input: CreateGoalInput!) { createGoal(input: $input) { id } }",
        json!({ "input": { "slug": "dialog", "title": "Dialog; \"två\"", "category": "NATIONAL_INFLUENCE",
            "periodStart": "2025-01-01", "periodEnd": "2025-12-31", "target": 2, "visibility": "PUBLIC",
            "measure": { "kind": "DIALOGUE_COUNT" } } }),
    )
    .await;
    app.ok(
        "mutation($input: CreateGoalInput!) { createGoal(input: $input) { id } }",
        json!({ "input": { "slug": "internal", "title": "Internt mål", "category": "NETWORK",
            "periodStart": "2025-01-01", "periodEnd": "2025-12-31", "target": 1,
            "measure": { "kind": "MANUAL" } } }),
    )
    .await;
    let (status, _, body) = get(&app, None, "/reports/goals.csv").await;
    assert_eq!(status, 200);
    let rows = parse(body.strip_prefix('\u{feff}').expect("BOM"));
    assert_eq!(
        rows,
        [
            vec![
                "Slug",
                "Title",
                "Category",
                "Owner",
                "Period start",
                "Period end",
                "Measure",
                "Current",
                "Target",
                "Reached",
                "Reached on",
                "Complete"
            ],
            vec![
                "dialog",
                "Dialog; \"två\"",
                "NATIONAL_INFLUENCE",
                "",
                "2025-01-01",
                "2025-12-31",
                "DIALOGUE_COUNT",
                "2",
                "2",
                "true",
                "2025-07-01",
                "false"
            ],
        ],
        "the public sees its goals only, counted from what it may see"
    );
    let (_, _, body) = get(&app, Some(&admin), "/reports/goals.csv").await;
    let rows = parse(&body[3..]);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[1][7..], ["3", "2", "true", "2025-06-30", "true"]);
}

#[tokio::test]
async fn statistics_count_the_period_inside_the_callers_view() {
    let app = TestApp::start().await;
    let org = app.organisation("org-a", "A").await;
    let other = app.organisation("org-b", "B").await;
    let national = app.authority("agency", "Agency", None).await;
    let local = app
        .ok(
            "mutation { createAuthority(input: { slug: \"town\", name: \"Town\", level: LOCAL, kind: MUNICIPALITY }) { id } }",
            json!({}),
        )
        .await["createAuthority"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.dialogue("One", "2025-01-31", &[&org], &[&national, &local], "PUBLIC")
        .await;
    app.dialogue("Two", "2025-02-01", &[&other], &[&national], "PUBLIC")
        .await;
    app.dialogue("Hidden", "2025-02-02", &[&org], &[&local], "NETWORK")
        .await;
    app.dialogue("Outside", "2026-01-01", &[&org], &[&local], "PUBLIC")
        .await;
    // An organisation whose only dialogue falls outside the period is not active in it.
    let late = app.organisation("org-c", "C").await;
    app.dialogue("Late", "2026-01-02", &[&late], &[&local], "PUBLIC")
        .await;
    let query = "query($f: StatisticsFilter) { statistics(filter: $f) {
        dialoguesByKind { key count } dialoguesByAuthorityLevel { key count }
        dialoguesByMonth { key count } activeOrganisations } }";
    let period = json!({ "f": { "from": "2025-01-01", "to": "2025-12-31" } });
    let (_, body) = app.post_as(&Caller::Anonymous, query, period.clone()).await;
    assert_eq!(
        body["data"]["statistics"],
        json!({
            "dialoguesByKind": [{ "key": "MEETING", "count": 2 }],
            "dialoguesByAuthorityLevel": [{ "key": "LOCAL", "count": 1 }, { "key": "NATIONAL", "count": 2 }],
            "dialoguesByMonth": [{ "key": "2025-01", "count": 1 }, { "key": "2025-02", "count": 1 }],
            "activeOrganisations": 2
        }),
        "{body}"
    );
    // Nine statements that may each read a whole table, priced as text filters are.
    assert_eq!(body["extensions"]["cost"]["requested"], 9_000, "{body}");
    // Asked again before a write, the answer is the one kept: one statement reads the
    // record's state instead of nine counting it.
    let ((_, again), statements) = app
        .count_statements(app.post_as(&Caller::Anonymous, query, period.clone()))
        .await;
    assert_eq!(again["data"], body["data"], "{again}");
    assert_eq!(statements, 1, "{:?}", app.statement_log());
    let admin = app.ok(query, period.clone()).await;
    assert_eq!(
        admin["statistics"]["dialoguesByKind"],
        json!([{ "key": "MEETING", "count": 3 }])
    );
    // An organisation in two dialogues of the period counts once.
    assert_eq!(admin["statistics"]["activeOrganisations"], 2);
    let of_org = app.ok(query, json!({ "f": { "organisation": org } })).await;
    assert_eq!(
        of_org["statistics"]["dialoguesByKind"],
        json!([{ "key": "MEETING", "count": 3 }])
    );
    assert_eq!(of_org["statistics"]["activeOrganisations"], 1);
    let whole = app.ok(query, json!({})).await;
    assert_eq!(whole["statistics"]["activeOrganisations"], 3);
    // Asked again after a write, the same question counts it.
    app.dialogue("Three", "2025-03-01", &[&other], &[&national], "PUBLIC")
        .await;
    let (_, body) = app.post_as(&Caller::Anonymous, query, period).await;
    assert_eq!(
        body["data"]["statistics"]["dialoguesByMonth"],
        json!([{ "key": "2025-01", "count": 1 }, { "key": "2025-02", "count": 1 }, { "key": "2025-03", "count": 1 }]),
        "{body}"
    );
    let error = app
        .err(query, json!({ "f": { "theme": "Not a slug" } }))
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("filter.theme"));
    let error = app
        .err(
            query,
            json!({ "f": { "from": "2025-12-31", "to": "2025-01-01" } }),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("filter.to"));
    let error = app.err(query, json!({ "f": { "to": "2200-01-01" } })).await;
    assert_code(&error, "BAD_USER_INPUT", Some("filter.to"));
}
