//! Impact evidence, local cooperation and themes: who may write them, what is refused, and
//! who sees them.

use samverkan_tests::{Caller, TestApp, assert_code};
use serde_json::{Value, json};

const CREATE_EVIDENCE: &str = "mutation($input: CreateEvidenceInput!) { createEvidence(input: $input) { id version organisations { slug } } }";
const CREATE_COOPERATION: &str = "mutation($input: CreateCooperationInput!) { createCooperation(input: $input) { id authority { slug isMetropolitan } } }";

async fn editor_of(app: &TestApp, email: &str, org: &str) -> Caller {
    let user = app.create_user(email, false).await;
    app.ok(
        "mutation($u: ID!, $o: ID!) { grantMembership(input: { userId: $u, organisationId: $o, role: EDITOR }) { role } }",
        json!({ "u": user, "o": org }),
    )
    .await;
    Caller::User(app.token_for(email).await)
}

fn evidence(organisations: &[&str], visibility: &str, url: &str) -> Value {
    json!({ "input": { "kind": "MEDIA_ARTICLE", "title": "Artikel", "publisher": "Dagens Nyheter",
        "reach": "NATIONAL", "publishedOn": "2025-03-01", "url": url, "visibility": visibility,
        "organisationIds": organisations } })
}

#[tokio::test]
async fn evidence_is_written_by_editors_of_the_organisations_it_credits() {
    let app = TestApp::start().await;
    let ours = app.organisation("ours", "Ours").await;
    let theirs = app.organisation("theirs", "Theirs").await;
    let editor = editor_of(&app, "editor@example.org", &ours).await;

    let (_, body) = app
        .post_as(
            &editor,
            CREATE_EVIDENCE,
            evidence(&[&theirs], "PUBLIC", "https://dn.se/a"),
        )
        .await;
    assert_code(&body["errors"][0], "FORBIDDEN", None);
    let (_, body) = app
        .post_as(
            &editor,
            CREATE_EVIDENCE,
            evidence(&[&ours], "PUBLIC", "javascript:alert(1)"),
        )
        .await;
    assert_code(&body["errors"][0], "BAD_USER_INPUT", Some("input.url"));
    let (_, body) = app
        .post_as(
            &editor,
            CREATE_EVIDENCE,
            evidence(&[&ours], "PUBLIC", "https://dn.se/a"),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let id = body["data"]["createEvidence"]["id"].clone();

    // Handing it to another organisation alone would leave it out of the editor's reach.
    let update = "mutation($input: UpdateEvidenceInput!) { updateEvidence(input: $input) { title version } }";
    let (_, body) = app
        .post_as(
            &editor,
            update,
            json!({ "input": { "id": id, "expectedVersion": 1, "organisationIds": [theirs] } }),
        )
        .await;
    assert_code(&body["errors"][0], "FORBIDDEN", None);
    let (_, body) = app
        .post_as(
            &editor,
            update,
            json!({ "input": { "id": id, "expectedVersion": 1, "title": "Ny rubrik" } }),
        )
        .await;
    assert_eq!(
        body["data"]["updateEvidence"],
        json!({ "title": "Ny rubrik", "version": 2 })
    );
    let (_, body) = app
        .post_as(
            &editor,
            update,
            json!({ "input": { "id": id, "expectedVersion": 1, "title": "Gammal" } }),
        )
        .await;
    assert_code(&body["errors"][0], "CONFLICT", None);

    // The organisation it credits cannot be deleted from under it.
    let error = app
        .err(
            "mutation($id: ID!) { deleteOrganisation(input: { id: $id }) { slug } }",
            json!({ "id": ours }),
        )
        .await;
    assert_code(&error, "CONFLICT", None);

    let (_, body) = app
        .post_as(
            &Caller::Anonymous,
            CREATE_EVIDENCE,
            evidence(&[&ours], "PUBLIC", "https://dn.se/b"),
        )
        .await;
    assert_code(&body["errors"][0], "UNAUTHENTICATED", None);
    let (_, body) = app
        .post_as(
            &editor,
            "mutation($id: ID!) { deleteEvidence(input: { id: $id }) { title } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(body["data"]["deleteEvidence"]["title"], "Ny rubrik");
}

#[tokio::test]
async fn the_public_sees_public_evidence_and_cooperations_only() {
    let app = TestApp::start().await;
    let org = app.organisation("org", "Org").await;
    app.ok(
        CREATE_EVIDENCE,
        evidence(&[&org], "PUBLIC", "https://dn.se/a"),
    )
    .await;
    app.ok(
        CREATE_EVIDENCE,
        evidence(&[&org], "NETWORK", "https://dn.se/b"),
    )
    .await;
    let query = "query($slug: String!) { organisation(slug: $slug) { evidence { totalCount nodes { visibility } } } evidence { totalCount } }";
    let (_, body) = app
        .post_as(&Caller::Anonymous, query, json!({ "slug": "org" }))
        .await;
    assert_eq!(body["data"]["evidence"]["totalCount"], 1, "{body}");
    assert_eq!(
        body["data"]["organisation"]["evidence"],
        json!({ "totalCount": 1, "nodes": [{ "visibility": "PUBLIC" }] })
    );
    let admin = app.ok(query, json!({ "slug": "org" })).await;
    assert_eq!(admin["evidence"]["totalCount"], 2);

    let town = app
        .ok(
            "mutation { createAuthority(input: { slug: \"stockholm\", name: \"Stockholm\", level: LOCAL, kind: MUNICIPALITY, isMetropolitan: true }) { id } }",
            json!({}),
        )
        .await["createAuthority"]["id"]
        .clone();
    let agency = app.authority("agency", "Agency", None).await;
    let cooperation = |authority: &Value, organisations: Vec<&str>, visibility: &str| {
        json!({ "input": { "kind": "AGREEMENT", "title": "Överenskommelse", "summary": "s",
            "authorityId": authority, "establishedOn": "2025-01-01", "visibility": visibility,
            "organisationIds": organisations } })
    };
    let error = app
        .err(
            CREATE_COOPERATION,
            cooperation(&json!(agency), vec![&org], "PUBLIC"),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.authorityId"));
    let error = app
        .err(CREATE_COOPERATION, cooperation(&town, vec![], "PUBLIC"))
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.organisationIds"));
    let mut ended_early = cooperation(&town, vec![&org], "PUBLIC");
    ended_early["input"]["endedOn"] = json!("2024-12-31");
    let error = app.err(CREATE_COOPERATION, ended_early).await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.endedOn"));
    let created = app
        .ok(CREATE_COOPERATION, cooperation(&town, vec![&org], "PUBLIC"))
        .await;
    assert_eq!(
        created["createCooperation"]["authority"],
        json!({ "slug": "stockholm", "isMetropolitan": true })
    );
    app.ok(
        CREATE_COOPERATION,
        cooperation(&town, vec![&org], "ORGANISATION"),
    )
    .await;
    let query = "{ cooperations(filter: { metropolitan: true }) { totalCount } authority(slug: \"stockholm\") { cooperations { totalCount } } }";
    let (_, body) = app.post_as(&Caller::Anonymous, query, json!({})).await;
    assert_eq!(body["data"]["cooperations"]["totalCount"], 1, "{body}");
    assert_eq!(body["data"]["authority"]["cooperations"]["totalCount"], 1);
    let admin = app.ok(query, json!({})).await;
    assert_eq!(admin["cooperations"]["totalCount"], 2);
    let error = app
        .err(
            "mutation($id: ID!) { deleteAuthority(input: { id: $id }) { slug } }",
            json!({ "id": town }),
        )
        .await;
    assert_code(&error, "CONFLICT", None);
}

#[tokio::test]
async fn themes_are_the_admins_and_tag_records_until_deleted() {
    let app = TestApp::start().await;
    let org = app.organisation("org", "Org").await;
    let editor = editor_of(&app, "editor@example.org", &org).await;
    let create = "mutation { createTheme(input: { slug: \"halsa\", name: \"Hälsa\" }) { id } }";
    let (_, body) = app.post_as(&editor, create, json!({})).await;
    assert_code(&body["errors"][0], "FORBIDDEN", None);
    let theme = app.ok(create, json!({})).await["createTheme"]["id"].clone();
    let error = app.err(create, json!({})).await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.slug"));
    let proposal = app
        .ok(
            "mutation($input: CreateProposalInput!) { createProposal(input: $input) { id themes { slug } } }",
            json!({ "input": { "title": "P", "summary": "s", "body": "b", "visibility": "PUBLIC",
                "leadOrganisationId": org, "themeIds": [theme] } }),
        )
        .await;
    assert_eq!(
        proposal["createProposal"]["themes"],
        json!([{ "slug": "halsa" }])
    );
    let listed = app
        .ok("{ proposals(filter: { theme: \"halsa\" }) { totalCount } themes { nodes { slug name } } }", json!({}))
        .await;
    assert_eq!(listed["proposals"]["totalCount"], 1);
    assert_eq!(
        listed["themes"]["nodes"],
        json!([{ "slug": "halsa", "name": "Hälsa" }])
    );
    app.ok(
        "mutation($id: ID!) { deleteTheme(input: { id: $id }) { slug } }",
        json!({ "id": theme }),
    )
    .await;
    let after = app
        .ok(
            "query($id: ID!) { node(id: $id) { ... on Proposal { themes { slug } } } }",
            json!({ "id": proposal["createProposal"]["id"] }),
        )
        .await;
    assert_eq!(
        after["node"]["themes"],
        json!([]),
        "the proposal lost the tag, nothing else"
    );
}
