//! Clients that hold connections open cannot take the service from others: a connection
//! cap that closes idle half-open connections first, read time limits on headers and
//! bodies, and a shutdown that does not wait for slow clients.

use samverkan_tests::{ChildServer, TestApp};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Opens a connection and sends the start of a request header, never its end.
async fn half_header(address: &str) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(address).await.ok()?;
    stream
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: samverkan\r\nX-Slow: ")
        .await
        .ok()?;
    Some(stream)
}

/// Opens a connection, sends a complete header announcing a body, and ten bytes of it.
async fn slow_body(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: samverkan\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"query\":")
        .await
        .expect("send the start");
    stream
}

/// Whether the server closes `stream` (or answers and closes) within `limit`; the answer
/// it sent, if any.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut answer = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await {
        Ok(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
        Err(_) => None,
    }
}

fn address(url: &str) -> &str {
    url.trim_start_matches("http://")
}

#[tokio::test]
async fn half_sent_headers_and_bodies_are_cut_off_after_the_read_time_limit() {
    let app = TestApp::start_with(
        samverkan::config::HttpSettings {
            read_timeout: Duration::from_secs(1),
            ..Default::default()
        },
        None,
    )
    .await;
    let mut header = half_header(address(&app.url)).await.expect("connect");
    let mut body = slow_body(address(&app.url)).await;
    let mut idle = TcpStream::connect(address(&app.url))
        .await
        .expect("connect");
    assert!(
        closed_within(&mut header, Duration::from_secs(5))
            .await
            .is_some(),
        "a header that never ends is closed"
    );
    assert!(
        closed_within(&mut idle, Duration::from_secs(5))
            .await
            .is_some(),
        "a connection that never sends a request is closed"
    );
    let answer = closed_within(&mut body, Duration::from_secs(5))
        .await
        .expect("a body that never ends is answered and closed");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"REQUEST_TIMEOUT\""), "{answer}");
    let status = app
        .client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .expect("healthz")
        .status();
    assert_eq!(status, 200);
}

#[tokio::test]
async fn many_half_open_connections_leave_healthz_answering_and_shutdown_on_time() {
    let app = TestApp::start().await;
    let mut server = ChildServer::spawn(
        &app.database_url,
        &[
            ("SAMVERKAN_MAX_CONNECTIONS", "50"),
            ("SAMVERKAN_READ_TIMEOUT_SECS", "60"),
            ("SAMVERKAN_SHUTDOWN_GRACE_SECS", "1"),
        ],
    )
    .await;
    let address = address(&server.url).to_owned();
    // Four times the cap of connections that never finish their header.
    let mut held = Vec::new();
    for _ in 0..200 {
        if let Some(stream) = half_header(&address).await {
            held.push(stream);
        }
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .expect("client");
    for _ in 0..3 {
        let response = client
            .get(format!("{}/healthz", server.url))
            .send()
            .await
            .expect("/healthz answers while 200 half-open connections wait");
        assert_eq!(response.status(), 200);
    }
    // Bodies that never finish hold a request in progress: shutdown cuts them off.
    let mut slow = Vec::new();
    for _ in 0..5 {
        slow.push(slow_body(&address).await);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let signalled = Instant::now();
    server.signal("TERM");
    let status = server.exit_status(Duration::from_secs(10)).await;
    let took = signalled.elapsed();
    println!("exited {took:?} after SIGTERM with a 1 s grace period");
    assert!(status.success(), "exit code 0: {status:?}");
    assert!(
        took < Duration::from_secs(2),
        "shutdown within grace + 1 s, took {took:?}"
    );
    drop((held, slow));
}

#[tokio::test]
async fn requests_still_waiting_for_their_bodies_give_way_to_a_new_client() {
    let app = TestApp::start_with(
        samverkan::config::HttpSettings {
            max_connections: 4,
            read_timeout: Duration::from_secs(30),
            ..Default::default()
        },
        None,
    )
    .await;
    let mut slow = Vec::new();
    for _ in 0..4 {
        slow.push(slow_body(address(&app.url)).await);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, body) = app
        .post_as(
            &samverkan_tests::Caller::Anonymous,
            "{ organisations { totalCount } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["organisations"]["totalCount"], 0);
    let closed = closed_within(&mut slow[0], Duration::from_secs(5)).await;
    assert!(closed.is_some(), "the oldest slow body was closed for it");
}
