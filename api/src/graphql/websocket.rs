//! Subscriptions over WebSocket: `GET /graphql` with `Upgrade: websocket` and the
//! `graphql-transport-ws` subprotocol (the `graphql-ws` library's protocol).
//!
//! - The browser origin passed the CORS guard before the upgrade; a partner site's origin
//!   may not send a user's token in `connection_init` either.
//! - Credentials come in `connection_init`'s payload: `Authorization` (`Bearer ...`) or
//!   `X-Api-Key`, as in HTTP headers; none is anonymous.
//! - It must arrive within [`INIT_TIMEOUT`] (else close 4408, as the protocol says).
//! - At most [`CONNECTIONS_PER_CALLER`] connections per credential (or client address for
//!   anonymous callers) and [`SUBSCRIPTIONS_PER_CONNECTION`] subscriptions per connection.
//! - The server pings every [`PING_EVERY`]; a peer that stops answering is closed by the
//!   read time limit of the connection.

use super::cost::NotQueued;
use super::endpoint::Endpoint;
use super::loaders;
use crate::account::caller::{self as request, Credentials};
use crate::changes::Changes;
use async_graphql::Data;
use async_graphql::http::{WebSocket as Protocol, WebSocketProtocols, WsMessage};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a client has to send `connection_init`.
pub const INIT_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections one credential (or anonymous client address) may hold open.
pub const CONNECTIONS_PER_CALLER: usize = 8;
/// Subscriptions one connection may run at once.
pub const SUBSCRIPTIONS_PER_CONNECTION: usize = 20;
/// How often the server pings.
const PING_EVERY: Duration = Duration::from_secs(30);

/// The open connections per caller, shared by the server.
#[derive(Default)]
pub struct Connections(Mutex<HashMap<String, usize>>);

impl Connections {
    fn open(&self, key: &str) -> bool {
        let Ok(mut open) = self.0.lock() else {
            return false;
        };
        let count = open.entry(key.to_owned()).or_default();
        if *count >= CONNECTIONS_PER_CALLER {
            return false;
        }
        *count += 1;
        true
    }

    fn close(&self, key: &str) {
        if let Ok(mut open) = self.0.lock()
            && let Some(count) = open.get_mut(key)
        {
            *count -= 1;
            if *count == 0 {
                open.remove(key);
            }
        }
    }
}

/// The subscriptions running on one connection.
#[derive(Clone, Default)]
pub struct Running(Arc<AtomicUsize>);

/// Held while a subscription runs.
pub struct Slot(Arc<AtomicUsize>);

impl Running {
    /// A slot for one more subscription, unless the connection runs the most already.
    pub fn take(&self) -> Option<Slot> {
        let taken = self
            .0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < SUBSCRIPTIONS_PER_CONNECTION).then_some(n + 1)
            })
            .is_ok();
        taken.then(|| Slot(self.0.clone()))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the upgrade knows about the request.
pub struct Upgrade {
    /// The `Origin` header.
    pub origin: Option<String>,
    /// The origin is a partner site's: no user tokens from there.
    pub partner_origin: bool,
    /// The client's address.
    pub client: Option<SocketAddr>,
}

/// Accepts the upgrade with the `graphql-transport-ws` subprotocol.
pub fn accept(
    endpoint: Arc<Endpoint>,
    changes: Arc<Changes>,
    upgrade: WebSocketUpgrade,
    request: Upgrade,
) -> Response {
    upgrade
        .protocols(["graphql-transport-ws"])
        .on_upgrade(move |socket| serve(endpoint, changes, socket, request))
        .into_response()
}

/// A text of the payload's entry `name`, whatever its case.
fn entry<'a>(payload: &'a serde_json::Value, name: &str) -> Option<&'a str> {
    payload
        .as_object()?
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))?
        .1
        .as_str()
}

async fn serve(
    endpoint: Arc<Endpoint>,
    changes: Arc<Changes>,
    socket: WebSocket,
    request: Upgrade,
) {
    let (mut sink, stream) = socket.split();
    let input = stream
        .take_while(|message| futures_util::future::ready(message.is_ok()))
        .filter_map(|message| async move {
            match message {
                Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                _ => None,
            }
        });
    let initialised = Arc::new(AtomicBool::new(false));
    let opened: Arc<Mutex<Option<String>>> = Arc::default();
    let on_init = {
        let (endpoint, initialised, opened) =
            (endpoint.clone(), initialised.clone(), opened.clone());
        move |payload: serde_json::Value| async move {
            initialised.store(true, Ordering::SeqCst);
            let authorization = entry(&payload, "authorization");
            if request.partner_origin && authorization.is_some() {
                return Err(async_graphql::Error::new(
                    "a partner site may subscribe anonymously or with its partner token, not with a user's token",
                ));
            }
            let credentials = Credentials {
                authorization,
                api_key: entry(&payload, "x-api-key"),
                origin: request.origin.as_deref(),
            };
            let principal = request::principal(endpoint.db(), endpoint.keys(), credentials)
                .await
                .map_err(|error| async_graphql::Error::from(error).message)
                .map_err(async_graphql::Error::new)?;
            let key = super::endpoint::rate_key(&principal, request.client);
            if !endpoint.connections().open(&key.0) {
                return Err(async_graphql::Error::new(format!(
                    "at most {CONNECTIONS_PER_CALLER} subscription connections per caller"
                )));
            }
            if let Ok(mut opened) = opened.lock() {
                *opened = Some(key.0.clone());
            }
            let mut data = Data::default();
            loaders::attach_to(&mut data, endpoint.db(), endpoint.keys(), principal);
            data.insert(key);
            data.insert(NotQueued);
            data.insert(changes);
            data.insert(Running::default());
            Ok(data)
        }
    };
    let protocol = Protocol::new(
        endpoint.schema().clone(),
        input,
        WebSocketProtocols::GraphQLWS,
    )
    .on_connection_init(on_init);
    let mut protocol = std::pin::pin!(protocol);
    let deadline = tokio::time::sleep(INIT_TIMEOUT);
    tokio::pin!(deadline);
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        let message = tokio::select! {
            message = protocol.next() => match message {
                Some(WsMessage::Text(text)) => Message::Text(text.into()),
                Some(WsMessage::Close(code, reason)) => {
                    // A refused `connection_init` is 4403 Forbidden in the protocol.
                    let refused = code == 1002 && opened.lock().is_ok_and(|o| o.is_none());
                    let code = if refused { 4403 } else { code };
                    Message::Close(Some(CloseFrame { code, reason: reason.into() }))
                }
                None => break,
            },
            () = &mut deadline, if !initialised.load(Ordering::SeqCst) => {
                Message::Close(Some(CloseFrame { code: 4408, reason: "Connection initialisation timeout".into() }))
            }
            _ = ping.tick() => Message::Ping(Vec::new().into()),
        };
        let closing = matches!(message, Message::Close(_));
        if sink.send(message).await.is_err() || closing {
            break;
        }
    }
    let key = opened.lock().ok().and_then(|mut opened| opened.take());
    if let Some(key) = key {
        endpoint.connections().close(&key);
    }
}
