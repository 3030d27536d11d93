//! The access matrix: every kind of caller against every kind of operation, with the
//! expected outcome of each cell written down in one table ([`MATRIX`]).

use samverkan_tests::{Caller, TestApp, assert_code};
use serde_json::{Value, json};

/// The callers, in the order of the table's columns.
const CALLERS: [&str; 8] = [
    "anonymous",
    "READ_PUBLIC token",
    "READ_NETWORK token",
    "member of A",
    "editor of A",
    "editor of B",
    "admin",
    "deactivated user",
];

const U: &str = "UNAUTHENTICATED";
const F: &str = "FORBIDDEN";

/// What each caller gets from each operation: a count, `seen`/`null` for a lookup,
/// `shown`/`hidden` for a field, `OK` for a write, or the error code.
#[rustfmt::skip]
const MATRIX: &[(&str, [&str; 8])] = &[
    //                                   anon     public   network  memberA  editorA  editorB  admin    deactivated
    ("list dialogues",                  ["1",     "1",     "2",     "3",     "3",     "2",     "3",     U]),
    ("list proposals",                  ["1",     "1",     "2",     "3",     "3",     "2",     "3",     U]),
    ("dialogue PUBLIC by id",           ["seen",  "seen",  "seen",  "seen",  "seen",  "seen",  "seen",  U]),
    ("dialogue NETWORK by id",          ["null",  "null",  "seen",  "seen",  "seen",  "seen",  "seen",  U]),
    ("dialogue ORGANISATION by id",     ["null",  "null",  "null",  "seen",  "seen",  "null",  "seen",  U]),
    ("proposal NETWORK by id",          ["null",  "null",  "seen",  "seen",  "seen",  "seen",  "seen",  U]),
    ("proposal ORGANISATION by id",     ["null",  "null",  "null",  "seen",  "seen",  "null",  "seen",  U]),
    ("node: dialogue ORGANISATION",     ["null",  "null",  "null",  "seen",  "seen",  "null",  "seen",  U]),
    ("node: proposal NETWORK",          ["null",  "null",  "seen",  "seen",  "seen",  "seen",  "seen",  U]),
    ("nested: A's dialogues",           ["1",     "1",     "2",     "3",     "3",     "2",     "3",     U]),
    ("nested: A's proposals",           ["1",     "1",     "2",     "3",     "3",     "2",     "3",     U]),
    ("nested: proposals of a dialogue", ["1",     "1",     "2",     "3",     "3",     "2",     "3",     U]),
    ("contact email of A",              ["hidden","hidden","hidden","shown", "shown", "shown", "shown", U]),
    ("create dialogue with A",          [U,       F,       F,       F,       "OK",    F,       "OK",    U]),
    ("update dialogue of A",            [U,       F,       F,       F,       "OK",    F,       "OK",    U]),
    ("delete dialogue of A",            [U,       F,       F,       F,       "OK",    F,       "OK",    U]),
    ("create proposal led by A",        [U,       F,       F,       F,       "OK",    F,       "OK",    U]),
    ("update proposal of A",            [U,       F,       F,       F,       "OK",    F,       "OK",    U]),
    ("update ORGANISATION proposal of A",[U,      F,       F,       F,       "OK",    "NOT_FOUND","OK", U]),
    ("transition proposal of A",        [U,       F,       F,       F,       "OK",    F,       "OK",    U]),
    ("delete proposal of A",            [U,       F,       F,       F,       "OK",    F,       "OK",    U]),
    ("change lead of proposal of A",    [U,       F,       F,       F,       F,       F,       "OK",    U]),
    ("create organisation",             [U,       F,       F,       F,       F,       F,       "OK",    U]),
    ("create user",                     [U,       F,       F,       F,       F,       F,       "OK",    U]),
    ("grant membership",                [U,       F,       F,       F,       F,       F,       "OK",    U]),
    ("revoke membership",               [U,       F,       F,       F,       F,       F,       "OK",    U]),
    ("deactivate user",                 [U,       F,       F,       F,       F,       F,       "OK",    U]),
    ("set admin",                       [U,       F,       F,       F,       F,       F,       "OK",    U]),
    ("create partner token",            [U,       F,       F,       F,       F,       F,       "OK",    U]),
    ("revoke partner token",            [U,       F,       F,       F,       F,       F,       "OK",    U]),
    ("list users",                      [U,       F,       F,       F,       F,       F,       "OK",    U]),
    ("list partner tokens",             [U,       F,       F,       F,       F,       F,       "OK",    U]),
    ("read audit log",                  [U,       F,       F,       F,       F,       F,       "OK",    U]),
    ("viewer kind",                     ["ANONYMOUS","PARTNER_TOKEN","PARTNER_TOKEN","USER","USER","USER","USER", U]),
];

