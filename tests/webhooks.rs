//! Webhooks: a receiver on loopback gets each change it may be told of, signed the
//! Standard Webhooks way, in order; failed deliveries are retried and can be sent again;
//! what was committed is delivered even when the server is killed before it could send.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use samverkan_tests::{Caller, ChildServer, TestApp, assert_code};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
    at: Instant,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// How the receiver answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// With this status.
    Status(u16),
    /// Never: it reads the request and holds the connection.
    Hang,
}

/// An HTTP endpoint on loopback that notes every request and answers as told: first the
/// queued answers, then the standing one.
#[derive(Clone)]
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    queued: Arc<Mutex<VecDeque<Answer>>>,
    standing: Arc<Mutex<Answer>>,
}

impl Receiver {
    async fn start(standing: Answer) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let receiver = Self {
            url: format!("http://{}/hook", listener.local_addr().expect("address")),
            received: Arc::default(),
            queued: Arc::default(),
            standing: Arc::new(Mutex::new(standing)),
        };
        let serving = receiver.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serving.clone().serve(stream));
            }
        });
        receiver
    }

    async fn serve(self, stream: tokio::net::TcpStream) {
        let mut stream = BufReader::new(stream);
        loop {
            let mut headers = HashMap::new();
            let mut line = String::new();
            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            loop {
                line.clear();
                if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let Some((name, value)) = line.trim_end().split_once(':') else {
                    break;
                };
                headers.insert(name.to_lowercase(), value.trim().to_owned());
            }
            let length = headers
                .get("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            if stream.read_exact(&mut body).await.is_err() {
                return;
            }
            let answer = {
                let queued = self.queued.lock().expect("lock").pop_front();
                queued.unwrap_or(*self.standing.lock().expect("lock"))
            };
            self.received.lock().expect("lock").push(Received {
                headers,
                body: String::from_utf8(body).expect("UTF-8"),
                at: Instant::now(),
            });
            let status = match answer {
                Answer::Status(status) => status,
                Answer::Hang => {
                    // Until the sender goes away.
                    let mut rest = Vec::new();
                    let _ = stream.read_to_end(&mut rest).await;
                    return;
                }
            };
            let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\n\r\nok");
            if stream.get_mut().write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    fn answer(&self, answer: Answer) {
        *self.standing.lock().expect("lock") = answer;
    }

    fn queue(&self, answers: &[Answer]) {
        self.queued.lock().expect("lock").extend(answers);
    }

    /// Waits until `count` requests came, failing the test after `limit`.
    async fn wait_for(&self, count: usize, limit: Duration) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                started.elapsed() < limit,
                "{count} requests within {limit:?}; came: {:#?}",
                received.iter().map(Received::json).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Settings for a server whose webhooks may call loopback, retrying after `retries`.
fn settings(retries: &[u64]) -> samverkan::config::HttpSettings {
    let mut settings = samverkan::config::HttpSettings::default();
    settings.webhooks.allow_private = true;
    settings.webhooks.retries = retries.iter().copied().map(Duration::from_millis).collect();
    settings.webhooks.timeout = Duration::from_secs(2);
    settings
}

const CREATE: &str = "mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id url events scope } } }";

/// Registers a webhook as the admin; returns its id and secret.
async fn webhook(app: &TestApp, url: &str, events: Value, scope: &str) -> (String, String) {
    let data = app
        .ok(
            CREATE,
            json!({ "input": { "url": url, "events": events, "scope": scope, "description": "Partner" } }),
        )
        .await;
    let created = &data["createWebhook"];
    (
        created["webhook"]["id"].as_str().expect("id").to_owned(),
        created["secret"].as_str().expect("secret").to_owned(),
    )
}

/// Checks a delivery's signature as a receiver would, with its own HMAC.
fn assert_signed(received: &Received, secret: &str) {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("whsec_ secret"))
        .expect("base64 secret");
    let id = received.header("webhook-id");
    let timestamp = received.header("webhook-timestamp");
    assert!(id.starts_with("msg_"), "webhook-id {id}");
    let sent: i64 = timestamp.parse().expect("a unix timestamp");
    assert!((chrono::Utc::now().timestamp() - sent).abs() < 60);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).expect("key");
    mac.update(format!("{id}.{timestamp}.{}", received.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    let signatures: Vec<&str> = received.header("webhook-signature").split(' ').collect();
    assert!(
        signatures.contains(&expected.as_str()),
        "signature {signatures:?} is not {expected}"
    );
    assert_eq!(received.header("content-type"), "application/json");
}

const DELIVERIES: &str = "query($id: ID!) { webhookDeliveries(webhookId: $id) { totalCount edges { node { messageId eventType status attempts lastResponseCode lastError nextAttemptAt deliveredAt body } } } }";

/// The webhook's deliveries, newest first, once none is PENDING (within `limit`).
async fn settled(app: &TestApp, webhook: &str, limit: Duration) -> Vec<Value> {
    let started = Instant::now();
    loop {
        let data = app.ok(DELIVERIES, json!({ "id": webhook })).await;
        let nodes: Vec<Value> = data["webhookDeliveries"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|edge| edge["node"].clone())
            .collect();
        if !nodes.is_empty() && nodes.iter().all(|n| n["status"] != "PENDING") {
            return nodes;
        }
        assert!(started.elapsed() < limit, "deliveries settle: {nodes:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn changes_reach_the_webhook_signed_in_the_order_they_were_made() {
    let app = TestApp::start_with(settings(&[200]), None).await;
    let receiver = Receiver::start(Answer::Status(200)).await;
    let (hook, secret) = webhook(&app, &receiver.url, json!([]), "PUBLIC").await;
    let org = app
        .organisation("fattigdom", "Nätverket mot fattigdom")
        .await;
    let authority = app
        .authority("socialdepartementet", "Socialdepartementet", None)
        .await;
    let dialogue = app
        .dialogue(
            "Möte om försörjningsstöd",
            "2026-03-01",
            &[&org],
            &[&authority],
            "PUBLIC",
        )
        .await;
    for (version, title) in [(1, "Andra mötet"), (2, "Tredje mötet")] {
        app.ok(
            "mutation($id: ID!, $v: Int!, $t: String!) { updateDialogue(input: { id: $id, expectedVersion: $v, title: $t }) { id } }",
            json!({ "id": dialogue, "v": version, "t": title }),
        )
        .await;
    }
    let received = receiver.wait_for(5, Duration::from_secs(20)).await;
    let types: Vec<Value> = received.iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(
        types,
        [
            "organisation.created",
            "authority.created",
            "dialogue.created",
            "dialogue.updated",
            "dialogue.updated"
        ]
    );
    for request in &received {
        assert_signed(request, &secret);
    }
    let last = received[4].json();
    assert_eq!(last["data"]["id"], dialogue.as_str());
    assert_eq!(last["data"]["recordType"], "Dialogue");
    assert_eq!(last["data"]["record"]["title"], "Tredje mötet");
    assert_eq!(
        last["data"]["record"]["organisations"][0]["id"],
        org.as_str()
    );
    assert!(last["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')));
    // The admin sees each delivery done, once, with the answer's status.
    let deliveries = settled(&app, &hook, Duration::from_secs(10)).await;
    assert_eq!(deliveries.len(), 5);
    for (delivery, request) in deliveries.iter().rev().zip(&received) {
        assert_eq!(delivery["status"], "DELIVERED");
        assert_eq!(delivery["attempts"], 1);
        assert_eq!(delivery["lastResponseCode"], 200);
        assert_eq!(delivery["nextAttemptAt"], Value::Null);
        assert_eq!(delivery["messageId"], request.header("webhook-id"));
        assert_eq!(delivery["body"], request.json());
    }
    assert_eq!(deliveries[0]["eventType"], "DIALOGUE_UPDATED");
    // Nothing else arrives later.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 5);
}

#[tokio::test]
async fn a_webhook_is_told_only_of_records_its_scope_may_see_and_only_the_events_it_chose() {
    let app = TestApp::start_with(settings(&[200]), None).await;
    let public = Receiver::start(Answer::Status(204)).await;
    let network = Receiver::start(Answer::Status(200)).await;
    let only_deletions = Receiver::start(Answer::Status(200)).await;
    webhook(&app, &public.url, json!([]), "PUBLIC").await;
    webhook(
        &app,
        &network.url,
        json!(["DIALOGUE_CREATED", "DIALOGUE_DELETED"]),
        "NETWORK",
    )
    .await;
    webhook(
        &app,
        &only_deletions.url,
        json!(["DIALOGUE_DELETED"]),
        "PUBLIC",
    )
    .await;
    let org = app.organisation("org", "Org").await;
    let authority = app.authority("auth", "Auth", None).await;
    let dialogue = |title: &'static str, day: u32, visibility: &'static str| {
        let (app, org, authority) = (&app, org.clone(), authority.clone());
        async move {
            app.dialogue(
                title,
                &format!("2026-01-0{day}"),
                &[&org],
                &[&authority],
                visibility,
            )
            .await
        }
    };
    let own = dialogue("Only the organisation's", 1, "ORGANISATION").await;
    let internal = dialogue("Network only", 2, "NETWORK").await;
    let open = dialogue("For everyone", 3, "PUBLIC").await;
    let mistake = dialogue("Published by mistake", 4, "PUBLIC").await;
    // What each was told: the type and the record's title or name (the id without one).
    let told = |received: Vec<Received>| -> Vec<(String, String)> {
        received
            .iter()
            .map(|r| {
                let body = r.json();
                let record = &body["data"]["record"];
                let what = record["title"]
                    .as_str()
                    .or(record["name"].as_str())
                    .or(body["data"]["id"].as_str())
                    .unwrap_or_default();
                (
                    body["type"].as_str().unwrap_or_default().to_owned(),
                    what.to_owned(),
                )
            })
            .collect()
    };
    let pair = |t: &str, w: &str| (t.to_owned(), w.to_owned());
    assert_eq!(
        told(network.wait_for(3, Duration::from_secs(20)).await),
        [
            pair("dialogue.created", "Network only"),
            pair("dialogue.created", "For everyone"),
            pair("dialogue.created", "Published by mistake"),
        ]
    );
    assert_eq!(
        told(public.wait_for(4, Duration::from_secs(20)).await),
        [
            pair("organisation.created", "Org"),
            pair("authority.created", "Auth"),
            pair("dialogue.created", "For everyone"),
            pair("dialogue.created", "Published by mistake"),
        ]
    );
    // Hidden from the public: the public webhook is told to take it down.
    app.ok(
        "mutation($id: ID!) { updateDialogue(input: { id: $id, expectedVersion: 1, visibility: NETWORK }) { id } }",
        json!({ "id": mistake }),
    )
    .await;
    let hidden = public.wait_for(5, Duration::from_secs(20)).await[4].json();
    assert_eq!(hidden["type"], "dialogue.updated");
    assert_eq!(hidden["data"]["id"], mistake.as_str());
    assert_eq!(hidden["data"]["record"], Value::Null);
    // Deletions: each webhook is told of those it could see, and wants.
    for id in [&own, &internal, &open, &mistake] {
        app.ok(
            "mutation($id: ID!) { deleteDialogue(input: { id: $id }) { id } }",
            json!({ "id": id }),
        )
        .await;
    }
    assert_eq!(
        told(network.wait_for(6, Duration::from_secs(20)).await)[3..],
        [
            pair("dialogue.deleted", &internal),
            pair("dialogue.deleted", &open),
            pair("dialogue.deleted", &mistake),
        ]
    );
    assert_eq!(
        told(public.wait_for(6, Duration::from_secs(20)).await)[5..],
        [pair("dialogue.deleted", &open)]
    );
    let deletion = only_deletions.wait_for(1, Duration::from_secs(20)).await[0].json();
    assert_eq!(deletion["type"], "dialogue.deleted");
    assert_eq!(deletion["data"]["id"], open.as_str());
    assert_eq!(deletion["data"]["record"], Value::Null);
    // Give the worker time to send anything it should not.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(public.received().len(), 6, "{:?}", told(public.received()));
    assert_eq!(
        network.received().len(),
        6,
        "{:?}",
        told(network.received())
    );
    assert_eq!(only_deletions.received().len(), 1);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_then_marked_failed_and_can_be_sent_again() {
    let app = TestApp::start_with(settings(&[300, 300]), None).await;
    let flaky = Receiver::start(Answer::Status(200)).await;
    flaky.queue(&[Answer::Status(500), Answer::Status(503)]);
    let (flaky_hook, _) = webhook(&app, &flaky.url, json!(["THEME_CREATED"]), "PUBLIC").await;
    let down = Receiver::start(Answer::Status(500)).await;
    let (down_hook, _) = webhook(&app, &down.url, json!(["THEME_CREATED"]), "PUBLIC").await;
    app.ok(
        r#"mutation { createTheme(input: { slug: "bostad", name: "Bostad" }) { id } }"#,
        json!({}),
    )
    .await;
    // The flaky endpoint: 500, 503, then accepted on the third attempt, the same message.
    let attempts = flaky.wait_for(3, Duration::from_secs(20)).await;
    let ids: Vec<&str> = attempts.iter().map(|r| r.header("webhook-id")).collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert!(attempts.iter().all(|r| r.body == attempts[0].body));
    // Each retry waited its pause (300 ms, less a tenth at most).
    for pair in attempts.windows(2) {
        let pause = pair[1].at - pair[0].at;
        assert!(
            pause >= Duration::from_millis(270),
            "retried after {pause:?}"
        );
    }
    // Only admins see deliveries.
    let page = app
        .ok(
            "query($id: ID!) { webhookDeliveries(webhookId: $id) { edges { node { id } } } }",
            json!({ "id": flaky_hook }),
        )
        .await;
    let one = page["webhookDeliveries"]["edges"][0]["node"]["id"].clone();
    let (_, body) = app
        .post_as(
            &Caller::Anonymous,
            "query($id: ID!) { webhookDeliveries(webhookId: $id) { totalCount } }",
            json!({ "id": flaky_hook }),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
        "{body}"
    );
    let (_, body) = app
        .post_as(
            &Caller::Anonymous,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": one }),
        )
        .await;
    assert_eq!(body["data"]["node"], Value::Null, "{body}");
    let delivered = settled(&app, &flaky_hook, Duration::from_secs(10)).await;
    assert_eq!(delivered[0]["status"], "DELIVERED");
    assert_eq!(delivered[0]["attempts"], 3);
    assert_eq!(delivered[0]["lastResponseCode"], 200);
    // The endpoint that is down: the first attempt and two retries, then FAILED.
    let failed = settled(&app, &down_hook, Duration::from_secs(20)).await;
    assert_eq!(failed[0]["status"], "FAILED");
    assert_eq!(failed[0]["attempts"], 3);
    assert_eq!(failed[0]["lastResponseCode"], 500);
    assert_eq!(failed[0]["lastError"], "the endpoint answered 500");
    assert_eq!(down.received().len(), 3);
    // Once it is back, an admin sends it again: one more attempt, the same message.
    down.answer(Answer::Status(200));
    let page = app
        .ok(
            "query($id: ID!) { webhookDeliveries(webhookId: $id) { edges { node { id } } } }",
            json!({ "id": down_hook }),
        )
        .await;
    let delivery = page["webhookDeliveries"]["edges"][0]["node"]["id"].clone();
    let queued = app
        .ok(
            "mutation($id: ID!) { redeliverWebhook(input: { deliveryId: $id }) { status } }",
            json!({ "id": delivery }),
        )
        .await;
    assert_eq!(queued["redeliverWebhook"]["status"], "PENDING");
    let again = down.wait_for(4, Duration::from_secs(10)).await;
    assert_eq!(again[3].header("webhook-id"), again[0].header("webhook-id"));
    let redelivered = settled(&app, &down_hook, Duration::from_secs(10)).await;
    assert_eq!(redelivered[0]["status"], "DELIVERED");
    assert_eq!(redelivered[0]["attempts"], 4);
}

#[tokio::test]
async fn webhooks_are_for_admins_and_never_call_private_addresses() {
    // Default settings: private addresses refused.
    let app = TestApp::start().await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.8/",
        "ftp://partner.example/",
        "not a url",
    ] {
        let error = app
            .err(CREATE, json!({ "input": { "url": url, "events": [] } }))
            .await;
        assert_code(&error, "BAD_USER_INPUT", Some("input.url"));
    }
    let error = app
        .err(
            CREATE,
            json!({ "input": { "url": "https://partner.example/hook", "events": [], "secret": "hunter2" } }),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.secret"));
    assert!(!error.to_string().contains("hunter2"));
    let listed = app.ok("{ webhooks { totalCount } }", json!({})).await;
    assert_eq!(
        listed["webhooks"]["totalCount"], 0,
        "nothing was registered"
    );
    // A public URL is accepted; the secret given is kept and never shown again, nor logged.
    let secret = format!("whsec_{}", STANDARD.encode([7u8; 32]));
    let data = app
        .ok(
            CREATE,
            json!({ "input": { "url": "https://partner.example/hook", "events": ["PROPOSAL_TRANSITIONED"], "scope": "NETWORK", "secret": secret } }),
        )
        .await;
    assert_eq!(data["createWebhook"]["secret"], secret.as_str());
    assert_eq!(
        data["createWebhook"]["webhook"]["events"],
        json!(["PROPOSAL_TRANSITIONED"])
    );
    let hook = data["createWebhook"]["webhook"]["id"].clone();
    let log = app
        .ok(
            "{ auditLog(first: 1) { edges { node { action changes } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        log["auditLog"]["edges"][0]["node"]["action"],
        "createWebhook"
    );
    assert!(
        !log.to_string().contains(&secret),
        "the secret is not in the audit log"
    );
    // Not for members or partners.
    app.create_user("editor@example.org", false).await;
    let member = Caller::User(app.token_for("editor@example.org").await);
    let partner = Caller::Partner(app.partner_token("Partner", "READ_NETWORK", &[]).await);
    for caller in [&member, &partner, &Caller::Anonymous] {
        let (_, body) = app
            .post_as(
                caller,
                CREATE,
                json!({ "input": { "url": "https://x.example/", "events": [] } }),
            )
            .await;
        let code = body["errors"][0]["extensions"]["code"].as_str();
        assert!(
            matches!(code, Some("FORBIDDEN" | "UNAUTHENTICATED")),
            "{body}"
        );
        let (_, body) = app
            .post_as(caller, "{ webhooks { totalCount } }", json!({}))
            .await;
        assert!(
            body["errors"][0]["extensions"]["code"].is_string(),
            "{body}"
        );
        let (_, body) = app
            .post_as(
                caller,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({ "id": hook }),
            )
            .await;
        assert_eq!(body["data"]["node"], Value::Null, "{body}");
    }
    // Deleting it removes it.
    let deleted = app
        .ok(
            "mutation($id: ID!) { deleteWebhook(input: { id: $id }) { url } }",
            json!({ "id": hook }),
        )
        .await;
    assert_eq!(
        deleted["deleteWebhook"]["url"],
        "https://partner.example/hook"
    );
    let listed = app.ok("{ webhooks { totalCount } }", json!({})).await;
    assert_eq!(listed["webhooks"]["totalCount"], 0);
}

#[tokio::test]
async fn a_change_committed_before_a_kill_9_is_delivered_after_the_restart() {
    // This server only writes; the child processes deliver.
    let mut quiet = settings(&[200]);
    quiet.webhooks.deliver = false;
    let app = TestApp::start_with(quiet, None).await;
    let receiver = Receiver::start(Answer::Hang).await;
    let (hook, secret) = webhook(&app, &receiver.url, json!(["THEME_CREATED"]), "PUBLIC").await;
    // Acknowledged while no process delivers: it waits in the outbox.
    app.ok(
        r#"mutation { createTheme(input: { slug: "arbete", name: "Arbete" }) { id } }"#,
        json!({}),
    )
    .await;
    let env = [
        ("SAMVERKAN_WEBHOOK_ALLOW_PRIVATE", "1"),
        ("SAMVERKAN_WEBHOOK_TIMEOUT_SECS", "1"),
        ("SAMVERKAN_WEBHOOK_RETRIES", "200ms"),
    ];
    let mut server = ChildServer::spawn(&app.database_url, &env).await;
    // The server sends it; the receiver holds the request unanswered; the server dies.
    let first = receiver.wait_for(1, Duration::from_secs(20)).await;
    server.signal("KILL");
    server.exit_status(Duration::from_secs(10)).await;
    receiver.answer(Answer::Status(200));
    let _restarted = ChildServer::spawn(&app.database_url, &env).await;
    let received = receiver.wait_for(2, Duration::from_secs(30)).await;
    assert_eq!(
        received[1].header("webhook-id"),
        first[0].header("webhook-id")
    );
    assert_eq!(received[1].json()["data"]["record"]["name"], "Arbete");
    assert_signed(&received[1], &secret);
    let deliveries = settled(&app, &hook, Duration::from_secs(10)).await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0]["status"], "DELIVERED");
    // Once, after the restart: no second copy.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(receiver.received().len(), 2);
}
