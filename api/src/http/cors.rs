//! CORS: browser origins that are configured (`SAMVERKAN_CORS_ORIGINS`, the network's own
//! frontends) may call with `Authorization` or `X-Api-Key` headers; an origin that only an
//! active partner token names (a partner's site) may call anonymously or with a partner key,
//! but not with a user's token, which a partner's page has no business holding. Cookies and
//! other credentials are never allowed (`Access-Control-Allow-Credentials` is never sent).

use crate::account::tokens;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use sea_orm::DatabaseConnection;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long the partner tokens' origins are used before they are read again: a token
/// created or revoked through another server process takes effect in the browser within
/// this time (through this one, at once).
const REFRESH: Duration = Duration::from_secs(30);

/// The layer: allowed origins are answered with themselves in
/// `Access-Control-Allow-Origin`, others with no CORS permission at all.
pub fn layer(db: DatabaseConnection, configured: Vec<String>) -> CorsLayer {
    let origins = Arc::new(Origins {
        configured: configured.into_iter().collect(),
        tokens: TokenOrigins::new(db),
    });
    CorsLayer::new()
        .allow_origin(AllowOrigin::async_predicate(
            move |origin: HeaderValue, parts: &Parts| {
                let origins = origins.clone();
                let user_token = carries_user_token(parts);
                async move { origins.allow(&origin, user_token).await }
            },
        ))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::AUTHORIZATION,
            HeaderName::from_static("x-api-key"),
        ])
        .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
        .max_age(Duration::from_secs(600))
        .vary([header::ORIGIN])
}

/// Preflights are answered 204 No Content, as before the move to tower-http (which
/// answers 200): clients and caches that were told 204 keep getting it.
pub async fn no_content_preflight(request: Request, next: Next) -> Response {
    let preflight = request.method() == Method::OPTIONS
        && request.headers().contains_key(header::ORIGIN)
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = next.run(request).await;
    if preflight && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::NO_CONTENT;
    }
    response
}

struct Origins {
    /// `SAMVERKAN_CORS_ORIGINS`, normalised when the settings were read.
    configured: HashSet<String>,
    tokens: TokenOrigins,
}

impl Origins {
    async fn allow(&self, origin: &HeaderValue, user_token: bool) -> bool {
        let Ok(origin) = origin.to_str() else {
            return false;
        };
        let origin = origin.trim_end_matches('/').to_lowercase();
        self.configured.contains(&origin)
            || (!user_token && self.tokens.current().await.contains(&origin))
    }
}

/// Whether a request carries a user's token (`Authorization`), or, for a preflight, asks to
/// send one (`Access-Control-Request-Headers`).
fn carries_user_token(parts: &Parts) -> bool {
    parts.headers.contains_key(header::AUTHORIZATION)
        || parts
            .headers
            .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|names| names.split(','))
            .any(|name| name.trim().eq_ignore_ascii_case("authorization"))
}

/// The origins of active partner tokens, read through [`tokens::active_origins`] at most
/// every [`REFRESH`] and whenever this process changed a token, one read at a time.
struct TokenOrigins {
    db: DatabaseConnection,
    /// The last set read, when, and at which count of token changes; `None` before the
    /// first read.
    cache: RwLock<Option<Cached>>,
    /// Held by the one caller that refreshes: a burst of requests after the set goes stale
    /// makes one query, not one each.
    refreshing: tokio::sync::Mutex<()>,
}

impl TokenOrigins {
    fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            cache: RwLock::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    fn cached(&self) -> Option<Cached> {
        self.cache.read().ok().and_then(|cache| cache.clone())
    }