struct World {
    app: TestApp,
    a: String,
    b: String,
    authority: String,
    /// Dialogues of A by visibility: PUBLIC, NETWORK, ORGANISATION.
    dialogues: [String; 3],
    /// Proposals led by A by visibility: PUBLIC, NETWORK, ORGANISATION.
    proposals: [String; 3],
    callers: Vec<Caller>,
}

async fn world() -> World {
    let app = TestApp::start().await;
    let a = app.organisation("org-a", "Organisation A").await;
    let b = app.organisation("org-b", "Organisation B").await;
    app.ok(
        "mutation($id: ID!) { updateOrganisation(input: { id: $id, expectedVersion: 1, contactEmail: \"kontakt@a.example\" }) { id } }",
        json!({ "id": a }),
    )
    .await;
    let authority = app
        .authority("socialdepartementet", "Socialdepartementet", None)
        .await;
    let visibilities = ["PUBLIC", "NETWORK", "ORGANISATION"];
    let mut proposals = Vec::new();
    let mut dialogues = Vec::new();
    for visibility in visibilities {
        proposals.push(
            app.proposal(&format!("Proposal {visibility}"), &a, visibility)
                .await,
        );
    }
    for visibility in visibilities {
        let id = app
            .dialogue(
                &format!("Dialogue {visibility}"),
                "2020-01-01",
                &[&a],
                &[&authority],
                visibility,
            )
            .await;
        dialogues.push(id);
    }
    // The PUBLIC dialogue discussed all three proposals.
    app.ok(
        "mutation($id: ID!, $p: [ID!]) { updateDialogue(input: { id: $id, expectedVersion: 1, proposalIds: $p }) { id } }",
        json!({ "id": dialogues[0], "p": proposals }),
    )
    .await;

    let public_token = app.partner_token("public site", "READ_PUBLIC", &[]).await;
    let network_token = app
        .partner_token("network intranet", "READ_NETWORK", &[])
        .await;
    let mut users = Vec::new();
    for (email, org, role) in [
        ("member-a@example.org", &a, "MEMBER"),
        ("editor-a@example.org", &a, "EDITOR"),
        ("editor-b@example.org", &b, "EDITOR"),
        ("gone@example.org", &a, "EDITOR"),
    ] {
        let id = app.create_user(email, false).await;
        app.ok(
            "mutation($u: ID!, $o: ID!, $r: MembershipRole!) { grantMembership(input: { userId: $u, organisationId: $o, role: $r }) { role } }",
            json!({ "u": id, "o": org, "r": role }),
        )
        .await;
        users.push((id, app.login(email).await));
    }
    let deactivated = users[3].clone();
    app.ok(
        "mutation($id: ID!) { deactivateUser(input: { id: $id }) { active } }",
        json!({ "id": deactivated.0 }),
    )
    .await;
    let callers = vec![
        Caller::Anonymous,
        Caller::Partner(public_token),
        Caller::Partner(network_token),
        Caller::User(users[0].1.clone()),
        Caller::User(users[1].1.clone()),
        Caller::User(users[2].1.clone()),
        Caller::User(app.admin_token.clone()),
        Caller::User(deactivated.1),
    ];
    World {
        app,
        a,
        b,
        authority,
        dialogues: dialogues.try_into().expect("3"),
        proposals: proposals.try_into().expect("3"),
        callers,
    }
}

/// Reduces a response to an outcome: the error code, or what `read` makes of the data.
fn outcome(response: &Value, read: impl Fn(&Value) -> String) -> String {
    match response["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => code.to_owned(),
        None => read(&response["data"]),
    }
}

fn seen(value: &Value) -> String {
    if value.is_null() {
        "null".into()
    } else {
        "seen".into()
    }
}

