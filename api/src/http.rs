//! The HTTP surface, following the GraphQL-over-HTTP specification: `POST /graphql` with an
//! `application/json` body (queries and mutations), `GET /graphql` (queries only),
//! `/graphiql`, `/healthz`, `/readyz` and `/metrics`.
//!
//! Before a document reaches the GraphQL engine it passes, in order: the body size limit,
//! the media types, the caller's credentials, the text limits (length, tokens, nesting),
//! and the shape limits (depth, aliases, fields, directives, fragment cycles). The engine
//! then validates it, and the cost guard ([`crate::graphql::cost`]) prices it and charges
//! the caller's budget before anything executes.

use crate::auth::jwt::Keys;
use crate::auth::request::{self, Credentials};
use crate::auth::{Principal, PrincipalKind};
use crate::config::HttpSettings;
use crate::error::{AppError, REQUEST_ID};
use crate::graphql::cost::{CostReport, CostSlot, NotQueued, RateKey};
use crate::graphql::documents::DocumentCache;
use crate::graphql::{SamverkanSchema, loaders, schema_with};
use crate::graphql::checks;
use crate::limits::RateLimiter;
use crate::metrics::Metrics;
use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::FutureExt;
use sea_orm::{DatabaseConnection, EntityTrait};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The official media type of GraphQL responses.
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// For signed-in callers and partner tokens.
    schema: SamverkanSchema,
    /// For anonymous callers: no field suggestions in error messages.
    anonymous_schema: SamverkanSchema,
    db: DatabaseConnection,
    keys: Keys,
    settings: Arc<HttpSettings>,
    metrics: Arc<Metrics>,
    ready: Arc<AtomicBool>,
    /// SQLite has one writer at a time: mutations queue here instead of meeting SQLITE_BUSY.
    write_gate: Option<Arc<tokio::sync::Mutex<()>>>,
    /// Documents already parsed and checked, by their text.
    documents: Arc<DocumentCache>,
    /// Browser origins allowed by partner tokens, refreshed every 30 s.
    token_origins: Arc<Mutex<(Option<Instant>, HashSet<String>)>>,
}

/// The service: its router and the switch that turns `/readyz` to 503 at shutdown.
pub struct App {
    /// The router.
    pub router: Router,
    /// `true` while the service takes new work.
    pub ready: Arc<AtomicBool>,
}

/// The router with default settings.
pub fn router(db: DatabaseConnection, keys: Keys) -> Router {
    App::new(db, keys, HttpSettings::default()).router
}

impl App {
    /// The service over a connected, migrated database, signing access tokens with `keys`.
    pub fn new(db: DatabaseConnection, keys: Keys, settings: HttpSettings) -> Self {
        Self::with_extension(db, keys, settings, None)
    }

    /// The service with one more schema extension (tests use it to make a resolver fail).
    pub fn with_extension(
        db: DatabaseConnection,
        keys: Keys,
        settings: HttpSettings,
        extension: Option<Arc<dyn async_graphql::extensions::ExtensionFactory>>,
    ) -> Self {
        let limiter = Arc::new(RateLimiter::new(
            settings.limits.budget_per_minute,
            settings.limits.max_cost_in_flight,
        ));
        let limits = Arc::new(settings.limits.clone());
        let ready = Arc::new(AtomicBool::new(true));
        let counters = Arc::new(Metrics::new());
        Metrics::keep_up(&counters);
        let write_gate = (db.get_database_backend() == sea_orm::DatabaseBackend::Sqlite)
            .then(|| Arc::new(tokio::sync::Mutex::new(())));
        let state = AppState {
            schema: schema_with(
                true,
                settings.introspection,
                limits.clone(),
                limiter.clone(),
                extension.clone(),
            ),
            anonymous_schema: schema_with(
                false,
                settings.introspection,
                limits,
                limiter,
                extension,
            ),
            db,
            keys,
            metrics: counters,
            ready: ready.clone(),
            write_gate,
            token_origins: Arc::new(Mutex::new((None, HashSet::new()))),
            documents: Arc::new(DocumentCache::default()),
            settings: Arc::new(settings),
        };
        let mut router = Router::new()
            .route("/graphql", get(graphql).post(graphql))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics));
        if state.settings.graphiql {
            router = router.route("/graphiql", get(graphiql));
        }
        let router = router
            .layer(middleware::from_fn_with_state(state.clone(), cors))
            .with_state(state);
        Self { router, ready }
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

