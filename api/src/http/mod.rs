//! The HTTP surface: the router (`/graphql`, `/graphiql`, `/healthz`, `/readyz`,
//! `/metrics`) and the layers every request passes, outermost first:
//! - [`request_id`]: an id of the server's making, in the response and the log;
//! - [`panic`]: a panic becomes a clean INTERNAL error;
//! - [`cors`]: configured and partner origins may call from browsers;
//! - axum's `DefaultBodyLimit`: `SAMVERKAN_MAX_BODY_BYTES`.
//!
//! GraphQL over HTTP itself (media types, reading the request, limits, execution) is the
//! GraphQL layer's: [`crate::graphql::endpoint`].

pub mod cors;
pub mod panic;
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
}

/// The router with default settings.
pub fn router(db: DatabaseConnection, keys: Keys) -> Router {
    App::new(db, keys, HttpSettings::default()).router
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
        };
        let layers = ServiceBuilder::new()
            .layer(request_id::forget_client_id())
            .layer(request_id::set())
            .layer(request_id::propagate())
            .layer(request_id::ScopeLayer)
            .layer(panic::layer())
            .layer(axum::middleware::from_fn(cors::no_content_preflight))
            .layer(cors::layer(db.clone(), settings.cors_origins.clone()))
            .layer(DefaultBodyLimit::max(settings.limits.max_body_bytes));
        let graphiql = settings.graphiql;
        let endpoint = Arc::new(Endpoint::new(db, keys, settings, metrics, extension));
        let mut graphql =
            Router::new().route("/graphql", get(endpoint::graphql).post(endpoint::graphql));
        if graphiql {
            graphql = graphql.route("/graphiql", get(endpoint::graphiql));
        }
        let router = Router::new()
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
        server::serve(listener, self.router, self.connections, stop).await
    }
}

/// How long one proof that the database takes writes stands for `/readyz`: probes share
/// it, so that calling `/readyz` in a loop costs at most one write a second.
const WRITE_CHECK_STANDS: Duration = Duration::from_secs(1);

/// `/readyz`: 200 while the service takes work and the database takes writes (a committed
/// one-row write, [`crate::db::check_writes`]); 503 at shutdown or when it does not, such
/// as on a full disk.
async fn readyz(State(probes): State<Probes>) -> Response {
    if !probes.ready.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down").into_response();
    }
    let mut last = probes.writes.lock().await;
    let writable = match *last {
        Some((at, writable)) if at.elapsed() < WRITE_CHECK_STANDS => writable,
        _ => {
            let check =
                tokio::time::timeout(Duration::from_secs(2), crate::db::check_writes(&probes.db))
                    .await;
            let writable = match check {
                Ok(Ok(())) => true,
                Ok(Err(error)) => {
                    tracing::warn!(%error, "the database does not take writes");
                    false
                }
                Err(_) => {
                    tracing::warn!("the database did not take a write within 2 s");
                    false
                }
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
