//! GraphQL over HTTP, following the specification: `POST /graphql` with an
//! `application/json` body (queries and mutations), `GET /graphql` (queries only), and the
//! GraphiQL page.
//!
//! Before a document reaches the engine it passes, in order: the media types, the body
//! (its size bounded by the router's `DefaultBodyLimit`), the caller's credentials, the text
//! limits (length, tokens, nesting) and the shape limits (depth, aliases, fields, directives,
//! fragment cycles) of [`super::checks`]. The engine then validates it, and the cost guard
//! ([`super::cost`]) prices it and charges the caller's budget before anything executes.

use super::cost::{Admission, CheckOnly, CostReport, CostSlot, NotQueued, RateKey};
use super::documents::{DocumentCache, Parsed};
use super::persisted::{self, PersistedQueries};
use super::responses::{Kept, ResponseCache};
use super::{SamverkanSchema, Schemas, checks, loaders, schema_with};
use crate::account::caller::{self as request, Credentials};
use crate::auth::jwt::Keys;
use crate::auth::{Principal, PrincipalKind};
use crate::config::HttpSettings;
use crate::error::{AppError, current_request_id};
use crate::limits::RateLimiter;
use crate::metrics::Metrics;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use axum::Json;
use axum::RequestExt;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

/// One more schema extension for both schemas (tests use it to make a resolver fail); named
/// here so that the HTTP layer need not know async-graphql.
pub type Extension = Arc<dyn async_graphql::extensions::ExtensionFactory>;

/// The official media type of GraphQL responses.
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// What the GraphQL endpoint needs to answer a request.
pub struct Endpoint {
    /// For signed-in callers and partner tokens.
    schema: Schemas,
    /// For anonymous callers: no field suggestions in error messages.
    anonymous_schema: Schemas,
    db: DatabaseConnection,
    keys: Keys,
    settings: Arc<HttpSettings>,
    metrics: Arc<Metrics>,
    /// SQLite has one writer at a time: mutations queue here instead of meeting SQLITE_BUSY.
    write_gate: Option<WriteGate>,
    /// Documents already parsed and checked, by their text.
    documents: DocumentCache,
    /// The callers' budgets of cost points, which the reports charge too.
    limiter: Arc<RateLimiter>,
    /// Documents known by their hash.
    persisted: PersistedQueries,
    /// On PostgreSQL: the documents every server process on the database learned.
    shared_documents: Option<Arc<persisted::SharedDocuments>>,
    /// Answers to public GETs, kept for the max age.
    responses: Arc<ResponseCache>,
    /// Open subscription sockets.
    connections: Arc<super::websocket::Connections>,
    /// The feed of changes, started with the server ([`Endpoint::follow_changes`]).
    changes: std::sync::OnceLock<Arc<crate::changes::Changes>>,
    /// The webhook delivery worker, once started ([`Endpoint::start_webhooks`]).
    webhooks: std::sync::OnceLock<Arc<crate::webhook::worker::Worker>>,
    /// How webhooks are delivered, for `createWebhook`.
    webhook_settings: super::webhook::WebhookSettings,
}

pub use crate::db::{WriteGate, write_gate};

impl Endpoint {
    /// The endpoint over a connected, migrated database, counting into `metrics`; on SQLite,
    /// mutations take turns at `write_gate`.
    pub fn new(
        db: DatabaseConnection,
        keys: Keys,
        settings: Arc<HttpSettings>,
        metrics: Arc<Metrics>,
        extension: Option<Extension>,
        write_gate: Option<WriteGate>,
    ) -> Self {
        let limiter = Arc::new(RateLimiter::new(
            settings.limits.budget_per_minute,
            settings.limits.max_cost_in_flight,
        ));
        limiter.share_through(&db);
        let shared_documents = persisted::SharedDocuments::over(&db);
        let limits = Arc::new(settings.limits.clone());
        let schema = |suggestions: bool| {
            schema_with(
                suggestions,
                settings.introspection,
                limits.clone(),
                limiter.clone(),
                extension.clone(),
            )
        };
        Self {
            schema: schema(true),
            anonymous_schema: schema(false),
            write_gate,
            db,
            keys,
            metrics,
            documents: DocumentCache::default(),
            responses: Arc::new(ResponseCache::new(settings.cache_max_age)),
            connections: Arc::default(),
            changes: std::sync::OnceLock::new(),
            webhooks: std::sync::OnceLock::new(),
            webhook_settings: super::webhook::WebhookSettings(Arc::new(settings.webhooks.clone())),
            shared_documents,
            persisted: PersistedQueries::new(
                settings.persisted_queries.iter().cloned(),
                settings.persisted_only,
            ),
            settings,
            limiter,
        }
    }
}

/// How to answer: the media type the client accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Media {
    /// `application/graphql-response+json`: request errors are 4xx.
    GraphqlResponse,
    /// `application/json`, the legacy default: GraphQL errors are 200.
    Json,
}

fn negotiate(headers: &HeaderMap) -> Option<Media> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Media::Json);
    };
    let types: Vec<&str> = accept
        .split(',')
        .map(|t| t.split(';').next().unwrap_or("").trim())
        .collect();
    if types.contains(&GRAPHQL_RESPONSE) {
        Some(Media::GraphqlResponse)
    } else if types
        .iter()
        .any(|t| matches!(*t, "application/json" | "application/*" | "*/*"))
    {
        Some(Media::Json)
    } else {
        None
    }
}

impl Media {
    /// Its `Content-Type`.
    fn content_type(self) -> &'static str {
        match self {
            Self::GraphqlResponse => GRAPHQL_RESPONSE,
            Self::Json => "application/json",
        }
    }
}