/// A response with a GraphQL-shaped body.
fn answer(status: StatusCode, media: Media, body: &impl serde::Serialize) -> Response {
    let content_type = match media {
        Media::GraphqlResponse => GRAPHQL_RESPONSE,
        Media::Json => "application/json",
    };
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A refusal before execution, with a code and no internals.
fn refuse(status: StatusCode, media: Media, code: &str, message: &str) -> Response {
    answer(
        status,
        media,
        &json!({ "errors": [{ "message": message, "extensions": { "code": code } }] }),
    )
}

/// The caller of a request, from its headers.
async fn principal(state: &AppState, headers: &HeaderMap) -> Result<Principal, AppError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let credentials = Credentials {
        authorization: header("authorization"),
        api_key: header("x-api-key"),
        origin: header("origin"),
    };
    request::principal(&state.db, &state.keys, credentials).await
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
}

/// Reads a GraphQL request off an HTTP request, or says why it is not one.
async fn read_request(
    state: &AppState,
    request: Request,
    media: Media,
) -> Result<(Method, async_graphql::Request), Response> {
    let method = request.method().clone();
    let bad = |message: &str| refuse(StatusCode::BAD_REQUEST, media, "BAD_REQUEST", message);
    let (query, variables, operation_name) = if method == Method::GET {
        let params: GetParams = serde_urlencoded::from_str(request.uri().query().unwrap_or(""))
            .map_err(|_| {
                bad("the query string must carry query, and optionally variables and operationName")
            })?;
        let variables = match params.variables.as_deref() {
            None | Some("") => None,
            Some(text) => Some(
                serde_json::from_str::<Value>(text)
                    .map_err(|_| bad("variables must be a JSON object"))?,
            ),
        };
        let _ = params.extensions;
        (params.query, variables, params.operation_name)
    } else {
        let content_type = request
            .headers()
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
        let limit = state.settings.limits.max_body_bytes;
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let too_large = || {
            refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                media,
                "PAYLOAD_TOO_LARGE",
                &format!("the body is larger than {limit} bytes"),
            )
        };
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let bytes = axum::body::to_bytes(request.into_body(), limit)
            .await
            .map_err(|_| too_large())?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|_| bad("the body is not valid JSON"))?;
        if value.is_array() {
            return Err(bad(
                "batched requests are not supported: send one request per POST",
            ));
        }
        let body: PostBody = serde_json::from_value(value)
            .map_err(|_| bad("the body must be an object with query (a string), variables (an object) and operationName"))?;
        (body.query, body.variables, body.operation_name)
    };
    let query = query
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| bad("the request has no query"))?;
    let variables = match variables {
        None | Some(Value::Null) => async_graphql::Variables::default(),
        Some(value @ Value::Object(_)) => async_graphql::Variables::from_json(value),
        Some(_) => return Err(bad("variables must be a JSON object")),
    };
    let mut graphql = async_graphql::Request::new(query).variables(variables);
    if let Some(name) = operation_name {
        graphql = graphql.operation_name(name);
    }
    Ok((method, graphql))
}

/// Checks the document's text and shape and finds which operation runs (its type and
/// name). The parsed document comes from the cache when the same text was seen before.
fn check_document(
    state: &AppState,
    request: &async_graphql::Request,
) -> Result<(Arc<ExecutableDocument>, OperationType, Option<String>), String> {
    let limits = &state.settings.limits;
    checks::check_text(&request.query, limits).map_err(|r| r.0)?;
    let document = state.documents.get_or_parse(&request.query, |doc| {
        checks::check_document(doc, limits).map_err(|r| r.0)
    })?;
    let wanted = request.operation_name.as_deref();
    let operation = document
        .operations
        .iter()
        .find(|(name, _)| wanted.is_none_or(|wanted| name.is_some_and(|n| n.as_str() == wanted)))
        .map(|(name, op)| (op.node.ty, name.map(|n| n.to_string())));
    let (operation_type, name) = operation.unwrap_or((OperationType::Query, None));
    Ok((document, operation_type, name))
}