impl World {
    async fn run(&self, operation: &str, caller: &Caller) -> String {
        let app = &self.app;
        let ask = |query: &'static str, variables: Value| async move {
            app.post_as(caller, query, variables).await.1
        };
        let admin =
            |query: &'static str, variables: Value| async move { app.ok(query, variables).await };
        let ok = |_: &Value| "OK".to_owned();
        match operation {
            "list dialogues" => outcome(&ask("{ dialogues { totalCount } }", json!({})).await, |d| d["dialogues"]["totalCount"].to_string()),
            "list proposals" => outcome(&ask("{ proposals { totalCount } }", json!({})).await, |d| d["proposals"]["totalCount"].to_string()),
            "dialogue PUBLIC by id" | "dialogue NETWORK by id" | "dialogue ORGANISATION by id" => {
                let i = ["PUBLIC", "NETWORK", "ORGANISATION"].iter().position(|v| operation.contains(v)).expect("visibility");
                let r = ask("query($id: ID!) { dialogue(id: $id) { title } }", json!({ "id": self.dialogues[i] })).await;
                outcome(&r, |d| seen(&d["dialogue"]))
            }
            "proposal NETWORK by id" | "proposal ORGANISATION by id" => {
                let i = if operation.contains("NETWORK") { 1 } else { 2 };
                let r = ask("query($id: ID!) { proposal(id: $id) { title } }", json!({ "id": self.proposals[i] })).await;
                outcome(&r, |d| seen(&d["proposal"]))
            }
            "node: dialogue ORGANISATION" => {
                let r = ask("query($id: ID!) { node(id: $id) { id } }", json!({ "id": self.dialogues[2] })).await;
                outcome(&r, |d| seen(&d["node"]))
            }
            "node: proposal NETWORK" => {
                let r = ask("query($id: ID!) { node(id: $id) { id } }", json!({ "id": self.proposals[1] })).await;
                outcome(&r, |d| seen(&d["node"]))
            }
            "nested: A's dialogues" => outcome(
                &ask("{ organisation(slug: \"org-a\") { dialogues { totalCount nodes { id } } } }", json!({})).await,
                |d| {
                    let c = &d["organisation"]["dialogues"];
                    assert_eq!(c["totalCount"].as_u64(), c["nodes"].as_array().map(|n| n.len() as u64), "count matches the page");
                    c["totalCount"].to_string()
                },
            ),
            "nested: A's proposals" => outcome(
                &ask("{ organisation(slug: \"org-a\") { proposals { totalCount } } }", json!({})).await,
                |d| d["organisation"]["proposals"]["totalCount"].to_string(),
            ),
            "nested: proposals of a dialogue" => outcome(
                &ask("query($id: ID!) { dialogue(id: $id) { proposals { id } } }", json!({ "id": self.dialogues[0] })).await,
                |d| d["dialogue"]["proposals"].as_array().map_or(0, Vec::len).to_string(),
            ),
            "contact email of A" => outcome(&ask("{ organisation(slug: \"org-a\") { contactEmail } }", json!({})).await, |d| {
                if d["organisation"]["contactEmail"].is_null() { "hidden".into() } else { "shown".into() }
            }),
            "create dialogue with A" => outcome(
                &ask(
                    "mutation($a: ID!) { createDialogue(input: { title: \"T\", kind: CALL, status: HELD, heldOn: \"2021-02-02\", summary: \"S\", organisationIds: [$a] }) { id } }",
                    json!({ "a": self.a }),
                )
                .await,
                ok,
            ),
            "update dialogue of A" | "delete dialogue of A" => {
                let id = self.app.dialogue("Fresh", "2021-03-03", &[&self.a], &[&self.authority], "PUBLIC").await;
                let r = if operation.starts_with("update") {
                    ask("mutation($id: ID!) { updateDialogue(input: { id: $id, expectedVersion: 1, title: \"Changed\" }) { id } }", json!({ "id": id })).await
                } else {
                    ask("mutation($id: ID!) { deleteDialogue(input: { id: $id }) { id } }", json!({ "id": id })).await
                };
                outcome(&r, ok)
            }
            "create proposal led by A" => outcome(
                &ask(
                    "mutation($a: ID!) { createProposal(input: { title: \"T\", summary: \"S\", body: \"B\", leadOrganisationId: $a }) { id } }",
                    json!({ "a": self.a }),
                )
                .await,
                ok,
            ),
            "update proposal of A" | "update ORGANISATION proposal of A" | "transition proposal of A" | "delete proposal of A"
            | "change lead of proposal of A" => {
                let visibility = if operation.contains("ORGANISATION") { "ORGANISATION" } else { "PUBLIC" };
                let id = self.app.proposal("Fresh", &self.a, visibility).await;
                let r = match operation {
                    "transition proposal of A" => {
                        ask("mutation($id: ID!) { transitionProposal(input: { id: $id, to: OPEN_FOR_COMMENT }) { status } }", json!({ "id": id })).await
                    }
                    "delete proposal of A" => ask("mutation($id: ID!) { deleteProposal(input: { id: $id }) { id } }", json!({ "id": id })).await,
                    "change lead of proposal of A" => {
                        ask(
                            "mutation($id: ID!, $b: ID!) { updateProposal(input: { id: $id, expectedVersion: 1, leadOrganisationId: $b }) { id } }",
                            json!({ "id": id, "b": self.b }),
                        )
                        .await
                    }
                    _ => ask("mutation($id: ID!) { updateProposal(input: { id: $id, expectedVersion: 1, title: \"Changed\" }) { id } }", json!({ "id": id })).await,
                };
                outcome(&r, ok)
            }
            "create organisation" => outcome(
                &ask("mutation { createOrganisation(input: { slug: \"new-org\", name: \"New\", kind: OTHER }) { id } }", json!({})).await,
                |_| {
                    "OK".to_owned()
                },
            ),
            "create user" => outcome(
                &ask(
                    "mutation { createUser(input: { email: \"new-user@example.org\", name: \"New\", password: \"long enough password\" }) { id } }",
                    json!({}),
                )
                .await,
                ok,
            ),
            "grant membership" | "revoke membership" | "deactivate user" | "set admin" => {
                let email = format!("target-{}@example.org", uuid::Uuid::new_v4().simple());
                let user = self.app.create_user(&email, false).await;
                let grant = "mutation($u: ID!, $o: ID!) { grantMembership(input: { userId: $u, organisationId: $o, role: MEMBER }) { role } }";
                let r = match operation {
                    "grant membership" => ask(grant, json!({ "u": user, "o": self.b })).await,
                    "revoke membership" => {
                        admin(grant, json!({ "u": user, "o": self.b })).await;
                        ask("mutation($u: ID!, $o: ID!) { revokeMembership(input: { userId: $u, organisationId: $o }) { role } }", json!({ "u": user, "o": self.b })).await
                    }
                    "deactivate user" => ask("mutation($id: ID!) { deactivateUser(input: { id: $id }) { active } }", json!({ "id": user })).await,
                    _ => ask("mutation($id: ID!) { setAdmin(input: { id: $id, admin: true }) { admin } }", json!({ "id": user })).await,
                };
                outcome(&r, ok)
            }
            "create partner token" => outcome(
                &ask("mutation { createApiToken(input: { name: \"x\", scope: READ_PUBLIC }) { token } }", json!({})).await,
                ok,
            ),
            "revoke partner token" => {
                let data = admin("mutation { createApiToken(input: { name: \"victim\", scope: READ_PUBLIC }) { apiToken { id } } }", json!({})).await;
                let r = ask("mutation($id: ID!) { revokeApiToken(input: { id: $id }) { revokedAt } }", json!({ "id": data["createApiToken"]["apiToken"]["id"] })).await;
                outcome(&r, ok)
            }
            "list users" => outcome(&ask("{ users { totalCount } }", json!({})).await, ok),
            "list partner tokens" => outcome(&ask("{ apiTokens { totalCount } }", json!({})).await, ok),
            "read audit log" => outcome(&ask("{ auditLog(first: 5) { totalCount } }", json!({})).await, ok),
            "viewer kind" => outcome(&ask("{ viewer { kind } }", json!({})).await, |d| d["viewer"]["kind"].as_str().unwrap_or("?").to_owned()),
            other => panic!("no operation named {other:?}"),
        }
    }
}

