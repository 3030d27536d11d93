//! No N+1: the SQL statement count of a nested query does not grow with page sizes.

use samverkan_tests::{Caller, TestApp};
use serde_json::json;

const NESTED: &str = "query($n: Int!) { organisations(first: $n) { nodes { name dialogues(first: 10) { nodes { title authorities { name } } } } } }";

#[tokio::test]
async fn nested_query_runs_the_same_number_of_statements_for_10_and_50_organisations() {
    let app = TestApp::start().await;
    let authorities = [
        app.authority("socialdepartementet", "Socialdepartementet", None)
            .await,
        app.authority("skl", "SKL", None).await,
    ];
    let mut organisations = Vec::new();
    for i in 0..50 {
        organisations.push(
            app.organisation(&format!("org-{i:02}"), &format!("Org {i:02}"))
                .await,
        );
    }
    // Each organisation takes part in 12 dialogues (so the inner page of 10 is full), each
    // with both authorities and one of its own (so that the authorities level reads more
    // ids for 50 organisations than for 10).
    for i in 0..60 {
        let participants: Vec<&str> = (0..10)
            .map(|k| organisations[(i * 10 + k) % 50].as_str())
            .collect();
        let own = app
            .authority(
                &format!("myndighet-{i:02}"),
                &format!("Myndighet {i:02}"),
                None,
            )
            .await;
        app.dialogue(
            &format!("Dialog {i}"),
            "2015-03-01",
            &participants,
            &[&authorities[0], &authorities[1], &own],
            "PUBLIC",
        )
        .await;
    }

    // Anonymous, as a partner website reads: a signed-in caller adds the statements that
    // load their session, account and memberships.
    let ((_, small), at_10) = app
        .count_statements(app.post_as(&Caller::Anonymous, NESTED, json!({ "n": 10 })))
        .await;
    let log_10 = app.statement_log();
    let ((_, large), at_50) = app
        .count_statements(app.post_as(&Caller::Anonymous, NESTED, json!({ "n": 50 })))
        .await;
    let log = app.statement_log();
    assert!(small.get("errors").is_none() && large.get("errors").is_none());
    let orgs = large["data"]["organisations"]["nodes"]
        .as_array()
        .expect("nodes");
    assert_eq!(orgs.len(), 50);
    assert!(orgs.iter().all(|o| {
        o["dialogues"]["nodes"]
            .as_array()
            .is_some_and(|d| d.len() == 10)
    }));
    assert_eq!(
        orgs[0]["dialogues"]["nodes"][0]["authorities"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    println!(
        "SQL statements for the nested query: {at_10} at page size 10, {at_50} at page size 50"
    );
    assert_eq!(
        at_10, at_50,
        "statement count must not depend on page size: {log:#?}"
    );
    assert_eq!(
        at_50, 3,
        "one statement per level: organisations, dialogues, authorities"
    );
    // The levels below read 10 or 50 organisations' dialogues, and their authorities, with
    // the same statement: the ids are one parameter, whatever their number. (A text per
    // number of ids would be parsed, planned and cached again for each.) The page itself
    // writes its limit into its text.
    assert_eq!(log_10[1..], log[1..], "the levels' statements differ");
}

/// The benchmark's workloads run a constant, small number of statements.
#[tokio::test]
async fn benchmark_workloads_run_a_constant_number_of_statements() {
    let app = TestApp::start().await;
    let authority = app.authority("skl", "SKL", None).await;
    let mut organisations = Vec::new();
    for i in 0..60 {
        organisations.push(
            app.organisation(
                &format!("bench-org-{i:04}"),
                &format!("Organisation {i:04}"),
            )
            .await,
        );
    }
    for (i, lead) in organisations.iter().enumerate().take(30) {
        let proposal = app.proposal(&format!("Förslag {i}"), lead, "PUBLIC").await;
        for step in ["OPEN_FOR_COMMENT", "ADOPTED", "SUBMITTED"] {
            app.ok("mutation($id: ID!, $to: ProposalStatus!) { transitionProposal(input: { id: $id, to: $to }) { id } }", json!({ "id": proposal, "to": step })).await;
        }
        app.dialogue(
            &format!("Dialog {i}"),
            "2016-04-06",
            &[lead, &organisations[i + 30]],
            &[&authority],
            "PUBLIC",
        )
        .await;
    }
    let w1 = "{ organisation(slug: \"bench-org-0042\") { name city website } }";
    let w2 = |n: usize| {
        format!(
            "{{ organisations(first: {n}, orderBy: {{ field: NAME, direction: ASC }}) {{ nodes {{ name dialogues(first: 10) {{ nodes {{ title heldOn authorities {{ name }} }} }} }} }} }}"
        )
    };
    let w3 = |n: usize| {
        format!(
            "{{ proposals(first: {n}, filter: {{ status: SUBMITTED }}, orderBy: {{ field: UPDATED_AT, direction: DESC }}) {{ nodes {{ title leadOrganisation {{ name }} }} }} }}"
        )
    };
    let app = &app;
    let count = |query: String| async move {
        let ((_, body), statements) = app
            .count_statements(app.post_as(&Caller::Anonymous, &query, json!({})))
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        statements
    };
    assert_eq!(count(w1.to_owned()).await, 1, "W1: one statement");
    assert_eq!(
        (count(w2(5)).await, count(w2(50)).await),
        (3, 3),
        "W2: one per level"
    );
    assert_eq!(
        (count(w3(5)).await, count(w3(20)).await),
        (1, 1),
        "W3: proposals with their leads, in one statement"
    );
}

/// A top-level page reads the to-one references it is asked for in its own statement, and
/// answers exactly as when the references are loaded after it: absent ones, filtered pages,
/// cursors and the references' own relations included.
#[tokio::test]
async fn a_page_reads_its_references_with_it_and_answers_the_same() {
    let app = TestApp::start().await;
    let authority = app.authority("skl", "SKL", None).await;
    let mut organisations = Vec::new();
    for i in 0..4 {
        organisations.push(
            app.organisation(&format!("org-{i}"), &format!("Org {i}"))
                .await,
        );
    }
    for i in 0..8 {
        let lead = &organisations[i % 3];
        let title = if i % 2 == 0 {
            "Förslag om fattigdom"
        } else {
            "Förslag om arbete"
        };
        app.proposal(&format!("{title} {i}"), lead, "PUBLIC").await;
        app.dialogue(
            &format!("Dialog {i}"),
            "2016-04-06",
            &[lead],
            &[&authority],
            "PUBLIC",
        )
        .await;
    }
    let goal = "mutation($input: CreateGoalInput!) { createGoal(input: $input) { id } }";
    for (slug, owner) in [("owned", Some(&organisations[1])), ("unowned", None)] {
        app.ok(
            goal,
            json!({ "input": { "slug": slug, "title": slug, "category": "OTHER",
                "periodStart": "2025-01-01", "periodEnd": "2025-12-31", "target": 1,
                "measure": { "kind": "MANUAL" }, "ownerId": owner, "visibility": "PUBLIC" } }),
        )
        .await;
    }
    let app = &app;
    let answer = |query: String| async move {
        let ((_, body), statements) = app
            .count_statements(app.post_as(&Caller::Anonymous, &query, json!({})))
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        (body["data"].clone(), statements)
    };

    // The same selection under `nodes` and under the edges' `node`: read with the page.
    let (joined, statements) = answer("{ proposals(first: 5, filter: { text: \"fattigdom\" }) { nodes { title leadOrganisation { name dialogues(first: 2) { nodes { title } } } } edges { cursor node { leadOrganisation { name dialogues(first: 2) { nodes { title } } } } } } }".to_owned())
    .await;
    assert_eq!(
        statements, 2,
        "the page with its leads, then the leads' dialogues"
    );
    // Inside a fragment the reference is loaded after the page, as before.
    let (loaded, statements) = answer("{ proposals(first: 5, filter: { text: \"fattigdom\" }) { nodes { ... on Proposal { title leadOrganisation { name dialogues(first: 2) { nodes { title } } } } } edges { cursor node { leadOrganisation { name dialogues(first: 2) { nodes { title } } } } } } }".to_owned())
    .await;
    assert_eq!(statements, 3);
    assert_eq!(joined, loaded);
    let nodes = joined["proposals"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 4, "the four proposals about poverty");
    assert!(nodes.iter().all(|node| {
        node["leadOrganisation"]["dialogues"]["nodes"]
            .as_array()
            .is_some_and(|dialogues| !dialogues.is_empty())
    }));

    // The next page, from the first page's last cursor, with its leads.
    let (first, _) = answer("{ proposals(first: 3) { pageInfo { endCursor } } }".to_owned()).await;
    let after = first["proposals"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let query = |fragment: bool| {
        let lead = if fragment {
            "... on Proposal { leadOrganisation { slug } }"
        } else {
            "leadOrganisation { slug }"
        };
        format!("{{ proposals(first: 3, after: \"{after}\") {{ nodes {{ title {lead} }} }} }}")
    };
    let (joined, joined_statements) = answer(query(false)).await;
    let (loaded, loaded_statements) = answer(query(true)).await;
    assert_eq!((joined_statements, loaded_statements), (1, 2));
    assert_eq!(joined, loaded);
    assert_eq!(
        joined["proposals"]["nodes"].as_array().map(Vec::len),
        Some(3)
    );

    // Two selections of the same reference (aliases) are loaded after the page, as before.
    let (aliased, statements) = answer("{ proposals(first: 8) { nodes { a: leadOrganisation { name } b: leadOrganisation { slug } } } }".to_owned())
    .await;
    assert_eq!(statements, 3);
    assert!(
        aliased["proposals"]["nodes"]
            .as_array()
            .is_some_and(|nodes| nodes
                .iter()
                .all(|node| node["a"]["name"].is_string() && node["b"]["slug"].is_string()))
    );

    // A reference that names nothing stays null.
    let (goals, statements) =
        answer("{ goals(first: 10, orderBy: { field: TITLE, direction: ASC }) { nodes { slug owner { slug } } } }".to_owned()).await;
    assert_eq!(statements, 1);
    assert_eq!(
        goals["goals"]["nodes"],
        json!([{ "slug": "owned", "owner": { "slug": "org-1" } }, { "slug": "unowned", "owner": null }])
    );

    // A filter that looks into the joined table itself (cooperations in a metropolitan
    // municipality read `authorities` in a subquery).
    for (slug, metropolitan) in [("stockholm", true), ("ale", false)] {
        let town = app
            .ok(
                "mutation($slug: String!, $m: Boolean!) { createAuthority(input: { slug: $slug, name: $slug, level: LOCAL, kind: MUNICIPALITY, isMetropolitan: $m }) { id } }",
                json!({ "slug": slug, "m": metropolitan }),
            )
            .await["createAuthority"]["id"]
            .clone();
        app.ok(
            "mutation($input: CreateCooperationInput!) { createCooperation(input: $input) { id } }",
            json!({ "input": { "kind": "AGREEMENT", "title": format!("Samverkan i {slug}"),
                "summary": "s", "authorityId": town, "establishedOn": "2025-01-01",
                "visibility": "PUBLIC", "organisationIds": [organisations[0]] } }),
        )
        .await;
    }
    let (joined, statements) = answer("{ cooperations(filter: { metropolitan: true }) { nodes { title authority { slug isMetropolitan } } } }".to_owned()).await;
    assert_eq!(statements, 1);
    let (loaded, _) = answer("{ cooperations(filter: { metropolitan: true }) { nodes { ... on Cooperation { title authority { slug isMetropolitan } } } } }".to_owned()).await;
    assert_eq!(joined, loaded);
    assert_eq!(
        joined["cooperations"]["nodes"],
        json!([{ "title": "Samverkan i stockholm", "authority": { "slug": "stockholm", "isMetropolitan": true } }])
    );
}

/// The admin lists load users and memberships for a whole page at once.
#[tokio::test]
async fn admin_lists_run_a_constant_number_of_statements() {
    let app = TestApp::start().await;
    let org = app.organisation("org-a", "A").await;
    for i in 0..12 {
        let user = app
            .create_user(&format!("user{i:02}@example.org"), false)
            .await;
        app.ok(
            "mutation($u: ID!, $o: ID!) { grantMembership(input: { userId: $u, organisationId: $o, role: MEMBER }) { role } }",
            json!({ "u": user, "o": org }),
        )
        .await;
    }
    let admin = Caller::User(app.admin_token.clone());
    let users = |n: usize| {
        format!(
            "{{ users(first: {n}) {{ nodes {{ email memberships {{ role organisation {{ slug }} }} }} }} }}"
        )
    };
    let audit = |n: usize| {
        format!(
            "{{ auditLog(first: {n}) {{ nodes {{ action user {{ email memberships {{ role }} }} }} }} }}"
        )
    };
    let count = |query: String| {
        let admin = admin.clone();
        let app = &app;
        async move {
            let ((_, body), statements) = app
                .count_statements(app.post_as(&admin, &query, json!({})))
                .await;
            assert!(body.get("errors").is_none(), "{body}");
            statements
        }
    };
    // 3 statements authenticate the admin; then the page, its total when asked, and one per level.
    assert_eq!(
        count(users(3)).await,
        count(users(13)).await,
        "users: independent of the page size"
    );
    assert_eq!(
        count(audit(3)).await,
        count(audit(25)).await,
        "audit log: independent of the page size"
    );
}

#[tokio::test]
async fn a_search_reads_the_index_once_whatever_the_page_size_and_kinds() {
    let app = TestApp::start().await;
    let org = app
        .organisation("natverket", "Nätverket mot fattigdom")
        .await;
    let ministry = app
        .authority("socialdepartementet", "Fattigdomsdepartementet", None)
        .await;
    for i in 0..30 {
        app.dialogue(
            &format!("Samtal om fattigdom {i}"),
            "2026-03-01",
            &[&org],
            &[&ministry],
            "PUBLIC",
        )
        .await;
        app.proposal(&format!("Förslag mot fattigdom {i}"), &org, "PUBLIC")
            .await;
    }
    let query = "query($n: Int!) { search(query: \"fattigdom\", first: $n) { totalCount nodes { node { __typename ... on Dialogue { title organisations { name } } ... on Proposal { title leadOrganisation { name } } } } } }";
    // 62 records match: both pages hold all four kinds.
    let mut counts = Vec::new();
    for n in [62, 100] {
        let ((_, body), statements) = app
            .count_statements(app.post_as(&Caller::Anonymous, query, json!({ "n": n })))
            .await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(body["data"]["search"]["totalCount"], 62);
        counts.push(statements);
    }
    // The index once, each of the four kinds on the page once, each relation below once.
    assert_eq!(counts, [7, 7], "{:?}", app.statement_log());
}