/// A response with a GraphQL-shaped body.
fn answer(status: StatusCode, media: Media, body: &impl serde::Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(media.content_type()),
    );
    response
}

/// A response with an executed request's answer as its body.
fn answer_executed(
    status: StatusCode,
    media: Media,
    body: &async_graphql::Response,
    data: Option<&[u8]>,
) -> Response {
    let content_type = [(header::CONTENT_TYPE, media.content_type())];
    (status, content_type, super::json::response(body, data)).into_response()
}

/// An answer with one INTERNAL error (and a request id), for a fault of this server: `what`
/// goes to the log, not to the client.
fn internal_response(what: &str) -> async_graphql::Response {
    let error = AppError::Internal(Arc::new(std::io::Error::other(what.to_owned())));
    async_graphql::Response::from_errors(vec![super::error::request_error(error.into())])
}

/// A refusal before execution, with a code and no internals; never kept by a cache.
fn refuse(status: StatusCode, media: Media, code: &str, message: &str) -> Response {
    let mut response = answer(
        status,
        media,
        &json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl Endpoint {
    /// The database the endpoint serves.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The keys that sign and check access tokens.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// The schema for callers who are not anonymous (subscriptions use it for everyone).
    pub fn schema(&self) -> &SamverkanSchema {
        &self.schema.checks
    }

    /// Open subscription sockets.
    pub fn connections(&self) -> &Arc<super::websocket::Connections> {
        &self.connections
    }

    /// The HTTP settings.
    pub fn settings(&self) -> &HttpSettings {
        &self.settings
    }

    /// Whether the document `query` may run for this caller (persisted-only mode runs only
    /// registered documents for callers who are not `trusted`, signed-in users).
    pub fn may_run(&self, query: &str, trusted: bool) -> bool {
        self.persisted
            .find(Some(query.to_owned()), None, trusted)
            .is_ok()
    }

    /// The feed of committed changes (started with the endpoint).
    pub fn changes(&self) -> Arc<crate::changes::Changes> {
        self.changes
            .get_or_init(|| crate::changes::Changes::start(&self.db))
            .clone()
    }

    /// Starts the feed of changes and follows it, so that a change made through another
    /// server process (or the command line) makes the kept answers stale and a new partner
    /// token's origin allowed at once, as one made here does.
    pub fn follow_changes(&self) {
        let mut changes = self.changes().subscribe();
        let responses = self.responses.clone();
        tokio::spawn(async move {
            use tokio::sync::broadcast::error::RecvError;
            loop {
                match changes.recv().await {
                    Ok(crate::changes::Event::Change(change)) => {
                        responses.invalidate();
                        if change.record_type == entity::RecordType::ApiToken {
                            crate::account::tokens::changed();
                        }
                    }
                    Ok(crate::changes::Event::Gap) | Err(RecvError::Lagged(_)) => {
                        responses.invalidate();
                        crate::account::tokens::changed();
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }

    /// Starts this process's webhook delivery worker (it stops with the endpoint); a round
    /// runs at each change committed anywhere.
    pub fn start_webhooks(&self) {
        if !self.webhook_settings.0.deliver {
            return;
        }
        let db = crate::db::detached(&self.db);
        let payloads = Arc::new(super::webhook::Payloads::new(db.clone(), self.keys.clone()));
        match crate::webhook::worker::Worker::start(
            db,
            self.write_gate.clone(),
            (*self.webhook_settings.0).clone(),
            payloads,
            self.changes().subscribe(),
        ) {
            Ok(worker) => {
                let _ = self.webhooks.set(worker);
            }
            Err(error) => tracing::error!(%error, "webhooks cannot be delivered"),
        }
    }

    /// The caller of a request outside GraphQL (the reports), from its headers, as
    /// `/graphql` would find it; a credential that does not work is refused the same way.
    ///
    /// # Errors
    /// The response to send instead.
    pub async fn caller(&self, headers: &HeaderMap) -> Result<Principal, Response> {
        principal(self, headers)
            .await
            .map_err(|error| refused(error, Media::Json))
    }

    /// Charges `cost` points to the caller's budget, as a GraphQL document of that cost.
    ///
    /// # Errors
    /// 429 RATE_LIMITED with `Retry-After` when the budget does not hold it.
    #[allow(
        clippy::result_large_err,
        reason = "the error is the response itself, sent at once"
    )]
    pub async fn charge(
        &self,
        principal: &Principal,
        client: Option<SocketAddr>,
        cost: usize,
    ) -> Result<(), Response> {
        let charge = self.limiter.spend(&rate_key(principal, client), cost).await;
        match charge.retry_after {
            None => Ok(()),
            Some(seconds) => {
                let mut response = refuse(
                    StatusCode::TOO_MANY_REQUESTS,
                    Media::Json,
                    "RATE_LIMITED",
                    "this caller's budget of cost points is spent; try again later",
                );
                if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                Err(response)
            }
        }
    }

    /// The answer to a request outside GraphQL that failed: 400 for bad input, else 500,
    /// with the error as GraphQL would show it (internal details only in the log).
    pub fn failed(error: &AppError) -> Response {
        let status = if error.code() == "BAD_USER_INPUT" {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        let error = async_graphql::Error::from(error.clone());
        answer(
            status,
            Media::Json,
            &json!({ "errors": [{ "message": error.message, "extensions": error.extensions }] }),
        )
    }

    /// A 400 answer naming the query parameter at fault.
    pub fn bad_parameter(field: &str, message: &str) -> Response {
        answer(
            StatusCode::BAD_REQUEST,
            Media::Json,
            &bad_input_body(field, message),
        )
    }
}

/// The body refusing one member of the request (`field`) as BAD_USER_INPUT.
fn bad_input_body(field: &str, message: &str) -> Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT", "field": field } }] })
}

/// The caller of a request, from its headers.
async fn principal(endpoint: &Endpoint, headers: &HeaderMap) -> Result<Principal, AppError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let credentials = Credentials {
        authorization: header("authorization"),
        api_key: header("x-api-key"),
        origin: header("origin"),
    };
    request::principal(&endpoint.db, &endpoint.keys, credentials).await
}

/// A credential that does not work is refused outright (401, or 403 for a partner token
/// used from a foreign origin) rather than treated as anonymous, so the client knows.
fn refused(error: AppError, media: Media) -> Response {
    let status = if error.code() == "FORBIDDEN" {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNAUTHORIZED
    };
    let error = async_graphql::Error::from(error);
    let mut response = answer(
        status,
        media,
        &json!({ "errors": [{ "message": error.message, "extensions": error.extensions }] }),
    );
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// The GraphQL request in a GET query string.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    variables: Option<String>,
    operation_name: Option<String>,
    extensions: Option<String>,
}

/// The GraphQL request in a POST body.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostBody {
    query: Option<String>,
    #[serde(default)]
    variables: Option<Value>,
    operation_name: Option<String>,
    #[serde(default)]
    extensions: Option<Value>,
}

/// A GraphQL request as read, before its document is found by hash.
struct Read {
    query: Option<String>,
    variables: async_graphql::Variables,
    operation_name: Option<String>,
    extensions: Option<Value>,
}

/// Reads a GraphQL request off an HTTP request, or says why it is not one.
async fn read_request(
    endpoint: &Endpoint,
    parts: &Parts,
    body: Body,
    media: Media,
) -> Result<Read, Response> {
    let bad = |message: &str| refuse(StatusCode::BAD_REQUEST, media, "BAD_REQUEST", message);
    let (query, variables, operation_name, extensions) = if parts.method == Method::GET {
        let params: GetParams = serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
            .map_err(|_| {
                bad("the query string must carry query (or extensions with a persisted query's hash), and optionally variables and operationName")
            })?;
        let json = |text: Option<&str>| match text {
            None | Some("") => Ok(None),
            Some(text) => serde_json::from_str::<Value>(text).map(Some),
        };
        let variables = json(params.variables.as_deref())
            .map_err(|_| bad("variables must be a JSON object"))?;
        let extensions = json(params.extensions.as_deref())
            .map_err(|_| bad("extensions must be a JSON object"))?;
        (params.query, variables, params.operation_name, extensions)
    } else {
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if content_type.split(';').next().map(str::trim) != Some("application/json") {
            return Err(refuse(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                media,
                "UNSUPPORTED_MEDIA_TYPE",
                "send the request as application/json",
            ));
        }
        // The body comes limited by the router's `DefaultBodyLimit`; past it (or when the
        // client stops sending), the refusal is GraphQL-shaped like every other. A client
        // that sends it too slowly is cut off after the read time limit.
        let read_timeout = endpoint.settings.read_timeout;
        let bytes = match tokio::time::timeout(read_timeout, axum::body::to_bytes(body, usize::MAX))
            .await
        {
            Ok(Ok(bytes)) => {
                if let Some(pending) = parts.extensions.get::<crate::http::server::BodyPending>() {
                    pending.arrived();
                }
                bytes
            }
            Ok(Err(_)) => {
                let limit = endpoint.settings.limits.max_body_bytes;
                return Err(refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    media,
                    "PAYLOAD_TOO_LARGE",
                    &format!("the body is larger than {limit} bytes"),
                ));
            }
            Err(_) => {
                let mut response = refuse(
                    StatusCode::REQUEST_TIMEOUT,
                    media,
                    "REQUEST_TIMEOUT",
                    &format!(
                        "the body did not arrive within {} s",
                        read_timeout.as_secs()
                    ),
                );
                response.headers_mut().insert(
                    header::CONNECTION,
                    header::HeaderValue::from_static("close"),
                );
                return Err(response);
            }
        };
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|_| bad("the body is not valid JSON"))?;
        if value.is_array() {
            return Err(bad(
                "batched requests are not supported: send one request per POST",
            ));
        }
        let body: PostBody = serde_json::from_value(value)
            .map_err(|_| bad("the body must be an object with query (a string), variables (an object) and operationName"))?;
        (
            body.query,
            body.variables,
            body.operation_name,
            body.extensions,
        )
    };
    let variables = match variables {
        None | Some(Value::Null) => async_graphql::Variables::default(),
        Some(value @ Value::Object(_)) => async_graphql::Variables::from_json(value),
        Some(_) => return Err(bad("variables must be a JSON object")),
    };
    if extensions
        .as_ref()
        .is_some_and(|e| !e.is_object() && !e.is_null())
    {
        return Err(bad("extensions must be a JSON object"));
    }
    Ok(Read {
        query: query.filter(|q| !q.trim().is_empty()),
        variables,
        operation_name,
        extensions,
    })
}

/// The request to run: its document by text or by hash ([`persisted`]).
#[allow(
    clippy::result_large_err,
    reason = "the error is the response itself, sent at once"
)]
fn document_of(
    endpoint: &Endpoint,
    read: Read,
    media: Media,
    trusted: bool,
) -> Result<(async_graphql::Request, Option<String>), Response> {
    let found = endpoint
        .persisted
        .find(read.query, read.extensions.as_ref(), trusted)
        .map_err(|refusal| {
            let status = match refusal {
                persisted::Refusal::NotFound | persisted::Refusal::NotInList
                    if media == Media::Json =>
                {
                    StatusCode::OK
                }
                _ => StatusCode::BAD_REQUEST,
            };
            refuse(status, media, refusal.code(), refusal.message())
        })?
        .ok_or_else(|| {
            refuse(
                StatusCode::BAD_REQUEST,
                media,
                "BAD_REQUEST",
                "the request has no query",
            )
        })?;
    let mut graphql = async_graphql::Request::new(found.query).variables(read.variables);
    if let Some(name) = read.operation_name {
        graphql = graphql.operation_name(name);
    }
    Ok((graphql, found.learn))
}