/// Who pays for a request: a partner token, a user, or the client address.
fn rate_key(principal: &Principal, client: Option<SocketAddr>) -> RateKey {
    RateKey(match (principal.token_id, principal.user_id) {
        (Some(token), _) => format!("token:{token}"),
        (None, Some(user)) => format!("user:{user}"),
        (None, None) => format!(
            "address:{}",
            client.map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
        ),
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

async fn graphql(State(state): State<AppState>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = uuid::Uuid::now_v7().to_string();
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let headers = request.headers().clone();
    let (mut response, operation, principal_kind, cost) = REQUEST_ID
        .scope(
            request_id.clone(),
            handle(&state, request, &headers, client),
        )
        .await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let codes = response
        .extensions_mut()
        .remove::<ErrorCodes>()
        .map(|c| c.0)
        .unwrap_or_default();
    state
        .metrics
        .observe(operation.as_deref(), status, elapsed.as_secs_f64(), &codes);
    tracing::info!(
        target: "samverkan::request",
        request_id,
        operation = operation.as_deref().unwrap_or("-"),
        principal = principal_kind.map(|k| sea_orm::ActiveEnum::to_value(&k)).unwrap_or_default(),
        cost,
        status,
        duration_ms = elapsed.as_secs_f64() * 1000.0,
        "graphql request"
    );
    response
}

/// The error codes of a response, passed to the metrics.
#[derive(Clone)]
struct ErrorCodes(Vec<String>);

async fn handle(
    state: &AppState,
    request: Request,
    headers: &HeaderMap,
    client: Option<SocketAddr>,
) -> (Response, Option<String>, Option<PrincipalKind>, usize) {
    let Some(media) = negotiate(headers) else {
        let response = refuse(
            StatusCode::NOT_ACCEPTABLE,
            Media::Json,
            "NOT_ACCEPTABLE",
            "accept application/graphql-response+json or application/json",
        );
        return (response, None, None, 0);
    };
    let (method, graphql) = match read_request(state, request, media).await {
        Ok(read) => read,
        Err(response) => return (response, None, None, 0),
    };
    let operation = graphql.operation_name.clone();
    let principal = match principal(state, headers).await {
        Ok(principal) => principal,
        Err(error) => return (refused(error, media), operation, None, 0),
    };
    let kind = Some(principal.kind);
    let (document, operation_type, operation) = match check_document(state, &graphql) {
        Ok((document, operation_type, name)) => (document, operation_type, name.or(operation)),
        Err(message) => {
            let status = if media == Media::GraphqlResponse {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            let body = json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_USER_INPUT", "field": "query" } }] });
            let mut response = answer(status, media, &body);
            response
                .extensions_mut()
                .insert(ErrorCodes(vec!["BAD_USER_INPUT".into()]));
            return (response, operation, kind, 0);
        }
    };
    if method == Method::GET && operation_type != OperationType::Query {
        let mut response = refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            media,
            "METHOD_NOT_ALLOWED",
            "mutations must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return (response, operation, kind, 0);
    }

    let slot = CostSlot::default();
    let anonymous = principal.kind == PrincipalKind::Anonymous;
    let mut graphql = loaders::attach(graphql, &state.db, &state.keys, principal.clone())
        .data(rate_key(&principal, client))
        .data(slot.clone());
    graphql.set_parsed_query((*document).clone());
    if !state.settings.introspection {
        graphql = graphql.disable_introspection();
    }
    let schema = if anonymous {
        &state.anonymous_schema
    } else {
        &state.schema
    };
    let gate = match (&state.write_gate, operation_type) {
        (Some(gate), OperationType::Mutation) => Some(gate),
        _ => None,
    };
    if operation_type == OperationType::Mutation {
        graphql = graphql.data(NotQueued);
    }
    // Waiting for the write gate counts toward the request's time limit.
    let execution = async {
        let _writer = match gate {
            Some(gate) => Some(gate.lock().await),
            None => None,
        };
        AssertUnwindSafe(schema.execute(graphql))
            .catch_unwind()
            .await
    };
    let response = match tokio::time::timeout(state.settings.request_timeout, execution).await {
        Ok(Ok(response)) => response,
        Ok(Err(_panic)) => {
            let error = async_graphql::Error::from(AppError::Internal(Arc::new(
                std::io::Error::other("a resolver panicked"),
            )));
            let mut server_error = async_graphql::ServerError::new(error.message, None);
            server_error.extensions = error.extensions;
            async_graphql::Response::from_errors(vec![server_error])
        }
        Err(_elapsed) => {
            let limit = state.settings.request_timeout.as_secs();
            tracing::warn!(limit, "request timed out");
            let message = format!("the request took longer than {limit} s and was stopped");
            let body = json!({ "data": null, "errors": [{ "message": message, "extensions": { "code": "INTERNAL" } }] });
            return (
                answer(StatusCode::SERVICE_UNAVAILABLE, media, &body),
                operation,
                kind,
                0,
            );
        }
    };
    let report = slot.lock().ok().and_then(|r| r.clone());
    let cost = report.as_ref().map_or(0, |r| r.cost);
    (
        finish(response, media, report.as_ref()),
        operation,
        kind,
        cost,
    )
}

/// The HTTP answer to an executed request: its status by the media type, the cost report
/// in `extensions`, and `Retry-After` when the budget ran out.
fn finish(
    mut body: async_graphql::Response,
    media: Media,
    report: Option<&CostReport>,
) -> Response {
    // The engine's own errors (parse, validation, variables, arguments) are the client's:
    // give them the code every error carries.
    for error in &mut body.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions
            .get("code")
            .is_none_or(|code| *code == async_graphql::Value::Null)
        {
            extensions.set("code", "BAD_USER_INPUT");
        }
    }
    let codes = error_codes(&body.errors);
    if let Some(report) = report {
        let cost = json!({
            "requested": report.cost,
            "limit": report.limit,
            "budgetPerMinute": report.budget,
            "remaining": (report.budget > 0).then_some(report.remaining),
        });
        if let Ok(cost) = async_graphql::Value::from_json(cost) {
            body.extensions.insert("cost".into(), cost);
        }
    }
    let retry_after = report.and_then(|r| r.retry_after);
    let status = if codes.iter().any(|c| c == "RATE_LIMITED") && retry_after.is_some() {
        StatusCode::TOO_MANY_REQUESTS
    } else if media == Media::GraphqlResponse
        && body.data == async_graphql::Value::Null
        && !codes.is_empty()
    {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut response = answer(status, media, &body);
    if let Some(seconds) = retry_after
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response.extensions_mut().insert(ErrorCodes(codes));
    response
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("Samverkan")
            .finish(),
    )
}

async fn readyz(State(state): State<AppState>) -> Response {
    if !state.ready.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready").into_response(),
        _ => {
            tracing::warn!("database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&state.settings.metrics_token, presented) {
        (Some(token), Some(presented))
            if crate::auth::secrets::hash(token) == crate::auth::secrets::hash(presented) =>
        {
            (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                state.metrics.render(&state.db),
            )
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Browser origins allowed to call: the configured ones and those of active partner tokens.
async fn origin_allowed(state: &AppState, origin: &str) -> bool {
    let origin = origin.trim_end_matches('/').to_lowercase();
    if state.settings.cors_origins.contains(&origin) {
        return true;
    }
    let fresh = state
        .token_origins
        .lock()
        .ok()
        .and_then(|c| c.0.map(|at| at.elapsed() < Duration::from_secs(30)))
        .unwrap_or(false);
    if !fresh {
        let mut origins = HashSet::new();
        if let Ok(tokens) = entity::api_token::Entity::find().all(&state.db).await {
            for token in tokens.iter().filter(|t| t.revoked_at.is_none()) {
                origins.extend(crate::auth::tokens::origins(token));
            }
        }
        if let Ok(mut cache) = state.token_origins.lock() {
            *cache = (Some(Instant::now()), origins);
        }
    }
    state
        .token_origins
        .lock()
        .map(|c| c.1.contains(&origin))
        .unwrap_or(false)
}

/// CORS: allowed origins may call with `Authorization` or `X-Api-Key` headers; cookies and
/// other credentials are never allowed.
async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let Some(origin) = origin else {
        return next.run(request).await;
    };
    let allowed = origin_allowed(&state, &origin).await;
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if allowed && let Ok(value) = HeaderValue::from_str(&origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-request-id, retry-after"),
        );
        if preflight {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("content-type, accept, authorization, x-api-key"),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
        }
    }
    response
}
