//! Compiled plans: a document that a plan covers is answered, byte for byte, as the resolver
//! engine answers it, for every caller; a document or argument plans do not cover goes to
//! the engine. The engine's answer is the same document with its root fields in an inline
//! fragment, which plans leave to the engine.

use samverkan::config::HttpSettings;
use samverkan_tests::{Caller, TestApp, assert_code};
use serde_json::json;

const METRICS_TOKEN: &str = "plans-metrics";

/// Documents that plans cover: every field they write, of every type, each relation with
/// and without its arguments, aliases, `__typename`, filters, orderings, empty pages,
/// lookups that find nothing, and connections' edges, cursors and page info.
const COVERED: &[&str] = &[
    "{ organisations(first: 50, orderBy: { field: NAME, direction: ASC }) { nodes { name dialogues(first: 10) { nodes { title heldOn authorities { name } } } } } }",
    "{ proposals(first: 20, filter: { status: SUBMITTED }, orderBy: { field: UPDATED_AT, direction: DESC }) { nodes { title updatedAt leadOrganisation { name } } } }",
    "{ organisations { __typename nodes { __typename id slug name kind description website city version createdAt updatedAt } } }",
    "{ organisations(last: 7, orderBy: { field: SLUG, direction: DESC }) { nodes { slug dialogues(first: 3, orderBy: { field: TITLE, direction: ASC }) { __typename nodes { id title } } } } }",
    "{ organisations(filter: { text: \"ÖREBRO\" }) { nodes { name } } }",
    "{ organisations(filter: { text: \"finns inte\" }) { nodes { name } } }",
    "{ authorities(first: 100) { nodes { __typename id slug name level kind website code version createdAt updatedAt isMetropolitan } } }",
    "{ authorities(filter: { metropolitan: true }, orderBy: { field: NAME, direction: DESC }) { nodes { name } } }",
    "{ d: dialogues(last: 30) { n: nodes { id title kind status heldOn summary outcome visibility version createdAt updatedAt authorities { id name } } } }",
    "{ dialogues(filter: { heldFrom: \"2010-01-01\" }, orderBy: { field: HELD_ON, direction: ASC }) { nodes { heldOn t: title a: authorities { __typename n: name } } } }",
    "{ proposals { nodes { __typename id title summary body status visibility version createdAt updatedAt leadOrganisation { __typename id name city } } } }",
    "{ proposals(orderBy: { field: TITLE, direction: ASC }) { nodes { title } all: nodes { id leadOrganisation { slug } } } }",
    "{ a: organisations(first: 2) { nodes { name } } b: proposals(first: 2) { nodes { title } } c: authorities(first: 2) { nodes { name } } d: dialogues(first: 2) { nodes { title } } }",
    "{ organisation(slug: \"rsmh\") { __typename id slug name kind description website city version createdAt updatedAt dialogues(last: 2) { nodes { title } } } }",
    "{ authority(slug: \"socialdepartementet\") { id slug name level kind website code version createdAt updatedAt isMetropolitan } }",
    "{ organisation(slug: \"finns-inte\") { name } authority(slug: \"finns-inte\") { name } }",
    "{ organisations(first: 3) { __typename pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor } edges { __typename cursor node { name } } } }",
    "{ organisations(last: 5, orderBy: { field: SLUG, direction: ASC }) { edges { node { slug dialogues(first: 2) { pageInfo { hasNextPage endCursor } edges { cursor n: node { title } } nodes { id } } } } } }",
    "{ organisations(filter: { text: \"finns inte\" }) { pageInfo { startCursor endCursor hasNextPage hasPreviousPage } edges { cursor } } }",
    "{ dialogues(last: 3, orderBy: { field: HELD_ON, direction: ASC }) { pageInfo { startCursor hasPreviousPage } edges { cursor node { heldOn } } } }",
    "{ proposals(orderBy: { field: TITLE, direction: DESC }) { edges { cursor node { title leadOrganisation { name } } } pageInfo { endCursor } } }",
    "{ authorities(first: 4, orderBy: { field: NAME, direction: ASC }) { pageInfo { endCursor } edges { cursor } } }",
    "{ organisation(slug: \"finns-inte\") { dialogues { pageInfo { hasNextPage } nodes { authorities { name } } } } }",
    "{ organisations(first: 1) { nodes { dialogues(first: 1) { nodes { title } } } } dialogues(last: 1) { edges { cursor } } }",
    "{ organisations(first: 5) { nodes { dialogues(first: 1) { pageInfo { hasNextPage } } } } dialogues(last: 2) { pageInfo { hasPreviousPage } } }",
];

