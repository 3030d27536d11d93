//! Cacheable reads: a partner page's GET of a query carries `Cache-Control` and a strong
//! `ETag` that `If-None-Match` answers with 304, and persisted queries let it send a hash
//! instead of the document.

use samverkan::config::HttpSettings;
use samverkan_tests::{TestApp, assert_code};
use serde_json::{Value, json};

const COUNT: &str = "{ organisations { totalCount } }";
/// `printf '%s' '{ organisations { totalCount } }' | sha256sum`
const COUNT_HASH: &str = "56b6f12ef5376e1aff7f472adaa1d387418b8f58ff7203a19475bfe4c624132b";
const VIEWER: &str = "{ viewer { kind } }";
/// `printf '%s' '{ viewer { kind } }' | sha256sum`
const VIEWER_HASH: &str = "ac09e330833d64b1894189c95185df626912f84019f907fd9ddc43fba851fdd4";

fn persisted(hash: &str) -> String {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } }).to_string()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn an_anonymous_get_is_cacheable_and_revalidates_with_its_etag() {
    let app = TestApp::start().await;
    app.organisation("rsmh", "RSMH").await;
    // The change feed also reports the creation (on PostgreSQL through LISTEN, a moment
    // later) and empties the kept answers when it does: let it arrive before an answer is
    // kept, or the second GET below may find the memory emptied by it.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let get = |etag: Option<&str>| {
        let request = app
            .client
            .get(format!("{}/graphql", app.url))
            .query(&[("query", COUNT)]);
        match etag {
            Some(etag) => request.header("if-none-match", etag).send(),
            None => request.send(),
        }
    };
    let first = get(None).await.expect("GET");
    assert_eq!(first.status(), 200);
    assert_eq!(
        header(&first, "cache-control").as_deref(),
        Some("public, max-age=30")
    );
    assert!(header(&first, "vary").is_some_and(|v| v.contains("authorization")));
    let etag = header(&first, "etag").expect("an ETag");
    assert!(
        etag.starts_with('"') && etag.ends_with('"'),
        "strong: {etag}"
    );
    let body: Value = first.json().await.expect("json");
    assert_eq!(body["data"]["organisations"]["totalCount"], 1);
    let remaining = body["extensions"]["cost"]["remaining"].clone();

    // The same answer: the same ETag, though the remaining budget moved. It comes from
    // this server's memory: no statement runs.
    let (second, statements) = app.count_statements(get(None)).await;
    let second = second.expect("GET");
    assert_eq!(statements, 0, "answered from memory");
    assert_eq!(header(&second, "etag").as_deref(), Some(etag.as_str()));
    let body: Value = second.json().await.expect("json");
    assert_ne!(body["extensions"]["cost"]["remaining"], remaining);

    let fresh = get(Some(&etag)).await.expect("GET");
    assert_eq!(fresh.status(), 304);
    assert_eq!(header(&fresh, "etag").as_deref(), Some(etag.as_str()));
    assert!(fresh.bytes().await.expect("body").is_empty());

    // A change through this server shows at once: a full answer with another ETag.
    app.organisation("kris", "KRIS").await;
    let changed = get(Some(&etag)).await.expect("GET");
    assert_eq!(changed.status(), 200);
    assert_ne!(header(&changed, "etag").as_deref(), Some(etag.as_str()));
}

#[tokio::test]
async fn signed_in_users_posts_and_mutations_are_never_cached() {
    let app = TestApp::start().await;
    let user = app
        .client
        .get(format!("{}/graphql", app.url))
        .query(&[("query", COUNT)])
        .bearer_auth(&app.admin_token)
        .send()
        .await
        .expect("GET");
    assert_eq!(user.status(), 200);
    assert_eq!(
        header(&user, "cache-control").as_deref(),
        Some("private, no-store")
    );
    assert!(header(&user, "etag").is_none());
    let partner = app.partner_token("site", "READ_PUBLIC", &[]).await;
    let by_partner = app
        .client
        .get(format!("{}/graphql", app.url))
        .query(&[("query", COUNT)])
        .header("x-api-key", &partner)
        .send()
        .await
        .expect("GET");
    assert_eq!(
        header(&by_partner, "cache-control").as_deref(),
        Some("private, max-age=30"),
        "the browser may keep a partner's answer; a shared cache may not"
    );
    assert!(header(&by_partner, "etag").is_some());
    for query in [
        COUNT,
        "mutation { createOrganisation(input: { slug: \"x\", name: \"X\", kind: OTHER }) { id } }",
    ] {
        let post = app
            .client
            .post(format!("{}/graphql", app.url))
            .bearer_auth(&app.admin_token)
            .json(&json!({ "query": query }))
            .send()
            .await
            .expect("POST");
        assert_eq!(post.status(), 200);
        assert_eq!(header(&post, "cache-control").as_deref(), Some("no-store"));
        assert!(header(&post, "etag").is_none());
    }
    // An answer with errors is not kept either.
    let failed = app
        .client
        .get(format!("{}/graphql", app.url))
        .query(&[("query", "{ apiTokens { totalCount } }")])
        .send()
        .await
        .expect("GET");
    assert_eq!(
        header(&failed, "cache-control").as_deref(),
        Some("no-store")
    );
}

