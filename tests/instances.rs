//! Several server processes on one PostgreSQL database behave as one: a caller's budget is
//! shared, a revoked token and a new partner origin take effect on every process at once,
//! and a persisted query taught to one process is known to the others.

use samverkan::limits::shared::SharedBudgets;
use samverkan_tests::{ChildServer, TestApp, on_postgres};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The budget per minute both processes run with.
const BUDGET: usize = 1_000;

async fn post(url: &str, token: &str, query: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{url}/graphql"))
        .header("x-api-key", token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test]
async fn two_server_processes_share_budgets_revocations_origins_and_persisted_queries() {
    if !on_postgres() {
        eprintln!("PostgreSQL only: SQLite has one server process");
        return;
    }
    let mut settings = samverkan::config::HttpSettings::default();
    settings.limits.budget_per_minute = BUDGET;
    let app = TestApp::start_with(settings, None).await;
    let other = ChildServer::spawn(&app.database_url, &[("SAMVERKAN_RATE_LIMIT", "1000")]).await;
    let token = app.partner_token("Partner", "READ_PUBLIC", &[]).await;

    // Budgets: requests alternate between the processes until one is refused. Both
    // together accept no more than one budget (a minute's; so the test keeps clear of the
    // minute's end).
    let second = chrono::Utc::now().timestamp() % 60;
    if second > 45 {
        tokio::time::sleep(Duration::from_secs((61 - second) as u64)).await;
    }
    let query = "{ organisations(first: 30) { edges { node { id name } } } }";
    let (mut accepted, mut refused) = (0_u64, None);
    for turn in 0..100 {
        let url = if turn % 2 == 0 { &app.url } else { &other.url };
        let body = post(url, &token, query).await;
        match body["errors"][0]["extensions"]["code"].as_str() {
            None => {
                accepted += body["extensions"]["cost"]["requested"]
                    .as_u64()
                    .expect("cost")
            }
            Some("RATE_LIMITED") => {
                refused = Some(body);
                break;
            }
            Some(other) => panic!("unexpected {other}: {body}"),
        }
    }
    let refused = refused.expect("the shared budget runs out");
    assert!(
        accepted <= BUDGET as u64,
        "both processes together accepted {accepted} points of a budget of {BUDGET}"
    );
    assert!(accepted >= BUDGET as u64 / 2, "accepted only {accepted}");
    assert!(
        refused["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .is_some()
    );

    // Revocation: a token revoked through one process stops working on the other at once.
    let fresh = app.partner_token("Second", "READ_PUBLIC", &[]).await;
    let works = post(&other.url, &fresh, "{ viewer { kind } }").await;
    assert_eq!(works["data"]["viewer"]["kind"], "PARTNER_TOKEN", "{works}");
    let listed = app
        .ok(
            "{ apiTokens(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    let id = listed["apiTokens"]["edges"][0]["node"]["id"].clone();
    app.ok(
        "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { revokedAt } }",
        json!({ "id": id }),
    )
    .await;
    let revoked = post(&other.url, &fresh, "{ viewer { kind } }").await;
    assert_eq!(
        revoked["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{revoked}"
    );

    // A new partner origin: allowed by the other process as soon as it hears of it.
    let origin = "https://ny-partner.example";
    let client = reqwest::Client::new();
    let from_origin = || {
        client
            .get(format!("{}/graphql", other.url))
            .query(&[("query", "{ viewer { kind } }")])
            .header("origin", origin)
            .send()
    };
    assert_eq!(from_origin().await.expect("request").status(), 403);
    app.partner_token("Ny partner", "READ_PUBLIC", &[origin])
        .await;
    let started = Instant::now();
    loop {
        let status = from_origin().await.expect("request").status();
        if status == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the new origin is allowed within moments, not {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A persisted query taught to one process runs by its hash on the other.
    let document = "{ themes { totalCount } }";
    let hash = samverkan::auth::secrets::sha256_hex(document.as_bytes());
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let by_hash = || {
        client
            .get(format!("{}/graphql", other.url))
            .query(&[("extensions", extensions.to_string())])
            .send()
    };
    let unknown: Value = by_hash()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        unknown["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );
    let taught: Value = client
        .post(format!("{}/graphql", app.url))
        .json(&json!({ "query": document, "extensions": extensions }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(taught["data"]["themes"]["totalCount"], 0, "{taught}");
    let started = Instant::now();
    loop {
        let answer: Value = by_hash()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON");
        if answer["data"]["themes"]["totalCount"] == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the other process knows the document: {answer}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The shared budgets of two server processes on one fresh database, with [`BUDGET`] points
/// a minute: `None` on SQLite, which has one server process.
async fn two_processes() -> Option<(TestApp, SharedBudgets, SharedBudgets)> {
    if !on_postgres() {
        eprintln!("PostgreSQL only: SQLite has one server process");
        return None;
    }
    let app = TestApp::start().await;
    let budgets = || SharedBudgets::new(app.db.clone(), BUDGET as u64);
    let (one, other) = (budgets(), budgets());
    Some((app, one, other))
}

/// A burst of concurrent requests takes from the shared budget about what it spends, not a
/// chunk for every request waiting: what it does not need is left for the other processes.
#[tokio::test]
async fn a_concurrent_burst_leaves_the_rest_of_the_shared_budget_to_other_processes() {
    let Some((_app, one, other)) = two_processes().await else {
        return;
    };
    // Thirty requests of 30 points at once on one process: 900 of the 1,000. Thirty chunks
    // of a twentieth of the budget (50 points) would take all 1,000.
    let burst = futures_util::future::join_all((0..30).map(|_| one.spend("caller", 30))).await;
    assert!(burst.iter().all(Result::is_ok), "{burst:?}");
    other
        .spend("caller", 40)
        .await
        .expect("the other process gets what the burst did not need");
}

/// At the turn of a minute, a request still in the ended minute (a slow one, or one on a
/// process whose clock is behind another's) is served from the new minute's budget, and
/// leaves that budget as it was for the requests after it.
#[tokio::test]
async fn a_request_at_the_turn_of_a_minute_is_served_in_the_new_minute() {
    let Some((_app, ahead, behind)) = two_processes().await else {
        return;
    };
    let budget = BUDGET as u64;
    // The start of the next minute, and the second before it.
    let turn = (chrono::Utc::now().timestamp().div_euclid(60) + 1) * 60;
    let before = turn - 1;

    ahead
        .spend_at("caller", 10, turn)
        .await
        .expect("the new minute");
    behind
        .spend_at("caller", 10, before)
        .await
        .expect("a request of the ended minute, once another process is in the new one");
    ahead
        .spend_at("caller", 10, before)
        .await
        .expect("a slow request of the ended minute, in the process already in the new one");

    // Both processes together still spend one budget in the new minute, no more.
    let mut accepted = 30;
    let refused = loop {
        let (budgets, now) = if accepted % 20 == 0 {
            (&ahead, turn + 1)
        } else {
            (&behind, before)
        };
        match budgets.spend_at("caller", 10, now).await {
            Ok(_) => accepted += 10,
            Err(refused) => break (refused, now),
        }
        assert!(accepted <= budget, "accepted {accepted} of {budget}");
    };
    assert!(accepted >= budget * 9 / 10, "accepted only {accepted}");
    let (refused, now) = refused;
    assert_eq!(
        refused.retry_after,
        u64::try_from(turn + 60 - now).expect("ahead"),
        "come back when the new minute ends, by the refusing process's clock"
    );
}