/// The answer's text up to its cost report (which changes with the caller's budget), and
/// whether it carries errors.
async fn answer(app: &TestApp, caller: &Caller, query: &str) -> String {
    let request = app
        .client
        .post(format!("{}/graphql", app.url))
        .json(&json!({ "query": query }));
    let text = caller
        .apply(request)
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("text");
    let said = text
        .split_once(",\"extensions\":")
        .map_or(&*text, |(said, _)| said);
    assert!(!said.contains("\"errors\""), "{query}: {text}");
    said.to_owned()
}

/// The same document, its root fields in an inline fragment.
fn for_the_engine(query: &str) -> String {
    format!("{{ ... on Query {query} }}")
}

/// How many answers plans wrote, from `/metrics`.
async fn planned(app: &TestApp) -> u64 {
    let text = app
        .client
        .get(format!("{}/metrics", app.url))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|line| line.strip_prefix("samverkan_planned_answers_total "))
        .map_or(0, |n| n.trim().parse().expect("a count"))
}

async fn demo_with_metrics() -> TestApp {
    let settings = HttpSettings {
        metrics_token: Some(METRICS_TOKEN.into()),
        ..Default::default()
    };
    let app = TestApp::start_with(settings, None).await;
    samverkan::seed::demo(&app.db)
        .await
        .map_err(|e| e.message())
        .expect("seed the demo network");
    app
}

#[tokio::test]
async fn a_planned_answer_is_the_engines_answer_for_every_caller() {
    let app = demo_with_metrics().await;
    // Records that only members of the network may see.
    let lead = app.organisation("qwerty", "Qwertyföreningen").await;
    let authority = app
        .authority("intern-myndighet", "Intern myndighet", None)
        .await;
    app.proposal("Internt förslag", &lead, "NETWORK").await;
    app.dialogue(
        "Internt möte",
        "2024-05-02",
        &[&lead],
        &[&authority],
        "NETWORK",
    )
    .await;
    let cursor = app
        .ok(
            "{ organisations(first: 2) { pageInfo { endCursor } } }",
            json!({}),
        )
        .await["organisations"]["pageInfo"]["endCursor"]
        .as_str()
        .expect("a cursor")
        .to_owned();
    let after =
        format!("{{ organisations(first: 3, after: \"{cursor}\") {{ nodes {{ name }} }} }}");
    let before = format!(
        "{{ organisations(last: 1, before: \"{cursor}\") {{ pageInfo {{ hasPreviousPage hasNextPage }} nodes {{ name }} }} }}"
    );
    let mut documents: Vec<&str> = COVERED.to_vec();
    documents.extend([after.as_str(), before.as_str()]);

    let partner = app.partner_token("partner", "READ_PUBLIC", &[]).await;
    let callers = [
        Caller::Anonymous,
        Caller::User(app.admin_token.clone()),
        Caller::Partner(partner),
    ];
    let planned_before = planned(&app).await;
    for caller in &callers {
        for query in &documents {
            let planned = answer(&app, caller, query).await;
            let engine = answer(&app, caller, &for_the_engine(query)).await;
            assert_eq!(planned, engine, "{query} as {caller:?}");
        }
    }
    assert_eq!(
        planned(&app).await - planned_before,
        u64::try_from(callers.len() * documents.len()).expect("small"),
        "every covered document was planned, and no fragment was"
    );

    // The caller's visibility holds inside the plan.
    let proposals = "{ proposals { nodes { title } } }";
    assert!(
        !answer(&app, &Caller::Anonymous, proposals)
            .await
            .contains("Internt förslag")
    );
    assert!(
        answer(&app, &callers[1], proposals)
            .await
            .contains("Internt förslag")
    );
    let dialogues = "{ organisations(filter: { text: \"Qwerty\" }) { nodes { dialogues { nodes { title authorities { name } } } } } }";
    assert_eq!(
        answer(&app, &Caller::Anonymous, dialogues).await,
        "{\"data\":{\"organisations\":{\"nodes\":[{\"dialogues\":{\"nodes\":[]}}]}}"
    );
    assert!(
        answer(&app, &callers[1], dialogues)
            .await
            .contains("Intern myndighet")
    );
}