#[tokio::test]
async fn automatic_persisted_queries_learn_a_document_once() {
    let app = TestApp::start().await;
    app.organisation("rsmh", "RSMH").await;
    let by_hash = || {
        app.client
            .get(format!("{}/graphql", app.url))
            .query(&[("extensions", persisted(COUNT_HASH))])
            .send()
    };
    let unknown = by_hash().await.expect("GET");
    assert_eq!(unknown.status(), 200);
    let body: Value = unknown.json().await.expect("json");
    assert_code(&body["errors"][0], "PERSISTED_QUERY_NOT_FOUND", None);
    assert_eq!(body["errors"][0]["message"], "PersistedQueryNotFound");

    // The wrong hash for the text is refused and nothing is learned.
    let wrong = app
        .client
        .post(format!("{}/graphql", app.url))
        .json(&json!({ "query": VIEWER, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": COUNT_HASH } } }))
        .send()
        .await
        .expect("POST");
    assert_eq!(wrong.status(), 400);
    let body: Value = wrong.json().await.expect("json");
    assert_code(&body["errors"][0], "PROVIDED_SHA_DOES_NOT_MATCH", None);
    let still: Value = by_hash().await.expect("GET").json().await.expect("json");
    assert_code(&still["errors"][0], "PERSISTED_QUERY_NOT_FOUND", None);

    let registered = app
        .client
        .post(format!("{}/graphql", app.url))
        .json(&json!({ "query": COUNT, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": COUNT_HASH } } }))
        .send()
        .await
        .expect("POST");
    let body: Value = registered.json().await.expect("json");
    assert_eq!(body["data"]["organisations"]["totalCount"], 1);

    let known = by_hash().await.expect("GET");
    assert_eq!(known.status(), 200);
    assert_eq!(
        header(&known, "cache-control").as_deref(),
        Some("public, max-age=30")
    );
    let body: Value = known.json().await.expect("json");
    assert_eq!(body["data"]["organisations"]["totalCount"], 1);
}

#[tokio::test]
async fn persisted_only_runs_registered_documents_for_anonymous_and_partner_callers() {
    let settings = HttpSettings {
        persisted_only: true,
        persisted_queries: vec![COUNT.to_owned()],
        ..HttpSettings::default()
    };
    let app = TestApp::start_with(settings, None).await;
    let anonymous = |query: Option<&str>, hash: &str| {
        let mut body =
            json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
        if let Some(query) = query {
            body["query"] = query.into();
        }
        app.client
            .post(format!("{}/graphql", app.url))
            .json(&body)
            .send()
    };
    let body: Value = anonymous(None, COUNT_HASH)
        .await
        .expect("POST")
        .json()
        .await
        .expect("json");
    assert_eq!(body["data"]["organisations"]["totalCount"], 0, "{body}");
    for query in [None, Some(VIEWER)] {
        let body: Value = anonymous(query, VIEWER_HASH)
            .await
            .expect("POST")
            .json()
            .await
            .expect("json");
        assert_code(&body["errors"][0], "PERSISTED_QUERY_NOT_IN_LIST", None);
        assert!(body.get("data").is_none(), "nothing ran: {body}");
    }
    let (_, text) = app
        .post_as(&samverkan_tests::Caller::Anonymous, VIEWER, json!({}))
        .await;
    assert_code(&text["errors"][0], "PERSISTED_QUERY_NOT_IN_LIST", None);
    let (_, registered_text) = app
        .post_as(&samverkan_tests::Caller::Anonymous, COUNT, json!({}))
        .await;
    assert_eq!(registered_text["data"]["organisations"]["totalCount"], 0);
    // A signed-in user (the network's own frontend, GraphiQL) may send any document.
    let user = app.ok(VIEWER, json!({})).await;
    assert_eq!(user["viewer"]["kind"], "USER");
}

#[tokio::test]
async fn answers_kept_in_memory_are_not_shared_between_callers() {
    let app = TestApp::start().await;
    let partner = app.partner_token("site", "READ_NETWORK", &[]).await;
    let get = |key: Option<&str>| {
        let request = app
            .client
            .get(format!("{}/graphql", app.url))
            .query(&[("query", VIEWER)]);
        match key {
            Some(key) => request.header("x-api-key", key).send(),
            None => request.send(),
        }
    };
    for _ in 0..2 {
        let anonymous: Value = get(None).await.expect("GET").json().await.expect("json");
        assert_eq!(anonymous["data"]["viewer"]["kind"], "ANONYMOUS");
        let by_partner: Value = get(Some(&partner))
            .await
            .expect("GET")
            .json()
            .await
            .expect("json");
        assert_eq!(by_partner["data"]["viewer"]["kind"], "PARTNER_TOKEN");
    }
    // With a max age of 0 nothing is kept: every GET runs.
    let settings = HttpSettings {
        cache_max_age: std::time::Duration::ZERO,
        ..HttpSettings::default()
    };
    let app = TestApp::start_with(settings, None).await;
    let get = || {
        app.client
            .get(format!("{}/graphql", app.url))
            .query(&[("query", COUNT)])
            .send()
    };
    get().await.expect("GET");
    let (response, statements) = app.count_statements(get()).await;
    let response = response.expect("GET");
    assert!(statements > 0, "ran again");
    assert_eq!(
        header(&response, "cache-control").as_deref(),
        Some("public, max-age=0")
    );
}

#[tokio::test]
async fn a_change_through_another_server_process_makes_kept_answers_stale_at_once() {
    let app = TestApp::start().await;
    app.organisation("rsmh", "RSMH").await;
    let other = samverkan_tests::ChildServer::spawn(&app.database_url, &[]).await;
    let count = || async {
        let body: Value = app
            .client
            .get(format!("{}/graphql", other.url))
            .query(&[("query", COUNT)])
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("json");
        body["data"]["organisations"]["totalCount"].clone()
    };
    assert_eq!(count().await, 1);
    assert_eq!(count().await, 1, "kept");
    // Written through this process; the other one hears of it (NOTIFY on PostgreSQL, the
    // audit log on SQLite) well within the max age of 30 s.
    app.organisation("kris", "KRIS").await;
    let started = std::time::Instant::now();
    while count().await != 2 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "the other process still answers from memory"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
