//! Live subscriptions over `graphql-transport-ws`: a subscriber gets the changes it may see
//! and nothing else; on PostgreSQL, a change written through one server process reaches a
//! subscriber of another.

use futures_util::{SinkExt, StreamExt};
use samverkan_tests::{ChildServer, TestApp, on_postgres};
use serde_json::{Value, json};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a `graphql-transport-ws` connection to `base` with `payload` in `connection_init`,
/// and waits for the acknowledgement.
async fn connect(base: &str, payload: Value) -> Socket {
    let mut socket = open(base, payload).await;
    let ack = next(&mut socket, Duration::from_secs(5)).await;
    assert_eq!(
        ack.as_ref().map(|a| a["type"].clone()),
        Some(json!("connection_ack")),
        "{ack:?}"
    );
    socket
}

async fn open(base: &str, payload: Value) -> Socket {
    let mut request = format!("{}/graphql", base.replace("http://", "ws://"))
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the upgrade is accepted");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    socket
        .send(Message::text(
            json!({ "type": "connection_init", "payload": payload }).to_string(),
        ))
        .await
        .expect("send");
    socket
}

async fn subscribe(socket: &mut Socket, id: &str, query: &str) {
    socket
        .send(Message::text(
            json!({ "id": id, "type": "subscribe", "payload": { "query": query } }).to_string(),
        ))
        .await
        .expect("send");
}

/// The next protocol message within `limit` (pings skipped); `None` when none came.
async fn next(socket: &mut Socket, limit: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??
            .ok()?;
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).expect("JSON");
                if value["type"] != "ping" && value["type"] != "pong" {
                    return Some(value);
                }
            }
            Message::Close(frame) => {
                return Some(json!({ "closed": frame.map(|f| u16::from(f.code)) }));
            }
            _ => {}
        }
    }
}

/// The titles in the `next` messages that arrive within `limit`, by subscription id.
async fn titles(socket: &mut Socket, limit: Duration) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    while let Some(message) = next(socket, limit).await {
        assert_eq!(message["type"], "next", "{message}");
        let data = &message["payload"]["data"];
        let title = data["dialogueChanged"]["title"]
            .as_str()
            .or_else(|| data["recordChanged"]["node"]["title"].as_str())
            .expect("a title")
            .to_owned();
        seen.push((message["id"].as_str().expect("id").to_owned(), title));
    }
    seen
}

const DIALOGUES: &str = "subscription { dialogueChanged { title visibility } }";
const RECORDS: &str = "subscription { recordChanged(types: [DIALOGUE]) { recordType action id node { ... on Dialogue { title } } } }";

#[tokio::test]
async fn a_subscriber_gets_the_changes_it_may_see_and_nothing_else() {
    let app = TestApp::start().await;
    let org = app.organisation("rsmh", "RSMH").await;
    let mut admin = connect(
        &app.url,
        json!({ "Authorization": format!("Bearer {}", app.admin_token) }),
    )
    .await;
    subscribe(&mut admin, "1", DIALOGUES).await;
    let mut anonymous = connect(&app.url, json!({})).await;
    subscribe(&mut anonymous, "1", DIALOGUES).await;
    subscribe(&mut anonymous, "2", RECORDS).await;
    // The subscriptions start (and SQLite's feed takes its first look) before the writes.
    tokio::time::sleep(Duration::from_millis(500)).await;

    app.dialogue("Öppet möte", "2026-11-20", &[&org], &[], "PUBLIC")
        .await;
    app.dialogue("Internt möte", "2026-11-21", &[&org], &[], "NETWORK")
        .await;

    let window = Duration::from_millis(1500);
    assert_eq!(
        titles(&mut admin, window).await,
        [
            ("1".to_owned(), "Öppet möte".to_owned()),
            ("1".into(), "Internt möte".into())
        ]
    );
    let mut seen = titles(&mut anonymous, window).await;
    seen.sort();
    assert_eq!(
        seen,
        [
            ("1".to_owned(), "Öppet möte".to_owned()),
            ("2".into(), "Öppet möte".into())
        ],
        "the NETWORK dialogue never reaches an anonymous subscriber"
    );

    // A bad credential is refused at connection_init (the protocol closes with 4403).
    let mut refused = open(&app.url, json!({ "Authorization": "Bearer not-a-token" })).await;
    let closed = next(&mut refused, Duration::from_secs(5)).await;
    assert_eq!(closed, Some(json!({ "closed": 4403 })));
}

