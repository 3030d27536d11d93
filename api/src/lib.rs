//! Samverkan: the shared record of a civil-society network's advocacy work (its member
//! organisations, the authorities they engage, every dialogue and the proposals put forward)
//! served as a GraphQL API over SQLite or PostgreSQL.
//!
//! A request flows one way: [`http`] → caller ([`auth::Principal`]) → thin resolver in
//! [`graphql`] → domain function ([`organisation`], [`authority`], [`dialogue`],
//! [`proposal`]) → entity → database.
#![forbid(unsafe_code)]

// SQLite is compiled to allocate with mimalloc (`LIBSQLITE3_FLAGS` in `.cargo/config.toml`),
// so every program that links this library, its tests included, links mimalloc as well.
extern crate mimalloc as _;

pub mod account;
pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod authority;
pub mod backup;
pub mod changes;
pub mod collation;
pub mod config;
pub mod cooperation;
pub mod db;
pub mod dialogue;
pub mod error;
pub mod evidence;
pub mod goal;
pub mod graphql;
pub mod http;
pub mod kept;
pub mod limits;
pub mod metrics;
pub mod organisation;
pub mod paging;
pub mod proposal;
pub mod records;
pub mod report;
pub mod search;
pub mod seed;
pub mod statistics;
pub mod theme;
pub mod validate;
pub mod webhook;

use config::{Seed, Settings};

/// Connects, migrates, seeds an empty database with the demo network (unless told not to)
/// and serves until Ctrl-C or SIGTERM.
///
/// # Errors
/// When the database cannot be opened or migrated, or the address cannot be bound.
pub async fn serve(settings: Settings) -> Result<(), Box<dyn std::error::Error>> {
    // Migrations and seeding may take longer than a request may: they run on a pool of
    // their own, without the request time limit.
    let setup = db::connect(&settings.database).await?;
    db::migrate(&setup).await?;
    if settings.seed == Seed::Demo
        && seed::demo_if_empty(&setup)
            .await
            .map_err(error::AppError::into_report)?
    {
        tracing::info!("loaded the demo network into the empty database");
    }
    let keys = auth::jwt::Keys::new(
        &auth::secrets::signing_secret(&setup, settings.jwt_secret.as_deref())
            .await
            .map_err(error::AppError::into_report)?,
    );
    db::close(setup).await?;
    let db = db::connect_with(
        &settings.database,
        Some(settings.http.request_timeout),
        settings.sqlite_mmap_mib,
    )
    .await?;
    http::server::warn_if_over_file_limit(settings.http.max_connections);
    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    let address = listener.local_addr()?;
    tracing::info!(%address, "serving");
    println!(
        "Samverkan is serving GraphQL at http://{address}/graphql and GraphiQL at http://{address}/graphiql"
    );
    let grace = settings.http.shutdown_grace;
    let app = http::App::new(db, keys, settings.http);
    let ready = app.ready.clone();
    let draining = async move {
        shutdown_signal().await;
        // Tell the load balancer first, then stop accepting; in-flight requests finish
        // (for at most http::server::DRAIN past the grace period).
        ready.store(false, std::sync::atomic::Ordering::SeqCst);
        tracing::info!(
            grace_seconds = grace.as_secs(),
            "shutting down: /readyz answers 503"
        );
        tokio::time::sleep(grace).await;
    };
    app.serve(listener, draining).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