/// Checks the document's text and shape and finds which operation runs (its type and
/// name). The parsed document comes from the cache when the same text was seen before.
///
/// Refusals name the request's member they concern: `query` or `operationName`.
fn check_document(
    endpoint: &Endpoint,
    request: &async_graphql::Request,
) -> Result<(Arc<Parsed>, Operation, Option<String>), Refused> {
    let limits = &endpoint.settings.limits;
    let in_query = |message: String| Refused {
        message,
        field: "query",
    };
    // The length first, before the cache hashes the text; the rest of the text's checks only
    // for a document the cache does not hold.
    checks::check_length(&request.query, limits).map_err(|r| in_query(r.0))?;
    let document = endpoint
        .documents
        .get_or_parse(
            &request.query,
            |text| checks::check_text(text, limits).map_err(|r| r.0),
            |doc| checks::check_document(doc, limits).map_err(|r| r.0),
        )
        .map_err(in_query)?;
    let wanted = request.operation_name.as_deref();
    // Refused here, as a request error: the engine would answer `data: null` after the
    // cost of the first operation was charged.
    let in_operation_name = |message: String| Refused {
        message,
        field: "operationName",
    };
    if wanted.is_none() && document.operations.iter().nth(1).is_some() {
        let message = "the document has several operations: name the one to run";
        return Err(in_operation_name(message.into()));
    }
    let Some((name, op)) = operation_named(&document, wanted) else {
        return Err(match wanted {
            Some(wanted) => {
                in_operation_name(format!("the document has no operation named \"{wanted}\""))
            }
            None => in_query("the document has no operation".into()),
        });
    };
    let operation_type = match op.node.ty {
        OperationType::Mutation
            if checks::TopLevel::of(&document, &op.node.selection_set.node).only_logs_in() =>
        {
            Operation::Login
        }
        OperationType::Mutation => Operation::Mutation,
        _ => Operation::Read(op.node.ty),
    };
    let name = name.map(|n| n.to_string());
    Ok((document, operation_type, name))
}