#[tokio::test]
async fn a_change_written_on_one_server_process_reaches_a_subscriber_of_another() {
    if !on_postgres() {
        eprintln!("PostgreSQL only: SQLite has one server process");
        return;
    }
    let app = TestApp::start().await;
    let org = app.organisation("rsmh", "RSMH").await;
    let other = ChildServer::spawn(&app.database_url, &[]).await;
    let mut anonymous = connect(&other.url, json!({})).await;
    subscribe(&mut anonymous, "1", DIALOGUES).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.dialogue("Internt möte", "2026-11-21", &[&org], &[], "NETWORK")
        .await;
    app.dialogue("Öppet möte", "2026-11-20", &[&org], &[], "PUBLIC")
        .await;
    assert_eq!(
        titles(&mut anonymous, Duration::from_millis(2000)).await,
        [("1".to_owned(), "Öppet möte".to_owned())]
    );
}

#[tokio::test]
async fn only_subscriptions_run_over_the_websocket() {
    let app = TestApp::start().await;
    let mut admin = connect(
        &app.url,
        json!({ "Authorization": format!("Bearer {}", app.admin_token) }),
    )
    .await;
    let mutation = "mutation { createOrganisation(input: { slug: \"via-ws\", name: \"Via WS\", kind: OTHER }) { id } }";
    for (id, document) in [("q", "{ viewer { kind } }"), ("m", mutation)] {
        subscribe(&mut admin, id, document).await;
        let answer = next(&mut admin, Duration::from_secs(5))
            .await
            .expect("an answer");
        assert_eq!(answer["id"], id);
        assert_eq!(answer["type"], "next", "{answer}");
        assert!(answer["payload"]["data"].is_null(), "{answer}");
        let message = answer["payload"]["errors"][0]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(message.contains("only subscriptions"), "{answer}");
        let complete = next(&mut admin, Duration::from_secs(5))
            .await
            .expect("complete");
        assert_eq!(complete["type"], "complete", "{complete}");
    }
    let found = app
        .ok("{ organisation(slug: \"via-ws\") { id } }", json!({}))
        .await;
    assert!(found["organisation"].is_null(), "the mutation did not run");
    // A document over the shape limits is refused as over HTTP.
    let deep = format!(
        "subscription {{ dialogueChanged {{ {}title{} }} }}",
        "organisations { dialogues(first: 1) { nodes { ".repeat(5),
        " } } }".repeat(5)
    );
    subscribe(&mut admin, "deep", &deep).await;
    let answer = next(&mut admin, Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(
        answer["payload"]["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{answer}"
    );
    assert!(answer["payload"]["data"].is_null(), "{answer}");
}

#[tokio::test]
async fn a_revoked_partner_token_loses_its_subscriptions() {
    let settings = samverkan::config::HttpSettings {
        subscription_ping: Duration::from_millis(300),
        ..samverkan::config::HttpSettings::default()
    };
    let app = TestApp::start_with(settings, None).await;
    let secret = app.partner_token("site", "READ_NETWORK", &[]).await;
    let mut partner = connect(&app.url, json!({ "X-Api-Key": secret })).await;
    subscribe(&mut partner, "1", DIALOGUES).await;
    // Pings come and go while the token works.
    assert_eq!(next(&mut partner, Duration::from_millis(1000)).await, None);
    let listed = app.ok("{ apiTokens { nodes { id } } }", json!({})).await;
    let id = listed["apiTokens"]["nodes"][0]["id"].clone();
    app.ok(
        "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { revokedAt } }",
        json!({ "id": id }),
    )
    .await;
    let closed = next(&mut partner, Duration::from_secs(3)).await;
    assert_eq!(
        closed,
        Some(json!({ "closed": 4403 })),
        "closed at the next ping"
    );
}
