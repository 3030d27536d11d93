//! The HTTP surface: GET for queries only, health and readiness, GraphiQL, and internal
//! errors that reach the client only as INTERNAL with a request id.

use samverkan_tests::{TestApp, assert_code};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = TestApp::start().await;
    app.organisation("rsmh", "RSMH").await;
    let response = app
        .client
        .get(format!("{}/graphql", app.url))
        .query(&[
            (
                "query",
                "query One($s: String!) { organisation(slug: $s) { name } }",
            ),
            ("variables", "{\"s\":\"rsmh\"}"),
        ])
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["data"]["organisation"]["name"], "RSMH");

    let mutation = "mutation { createOrganisation(input: { slug: \"via-get\", name: \"Via GET\", kind: OTHER }) { id } }";
    let response = app
        .client
        .get(format!("{}/graphql", app.url))
        .query(&[("query", mutation)])
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 405);
    let count = app.ok("{ organisations { totalCount } }", json!({})).await;
    assert_eq!(
        count["organisations"]["totalCount"], 1,
        "the mutation did not run"
    );
}

#[tokio::test]
async fn health_readiness_and_graphiql() {
    let app = TestApp::start().await;
    for (path, status) in [("/healthz", 200), ("/readyz", 200), ("/graphiql", 200)] {
        let response = app
            .client
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), status, "{path}");
    }
}

#[tokio::test]
async fn graphiql_is_served_whole_from_the_server_itself() {
    let app = TestApp::start().await;
    let response = app
        .client
        .get(format!("{}/graphiql", app.url))
        .send()
        .await
        .expect("GET");
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .expect("policy")
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let page = response.text().await.expect("text");
    assert!(
        !page.contains("http://") && !page.contains("https://") && !page.contains("//unpkg"),
        "no other host is named in the page: {page}"
    );
    // Every file the page names comes from this server.
    let mut files = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in page.match_indices(attribute) {
            let rest = &page[at + attribute.len()..];
            files.push(rest[..rest.find('"').expect("closing quote")].to_owned());
        }
    }
    assert_eq!(files.len(), 5, "{files:?}");
    for file in &files {
        assert!(file.starts_with("/graphiql/"), "{file}");
        let response = app
            .client
            .get(format!("{}{file}", app.url))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200, "{file}");
        let kind = response.headers()["content-type"]
            .to_str()
            .expect("type")
            .to_owned();
        assert!(
            kind.starts_with("text/javascript") || kind.starts_with("text/css"),
            "{file}: {kind}"
        );
        let text = response.text().await.expect("text");
        assert!(text.len() > 500, "{file}");
    }
    let start = app
        .client
        .get(format!("{}/graphiql/start.js", app.url))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    assert!(start.contains("\"/graphql\"") && start.contains("query Welcome"));
    let missing = app
        .client
        .get(format!("{}/graphiql/other.js", app.url))
        .send()
        .await
        .expect("GET");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn database_failures_are_masked_as_internal_with_a_request_id() {
    let app = TestApp::start().await;
    app.db
        .execute_unprepared("DROP TABLE dialogue_organisations")
        .await
        .expect("drop");
    let response = app
        .client
        .post(format!("{}/graphql", app.url))
        .json(&json!({ "query": "{ dialogues(filter: { organisationId: \"T3JnYW5pc2F0aW9uOjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA\" }) { totalCount } }" }))
        .send()
        .await
        .expect("POST");
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("request id header");
    let body: Value = response.json().await.expect("json");
    let error = &body["errors"][0];
    assert_code(error, "INTERNAL", None);
    assert_eq!(error["extensions"]["requestId"], request_id.as_str());
    let text = body.to_string().to_lowercase();
    for leak in [
        "dialogue_organisations",
        "select",
        "sqlite",
        "postgres",
        "no such table",
        "relation",
        ".rs",
    ] {
        assert!(!text.contains(leak), "response leaks {leak:?}: {body}");
    }
}

#[tokio::test]
async fn unknown_node_ids_are_null_and_malformed_ids_are_bad_input() {
    let app = TestApp::start().await;
    let data = app.ok("{ node(id: \"bm9wZQ\") { id } }", json!({})).await;
    assert!(data["node"].is_null());
    let error = app
        .err("{ dialogue(id: \"garbage\") { id } }", json!({}))
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("id"));
    let org = app.organisation("rsmh", "RSMH").await;
    let error = app
        .err(
            "query($id: ID!) { proposal(id: $id) { id } }",
            json!({ "id": org }),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("id"));
}

#[tokio::test]
async fn a_cors_preflight_is_answered_no_content() {
    let app = TestApp::start().await;
    let response = app
        .client
        .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.url))
        .header("origin", "https://anywhere.example.org")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn the_sdl_is_served_even_with_introspection_off_and_is_cacheable() {
    let settings = samverkan::config::HttpSettings {
        introspection: false,
        ..samverkan::config::HttpSettings::default()
    };
    let app = TestApp::start_with(settings, None).await;
    let url = format!("{}/schema.graphql", app.url);
    let response = app.client.get(&url).send().await.expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let etag = response.headers()["etag"]
        .to_str()
        .expect("etag")
        .to_owned();
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql"),
    )
    .expect("schema.graphql");
    assert_eq!(response.text().await.expect("body"), committed);
    let again = app
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("request");
    assert_eq!(again.status().as_u16(), 304);

    let hidden = samverkan::config::HttpSettings {
        schema_sdl: false,
        ..samverkan::config::HttpSettings::default()
    };
    let app = TestApp::start_with(hidden, None).await;
    let status = app
        .client
        .get(format!("{}/schema.graphql", app.url))
        .send()
        .await
        .expect("request")
        .status();
    assert_eq!(status.as_u16(), 404);
}