/// Why a document may not run, and the member of the request that it concerns.
struct Refused {
    message: String,
    /// `query` or `operationName`.
    field: &'static str,
}

/// The operation of `document` that runs: the one named `wanted`, or the first.
fn operation_named<'a>(
    document: &'a ExecutableDocument,
    wanted: Option<&str>,
) -> Option<(
    Option<&'a async_graphql::Name>,
    &'a async_graphql::Positioned<async_graphql::parser::types::OperationDefinition>,
)> {
    document
        .operations
        .iter()
        .find(|(name, _)| wanted.is_none_or(|wanted| name.is_some_and(|n| n.as_str() == wanted)))
}

impl Endpoint {
    /// The checked, parsed document of a subscription request (the same text and shape
    /// checks as over HTTP, the parse cached), or why it may not run over a WebSocket.
    ///
    /// # Errors
    /// BAD_USER_INPUT naming the request's member (`query` or `operationName`).
    pub fn subscription_document(
        &self,
        request: &async_graphql::Request,
    ) -> Result<Arc<Parsed>, AppError> {
        match check_document(self, request)
            .map_err(|refused| AppError::bad_input(refused.field, refused.message))?
        {
            (document, Operation::Read(OperationType::Subscription), _) => Ok(document),
            _ => Err(AppError::bad_input(
                "query",
                "only subscriptions run over WebSocket: send queries and mutations to /graphql over HTTP",
            )),
        }
    }
}

/// What an operation does, for how it is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    /// A query (or subscription): reads only.
    Read(OperationType),
    /// A mutation that only logs in: it writes only its short sign-in bookkeeping, once it
    /// holds one of the few turns to hash a password, and hashes meanwhile, so it does not
    /// hold the SQLite write gate. (`refreshSession` writes a session's tokens in a write
    /// transaction without such a turn: it keeps the gate.)
    Login,
    /// Any other mutation.
    Mutation,
}

/// The engine's message for a scalar it could not read (`Failed to parse "Date": ...
/// (occurred while parsing "DialogueFilter")`), told plainly: the scalar's own words of
/// what to write, and where (`... (in DialogueFilter)`); `None` for other messages.
fn plain_scalar_message(message: &str) -> Option<String> {
    let (_, rest) = message
        .strip_prefix("Failed to parse \"")?
        .split_once("\": ")?;
    Some(
        rest.replace(" (occurred while parsing \"", " (in ")
            .replace("\")", ")"),
    )
}

/// The path and the rest of the engine's message for an argument that does not fit its
/// type: `Invalid value for argument "filter.heldFrom", expected type "Date"`.
fn bad_argument(message: &str) -> Option<(&str, &str)> {
    let rest = message.strip_prefix("Invalid value for argument \"")?;
    let (path, rest) = rest.split_once('"')?;
    Some((path, rest.trim_start_matches(',').trim()))
}