#[tokio::test]
async fn every_caller_gets_exactly_what_the_matrix_says() {
    let world = world().await;
    let mut mismatches = Vec::new();
    for (operation, expected) in MATRIX {
        for (column, caller) in world.callers.iter().enumerate() {
            let got = world.run(operation, caller).await;
            if got != expected[column] {
                mismatches.push(format!(
                    "{operation} as {}: expected {}, got {got}",
                    CALLERS[column], expected[column]
                ));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} cells differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

#[tokio::test]
async fn invisible_records_stay_out_of_filtered_lists_and_counts() {
    let world = world().await;
    let member_of_b = &world.callers[5];
    let (_, body) = world
        .app
        .post_as(
            member_of_b,
            "query($a: ID!) { dialogues(filter: { organisationId: $a }) { totalCount nodes { title } } proposals(filter: { leadOrganisationId: $a }) { totalCount } }",
            json!({ "a": world.a }),
        )
        .await;
    assert_eq!(body["data"]["dialogues"]["totalCount"], 2, "{body}");
    assert_eq!(body["data"]["proposals"]["totalCount"], 2);
    let titles: Vec<&str> = body["data"]["dialogues"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["title"].as_str())
        .collect();
    assert!(!titles.contains(&"Dialogue ORGANISATION"));
}

#[tokio::test]
async fn a_caller_who_may_not_write_learns_nothing_from_input_errors() {
    let app = TestApp::start().await;
    let malformed = json!({ "input": { "id": "not-an-id", "expectedVersion": 1, "title": "x" } });
    let partner = Caller::Partner(app.partner_token("partner", "READ_PUBLIC", &[]).await);
    for (caller, code) in [
        (Caller::Anonymous, "UNAUTHENTICATED"),
        (partner, "FORBIDDEN"),
    ] {
        for mutation in [
            "mutation($input: UpdateDialogueInput!) { updateDialogue(input: $input) { id } }",
            "mutation($input: UpdateProposalInput!) { updateProposal(input: $input) { id } }",
        ] {
            let (_, body) = app.post_as(&caller, mutation, malformed.clone()).await;
            assert_code(&body["errors"][0], code, None);
        }
        let (_, body) = app
            .post_as(
                &caller,
                "mutation { deleteOrganisation(input: { id: \"not-an-id\" }) { id } }",
                json!({}),
            )
            .await;
        assert_code(&body["errors"][0], code, None);
    }
}

/// The editor of `org` (a new user) and their caller.
async fn editor_of(app: &TestApp, email: &str, org: &str) -> Caller {
    let user = app.create_user(email, false).await;
    let grant = "mutation($u: ID!, $o: ID!) { grantMembership(input: { userId: $u, organisationId: $o, role: EDITOR }) { role } }";
    app.ok(grant, json!({ "u": user, "o": org })).await;
    Caller::User(app.token_for(email).await)
}

#[tokio::test]
async fn an_editor_cannot_hand_a_record_to_others_or_take_their_own_out() {
    let app = TestApp::start().await;
    let a = app.organisation("org-a", "A").await;
    let b = app.organisation("org-b", "B").await;
    let c = app.organisation("org-c", "C").await;
    let editor_a = editor_of(&app, "editor-a@example.org", &a).await;
    let editor_c = editor_of(&app, "editor-c@example.org", &c).await;

    let dialogue = app
        .dialogue("Möte", "2026-11-20", &[&a], &[], "PUBLIC")
        .await;
    let move_to = |orgs: Vec<&str>, version: i32| json!({ "input": { "id": dialogue, "expectedVersion": version, "organisationIds": orgs } });
    let update = "mutation($input: UpdateDialogueInput!) { updateDialogue(input: $input) { version organisations { slug } } }";
    let (_, body) = app.post_as(&editor_a, update, move_to(vec![&b], 1)).await;
    assert_code(&body["errors"][0], "FORBIDDEN", None);
    let (_, body) = app
        .post_as(&editor_a, update, move_to(vec![&a, &b], 1))
        .await;
    assert_eq!(body["data"]["updateDialogue"]["version"], 2, "{body}");

    // A co-signer's editor may change the proposal, but not take its organisation off it.
    let proposal = app.proposal("Förslag", &a, "PUBLIC").await;
    let co_sign = "mutation($input: UpdateProposalInput!) { updateProposal(input: $input) { version coSigners { slug } } }";
    app.ok(
        co_sign,
        json!({ "input": { "id": proposal, "expectedVersion": 1, "coSignerIds": [c] } }),
    )
    .await;
    let (_, body) = app
        .post_as(
            &editor_c,
            co_sign,
            json!({ "input": { "id": proposal, "expectedVersion": 2, "coSignerIds": [] } }),
        )
        .await;
    assert_code(&body["errors"][0], "FORBIDDEN", None);
    let (_, body) = app
        .post_as(
            &editor_c,
            co_sign,
            json!({ "input": { "id": proposal, "expectedVersion": 2, "title": "Nytt" } }),
        )
        .await;
    assert_eq!(body["data"]["updateProposal"]["version"], 3, "{body}");
}

#[tokio::test]
async fn a_record_the_caller_cannot_see_is_unknown_in_references_and_filters() {
    let app = TestApp::start().await;
    let a = app.organisation("org-a", "A").await;
    let b = app.organisation("org-b", "B").await;
    let editor_b = editor_of(&app, "editor-b@example.org", &b).await;
    let hidden = app
        .proposal("A:s interna förslag", &a, "ORGANISATION")
        .await;

    let create = "mutation($input: CreateDialogueInput!) { createDialogue(input: $input) { id } }";
    let input = |proposals: Vec<&str>| {
        json!({ "input": { "title": "B:s möte", "kind": "MEETING", "status": "HELD", "heldOn": "2026-11-20",
            "summary": "S", "visibility": "ORGANISATION", "organisationIds": [b], "proposalIds": proposals } })
    };
    let (_, body) = app.post_as(&editor_b, create, input(vec![&hidden])).await;
    assert_code(
        &body["errors"][0],
        "BAD_USER_INPUT",
        Some("input.proposalIds"),
    );
    let unknown = app.proposal("Borttaget", &a, "PUBLIC").await;
    app.ok(
        "mutation($id: ID!) { deleteProposal(input: { id: $id }) { id } }",
        json!({ "id": unknown }),
    )
    .await;
    let (_, same) = app.post_as(&editor_b, create, input(vec![&unknown])).await;
    assert_eq!(same["errors"][0]["message"], body["errors"][0]["message"]);

    // A public dialogue that discusses the hidden proposal does not reveal it to a filter.
    let public = "mutation($a: ID!, $p: ID!) { createDialogue(input: { title: \"Öppet\", kind: SEMINAR, status: HELD, heldOn: \"2026-11-21\", summary: \"S\", visibility: PUBLIC, organisationIds: [$a], proposalIds: [$p] }) { id } }";
    app.ok(public, json!({ "a": a, "p": hidden })).await;
    let filtered =
        "query($p: ID!) { dialogues(filter: { proposalId: $p }) { totalCount nodes { title } } }";
    let (_, anonymous) = app
        .post_as(&Caller::Anonymous, filtered, json!({ "p": hidden }))
        .await;
    assert_eq!(
        anonymous["data"]["dialogues"]["totalCount"], 0,
        "{anonymous}"
    );
    let admin = app.ok(filtered, json!({ "p": hidden })).await;
    assert_eq!(admin["dialogues"]["totalCount"], 1);
}

#[tokio::test]
async fn a_conflict_caused_by_records_the_caller_cannot_see_does_not_count_them() {
    let app = TestApp::start().await;
    let a = app.organisation("org-a", "A").await;
    let b = app.organisation("org-b", "B").await;
    let editor_a = editor_of(&app, "editor-a@example.org", &a).await;
    let editor_b = editor_of(&app, "editor-b@example.org", &b).await;
    let proposal = app.proposal("A:s förslag", &a, "PUBLIC").await;
    // B discusses A's public proposal in a dialogue only B's organisation sees.
    let create = "mutation($b: ID!, $p: ID!) { createDialogue(input: { title: \"B:s interna möte\", kind: MEETING, status: HELD, heldOn: \"2026-11-20\", summary: \"S\", visibility: ORGANISATION, organisationIds: [$b], proposalIds: [$p] }) { id } }";
    let (_, body) = app
        .post_as(&editor_b, create, json!({ "b": b, "p": proposal }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");

    let delete = "mutation($id: ID!) { deleteProposal(input: { id: $id }) { id } }";
    let (_, body) = app
        .post_as(&editor_a, delete, json!({ "id": proposal }))
        .await;
    assert_code(&body["errors"][0], "CONFLICT", None);
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert_eq!(
        message, "proposal is still referenced by records you cannot see",
        "{body}"
    );
    let count = "query($id: ID!) { proposal(id: $id) { dialogues { totalCount } } }";
    let (_, seen) = app
        .post_as(&editor_a, count, json!({ "id": proposal }))
        .await;
    assert_eq!(seen["data"]["proposal"]["dialogues"]["totalCount"], 0);

    let admin = app.err(delete, json!({ "id": proposal })).await;
    assert_eq!(
        admin["message"],
        "proposal is still referenced by 1 dialogue(s) that discussed it"
    );
}

#[tokio::test]
async fn only_the_lead_moves_or_deletes_a_proposal_co_signers_edit_it() {
    let app = TestApp::start().await;
    let a = app.organisation("org-a", "A").await;
    let c = app.organisation("org-c", "C").await;
    let editor_c = editor_of(&app, "editor-c@example.org", &c).await;
    let editor_a = editor_of(&app, "editor-a@example.org", &a).await;
    let proposal = app.proposal("Förslag", &a, "PUBLIC").await;
    let update =
        "mutation($input: UpdateProposalInput!) { updateProposal(input: $input) { version } }";
    app.ok(
        update,
        json!({ "input": { "id": proposal, "expectedVersion": 1, "coSignerIds": [c] } }),
    )
    .await;
    let (_, edited) = app
        .post_as(
            &editor_c,
            update,
            json!({ "input": { "id": proposal, "expectedVersion": 2, "summary": "Bättre" } }),
        )
        .await;
    assert_eq!(edited["data"]["updateProposal"]["version"], 3, "{edited}");
    let withdraw =
        "mutation($id: ID!) { transitionProposal(input: { id: $id, to: WITHDRAWN }) { status } }";
    let delete = "mutation($id: ID!) { deleteProposal(input: { id: $id }) { id } }";
    for mutation in [withdraw, delete] {
        let (_, body) = app
            .post_as(&editor_c, mutation, json!({ "id": proposal }))
            .await;
        assert_code(&body["errors"][0], "FORBIDDEN", None);
    }
    let (_, body) = app
        .post_as(&editor_a, withdraw, json!({ "id": proposal }))
        .await;
    assert_eq!(
        body["data"]["transitionProposal"]["status"], "WITHDRAWN",
        "{body}"
    );
}

#[tokio::test]
async fn users_and_partner_tokens_are_nodes_for_those_who_may_see_them() {
    let app = TestApp::start().await;
    let editor = app.create_user("editor@example.org", false).await;
    let other = app.create_user("other@example.org", false).await;
    let token = app
        .ok(
            "mutation { createApiToken(input: { name: \"Site\", scope: READ_PUBLIC }) { apiToken { id } } }",
            json!({}),
        )
        .await["createApiToken"]["apiToken"]["id"]
        .clone();
    const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id ... on User { email } ... on ApiToken { name } } }";
    let admin = app.ok(NODE, json!({ "id": editor })).await;
    assert_eq!(admin["node"]["__typename"], "User");
    assert_eq!(admin["node"]["email"], "editor@example.org");
    assert_eq!(admin["node"]["id"], json!(editor));
    let admin = app.ok(NODE, json!({ "id": token })).await;
    assert_eq!(admin["node"]["name"], "Site");

    let as_editor = Caller::User(app.token_for("editor@example.org").await);
    let node = |id: &Value| app.post_as(&as_editor, NODE, json!({ "id": id }));
    assert_eq!(
        node(&json!(editor)).await.1["data"]["node"]["email"],
        "editor@example.org"
    );
    assert!(
        node(&json!(other)).await.1["data"]["node"].is_null(),
        "not another user"
    );
    assert!(
        node(&token).await.1["data"]["node"].is_null(),
        "not a token"
    );
    let anonymous = app
        .post_as(&Caller::Anonymous, NODE, json!({ "id": editor }))
        .await
        .1;
    assert!(anonymous["data"]["node"].is_null());
}