#[tokio::test]
async fn response_keys_come_in_the_order_the_query_asked_for_them() {
    let app = TestApp::with_demo().await;
    // The slow fields first, the one that needs no database last: collected as they
    // complete, `viewer` would come first.
    let query = "{ dialogues(first: 3) { totalCount nodes { title heldOn createdAt organisations { name } } } organisations(first: 2) { nodes { slug name } totalCount } ...Rest viewer { kind } } fragment Rest on Query { themes(first: 1) { totalCount } }";
    for _ in 0..5 {
        let text = app
            .client
            .post(format!("{}/graphql", app.url))
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("POST")
            .text()
            .await
            .expect("text");
        let at = |key: &str| {
            text.find(&format!("\"{key}\""))
                .unwrap_or_else(|| panic!("{key} in {text}"))
        };
        let order = [
            at("dialogues"),
            at("organisations"),
            at("themes"),
            at("viewer"),
        ];
        assert!(order.is_sorted(), "top-level keys out of order: {text}");
        assert!(at("totalCount") < at("nodes"), "{text}");
        assert!(
            at("title") < at("heldOn") && at("heldOn") < at("createdAt"),
            "{text}"
        );
    }
    // Times are RFC 3339 in UTC with milliseconds; dates are YYYY-MM-DD.
    let body: Value = app
        .client
        .post(format!("{}/graphql", app.url))
        .json(&json!({ "query": "{ dialogues(first: 1) { nodes { heldOn createdAt } } }" }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("json");
    let node = &body["data"]["dialogues"]["nodes"][0];
    let created = node["createdAt"].as_str().expect("createdAt");
    assert_eq!(created.len(), "2026-11-20T14:00:00.000Z".len(), "{created}");
    assert!(
        created.ends_with('Z') && created.as_bytes()[19] == b'.',
        "{created}"
    );
    let held = node["heldOn"].as_str().expect("heldOn");
    assert_eq!(held.len(), 10, "{held}");
}

/// A query without variables or directives runs without the engine's preparation: what it
/// answers, and how it fails, must be what the engine answers (its twin with a no-op
/// `@include(if: true)` takes the engine's path), every time it is sent.
#[tokio::test]
async fn a_document_answers_the_same_every_time_it_is_sent() {
    use samverkan_tests::Caller;
    let app = TestApp::with_demo().await;
    let documents = [
        // Aliases, a fragment, an inline fragment, `__typename` at the root and below.
        "query Page { __typename first: organisations(first: 2) { nodes { __typename name ...Place } } again: organisations(first: 1, orderBy: { field: NAME, direction: DESC }) { nodes { ... on Organisation { slug } } } } fragment Place on Organisation { city }",
        // A field that fails beside one that answers: the error keeps its path.
        r#"{ organisations(first: 1) { totalCount } dialogue(id: "garbage") { id } }"#,
        // Nothing found.
        r#"{ organisation(slug: "no-such-organisation") { name } }"#,
        // A literal `@skip` and `@include`.
        "{ organisations(first: 2) { totalCount @skip(if: true) nodes { name @include(if: false) slug } } }",
        // Two operations: the request names one.
        "query A { viewer { kind } } query B { themes(first: 1) { totalCount } }",
    ];
    let callers = [Caller::Anonymous, Caller::User(app.admin_token.clone())];
    for caller in &callers {
        for document in documents {
            let names: &[Option<&str>] = if document.starts_with("query A") {
                &[Some("B"), Some("A"), Some("C"), None]
            } else {
                &[None]
            };
            for name in names {
                let twin = document.replacen(") {", ") @include(if: true) {", 1);
                let mut answers = Vec::new();
                for query in [document, &twin, document, &twin, document] {
                    let request = app
                        .client
                        .post(format!("{}/graphql", app.url))
                        .json(&json!({ "query": query, "operationName": name }));
                    let response = caller.apply(request).send().await.expect("POST");
                    let status = response.status().as_u16();
                    let body: Value = response.json().await.expect("JSON");
                    answers.push((status, body["data"].clone(), body["errors"].clone()));
                }
                assert_ne!(twin, document);
                // The twin's text is longer, so its errors' columns differ; nothing else may.
                let placeless = |(status, data, mut errors): (u16, Value, Value)| {
                    for error in errors.as_array_mut().into_iter().flatten() {
                        error.as_object_mut().map(|error| error.remove("locations"));
                    }
                    (status, data, errors)
                };
                for at in [2, 4] {
                    assert_eq!(answers[0], answers[at], "{document} named {name:?}");
                }
                for at in [1, 3] {
                    assert_eq!(
                        placeless(answers[0].clone()),
                        placeless(answers[at].clone()),
                        "{document} named {name:?}"
                    );
                }
                let (status, data, errors) = &answers[0];
                match *name {
                    Some("C") | None if document.starts_with("query A") => {
                        assert!(errors.is_array(), "{document} named {name:?}: {errors}");
                    }
                    _ if document.contains("garbage") => {
                        assert!(data["organisations"]["totalCount"].is_u64(), "{data}");
                        assert_eq!(errors[0]["path"], json!(["dialogue"]), "{errors}");
                        assert_code(&errors[0], "BAD_USER_INPUT", Some("id"));
                    }
                    _ => assert!(
                        errors.is_null(),
                        "{document} named {name:?}: {status} {errors}"
                    ),
                }
            }
        }
    }
}