/// The engine tells of an argument that does not fit its type twice: once by validation,
/// naming its path (`Invalid value for argument "filter.heldFrom", expected type "Date"`),
/// and again when the cost of the field reads its arguments (`Failed to parse "Date": ...
/// (occurred while parsing "DialogueFilter")`). One error stays for each value: the first,
/// `filter.heldFrom: expected a date written as ...` (our scalars say what to write), with
/// `extensions.field` naming the path.
fn name_bad_arguments(errors: &mut Vec<async_graphql::ServerError>) {
    if !errors.iter().any(|e| bad_argument(&e.message).is_some()) {
        return;
    }
    errors.retain(|e| {
        bad_argument(&e.message).is_some()
            || !(e.message.starts_with("Failed to parse \"")
                || e.message.starts_with("Expected input type")
                || e.message
                    .starts_with("Enumeration type does not contain value"))
    });
    for error in errors.iter_mut() {
        let Some((path, rest)) = bad_argument(&error.message) else {
            continue;
        };
        let path = path.to_owned();
        let ours = rest
            .strip_prefix("expected type \"")
            .map(|t| t.trim_end_matches('"').trim_matches(['[', ']', '!']))
            .and_then(super::scalars::wanted);
        let said = ours.map_or_else(|| rest.to_owned(), str::to_owned);
        error.message = format!("{path}: {said}");
        let extensions = error.extensions.get_or_insert_with(Default::default);
        extensions.set("field", path);
    }
}

/// Who pays for a request: a partner token, a user, or the client address.
pub fn rate_key(principal: &Principal, client: Option<SocketAddr>) -> RateKey {
    RateKey(match (principal.token_id, principal.user_id) {
        (Some(token), _) => format!("token:{token}"),
        (None, Some(user)) => format!("user:{user}"),
        // One budget per IPv6 /64, as a client holds a whole one.
        (None, None) => match client {
            Some(a) => format!("address:{}", crate::http::server::holder(a.ip())),
            None => "address:unknown".to_owned(),
        },
    })
}

fn error_codes(errors: &[async_graphql::ServerError]) -> Vec<String> {
    errors
        .iter()
        .filter_map(|e| match e.extensions.as_ref()?.get("code")? {
            async_graphql::Value::String(code) => Some(code.clone()),
            _ => None,
        })
        .collect()
}

/// A WebSocket for subscriptions ([`super::websocket`]).
async fn subscriptions(endpoint: Arc<Endpoint>, request: Request) -> Response {
    use axum::extract::FromRequestParts;
    let (mut parts, _) = request.into_parts();
    let upgrade =
        match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
            Ok(upgrade) => upgrade,
            Err(rejection) => return rejection.into_response(),
        };
    let details = super::websocket::Upgrade {
        origin: parts
            .headers
            .get(header::ORIGIN)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        partner_origin: parts
            .extensions
            .get::<crate::http::cors::PartnerOrigin>()
            .is_some(),
        client: parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0),
    };
    let changes = endpoint.changes();
    super::websocket::accept(endpoint, changes, upgrade, details)
}

/// What one request was, for the metrics and the log line.
struct Outcome {
    response: Response,
    operation: Option<String>,
    principal: Option<PrincipalKind>,
    cost: usize,
    codes: Vec<String>,
    /// Whether a plan answered, without the resolver engine ([`super::compiled`]).
    planned: bool,
}

impl Outcome {
    /// Answered before the document was priced.
    fn early(
        response: Response,
        operation: Option<String>,
        principal: Option<PrincipalKind>,
    ) -> Self {
        Self {
            response,
            operation,
            principal,
            cost: 0,
            codes: Vec::new(),
            planned: false,
        }
    }
}

/// `GET` and `POST /graphql`; a GET that asks to upgrade to a WebSocket runs subscriptions
/// ([`super::websocket`]).
pub async fn graphql(State(endpoint): State<Arc<Endpoint>>, request: Request) -> Response {
    let wants_websocket = request
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if wants_websocket && request.method() == Method::GET {
        return subscriptions(endpoint, request).await;
    }
    let started = Instant::now();
    let outcome = handle(&endpoint, request).await;
    let elapsed = started.elapsed();
    let status = outcome.response.status().as_u16();
    endpoint.metrics.observe(
        outcome.operation.as_deref(),
        status,
        elapsed.as_secs_f64(),
        &outcome.codes,
    );
    if outcome.planned {
        endpoint.metrics.planned();
    }
    tracing::info!(
        target: "samverkan::request",
        request_id = current_request_id(),
        operation = outcome.operation.as_deref().unwrap_or("-"),
        principal = outcome.principal.map(|k| sea_orm::ActiveEnum::to_value(&k)).unwrap_or_default(),
        cost = outcome.cost,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "graphql request"
    );
    outcome.response
}