#[tokio::test]
async fn what_plans_do_not_cover_is_answered_by_the_engine() {
    let app = demo_with_metrics().await;
    let before = planned(&app).await;
    // Bad page arguments: the engine's error, as with variables.
    for (query, field) in [
        ("{ organisations(first: 500) { nodes { name } } }", "first"),
        (
            "{ organisations(after: \"inte en markör\") { nodes { name } } }",
            "after",
        ),
        (
            "{ organisations { nodes { dialogues(first: -1) { nodes { title } } } } }",
            "first",
        ),
    ] {
        let (_, body) = app.post_as(&Caller::Anonymous, query, json!({})).await;
        assert_code(&body["errors"][0], "BAD_USER_INPUT", Some(field));
    }
    // Fields that plans do not write, and a connection's other fields.
    for query in [
        "{ organisations { totalCount nodes { name } } }",
        "{ organisations { nodes { name contactEmail } } }",
        "{ proposals { nodes { title coSigners { name } } } }",
        // A relation asked at two places of a level: the engine reads it once for both.
        "{ proposals(first: 8) { nodes { a: leadOrganisation { name } b: leadOrganisation { slug } } } }",
        "{ organisations { nodes { dialogues { nodes { title } } } edges { node { dialogues { nodes { title } } } } } }",
        "{ organisations { nodes { name } } dialogue(id: \"RGlhbG9ndWU6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw\") { title } }",
    ] {
        let (_, body) = app.post_as(&Caller::Anonymous, query, json!({})).await;
        assert!(body.get("errors").is_none(), "{query}: {body}");
    }
    assert_eq!(planned(&app).await, before, "none of these was planned");
}

/// A planned answer to a GET is the engine's to the cache too: the same `ETag`, and 304
/// when the client's copy is still good.
#[tokio::test]
async fn a_planned_get_has_the_engines_etag_and_revalidates() {
    let app = demo_with_metrics().await;
    let query = COVERED[0];
    let get = |query: String, etag: Option<String>| {
        let request = app
            .client
            .get(format!("{}/graphql", app.url))
            .query(&[("query", query)]);
        match etag {
            Some(etag) => request.header("if-none-match", etag).send(),
            None => request.send(),
        }
    };
    let etag = |response: &reqwest::Response| {
        response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let before = planned(&app).await;
    let first = get(query.to_owned(), None).await.expect("GET");
    assert_eq!(first.status(), 200);
    let planned_etag = etag(&first).expect("an ETag");
    assert_eq!(planned(&app).await, before + 1, "the GET was planned");
    let engine = get(for_the_engine(query), None).await.expect("GET");
    assert_eq!(
        etag(&engine),
        Some(planned_etag.clone()),
        "the same answer, the same ETag"
    );
    let fresh = get(query.to_owned(), Some(planned_etag))
        .await
        .expect("GET");
    assert_eq!(fresh.status(), 304);
}
