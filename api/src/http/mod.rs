//! The HTTP surface: the router (`/graphql`, `/graphiql`, `/schema.graphql`, `/reports/*`,
//! `/embed/samverkan.js`, `/healthz`, `/readyz`, `/metrics`) and the layers every request passes, outermost first:
//! - [`request_id`]: an id of the server's making, in the response and the log;
//! - [`panic`]: a panic becomes a clean INTERNAL error;
//! - axum's `DefaultBodyLimit`: `SAMVERKAN_MAX_BODY_BYTES`.
//!
//! `/graphql` and the reports pass [`cors`] too: configured and partner origins may call
//! from browsers, others get a readable refusal.
//!
//! GraphQL over HTTP itself (media types, reading the request, limits, execution) is the
//! GraphQL layer's: [`crate::graphql::endpoint`].

pub mod cors;
pub mod embed;
pub mod graphiql;
pub mod panic;
pub mod reports;
pub mod request_id;
pub mod server;

use crate::auth::jwt::Keys;
use crate::config::HttpSettings;
use crate::graphql::endpoint::{self, Endpoint, Extension};
use crate::metrics::Metrics;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tower::ServiceBuilder;

/// The service: its router, the switch that turns `/readyz` to 503 at shutdown, and how it
/// treats connections.
pub struct App {
    /// The router.
    pub router: Router,
    /// `true` while the service takes new work.
    pub ready: Arc<AtomicBool>,
    /// The connection cap and read time limit.
    pub connections: server::ConnectionLimits,
    /// The subscription sockets, closed at shutdown.
    sockets: Arc<crate::graphql::websocket::Connections>,
}

/// The router with default settings.
pub fn router(db: DatabaseConnection, keys: Keys) -> Router {
    App::new(db, keys, HttpSettings::default()).router
}

/// A text the server serves as it is, the same for every caller: the SDL, the widget.
pub struct Asset {
    body: String,
    content_type: &'static str,
    /// Strong: the bytes change only with the binary.
    etag: String,
}

impl Asset {
    /// `body` served as `content_type`.
    pub fn new(body: String, content_type: &'static str) -> Self {
        let hex = crate::auth::secrets::sha256_hex(body.as_bytes());
        Self {
            etag: format!("\"{}\"", &hex[..32]),
            body,
            content_type,
        }
    }

    /// The answer: 304 when `If-None-Match` names the ETag; cacheable for five minutes by
    /// anyone, and readable by any page.
    pub fn answer(&self, request: &HeaderMap) -> Response {
        use axum::http::HeaderValue;
        let fresh = endpoint::names_etag(request.get(header::IF_NONE_MATCH), &self.etag);
        let mut response = if fresh {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            (
                [(header::CONTENT_TYPE, self.content_type)],
                self.body.clone(),
            )
                .into_response()
        };
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, value);
        }
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        response
    }
}

/// `GET /schema.graphql`: the schema in SDL, as committed in `schema.graphql`, for code
/// generators and schema checks even where introspection is off.
async fn schema_sdl_text(headers: HeaderMap) -> Response {
    static SDL: std::sync::OnceLock<Asset> = std::sync::OnceLock::new();
    SDL.get_or_init(|| Asset::new(crate::graphql::sdl(), "text/plain; charset=utf-8"))
        .answer(&headers)
}