async fn handle(endpoint: &Endpoint, request: Request) -> Outcome {
    let (parts, body) = request.with_limited_body().into_parts();
    let Some(media) = negotiate(&parts.headers) else {
        let response = refuse(
            StatusCode::NOT_ACCEPTABLE,
            Media::Json,
            "NOT_ACCEPTABLE",
            "accept application/graphql-response+json or application/json",
        );
        return Outcome::early(response, None, None);
    };
    let read = match read_request(endpoint, &parts, body, media).await {
        Ok(read) => read,
        Err(response) => return Outcome::early(response, None, None),
    };
    let operation = read.operation_name.clone();
    let principal = match principal(endpoint, &parts.headers).await {
        Ok(principal) => principal,
        Err(error) => return Outcome::early(refused(error, media), operation, None),
    };
    let kind = Some(principal.kind);
    let trusted = principal.user_id.is_some();
    if let Some(shared) = &endpoint.shared_documents
        && let Some(hash) = persisted::named_hash(read.query.as_deref(), read.extensions.as_ref())
        && !endpoint.persisted.knows(&hash)
        && (trusted || !endpoint.persisted.only())
        && let Some(document) = Box::pin(shared.find(&hash)).await
    {
        // Taught to another server process; its hash was checked there.
        endpoint.persisted.learn(hash, &document);
    }
    let (graphql, learn) = match document_of(endpoint, read, media, trusted) {
        Ok(found) => found,
        Err(response) => return Outcome::early(response, operation, kind),
    };
    let (document, operation_type, operation) = match check_document(endpoint, &graphql) {
        Ok((document, operation_type, name)) => (document, operation_type, name.or(operation)),
        Err(Refused { message, field }) => {
            let status = if media == Media::GraphqlResponse {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            let body = bad_input_body(field, &message);
            return Outcome {
                codes: vec!["BAD_USER_INPUT".into()],
                ..Outcome::early(answer(status, media, &body), operation, kind)
            };
        }
    };
    // Shared with the other processes only once it ran within the caller's budget.
    let share = learn.as_ref().and_then(|hash| {
        endpoint.persisted.learn(hash.clone(), &graphql.query);
        endpoint
            .shared_documents
            .as_ref()
            .map(|shared| (shared.clone(), hash.clone(), graphql.query.clone()))
    });
    if parts.method == Method::GET && operation_type != Operation::Read(OperationType::Query) {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            "METHOD_NOT_ALLOWED",
            "mutations must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return Outcome::early(response, operation, kind);
    }
    let caching = match (parts.method == Method::GET, operation_type, principal.kind) {
        (true, Operation::Read(OperationType::Query), PrincipalKind::Anonymous) => {
            Caching::Public(endpoint.settings.cache_max_age)
        }
        (true, Operation::Read(OperationType::Query), PrincipalKind::PartnerToken) => {
            Caching::Partner(endpoint.settings.cache_max_age)
        }
        (true, Operation::Read(OperationType::Query), _) => Caching::Private,
        _ => Caching::NoStore,
    };
    let if_none_match = parts.headers.get(header::IF_NONE_MATCH);

    let client = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    // A public GET this server answered a moment ago is answered again from memory.
    let keep = match caching {
        Caching::Public(_) | Caching::Partner(_) if endpoint.responses.enabled() => {
            let caller = principal
                .token_id
                .map_or_else(|| "anonymous".to_owned(), |id| format!("token:{id}"));
            let variables = serde_json::to_string(&graphql.variables).unwrap_or_default();
            let key = ResponseCache::key(&caller, &graphql.query, operation.as_deref(), &variables);
            if let Some(kept) = endpoint.responses.get(&key) {
                let charge = endpoint
                    .limiter
                    .spend(&rate_key(&principal, client), kept.cost)
                    .await;
                // Over budget: run it, so that the refusal is the usual one.
                if charge.retry_after.is_none() {
                    let report = CostReport {
                        cost: kept.cost,
                        limit: endpoint.settings.limits.max_cost,
                        budget: endpoint.settings.limits.budget_per_minute,
                        remaining: charge.remaining,
                        retry_after: None,
                        executed: true,
                    };
                    // The kept text ends with the object's `}`: the cost goes in before it.
                    let mut body = kept.body;
                    body.pop();
                    body.push_str(&format!(
                        ",\"extensions\":{}}}",
                        json!({ "cost": cost_value(&report) })
                    ));
                    let mut response =
                        ([(header::CONTENT_TYPE, media.content_type())], body).into_response();
                    apply_caching(&mut response, caching, Some(&kept.etag), if_none_match);
                    return Outcome {
                        response,
                        operation,
                        principal: kind,
                        cost: kept.cost,
                        codes: Vec::new(),
                        planned: false,
                    };
                }
            }
            Some((key, endpoint.responses.generation()))
        }
        _ => None,
    };
    let slot = CostSlot::default();
    let admission = Admission::default();
    let anonymous = principal.kind == PrincipalKind::Anonymous;
    let mut graphql = loaders::attach(graphql, &endpoint.db, &endpoint.keys, principal.clone());
    if let Some(client) = client {
        graphql = graphql.data(super::account::ClientAddress(client.ip()));
    }
    if !endpoint.settings.introspection {
        graphql = graphql.disable_introspection();
    }
    let schemas = if anonymous {
        &endpoint.anonymous_schema
    } else {
        &endpoint.schema
    };
    let gate = match (&endpoint.write_gate, operation_type) {
        (Some(gate), Operation::Mutation) => Some(gate.clone()),
        _ => None,
    };
    // Mutations are cheap and, on SQLite, hold the write gate while they run.
    let queued = !matches!(operation_type, Operation::Mutation | Operation::Login);
    if !queued {
        graphql = graphql.data(endpoint.webhook_settings.clone());
    }
    let key = rate_key(&principal, client);
    // Waiting for the write gate counts toward the request's time limit. The time limit and
    // a panicking resolver are handled here, not by tower-http's `TimeoutLayer` and
    // `CatchPanicLayer` (the HTTP layer keeps the latter as a backstop): those answer with
    // a fixed status and body, while these answers follow the media type (status and
    // `Content-Type`) and carry the GraphQL error and the cost report like any other.
    //
    // The execution is a task of its own: when the client goes away, the request's future
    // is dropped but the task runs on, so no statement is dropped half-way and its database
    // connection goes back to the pool instead of being closed (a new backend for every
    // impatient client). It still holds its share of the cost in flight until it ends, and
    // the statement time limit bounds it.
    // The task keeps the request's id (for its errors) and its log span.
    // The full validation reads only the document, the schema and the variables: a
    // document without variables that passed it once passes every time, at the same cost,
    // so its next requests are only charged that cost, without the checking schema.
    let check = match document.validated(anonymous) {
        Some(cost) => Check::Known(cost),
        None => {
            // What the guard reads, and nothing else: the check runs no resolver.
            let mut check = async_graphql::Request::new(String::new())
                .variables(graphql.variables.clone())
                .data(key.clone())
                .data(slot.clone())
                .data(admission.clone())
                .data(CheckOnly);
            check.operation_name.clone_from(&graphql.operation_name);
            check.set_parsed_query(document.document());
            check.introspection_mode = graphql.introspection_mode;
            Check::Full(Box::new(if queued { check } else { check.data(NotQueued) }))
        }
    };
    let checks = schemas.checks.clone();
    let runs = schemas.runs.clone();
    let prepared = schemas.prepared.clone();
    let parsed = document.clone();
    let passed = slot.clone();
    let limiter = endpoint.limiter.clone();
    let settings = endpoint.settings.clone();
    let request_id = crate::error::current_request_id();
    let execution = tokio::spawn(tracing::Instrument::instrument(
        crate::error::REQUEST_ID.scope(request_id, async move {
            let _writer = match &gate {
                Some(gate) => Some(gate.lock().await),
                None => None,
            };
            match check {
                Check::Known(cost) => {
                    let (report, outcome) =
                        super::cost::judge(&settings.limits, &limiter, &key, cost, queued).await;
                    if let Ok(mut slot) = passed.lock() {
                        *slot = Some(report);
                    }
                    match outcome {
                        Ok(permit) => {
                            if let Ok(mut admitted) = admission.lock() {
                                *admitted = permit;
                            }
                        }
                        Err(errors) => return (async_graphql::Response::from_errors(errors), None),
                    }
                }
                Check::Full(check) => {
                    let refused = Box::pin(checks.execute(*check)).await;
                    let report = passed.lock().ok().and_then(|report| report.clone());
                    match report {
                        Some(report) if report.executed && !refused.is_err() => {
                            parsed.passed_validation(anonymous, report.cost);
                        }
                        // A check that neither passed nor said why would answer with nothing.
                        _ if !refused.is_err() => {
                            return (internal_response("the check gave no verdict"), None);
                        }
                        _ => return (refused, None),
                    }
                }
            }
            // The document has passed the full validation by now. Boxed, as the check: the
            // task is moved whole a few times on its way to the runtime, and the engine's
            // future is kilobytes.
            let answer = Box::pin(prepared.execute(&runs, &parsed, graphql)).await;
            drop(admission);
            answer
        }),
        tracing::Span::current(),
    ));
    let abort = execution.abort_handle();
    // A plan's `data` is written in the document's order already.
    let (response, written) = match tokio::time::timeout(
        endpoint.settings.request_timeout,
        execution,
    )
    .await
    {
        Ok(Ok((mut response, written))) => {
            if written.is_none()
                && let Some((_, op)) = operation_named(&document, operation.as_deref())
            {
                super::ordering::order(&mut response.data, &document, &op.node);
            }
            (response, written)
        }
        Ok(Err(_panicked)) => (internal_response("a resolver panicked"), None),
        Err(_elapsed) => {
            abort.abort();
            let limit = endpoint.settings.request_timeout.as_secs();
            tracing::warn!(limit, "request timed out");
            let message = format!("the request took longer than {limit} s and was stopped");
            let body = json!({ "data": null, "errors": [{ "message": message, "extensions": { "code": "INTERNAL" } }] });
            return Outcome::early(
                answer(StatusCode::SERVICE_UNAVAILABLE, media, &body),
                operation,
                kind,
            );
        }
    };
    let report = slot.lock().ok().and_then(|r| r.clone());
    if let Some((shared, hash, text)) = share
        && report.as_ref().is_some_and(|r| r.executed)
        && response.errors.is_empty()
    {
        shared.keep(hash, text);
    }
    if operation_type == Operation::Mutation {
        endpoint.responses.invalidate();
    }
    // Only a whole answer that a cache may keep gets an ETag: one with errors may be a
    // passing fault, and hashing every other answer would be work for nothing.
    let etag = (matches!(caching, Caching::Public(_) | Caching::Partner(_))
        && response.errors.is_empty())
    .then(|| etag_of(&response, written.as_deref()));
    if let (Some((key, generation)), Some(report), Some(etag)) = (keep, &report, &etag)
        && report.executed
        && let Ok(body) = String::from_utf8(super::json::response(&response, written.as_deref()))
        && body.ends_with('}')
    {
        let kept = Kept {
            body,
            etag: etag.clone(),
            cost: report.cost,
        };
        endpoint.responses.put(key, kept, generation);
    }
    let planned = written.is_some();
    let (response, codes) = finish(
        (response, written.as_deref()),
        media,
        report.as_ref(),
        caching,
        etag,
        if_none_match,
    );
    Outcome {
        response,
        operation,
        principal: kind,
        cost: report.as_ref().map_or(0, |r| r.cost),
        codes,
        planned,
    }
}

/// How a request is checked before it runs.
enum Check {
    /// By the checking schema: validation in full, then the cost guard.
    Full(Box<async_graphql::Request>),
    /// Only against the caller's budget and the cost in flight, at the cost that an earlier
    /// request's full validation computed for the same document.
    Known(usize),
}

/// Who may keep an answer, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caching {
    /// A GET query of an anonymous caller: any cache, this long, then ask again with the
    /// `ETag`.
    Public(std::time::Duration),
    /// A GET query with a partner token: the browser's cache only (a READ_NETWORK token
    /// reads what anonymous callers may not, and not every CDN heeds `Vary: x-api-key`).
    Partner(std::time::Duration),
    /// A GET query of a signed-in user: no cache at all (a shared computer's browser too).
    Private,
    /// Anything else: POST, mutations, refusals.
    NoStore,
}

