//! Subscriptions over WebSocket: `GET /graphql` with `Upgrade: websocket` and the
//! `graphql-transport-ws` subprotocol (the `graphql-ws` library's protocol).
//!
//! - The browser origin passed the CORS guard before the upgrade; a partner site's origin
//!   may not send a user's token in `connection_init` either.
//! - Credentials come in `connection_init`'s payload: `Authorization` (`Bearer ...`) or
//!   `X-Api-Key`, as in HTTP headers; none is anonymous.
//! - It must arrive within [`INIT_TIMEOUT`] (else close 4408, as the protocol says).
//! - Only subscriptions run here, after the same text and shape checks as over HTTP, with
//!   introspection and persisted-only mode as configured; queries and mutations go over
//!   HTTP. A message may be as large as a request body.
//! - At most `SAMVERKAN_MAX_CONNECTIONS` sockets in all, [`CONNECTIONS_PER_CALLER`] per
//!   credential and client address (an IPv6 /64), and [`SUBSCRIPTIONS_PER_CONNECTION`]
//!   subscriptions per connection.
//! - At shutdown every socket is closed with 1001 (going away) before the process ends.
//! - The server pings every `subscription_ping` (30 s); a peer that has sent nothing since the
//!   ping before last is closed (two pings unanswered), however late a busy server sends them. The
//!   credential is checked again at each ping: revoked, expired, logged out or changed
//!   (another role, another membership) closes the connection with 4403.

use super::cost::NotQueued;
use super::endpoint::Endpoint;
use super::{SamverkanSchema, loaders};
use crate::account::caller::{self as request, Credentials};
use crate::auth::Principal;
use crate::changes::Changes;
use crate::error::AppError;
use async_graphql::http::{WebSocket as Protocol, WebSocketProtocols, WsMessage};
use async_graphql::{Data, Executor};
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures_util::stream::BoxStream;
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

/// The open sockets, in all and per caller, shared by the server.
pub struct Connections {
    per_caller: Mutex<HashMap<String, usize>>,
    all: AtomicUsize,
    /// Turns `true` when the server stops: every socket says goodbye (1001).
    closing: tokio::sync::watch::Sender<bool>,
}

impl Default for Connections {
    fn default() -> Self {
        Self {
            per_caller: Mutex::default(),
            all: AtomicUsize::new(0),
            closing: tokio::sync::watch::channel(false).0,
        }
    }
}

impl Connections {
    /// Closes every socket with 1001 (going away) and waits until they are closed, for at
    /// most `limit`: at shutdown, so that clients learn to reconnect elsewhere rather than
    /// meet a dropped connection.
    pub async fn close_all(&self, limit: Duration) {
        self.closing.send_replace(true);
        let deadline = tokio::time::Instant::now() + limit;
        while self.all.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// A place for one more socket, unless `most` are open.
    fn socket(self: &Arc<Self>, most: usize) -> Option<Socket> {
        self.all
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < most).then_some(n + 1)
            })
            .ok()?;
        Some(Socket {
            connections: self.clone(),
            caller: None,
        })
    }
}

/// A socket's place in [`Connections`], given back when it is dropped (however the
/// socket's task ends).
pub struct Socket {
    connections: Arc<Connections>,
    caller: Option<String>,
}

