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
    // The client keeps reading while the token is revoked, so it answers the server's pings:
    // the revocation is the only reason left for a close.
    let revoke = async {
        let listed = app.ok("{ apiTokens { nodes { id } } }", json!({})).await;
        let id = listed["apiTokens"]["nodes"][0]["id"].clone();
        app.ok(
            "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { revokedAt } }",
            json!({ "id": id }),
        )
        .await;
    };
    let ((), closed) = tokio::join!(revoke, next(&mut partner, Duration::from_secs(10)));
    assert_eq!(
        closed,
        Some(json!({ "closed": 4403 })),
        "closed at the next ping"
    );
}

#[tokio::test]
async fn a_caller_holds_at_most_eight_connections_and_twenty_subscriptions_on_each() {
    let app = TestApp::start().await;
    let mut held = Vec::new();
    for _ in 0..8 {
        held.push(connect(&app.url, json!({})).await);
    }
    let mut ninth = open(&app.url, json!({})).await;
    assert_eq!(
        next(&mut ninth, Duration::from_secs(5)).await,
        Some(json!({ "closed": 4403 })),
        "the ninth connection of one caller is refused"
    );
    // One closed makes room for another.
    let mut first = held.remove(0);
    first.close(None).await.expect("close");
    drop(first);
    let mut again = None;
    for _ in 0..50 {
        let mut socket = open(&app.url, json!({})).await;
        match next(&mut socket, Duration::from_secs(5)).await {
            Some(ack) if ack["type"] == "connection_ack" => {
                again = Some(socket);
                break;
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let mut socket = again.expect("a place is free again once a connection closed");
    for id in 1..=20 {
        subscribe(&mut socket, &id.to_string(), DIALOGUES).await;
    }
    assert_eq!(
        next(&mut socket, Duration::from_millis(500)).await,
        None,
        "twenty subscriptions run"
    );
    subscribe(&mut socket, "21", DIALOGUES).await;
    let refused = next(&mut socket, Duration::from_secs(5))
        .await
        .expect("an answer");
    assert_eq!(refused["id"], "21", "{refused}");
    assert!(
        refused.to_string().contains("at most 20 subscriptions"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_client_that_stops_answering_pings_is_closed() {
    let settings = samverkan::config::HttpSettings {
        subscription_ping: Duration::from_millis(500),
        ..samverkan::config::HttpSettings::default()
    };
    let app = TestApp::start_with(settings, None).await;
    let mut answering = connect(&app.url, json!({})).await;
    let mut silent = connect(&app.url, json!({})).await;
    // The silent client reads nothing (so answers no ping) for a while; the other reads,
    // and its WebSocket answers each ping.
    assert_eq!(
        next(&mut answering, Duration::from_millis(3000)).await,
        None
    );
    // Closed by the server: with 1001, or (when the client's late pong meets the closed
    // socket first) the connection simply ends; not still open.
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            match silent.next().await {
                Some(Ok(Message::Close(frame))) => return Some(frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the server closed the client after two pings unanswered");
    assert!(matches!(ended, None | Some(Some(1001))), "{ended:?}");
    assert_eq!(
        next(&mut answering, Duration::from_millis(1000)).await,
        None,
        "the answering client stays"
    );
}

#[tokio::test]
async fn goal_progress_is_sent_when_it_moves_and_only_then() {
    let app = TestApp::start().await;
    let org = app.organisation("rsmh", "RSMH").await;
    app.ok(
        "mutation($input: CreateGoalInput!) { createGoal(input: $input) { id } }",
        json!({ "input": { "slug": "moten", "title": "Tre möten", "category": "OTHER",
            "periodStart": "2026-01-01", "periodEnd": "2026-12-31", "target": 3,
            "measure": { "kind": "DIALOGUE_COUNT", "dialogueKinds": ["MEETING"] },
            "visibility": "PUBLIC" } }),
    )
    .await;
    let mut anonymous = connect(&app.url, json!({})).await;
    subscribe(
        &mut anonymous,
        "g",
        "subscription { goalProgressChanged(slug: \"moten\") { slug progress { current } } }",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Not seen by the subscriber, and seen but not counted: nothing is sent.
    // (A NETWORK meeting would count for a member; it moves nothing for the anonymous.)
    for (title, kind, visibility) in [
        ("Internt möte", "MEETING", "NETWORK"),
        ("Seminarium", "SEMINAR", "PUBLIC"),
    ] {
        app.ok(
            "mutation($input: CreateDialogueInput!) { createDialogue(input: $input) { id } }",
            json!({ "input": { "title": title, "kind": kind, "status": "HELD",
                "heldOn": "2026-03-02", "summary": "s", "visibility": visibility,
                "organisationIds": [org] } }),
        )
        .await;
    }
    assert_eq!(
        next(&mut anonymous, Duration::from_millis(1000)).await,
        None,
        "nothing moved for the subscriber"
    );
    // A public meeting counts: the progress is sent, once.
    app.dialogue("Öppet möte", "2026-03-03", &[&org], &[], "PUBLIC")
        .await;
    let sent = next(&mut anonymous, Duration::from_secs(5))
        .await
        .expect("the progress moved");
    assert_eq!(
        sent["payload"]["data"]["goalProgressChanged"]["progress"]["current"], 1,
        "{sent}"
    );
    assert_eq!(next(&mut anonymous, Duration::from_millis(800)).await, None);
}

#[tokio::test]
async fn subscribers_are_told_when_the_server_stops() {
    let app = TestApp::start().await;
    let mut server =
        ChildServer::spawn(&app.database_url, &[("SAMVERKAN_SHUTDOWN_GRACE_SECS", "0")]).await;
    let mut socket = connect(&server.url, json!({})).await;
    subscribe(&mut socket, "1", DIALOGUES).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    server.signal("TERM");
    assert_eq!(
        next(&mut socket, Duration::from_secs(5)).await,
        Some(json!({ "closed": 1001 })),
        "closed as going away, not dropped"
    );
    assert!(server.exit_status(Duration::from_secs(10)).await.success());
}