/// The strong `ETag` of what an answer says: its `data` and `errors`, not `extensions`
/// (the cost report's remaining budget changes with every request).
fn etag_of(body: &async_graphql::Response, data: Option<&[u8]>) -> String {
    let hex = crate::auth::secrets::sha256_hex(&super::json::said(body, data));
    format!("\"{}\"", &hex[..32])
}

/// Whether `If-None-Match` names `etag` (weak comparison, as the header asks).
pub fn names_etag(if_none_match: Option<&HeaderValue>, etag: &str) -> bool {
    if_none_match
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        })
}

/// The caching headers of an answer, and whether the client's copy is still good (304).
fn cache_headers(
    response: &mut Response,
    caching: Caching,
    etag: Option<&str>,
    if_none_match: Option<&HeaderValue>,
) -> bool {
    let headers = response.headers_mut();
    let policy = match (caching, etag) {
        (Caching::Public(age), Some(_)) => format!("public, max-age={}", age.as_secs()),
        (Caching::Partner(age), Some(_)) => format!("private, max-age={}", age.as_secs()),
        (Caching::Private, _) => "private, no-store".to_owned(),
        _ => "no-store".to_owned(),
    };
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CACHE_CONTROL, value);
    }
    if caching == Caching::NoStore {
        return false;
    }
    // The same URL answers differently by these.
    headers.append(
        header::VARY,
        HeaderValue::from_static("accept, authorization, x-api-key"),
    );
    let Some(etag) = etag.filter(|_| matches!(caching, Caching::Public(_) | Caching::Partner(_)))
    else {
        return false;
    };
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    names_etag(if_none_match, etag)
}