/// What the routes besides `/graphql` share.
#[derive(Clone)]
struct Probes {
    db: DatabaseConnection,
    ready: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
    metrics_token: Option<Arc<str>>,
    /// When the database last proved it takes writes, and whether it did.
    writes: Arc<tokio::sync::Mutex<Option<(std::time::Instant, bool)>>>,
    /// SQLite's one writer at a time, which the readiness write waits for like a mutation.
    write_gate: Option<endpoint::WriteGate>,
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
        extension: Option<Extension>,
    ) -> Self {
        let connections = server::ConnectionLimits {
            max_connections: settings.max_connections,
            max_per_address: settings.max_connections_per_address,
            read_timeout: settings.read_timeout,
        };
        crate::webhook::install_tls();
        let mut settings = settings;
        settings.persisted_queries.extend(embed::documents());
        let settings = Arc::new(settings);
        let ready = Arc::new(AtomicBool::new(true));
        let metrics = Arc::new(Metrics::new());
        Metrics::keep_up(&metrics);
        let probes = Probes {
            db: db.clone(),
            ready: ready.clone(),
            metrics: metrics.clone(),
            metrics_token: settings.metrics_token.as_deref().map(Arc::from),
            writes: Arc::default(),
            write_gate: endpoint::write_gate(&db),
        };
        let layers = ServiceBuilder::new()
            .layer(request_id::forget_client_id())
            .layer(request_id::set())
            .layer(request_id::propagate())
            .layer(request_id::ScopeLayer)
            .layer(panic::layer())
            .layer(DefaultBodyLimit::max(settings.limits.max_body_bytes));
        let cors = cors::Cors::new(db.clone(), settings.cors_origins.clone());
        let graphiql = settings.graphiql;
        let schema_sdl = settings.schema_sdl;
        let write_gate = probes.write_gate.clone();
        let endpoint = Arc::new(Endpoint::new(
            db, keys, settings, metrics, extension, write_gate,
        ));
        endpoint.follow_changes();
        endpoint.start_webhooks();
        let sockets = endpoint.connections().clone();
        let mut graphql = Router::new()
            .route("/graphql", get(endpoint::graphql).post(endpoint::graphql))
            .route("/reports/goals.csv", get(reports::goals))
            .route("/reports/dialogues.csv", get(reports::dialogues))
            .layer(axum::middleware::from_fn_with_state(cors, cors::guard));
        if graphiql {
            graphql = graphql
                .route("/graphiql", get(graphiql::page))
                .route("/graphiql/{file}", get(graphiql::file));
        }
        if schema_sdl {
            graphql = graphql.route("/schema.graphql", get(schema_sdl_text));
        }
        let router = Router::new()
            .route("/embed/samverkan.js", get(embed::samverkan_js))
            .route("/healthz", get(|| async { "ok" }))
            .route("/readyz", get(readyz))
            .route("/metrics", get(metrics_text))
            .with_state(probes)
            .merge(graphql.with_state(endpoint))
            .layer(layers);
        Self {
            router,
            ready,
            connections,
            sockets,
        }
    }

    /// Serves on `listener` until `stop` resolves, then closes every connection
    /// ([`server::serve`]).
    ///
    /// # Errors
    /// See [`server::serve`].
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        stop: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        let sockets = self.sockets;
        let stop = async move {
            stop.await;
            // Subscription sockets left HTTP when they were upgraded: they are told apart.
            sockets.close_all(server::DRAIN).await;
        };
        server::serve(listener, self.router, self.connections, stop).await
    }
}

/// How long one proof that the database takes writes stands for `/readyz`: probes share
/// it, so that calling `/readyz` in a loop costs at most one write a second.
const WRITE_CHECK_STANDS: Duration = Duration::from_secs(1);

/// `/readyz`: 200 while the service takes work and the database takes writes (a committed
/// one-row write, [`crate::db::check_writes`], in its turn behind the mutations on SQLite);
/// 503 at shutdown or when the write fails or hangs, such as on a full disk. While a long
/// mutation holds SQLite's write gate the check waits at most 2 s, then the last answer
/// stands.
async fn readyz(State(probes): State<Probes>) -> Response {
    if !probes.ready.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    let mut last = probes.writes.lock().await;
    let writable = match *last {
        Some((at, writable)) if at.elapsed() < WRITE_CHECK_STANDS => writable,
        _ => {
            let writable = match write_check(&probes).await {
                Some(Ok(())) => true,
                Some(Err(error)) => {
                    tracing::warn!(%error, "the database does not take writes");
                    false
                }
                // A long write holds the gate: busy is not broken, the last answer stands.
                None => last.is_none_or(|(_, writable)| writable),
            };
            *last = Some((std::time::Instant::now(), writable));
            writable
        }
    };
    if writable {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
    }
}

/// The readiness write, in its turn behind the mutations on SQLite: `None` when the turn
/// does not come within 2 s; an error when the write fails or takes longer than 2 s.
async fn write_check(probes: &Probes) -> Option<Result<(), String>> {
    let limit = Duration::from_secs(2);
    let _turn = match &probes.write_gate {
        Some(gate) => Some(tokio::time::timeout(limit, gate.lock()).await.ok()?),
        None => None,
    };
    Some(
        match tokio::time::timeout(limit, crate::db::check_writes(&probes.db)).await {
            Ok(result) => result.map_err(|error| error.to_string()),
            Err(_) => Err("the write did not finish within 2 s".to_owned()),
        },
    )
}

/// `/metrics` answers only with `Authorization: Bearer <SAMVERKAN_METRICS_TOKEN>`, and is
/// absent (404) otherwise, so that it does not show on the open internet.
async fn metrics_text(State(probes): State<Probes>, headers: HeaderMap) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (&probes.metrics_token, presented) {
        // Compared as hashes, so that the time taken does not tell how much matched.
        (Some(token), Some(presented))
            if crate::auth::secrets::hash(token) == crate::auth::secrets::hash(presented) =>
        {
            (
                [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                probes.metrics.render(&probes.db),
            )
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}
