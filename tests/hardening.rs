//! Safe on the open internet: transport rules, document limits, cost and budgets, tooling
//! switches, clean errors, metrics, CORS, and a generator of hostile documents.

use samverkan::config::HttpSettings;
use samverkan_tests::{Caller, TestApp, assert_code};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const SIMPLE: &str = "{ organisations(first: 5) { totalCount nodes { slug } } }";

/// Sends raw bytes with the given headers; returns status, headers and body text.
async fn raw(
    app: &TestApp,
    method: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, String) {
    let url = format!("{}/graphql", app.url);
    let mut request = match method {
        "GET" => app.client.get(url),
        _ => app.client.post(url).body(body),
    };
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.expect("text"))
}

/// What no response may ever contain: SQL, Rust debug text, file paths, panics.
fn assert_clean(text: &str) {
    let lower = text.to_lowercase();
    for leak in [
        "select ",
        "insert into",
        "sqlx",
        "sqlite",
        "postgres",
        "panicked",
        ".rs:",
        "/src/",
        "src\\",
        "::",
        "thread '",
        "backtrace",
        "error(",
        "line 1 column",
    ] {
        assert!(!lower.contains(leak), "the response leaks {leak:?}: {text}");
    }
}

fn mutation_body() -> Vec<u8> {
    json!({ "query": "mutation { createOrganisation(input: { slug: \"sneaky\", name: \"Sneaky\", kind: OTHER }) { id } }" })
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn only_json_posts_run_and_large_bodies_are_refused() {
    let app = TestApp::start().await;
    let auth = format!("Bearer {}", app.admin_token);
    for content_type in [
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "",
    ] {
        let mut headers = vec![("authorization", auth.as_str())];
        if !content_type.is_empty() {
            headers.push(("content-type", content_type));
        }
        let (status, _, text) = raw(&app, "POST", mutation_body(), &headers).await;
        assert_eq!(status, 415, "{content_type:?}: {text}");
        assert_clean(&text);
    }
    let count = app.ok("{ organisations { totalCount } }", json!({})).await;
    assert_eq!(
        count["organisations"]["totalCount"], 0,
        "none of the mutations ran"
    );

    let huge = json!({ "query": SIMPLE, "variables": { "pad": "x".repeat(1024 * 1024) } })
        .to_string()
        .into_bytes();
    let (status, _, text) = raw(&app, "POST", huge, &[("content-type", "application/json")]).await;
    assert_eq!(status, 413, "{text}");
    let (status, _, _) = raw(
        &app,
        "POST",
        mutation_body(),
        &[
            ("content-type", "application/json; charset=utf-8"),
            ("authorization", &auth),
        ],
    )
    .await;
    assert_eq!(status, 200, "application/json with a charset is accepted");
}

#[tokio::test]
async fn media_types_follow_graphql_over_http() {
    let app = TestApp::start().await;
    let body = |query: &str| json!({ "query": query }).to_string().into_bytes();
    let official = [
        ("content-type", "application/json"),
        ("accept", "application/graphql-response+json"),
    ];
    let (status, headers, _) = raw(&app, "POST", body(SIMPLE), &official).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/graphql-response+json");
    let (status, _, text) = raw(&app, "POST", body("{ nosuchfield }"), &official).await;
    assert_eq!(
        status, 400,
        "a document that fails validation is a 400 with the official media type: {text}"
    );
    let refused: Value = serde_json::from_str(&text).expect("JSON");
    assert!(
        refused.get("data").is_none(),
        "a request refused before execution has no data entry: {text}"
    );
    // Execution began: 200 with the official media type, even with `data: null`.
    let create = "mutation { createOrganisation(input: { slug: \"x-org\", name: \"X\", kind: ASSOCIATION }) { id } }";
    let (status, _, text) = raw(&app, "POST", body(create), &official).await;
    let executed: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        executed["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    assert!(executed.get("data").is_some_and(Value::is_null), "{text}");
    // A document over the cost limit is refused as a whole: no location in it.
    let costly = "{ organisations(first: 100) { nodes { dialogues(first: 100) { nodes { authorities { name } organisations { name } } } } } }";
    let (status, _, text) = raw(&app, "POST", body(costly), &official).await;
    let over: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(status, 400, "{text}");
    assert!(over["errors"][0].get("locations").is_none(), "{text}");
    assert!(over.get("data").is_none(), "{text}");
    let legacy = [
        ("content-type", "application/json"),
        ("accept", "application/json"),
    ];
    let (status, headers, _) = raw(&app, "POST", body("{ nosuchfield }"), &legacy).await;
    assert_eq!(
        (status, headers["content-type"].to_str().ok()),
        (200, Some("application/json"))
    );
    let (status, _, _) = raw(
        &app,
        "POST",
        body(SIMPLE),
        &[
            ("content-type", "application/json"),
            ("accept", "text/html"),
        ],
    )
    .await;
    assert_eq!(status, 406);
    let (status, headers, _) = raw(
        &app,
        "POST",
        body(SIMPLE),
        &[("content-type", "application/json")],
    )
    .await;
    assert_eq!(
        (status, headers["content-type"].to_str().ok()),
        (200, Some("application/json")),
        "no Accept means JSON"
    );
}

#[tokio::test]
async fn malformed_requests_get_clean_errors() {
    let app = TestApp::start().await;
    let json_type = [("content-type", "application/json")];
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "malformed JSON",
            b"{\"query\": \"{ organisations { totalCount } }\"".to_vec(),
        ),
        (
            "invalid UTF-8",
            b"{\"query\": \"{ organisations { \xff\xfe } }\"}".to_vec(),
        ),
        ("not an object", b"\"just a string\"".to_vec()),
        ("query of the wrong type", br#"{"query": 42}"#.to_vec()),
        (
            "variables of the wrong type",
            br#"{"query": "{ organisations { totalCount } }", "variables": [1, 2]}"#.to_vec(),
        ),
        ("no query", br#"{"variables": {}}"#.to_vec()),
        (
            "a batch",
            br#"[{"query": "{ organisations { totalCount } }"}]"#.to_vec(),
        ),
        ("empty body", Vec::new()),
    ];
    for (name, body) in cases {
        let (status, _, text) = raw(&app, "POST", body, &json_type).await;
        assert_eq!(status, 400, "{name}: {text}");
        assert_clean(&text);
        let parsed: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{name}: not JSON: {text}"));
        assert!(parsed["errors"][0]["message"].is_string(), "{name}: {text}");
    }
    let wrong_type = app
        .post(
            "query($n: Int) { organisations(first: $n) { totalCount } }",
            json!({ "n": "twenty" }),
        )
        .await;
    assert!(wrong_type["errors"][0]["message"].is_string());
    assert_clean(&wrong_type.to_string());
    let unknown = app
        .post("{ organisations { nodes { nmae } } }", json!({}))
        .await;
    assert_clean(&unknown.to_string());
}

#[tokio::test]
async fn document_limits_refuse_with_the_reason_before_running() {
    let app = TestApp::start().await;
    let deep = format!(
        "{{ {}id{} }}",
        "node(id: \"x\") { ... on Authority { parent { ".repeat(20),
        " } } }".repeat(20)
    );
    let aliases = format!(
        "{{ {} }}",
        (0..200)
            .map(|i| format!("a{i}: organisations {{ totalCount }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let repeated = format!(
        "{{ organisations {{ nodes {{ {} }} }} }}",
        "slug ".repeat(3000)
    );
    let fan_out = {
        let mut doc = String::from("query { organisations { nodes { ...F0 } } }\n");
        for i in 0..12 {
            doc.push_str(&format!(
                "fragment F{i} on Organisation {{ slug ...F{} ...F{} }}\n",
                i + 1,
                i + 1
            ));
        }
        doc.push_str("fragment F12 on Organisation { slug name }");
        doc
    };
    let cycle = "query { organisations { nodes { ...A } } } fragment A on Organisation { slug ...B } fragment B on Organisation { name ...A }".to_owned();
    let nesting = format!("{}{}", "{ a".repeat(5000), "}".repeat(5000));
    let directives = format!(
        "{{ organisations {{ totalCount {} }} }}",
        "@include(if: true) ".repeat(100)
    );
    let too_costly = "{ organisations(first: 100) { nodes { dialogues(first: 100) { nodes { authorities { name } organisations { name } } } } } }".to_owned();
    let mut slowest = Duration::ZERO;
    for (name, query, mentions) in [
        ("deep", deep, "deeper"),
        ("aliases", aliases, "aliases"),
        ("repeated fields", repeated, "fields"),
        ("fragment fan-out", fan_out, "fields"),
        ("fragment cycle", cycle, "spreads itself"),
        ("nesting", nesting, "nests"),
        ("directives", directives, "directives"),
        ("cost", too_costly, "limit is 25000"),
    ] {
        let started = Instant::now();
        let response = app.post(&query, json!({})).await;
        let took = started.elapsed();
        slowest = slowest.max(took);
        let message = response["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains(mentions), "{name}: {response}");
        assert!(response["data"].is_null(), "{name}: nothing ran");
        assert_clean(&response.to_string());
        println!(
            "hostile document {name:>16}: refused in {:.1} ms",
            took.as_secs_f64() * 1000.0
        );
    }
    println!("slowest refusal: {:.1} ms", slowest.as_secs_f64() * 1000.0);
}

#[tokio::test]
async fn cost_is_reported_and_a_missing_page_size_costs_the_default() {
    let app = TestApp::start().await;
    let implicit = app
        .post("{ organisations { nodes { slug } } }", json!({}))
        .await;
    let explicit = app
        .post("{ organisations(first: 20) { nodes { slug } } }", json!({}))
        .await;
    let cost = |r: &Value| {
        r["extensions"]["cost"]["requested"]
            .as_u64()
            .expect("cost reported")
    };
    assert_eq!(cost(&implicit), cost(&explicit));
    assert!(
        cost(
            &app.post(
                "{ organisations(first: 100) { nodes { slug } } }",
                json!({})
            )
            .await
        ) > cost(&explicit)
    );
    let report = &explicit["extensions"]["cost"];
    assert_eq!(report["limit"], 25_000);
    assert!(
        report["remaining"].as_u64().is_some() && report["budgetPerMinute"].as_u64().is_some(),
        "{report}"
    );
}

#[tokio::test]
async fn under_a_small_bound_on_cost_in_flight_every_query_is_answered_and_turns_come_back() {
    // Room for one page of 100 slugs and names (201 points) at a time; one with
    // descriptions too (301) costs more than the whole bound and runs alone. A turn that
    // were never given back would leave the others waiting past the time limit (503).
    let settings = HttpSettings {
        limits: samverkan::limits::Limits {
            max_cost_in_flight: 250,
            budget_per_minute: 0,
            ..Default::default()
        },
        request_timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let app = std::sync::Arc::new(TestApp::start_with(settings, None).await);
    for i in 0..25 {
        app.organisation(&format!("org-{i:02}"), &format!("Org {i:02}"))
            .await;
    }
    let mut clients = tokio::task::JoinSet::new();
    for i in 0..12 {
        let app = app.clone();
        let fields = if i == 0 {
            "slug name description"
        } else {
            "slug name"
        };
        clients.spawn(async move {
            let query = format!("{{ organisations(first: 100) {{ nodes {{ {fields} }} }} }}");
            app.post_as(&Caller::Anonymous, &query, json!({})).await
        });
    }
    while let Some(answer) = clients.join_next().await {
        let (status, body) = answer.expect("client");
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        let slugs = body["data"]["organisations"]["nodes"]
            .as_array()
            .map(Vec::len);
        assert_eq!(slugs, Some(25), "{body}");
    }
    let (status, _) = app.post_as(&Caller::Anonymous, SIMPLE, json!({})).await;
    assert_eq!(status, 200, "turns were given back");
}

#[tokio::test]
async fn budgets_are_per_caller_and_answer_429_with_retry_after() {
    let settings = HttpSettings {
        limits: samverkan::limits::Limits {
            budget_per_minute: 200,
            ..Default::default()
        },
        ..Default::default()
    };
    let app = TestApp::start_with(settings, None).await;
    let token = app.partner_token("site", "READ_PUBLIC", &[]).await;
    let query = json!({ "query": "{ organisations(first: 10) { nodes { slug name } } }" })
        .to_string()
        .into_bytes();
    let mut limited = None;
    let mut remaining = Vec::new();
    for _ in 0..30 {
        let (status, headers, text) = raw(
            &app,
            "POST",
            query.clone(),
            &[("content-type", "application/json"), ("x-api-key", &token)],
        )
        .await;
        let body: Value = serde_json::from_str(&text).expect("json");
        if status == 429 {
            limited = Some((headers, body));
            break;
        }
        remaining.push(
            body["extensions"]["cost"]["remaining"]
                .as_u64()
                .expect("remaining"),
        );
    }
    let (headers, body) = limited.expect("the budget ran out");
    assert!(
        remaining.windows(2).all(|w| w[1] < w[0]),
        "the budget shrinks: {remaining:?}"
    );
    assert_code(&body["errors"][0], "RATE_LIMITED", None);
    let retry: u64 = headers["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    // Another caller has a budget of its own.
    let (status, _) = app.post_as(&Caller::Anonymous, SIMPLE, json!({})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn introspection_graphiql_and_suggestions() {
    let app = TestApp::start().await;
    let introspect = "{ __schema { queryType { name } } }";
    assert_eq!(
        app.post_as(&Caller::Anonymous, introspect, json!({}))
            .await
            .1["data"]["__schema"]["queryType"]["name"],
        "Query"
    );
    let typo = "{ organisations { nodes { slugg } } }";
    let anonymous = app
        .post_as(&Caller::Anonymous, typo, json!({}))
        .await
        .1
        .to_string();
    assert!(
        !anonymous.contains("Did you mean"),
        "no suggestions for anonymous callers: {anonymous}"
    );
    let admin = app.post(typo, json!({})).await.to_string();
    assert!(
        admin.contains("Did you mean"),
        "signed-in callers get suggestions: {admin}"
    );

    let closed = TestApp::start_with(
        HttpSettings {
            introspection: false,
            graphiql: false,
            ..Default::default()
        },
        None,
    )
    .await;
    let refused = closed
        .post_as(&Caller::Anonymous, introspect, json!({}))
        .await
        .1;
    assert!(
        refused["data"]["__schema"].is_null(),
        "introspection answers nothing: {refused}"
    );
    let typed = closed
        .post_as(
            &Caller::Anonymous,
            "{ __type(name: \"Organisation\") { name } }",
            json!({}),
        )
        .await
        .1;
    assert!(typed["data"]["__type"].is_null(), "{typed}");
    let status = closed
        .client
        .get(format!("{}/graphiql", closed.url))
        .send()
        .await
        .expect("GET")
        .status();
    assert_eq!(status, 404);
}

/// Makes every `city` field panic, as a buggy resolver would.
struct PanicOnCity;

impl async_graphql::extensions::ExtensionFactory for PanicOnCity {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(PanicOnCity)
    }
}

#[async_graphql::async_trait::async_trait]
impl async_graphql::extensions::Extension for PanicOnCity {
    async fn resolve(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        info: async_graphql::extensions::ResolveInfo<'_>,
        next: async_graphql::extensions::NextResolve<'_>,
    ) -> async_graphql::ServerResult<Option<async_graphql::Value>> {
        if info.name == "city" {
            panic!("resolver bug at src/organisation.rs:1");
        }
        next.run(ctx, info).await
    }
}

#[tokio::test]
async fn a_panicking_resolver_is_an_internal_error_and_the_server_stays_up() {
    let app = TestApp::start_with(
        HttpSettings::default(),
        Some(std::sync::Arc::new(PanicOnCity)),
    )
    .await;
    app.organisation("rsmh", "RSMH").await;
    let response = app
        .post("{ organisations { nodes { city } } }", json!({}))
        .await;
    assert_code(&response["errors"][0], "INTERNAL", None);
    assert!(response["errors"][0]["extensions"]["requestId"].is_string());
    assert_clean(&response.to_string());
    let after = app
        .ok("{ organisations { nodes { slug } } }", json!({}))
        .await;
    assert_eq!(after["organisations"]["nodes"][0]["slug"], "rsmh");
}

#[tokio::test]
async fn metrics_need_their_token_and_readiness_follows_shutdown() {
    let settings = HttpSettings {
        metrics_token: Some("metrics-secret".into()),
        ..Default::default()
    };
    let app = TestApp::start_with(settings, None).await;
    app.post(SIMPLE, json!({})).await;
    app.post("query Named { organisations { totalCount } }", json!({}))
        .await;
    let url = format!("{}/metrics", app.url);
    assert_eq!(
        app.client.get(&url).send().await.expect("GET").status(),
        404,
        "not public"
    );
    let text = app
        .client
        .get(&url)
        .bearer_auth("metrics-secret")
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    for needle in [
        "samverkan_requests_total{operation=\"Named\",status=\"200\"} 1",
        "samverkan_request_duration_seconds_bucket",
        "samverkan_db_connections",
    ] {
        assert!(text.contains(needle), "{needle} missing:\n{text}");
    }
    assert_eq!(
        TestApp::start()
            .await
            .client
            .get(&url)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0),
        404
    );

    let ready = format!("{}/readyz", app.url);
    assert_eq!(
        app.client.get(&ready).send().await.expect("GET").status(),
        200
    );
    app.ready.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        app.client.get(&ready).send().await.expect("GET").status(),
        503
    );
}

#[tokio::test]
async fn cors_allows_configured_and_partner_origins_without_credentials() {
    let settings = HttpSettings {
        cors_origins: vec!["https://frontend.example.org".into()],
        ..Default::default()
    };
    let app = TestApp::start_with(settings, None).await;
    app.partner_token("partner", "READ_PUBLIC", &["https://partner.example.org"])
        .await;
    let allowed_origin = |response: &reqwest::Response| {
        response
            .headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    // Every preflight passes, so that the browser sends the request and can read the
    // answer: the decision is made on the request, which carries the credentials.
    for origin in [
        "https://frontend.example.org",
        "https://partner.example.org",
        "https://evil.example.com",
    ] {
        let response = app
            .client
            .request(reqwest::Method::OPTIONS, format!("{}/graphql", app.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type, x-api-key")
            .send()
            .await
            .expect("preflight");
        assert_eq!(response.status(), 204);
        assert_eq!(allowed_origin(&response).as_deref(), Some(origin));
        let headers = response.headers();
        assert!(
            headers.get("access-control-allow-credentials").is_none(),
            "credentials are never allowed"
        );
        let allowed_headers = headers["access-control-allow-headers"]
            .to_str()
            .expect("headers");
        assert!(allowed_headers.contains("x-api-key") && allowed_headers.contains("authorization"));
    }
    let call = |origin: &'static str, user: bool, query: &'static str| {
        let request = app
            .client
            .post(format!("{}/graphql", app.url))
            .header("origin", origin)
            .json(&json!({ "query": query }));
        if user {
            request.bearer_auth(&app.admin_token).send()
        } else {
            request.send()
        }
    };
    const VIEWER: &str = "{ viewer { kind } }";
    // (origin, with a user's token, allowed)
    for (origin, user, allowed) in [
        ("https://frontend.example.org", true, true),
        ("https://frontend.example.org", false, true),
        ("https://partner.example.org", false, true),
        ("https://partner.example.org", true, false),
        ("https://evil.example.com", false, false),
        ("https://evil.example.com", true, false),
    ] {
        let response = call(origin, user, VIEWER).await.expect("request");
        assert_eq!(
            allowed_origin(&response).as_deref(),
            Some(origin),
            "the answer is readable from {origin}, allowed or not"
        );
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("json");
        if allowed {
            assert_eq!(status, 200, "{origin} user={user}: {body}");
            assert!(body["data"]["viewer"]["kind"].is_string());
        } else {
            assert_eq!(status, 403, "{origin} user={user}: {body}");
            assert_code(&body["errors"][0], "FORBIDDEN", None);
            let message = body["errors"][0]["message"].as_str().expect("message");
            assert!(
                message.contains(origin),
                "the refusal names the origin: {message}"
            );
            assert!(body.get("data").is_none(), "nothing ran: {body}");
        }
    }
    // A refused origin runs nothing, even with an admin's token.
    let response = call(
        "https://evil.example.com",
        true,
        "mutation { createOrganisation(input: { slug: \"from-evil\", name: \"From evil\", kind: OTHER }) { id } }",
    )
    .await
    .expect("request");
    assert_eq!(response.status(), 403);
    let found = app
        .ok("{ organisation(slug: \"from-evil\") { id } }", json!({}))
        .await;
    assert!(found["organisation"].is_null(), "nothing was written");
    // A page of this server itself (GraphiQL) needs no permission.
    let host = app.url.trim_start_matches("http://").to_owned();
    let own = app
        .client
        .post(format!("{}/graphql", app.url))
        .header("origin", format!("http://{host}"))
        .json(&json!({ "query": VIEWER }))
        .send()
        .await
        .expect("request");
    assert_eq!(own.status(), 200);
    // A new partner token's origin works at once, not at the next refresh of the origins.
    let before = call("https://new-partner.example.org", false, VIEWER)
        .await
        .expect("request");
    assert_eq!(before.status(), 403);
    app.partner_token("new", "READ_PUBLIC", &["https://new-partner.example.org"])
        .await;
    let after = call("https://new-partner.example.org", false, VIEWER)
        .await
        .expect("request");
    assert_eq!(
        after.status(),
        200,
        "the new token's origin is allowed at once"
    );
}

/// A small deterministic generator (xorshift), so that the hostile run is the same every time.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn hostile_document(rng: &mut Rng) -> (Vec<u8>, &'static str) {
    let fields = [
        "organisations",
        "authorities",
        "dialogues",
        "proposals",
        "node",
        "viewer",
        "__schema",
        "__typename",
        "slug",
        "nodes",
        "edges",
    ];
    let json_body = |query: String, variables: Value| {
        json!({ "query": query, "variables": variables })
            .to_string()
            .into_bytes()
    };
    match rng.below(12) {
        0 => {
            let n = 10 + rng.below(5000);
            (
                json_body(
                    format!(
                        "{}{}",
                        "{ organisations { nodes { ".repeat(n),
                        "} } }".repeat(n)
                    ),
                    json!({}),
                ),
                "deep nesting",
            )
        }
        1 => {
            let n = 2 + rng.below(30);
            let mut doc = String::from("{ organisations { nodes { ...F0 } } } ");
            for i in 0..n {
                doc.push_str(&format!(
                    "fragment F{i} on Organisation {{ slug ...F{} ...F{} }} ",
                    i + 1,
                    i + 1
                ));
            }
            doc.push_str(&format!("fragment F{n} on Organisation {{ name }}"));
            (json_body(doc, json!({})), "fragment fan-out")
        }
        2 => {
            let a = rng.pick(&fields);
            (
                json_body(
                    format!(
                        "query {{ {a} {{ ...X }} }} fragment X on Query {{ ...Y }} fragment Y on Query {{ ...X }}"
                    ),
                    json!({}),
                ),
                "fragment cycle",
            )
        }
        3 => {
            let n = 50 + rng.below(5000);
            let aliases: Vec<String> = (0..n).map(|i| format!("a{i}: __typename")).collect();
            (
                json_body(format!("{{ {} }}", aliases.join(" ")), json!({})),
                "thousands of aliases",
            )
        }
        4 => {
            let n = 1000 + rng.below(900_000);
            (
                json_body(
                    "query($t: String) { organisations(filter: { text: $t }) { totalCount } }"
                        .into(),
                    json!({ "t": "ä".repeat(n / 2) }),
                ),
                "huge string",
            )
        }
        5 => {
            let n = 100 + rng.below(100_000);
            let ids: Vec<String> = (0..n).map(|i| format!("id{i}")).collect();
            (
                json_body(
                    "mutation($ids: [ID!]!) { createDialogue(input: { title: \"t\", kind: CALL, status: HELD, heldOn: \"2020-01-01\", summary: \"s\", organisationIds: $ids }) { id } }".into(),
                    json!({ "ids": ids }),
                ),
                "huge list",
            )
        }
        6 => {
            let wrong = [
                json!("ten"),
                json!(1.5),
                json!([1]),
                json!({ "a": 1 }),
                json!(true),
                json!(-99999999999i64),
            ];
            (
                json_body(
                    "query($n: Int) { organisations(first: $n) { totalCount } }".into(),
                    json!({ "n": wrong[rng.below(wrong.len())] }),
                ),
                "wrong variable type",
            )
        }
        7 => {
            let mut bytes = br#"{"query": "{ organisations { totalCount } }""#.to_vec();
            bytes.truncate(rng.below(bytes.len()));
            (bytes, "truncated JSON")
        }
        8 => (
            (0..rng.below(2000)).map(|_| rng.next() as u8).collect(),
            "random bytes",
        ),
        9 => {
            let tokens: Vec<&str> = (0..rng.below(3000))
                .map(|_| {
                    rng.pick(&[
                        "{", "}", "(", ")", "...", "on", "query", "$x", ":", "\"s\"", "@skip",
                        "fragment", "1e999",
                    ])
                })
                .collect();
            (json_body(tokens.join(" "), json!({})), "token soup")
        }
        10 => {
            let depth = 1 + rng.below(60);
            (json_body(format!("{}{}", "{ viewer { user { memberships { organisation { dialogues { nodes { organisations { ".repeat(depth), "} } } } } } } }".repeat(depth)), json!({})), "deep valid fields")
        }
        _ => {
            let n = 1 + rng.below(200);
            (
                json_body(
                    format!(
                        "{{ {} }}",
                        (0..n)
                            .map(|_| format!("{} {{ totalCount }}", rng.pick(&fields)))
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                    json!({}),
                ),
                "repeated fields",
            )
        }
    }
}

#[tokio::test]
async fn hostile_documents_get_clean_answers_and_the_server_stays_up() {
    let settings = HttpSettings {
        limits: samverkan::limits::Limits {
            budget_per_minute: 0,
            ..Default::default()
        },
        ..Default::default()
    };
    let app = TestApp::start_with(settings, None).await;
    app.organisation("survivor", "Survivor").await;
    let mut rng = Rng(0x5eed_2026_1123);
    let mut slowest: (Duration, &str) = (Duration::ZERO, "");
    for _ in 0..150 {
        let (body, kind) = hostile_document(&mut rng);
        let started = Instant::now();
        let (status, _, text) = raw(
            &app,
            "POST",
            body,
            &[
                ("content-type", "application/json"),
                ("accept", "application/graphql-response+json"),
            ],
        )
        .await;
        let took = started.elapsed();
        if took > slowest.0 {
            slowest = (took, kind);
        }
        assert!(
            (200..500).contains(&status),
            "{kind}: status {status}: {text}"
        );
        assert_clean(&text);
        let parsed: Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{kind}: not JSON: {text}"));
        if status == 200 {
            assert!(parsed.get("data").is_some(), "{kind}: {text}");
        } else {
            assert!(parsed["errors"][0]["message"].is_string(), "{kind}: {text}");
        }
    }
    println!(
        "slowest answer to a hostile document: {:.1} ms ({})",
        slowest.0.as_secs_f64() * 1000.0,
        slowest.1
    );
    let after = app
        .ok("{ organisations { nodes { slug } } }", json!({}))
        .await;
    assert_eq!(after["organisations"]["nodes"][0]["slug"], "survivor");
}

#[tokio::test]
async fn a_search_text_is_bounded_and_refused_cleanly() {
    let app = TestApp::start().await;
    let long = "zq0x".repeat(12_500);
    for list in ["organisations", "authorities", "dialogues", "proposals"] {
        let query =
            format!("query($t: String!) {{ {list}(filter: {{ text: $t }}) {{ totalCount }} }}");
        let (_, body) = app
            .post_as(&Caller::Anonymous, &query, json!({ "t": long }))
            .await;
        assert_code(&body["errors"][0], "BAD_USER_INPUT", Some("filter.text"));
        let (_, body) = app
            .post_as(&Caller::Anonymous, &query, json!({ "t": "x".repeat(200) }))
            .await;
        assert_eq!(body["data"][list]["totalCount"], 0, "{body}");
    }
}

#[tokio::test]
async fn counts_and_text_searches_cost_what_their_statements_cost() {
    let app = TestApp::start().await;
    let cost = |r: &Value| {
        r["extensions"]["cost"]["requested"]
            .as_u64()
            .unwrap_or_else(|| panic!("cost reported: {r}"))
    };
    let page = app
        .post(
            "{ dialogues(first: 0) { pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await;
    let counted = app
        .post("{ dialogues(first: 0) { totalCount } }", json!({}))
        .await;
    let in_fragment = app
        .post(
            "{ dialogues(first: 0) { ...Total } } fragment Total on DialogueConnection { totalCount }",
            json!({}),
        )
        .await;
    let searched = app
        .post(
            "{ dialogues(first: 0, filter: { text: \"zq0x\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(cost(&page) < 10, "{page}");
    assert!(
        cost(&counted) >= 100,
        "a count costs a full page: {counted}"
    );
    assert_eq!(cost(&in_fragment), cost(&counted), "{in_fragment}");
    assert!(
        cost(&searched) >= 2000,
        "a text filter costs its scans (page and count): {searched}"
    );
    // The attack: thirty counts over a text filter in one document.
    let attack = format!(
        "{{ {} }}",
        (0..30)
            .map(|i| format!(
                "c{i}: dialogues(first: 0, filter: {{ text: \"zq0x\" }}) {{ totalCount }}"
            ))
            .collect::<Vec<_>>()
            .join(" ")
    );
    let (_, body) = app.post_as(&Caller::Anonymous, &attack, json!({})).await;
    assert_code(&body["errors"][0], "BAD_USER_INPUT", None);
    assert!(body["data"].is_null(), "nothing ran: {body}");
    // Aliases of one count run it once.
    let (_, once) = app
        .count_statements(app.post("{ dialogues(first: 0) { totalCount } }", json!({})))
        .await;
    let (_, aliased) = app
        .count_statements(app.post(
            "{ dialogues(first: 0) { a: totalCount b: totalCount c: totalCount } }",
            json!({}),
        ))
        .await;
    assert_eq!(aliased, once, "one count statement for three aliases");
}

/// A document without variables is validated in full once, then only for what a request can
/// change; everything that can differ between requests is still checked on each.
#[tokio::test]
async fn a_document_that_passed_validation_is_still_checked_for_what_each_request_changes() {
    let app = TestApp::start().await;
    let refused_before_running = |response: &Value, what: &str| {
        assert!(response.get("data").is_none(), "{what}: {response}");
        assert_code(&response["errors"][0], "BAD_USER_INPUT", None);
    };
    // The variables' values are checked against their types every time.
    let by_slug = "query BySlug($slug: String!) { organisation(slug: $slug) { name } }";
    for _ in 0..3 {
        app.ok(by_slug, json!({ "slug": "none-such" })).await;
    }
    let wrong_type = app.post(by_slug, json!({ "slug": 42 })).await;
    refused_before_running(&wrong_type, "a variable of the wrong type");
    // A document that failed validation fails it again.
    let misspelt = "{ organisations(first: 1) { totalCount nmae } }";
    for _ in 0..2 {
        let response = app.post(misspelt, json!({})).await;
        refused_before_running(&response, "an unknown field");
        assert!(
            response["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("nmae"))
        );
    }
    // A request that names another operation of a validated document runs nothing.
    let named = "query Named { organisations(first: 1) { totalCount } }";
    for _ in 0..3 {
        let (status, response) = app.post_as(&Caller::Anonymous, named, json!({})).await;
        assert_eq!(
            (status, response["errors"].is_null()),
            (200, true),
            "{response}"
        );
    }
    let other = app
        .client
        .post(format!("{}/graphql", app.url))
        .json(&json!({ "query": named, "operationName": "Other" }))
        .send()
        .await
        .expect("sent");
    let other: Value = other.json().await.expect("JSON");
    // A request error: no `data`, and no cost report, for nothing was priced or charged.
    assert!(other.get("data").is_none(), "{other}");
    assert!(other["extensions"]["cost"].is_null(), "{other}");
    assert_code(&other["errors"][0], "BAD_USER_INPUT", Some("operationName"));
    assert!(
        other["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("Other")),
        "{other}"
    );
    // With the official media type, a refused request is a 400; and a document of two
    // operations must name the one to run.
    let two = "query A { organisations(first: 1) { totalCount } } query B { __typename }";
    for (body, wanted) in [
        (json!({ "query": named, "operationName": "Other" }), "Other"),
        (json!({ "query": two }), "several operations"),
    ] {
        let response = app
            .client
            .post(format!("{}/graphql", app.url))
            .header("accept", "application/graphql-response+json")
            .json(&body)
            .send()
            .await
            .expect("sent");
        assert_eq!(response.status(), 400, "{body}");
        let response: Value = response.json().await.expect("JSON");
        assert!(response.get("data").is_none(), "{response}");
        assert_code(
            &response["errors"][0],
            "BAD_USER_INPUT",
            Some("operationName"),
        );
        assert!(
            response["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains(wanted)),
            "{response}"
        );
    }
}