/// The HTTP answer to an executed request: its status by the media type, the cost report
/// in `extensions`, `Retry-After` when the budget ran out, the caching headers (304 when
/// the client's copy is still good); and its error codes.
fn finish(
    (mut body, data): (async_graphql::Response, Option<&[u8]>),
    media: Media,
    report: Option<&CostReport>,
    caching: Caching,
    etag: Option<String>,
    if_none_match: Option<&HeaderValue>,
) -> (Response, Vec<String>) {
    // The engine's own errors (parse, validation, variables, arguments) are the client's:
    // give them the code every error carries.
    name_bad_arguments(&mut body.errors);
    for error in &mut body.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions
            .get("code")
            .is_none_or(|code| *code == async_graphql::Value::Null)
        {
            extensions.set("code", "BAD_USER_INPUT");
            if let Some(message) = plain_scalar_message(&error.message) {
                error.message = message;
            }
        }
    }
    let codes = error_codes(&body.errors);
    if let Some(report) = report {
        body.extensions.insert("cost".into(), cost_value(report));
    }
    let retry_after = report.and_then(|r| r.retry_after);
    // GraphQL over HTTP: a request refused before execution (parse, validation, cost,
    // budget) has no `data` entry and, with the official media type, a 4xx status; once
    // execution began the status is 200 whatever the errors, `data: null` included.
    let executed = report.is_some_and(|r| r.executed);
    let status = if codes.iter().any(|c| c == "RATE_LIMITED") && retry_after.is_some() {
        StatusCode::TOO_MANY_REQUESTS
    } else if media == Media::GraphqlResponse && !executed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = if executed {
        answer_executed(status, media, &body, data)
    } else {
        let mut refused = serde_json::to_value(&body).unwrap_or_default();
        if let Some(fields) = refused.as_object_mut() {
            fields.remove("data");
        }
        answer(status, media, &refused)
    };
    if let Some(seconds) = retry_after
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    let caching = if status == StatusCode::OK && executed {
        caching
    } else {
        Caching::NoStore
    };
    apply_caching(&mut response, caching, etag.as_deref(), if_none_match);
    (response, codes)
}

/// The cost report as `extensions.cost` shows it.
fn cost_value(report: &CostReport) -> async_graphql::Value {
    use async_graphql::{Name, Value};
    let number = |n: usize| Value::Number(n.into());
    // In the order of the names, as the answers have always had them.
    let fields = [
        ("budgetPerMinute", number(report.budget)),
        ("limit", number(report.limit)),
        (
            "remaining",
            (report.budget > 0)
                .then_some(report.remaining)
                .map_or(Value::Null, number),
        ),
        ("requested", number(report.cost)),
    ];
    Value::Object(fields.into_iter().map(|(k, v)| (Name::new(k), v)).collect())
}

/// The caching headers of an answer; a 304 without a body when the client's copy is still
/// good.
fn apply_caching(
    response: &mut Response,
    caching: Caching,
    etag: Option<&str>,
    if_none_match: Option<&HeaderValue>,
) {
    if cache_headers(response, caching, etag, if_none_match) {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        *response.body_mut() = Body::empty();
        response.headers_mut().remove(header::CONTENT_TYPE);
    }
}