    /// The current set. While one caller refreshes a stale set, the others use the stale
    /// one; before the first read they wait for it.
    async fn current(&self) -> Arc<HashSet<String>> {
        let cached = self.cached();
        if let Some(cached) = &cached
            && cached.fresh()
        {
            return cached.origins.clone();
        }
        let _turn = match (self.refreshing.try_lock(), cached) {
            (Ok(turn), _) => turn,
            (Err(_), Some(stale)) => return stale.origins,
            (Err(_), None) => self.refreshing.lock().await,
        };
        // Another caller may have refreshed while this one waited for its turn.
        if let Some(cached) = self.cached()
            && cached.fresh()
        {
            return cached.origins;
        }
        let changes = tokens::changes();
        let origins = match tokens::active_origins(&self.db).await {
            Ok(origins) => Arc::new(origins),
            Err(error) => {
                // Keep answering with what was known; try again at the next request.
                tracing::warn!(?error, "cannot read the partner tokens' origins");
                return self
                    .cached()
                    .map(|cached| cached.origins)
                    .unwrap_or_default();
            }
        };
        if let Ok(mut cache) = self.cache.write() {
            *cache = Some(Cached {
                at: Instant::now(),
                changes,
                origins: origins.clone(),
            });
        }
        origins
    }
}

/// A set of origins as read.
#[derive(Clone)]
struct Cached {
    at: Instant,
    /// [`tokens::changes`] just before the read.
    changes: u64,
    origins: Arc<HashSet<String>>,
}

impl Cached {
    fn fresh(&self) -> bool {
        self.at.elapsed() < REFRESH && self.changes == tokens::changes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entity::{TokenScope, api_token};
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A migrated SQLite database of its own, and a count of the statements run on it.
    async fn database() -> (DatabaseConnection, Arc<AtomicUsize>, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!("samverkan-cors-{}.db", uuid::Uuid::now_v7()));
        let mut db =
            crate::db::connect(&crate::config::Database::Sqlite(path.display().to_string()))
                .await
                .expect("connect");
        crate::db::migrate(&db).await.expect("migrate");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        (db, statements, path)
    }

    async fn token(
        db: &DatabaseConnection,
        origin: &str,
        expires_in: Option<chrono::TimeDelta>,
        revoked: bool,
    ) {
        let now = crate::validate::now();
        api_token::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            name: Set(origin.into()),
            prefix: Set("svk_pt_test".into()),
            token_hash: Set(origin.into()),
            scope: Set(TokenScope::ReadPublic),
            allowed_origins: Set(origin.into()),
            expires_at: Set(expires_in.map(|d| now + d)),
            last_used_at: Set(None),
            revoked_at: Set(revoked.then_some(now)),
            created_by: Set(None),
            created_at: Set(now),
        }
        .insert(db)
        .await
        .expect("insert token");
    }

    #[tokio::test]
    async fn only_active_tokens_lend_their_origins_and_a_burst_reads_them_once() {
        let (db, statements, path) = database().await;
        let hour = chrono::TimeDelta::hours(1);
        token(&db, "https://active.example", None, false).await;
        token(&db, "https://until-later.example", Some(hour), false).await;
        token(&db, "https://expired.example", Some(-hour), false).await;
        token(&db, "https://revoked.example", None, true).await;
        let origins = Arc::new(Origins {
            configured: HashSet::from(["https://configured.example".to_owned()]),
            tokens: TokenOrigins::new(db),
        });
        let before = statements.load(Ordering::SeqCst);
        let burst: Vec<_> = (0..20)
            .map(|_| {
                let origins = origins.clone();
                tokio::spawn(async move {
                    origins
                        .allow(&HeaderValue::from_static("https://Active.example/"), false)
                        .await
                })
            })
            .collect();
        for request in burst {
            assert!(request.await.expect("joined"), "normalised and allowed");
        }
        assert_eq!(
            statements.load(Ordering::SeqCst) - before,
            1,
            "twenty callers, one read"
        );
        for (origin, allowed) in [
            ("https://configured.example", true),
            ("https://until-later.example", true),
            ("https://expired.example", false),
            ("https://revoked.example", false),
            ("https://unknown.example", false),
        ] {
            let header = HeaderValue::from_str(origin).expect("header");
            assert_eq!(origins.allow(&header, false).await, allowed, "{origin}");
        }
        assert_eq!(statements.load(Ordering::SeqCst) - before, 1, "still fresh");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