impl Socket {
    /// Counts the socket for `caller`, unless the caller holds the most already.
    fn for_caller(&mut self, caller: String) -> bool {
        let Ok(mut open) = self.connections.per_caller.lock() else {
            return false;
        };
        let count = open.entry(caller.clone()).or_default();
        if *count >= CONNECTIONS_PER_CALLER {
            return false;
        }
        *count += 1;
        self.caller = Some(caller);
        true
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.connections.all.fetch_sub(1, Ordering::SeqCst);
        if let Some(caller) = &self.caller
            && let Ok(mut open) = self.connections.per_caller.lock()
            && let Some(count) = open.get_mut(caller)
        {
            *count -= 1;
            if *count == 0 {
                open.remove(caller);
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

/// Accepts the upgrade with the `graphql-transport-ws` subprotocol, unless the server holds
/// the most sockets already (503).
pub fn accept(
    endpoint: Arc<Endpoint>,
    changes: Arc<Changes>,
    upgrade: WebSocketUpgrade,
    request: Upgrade,
) -> Response {
    let Some(socket) = endpoint
        .connections()
        .socket(endpoint.settings().max_connections)
    else {
        return (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            "too many subscription connections",
        )
            .into_response();
    };
    upgrade
        .protocols(["graphql-transport-ws"])
        .max_message_size(endpoint.settings().limits.max_body_bytes)
        .on_upgrade(move |ws| serve(endpoint, changes, ws, request, socket))
        .into_response()
}

/// Runs only subscriptions, checked as over HTTP.
#[derive(Clone)]
struct SubscriptionsOnly {
    endpoint: Arc<Endpoint>,
    /// Whether the caller is a signed-in user (who may send any document in persisted-only
    /// mode); set at `connection_init`.
    trusted: Arc<AtomicBool>,
}

impl SubscriptionsOnly {
    /// The request's checked document, or why it may not run here.
    fn check(
        &self,
        request: &async_graphql::Request,
    ) -> Result<Arc<super::documents::Parsed>, AppError> {
        let document = self.endpoint.subscription_document(request)?;
        let trusted = self.trusted.load(Ordering::SeqCst);
        if !self.endpoint.may_run(&request.query, trusted) {
            let message = "this server runs only registered documents";
            return Err(AppError::bad_input("query", message));
        }
        Ok(document)
    }
}

impl Executor for SubscriptionsOnly {
    fn execute(
        &self,
        _request: async_graphql::Request,
    ) -> impl Future<Output = async_graphql::Response> + Send {
        let message = "only subscriptions run over WebSocket";
        futures_util::future::ready(refused(AppError::bad_input("query", message)))
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        let mut request = match self.check(&request) {
            Ok(document) => {
                let mut request = request;
                request.set_parsed_query(document.document());
                request
            }
            Err(error) => {
                return futures_util::stream::once(futures_util::future::ready(refused(error)))
                    .boxed();
            }
        };
        if !self.endpoint.settings().introspection {
            request = request.disable_introspection();
        }
        let schema: &SamverkanSchema = self.endpoint.schema();
        Executor::execute_stream(schema, request, session_data)
    }
}

/// A refusal of a document, as the protocol's `error` message carries it.
fn refused(error: AppError) -> async_graphql::Response {
    async_graphql::Response::from_errors(vec![super::error::request_error(error.into())])
}

/// Who pays and is counted for a socket: the credential and the client's address (an
/// IPv6 /64), so that a partner token published on a page cannot be used up by others.
fn caller_key(principal: &Principal, client: Option<SocketAddr>) -> String {
    let address = client.map_or_else(
        || "unknown".to_owned(),
        |a| crate::http::server::holder(a.ip()).to_string(),
    );
    match (principal.token_id, principal.user_id) {
        (Some(token), _) => format!("token:{token}@{address}"),
        (None, Some(user)) => format!("user:{user}"),
        (None, None) => format!("address:{address}"),
    }
}

/// An accepted connection: its place among the sockets, the credential it was opened with
/// (`Authorization`, `X-Api-Key`) and what that granted.
type Accepted = (Socket, Option<String>, Option<String>, Principal);

/// What the credential of a connection grants, to see whether it still does.
fn grants(principal: &Principal) -> impl PartialEq + use<> {
    (
        principal.kind,
        principal.user_id,
        principal.token_id,
        principal.admin,
        principal.network,
        principal.member_of.clone(),
        principal.editor_of.clone(),
    )
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
    place: Socket,
) {
    let (mut sink, stream) = socket.split();
    let heard = Arc::new(Mutex::new(tokio::time::Instant::now()));
    let input = {
        let heard = heard.clone();
        stream
            .take_while(|message| futures_util::future::ready(message.is_ok()))
            .filter_map(move |message| {
                if let Ok(mut heard) = heard.lock() {
                    *heard = tokio::time::Instant::now();
                }
                async move {
                    match message {
                        Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                        Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                        _ => None,
                    }
                }
            })
    };
    let initialised = Arc::new(AtomicBool::new(false));
    let trusted = Arc::new(AtomicBool::new(false));
    let accepted: Arc<Mutex<Option<Accepted>>> = Arc::default();
    let place = Arc::new(Mutex::new(Some(place)));
    let origin = request.origin.clone();
    let on_init = {
        let (endpoint, initialised, trusted, accepted) = (
            endpoint.clone(),
            initialised.clone(),
            trusted.clone(),
            accepted.clone(),
        );
        move |payload: serde_json::Value| async move {
            initialised.store(true, Ordering::SeqCst);
            let authorization = entry(&payload, "authorization");
            if request.partner_origin && authorization.is_some() {
                return Err(async_graphql::Error::new(
                    "a partner site may subscribe anonymously or with its partner token, not with a user's token",
                ));
            }
            let api_key = entry(&payload, "x-api-key");
            let credentials = Credentials {
                authorization,
                api_key,
                origin: request.origin.as_deref(),
            };
            let principal = request::principal(endpoint.db(), endpoint.keys(), credentials)
                .await
                .map_err(|error| async_graphql::Error::from(error).message)
                .map_err(async_graphql::Error::new)?;
            let Some(mut socket) = place.lock().ok().and_then(|mut p| p.take()) else {
                return Err(async_graphql::Error::new("already initialised"));
            };
            if !socket.for_caller(caller_key(&principal, request.client)) {
                return Err(async_graphql::Error::new(format!(
                    "at most {CONNECTIONS_PER_CALLER} subscription connections per caller"
                )));
            }
            trusted.store(principal.user_id.is_some(), Ordering::SeqCst);
            let mut data = Data::default();
            loaders::attach_to(&mut data, endpoint.db(), endpoint.keys(), principal.clone());
            data.insert(super::endpoint::rate_key(&principal, request.client));
            data.insert(NotQueued);
            data.insert(changes);
            data.insert(Running::default());
            if let Ok(mut accepted) = accepted.lock() {
                *accepted = Some((
                    socket,
                    authorization.map(str::to_owned),
                    api_key.map(str::to_owned),
                    principal,
                ));
            }
            Ok(data)
        }
    };
    let executor = SubscriptionsOnly {
        endpoint: endpoint.clone(),
        trusted,
    };
    let protocol =
        Protocol::new(executor, input, WebSocketProtocols::GraphQLWS).on_connection_init(on_init);
    let mut protocol = std::pin::pin!(protocol);
    let deadline = tokio::time::sleep(INIT_TIMEOUT);
    tokio::pin!(deadline);
    let every = endpoint.settings().subscription_ping;
    let mut ping = tokio::time::interval(every);
    // After a stall (a busy server), one late tick, not a burst that would judge the peer
    // by the server's delay.
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    // When the last two pings went out, the earlier first: a peer that has sent nothing since
    // the earlier one has answered neither.
    let mut pinged: [Option<tokio::time::Instant>; 2] = [None, None];
    let close = |code: u16, reason: &str| {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.to_owned().into(),
        }))
    };
    let mut stopping = endpoint.connections().closing.subscribe();
    if *stopping.borrow() {
        stopping.mark_changed();
    }
    loop {
        let message = tokio::select! {
            _ = stopping.changed() => close(1001, "the server is shutting down"),
            message = protocol.next() => match message {
                Some(WsMessage::Text(text)) => Message::Text(text.into()),
                Some(WsMessage::Close(code, reason)) => {
                    // A refused `connection_init` is 4403 Forbidden in the protocol.
                    let refused = code == 1002 && accepted.lock().is_ok_and(|a| a.is_none());
                    close(if refused { 4403 } else { code }, &reason)
                }
                None => break,
            },
            () = &mut deadline, if !initialised.load(Ordering::SeqCst) => {
                close(4408, "Connection initialisation timeout")
            }
            _ = ping.tick() => {
                let heard = heard.lock().map(|h| *h).ok();
                let unanswered = pinged[0].zip(heard).is_some_and(|(sent, heard)| heard < sent);
                if unanswered {
                    close(1001, "the client stopped answering pings")
                } else if still_granted(&endpoint, &accepted, origin.as_deref()).await {
                    pinged = [pinged[1], Some(tokio::time::Instant::now())];
                    Message::Ping(Vec::new().into())
                } else {
                    close(4403, "the credential no longer grants what it did: connect again")
                }
            }
        };
        let closing = matches!(message, Message::Close(_));
        if sink.send(message).await.is_err() || closing {
            break;
        }
    }
}

/// Whether the connection's credential still works and grants the same as when it was
/// accepted (true before `connection_init`).
async fn still_granted(
    endpoint: &Endpoint,
    accepted: &Mutex<Option<Accepted>>,
    origin: Option<&str>,
) -> bool {
    let Some((authorization, api_key, before)) = accepted.lock().ok().and_then(|a| {
        a.as_ref()
            .map(|(_, auth, key, p)| (auth.clone(), key.clone(), grants(p)))
    }) else {
        return true;
    };
    let credentials = Credentials {
        authorization: authorization.as_deref(),
        api_key: api_key.as_deref(),
        origin,
    };
    match request::principal(endpoint.db(), endpoint.keys(), credentials).await {
        Ok(now) => grants(&now) == before,
        Err(_) => false,
    }
}
