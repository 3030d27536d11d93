//! CORS: which browser pages may call `/graphql` and the reports.
//!
//! - Origins that are configured (`SAMVERKAN_CORS_ORIGINS`, the network's own frontends)
//!   may call with `Authorization` or `X-Api-Key` headers.
//! - An origin that only an active partner token names (a partner's site) may call
//!   anonymously or with a partner key, but not with a user's token, which a partner's page
//!   has no business holding.
//! - A page served by this server itself (its origin is the request's `Host`, such as
//!   GraphiQL) needs no permission.
//! - Any other origin is refused before anything runs, with a 403 that the browser can
//!   read: the refusal carries `Access-Control-Allow-Origin`, so the page sees a JSON error
//!   naming the problem rather than a failed fetch. For the same reason every preflight is
//!   answered 204 with the permissions: the decision is made on the request itself, which
//!   carries the credentials.
//!
//! Cookies and other credentials are never allowed (`Access-Control-Allow-Credentials` is
//! never sent).

use crate::account::tokens;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sea_orm::DatabaseConnection;
use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How long the partner tokens' origins are used before they are read again.
const REFRESH: Duration = Duration::from_secs(30);

/// An origin that is not in the set read makes the set be read again if it is older than
/// this: a token created through another server process takes effect within it, and a
/// flood of unknown origins costs at most one read per this time.
const MISS_REFRESH: Duration = Duration::from_secs(1);

/// The methods a browser may use.
const METHODS: &str = "GET, POST";
/// The request headers a browser may send.
const HEADERS: &str = "content-type, accept, authorization, x-api-key";
/// The response headers a page may read.
const EXPOSED: &str = "x-request-id, retry-after, etag";
/// How long a browser may keep a preflight's answer, in seconds.
const PREFLIGHT_MAX_AGE: &str = "600";

/// The browser origins that may call, shared by every request.
#[derive(Clone)]
pub struct Cors(Arc<Origins>);

impl Cors {
    /// The configured origins (normalised when the settings were read) and the partner
    /// tokens' origins, read from `db`.
    pub fn new(db: DatabaseConnection, configured: Vec<String>) -> Self {
        Self(Arc::new(Origins {
            configured: configured.into_iter().collect(),
            tokens: TokenOrigins::new(db),
        }))
    }
}

/// Whether and how a browser origin may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Permission {
    /// No `Origin` header (not a browser), or a page of this server.
    NotCrossOrigin,
    /// An allowed origin: the answer names it. `partner`: only a partner token names it.
    Allowed { partner: bool },
    /// Refused, and why.
    Refused(Refusal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// Nobody allowed the origin.
    Unknown,
    /// A partner's origin sent a user's token.
    UserTokenFromPartner,
}

/// The layer's function: answers preflights, refuses origins nobody allowed with a readable
/// 403, and names allowed origins in the answer.
pub async fn guard(State(cors): State<Cors>, mut request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        // The answer depends on the origin: a shared cache must not give this one, which
        // names no origin, to a page that sends one.
        let mut response = next.run(request).await;
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("origin"));
        return response;
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        allow(headers, &origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(METHODS),
        );
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(HEADERS),
        );
        headers.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static(PREFLIGHT_MAX_AGE),
        );
        return response;
    }
    let user_token = request.headers().contains_key(header::AUTHORIZATION);
    match cors
        .0
        .permission(&origin, request.headers(), user_token)
        .await
    {
        Permission::NotCrossOrigin => {
            let mut response = next.run(request).await;
            response
                .headers_mut()
                .append(header::VARY, HeaderValue::from_static("origin"));
            response
        }
        Permission::Allowed { partner } => {
            if partner {
                request.extensions_mut().insert(PartnerOrigin);
            }
            let mut response = next.run(request).await;
            allow(response.headers_mut(), &origin);
            response
        }
        Permission::Refused(why) => {
            let shown = origin.to_str().unwrap_or("this origin");
            let message = match why {
                Refusal::Unknown => format!(
                    "the origin {shown} may not call this API from a browser: ask the network for a partner token that names it"
                ),
                Refusal::UserTokenFromPartner => format!(
                    "a partner site ({shown}) may call anonymously or with its partner token, not with a user's token"
                ),
            };
            let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": "FORBIDDEN" } }] });
            let mut response = (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
            allow(response.headers_mut(), &origin);
            response
        }
    }
}

/// Marks a request from an origin that only a partner token allows: such a page may not
/// use a user's token, in a header or (for subscriptions) in `connection_init`.
#[derive(Debug, Clone, Copy)]
pub struct PartnerOrigin;

/// Names `origin` as allowed in an answer, with the headers a page may read.
fn allow(headers: &mut HeaderMap, origin: &HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED),
    );
    headers.append(header::VARY, HeaderValue::from_static("origin"));
}

struct Origins {
    /// `SAMVERKAN_CORS_ORIGINS`, normalised when the settings were read.
    configured: HashSet<String>,
    tokens: TokenOrigins,
}

impl Origins {
    async fn permission(
        &self,
        origin: &HeaderValue,
        headers: &HeaderMap,
        user_token: bool,
    ) -> Permission {
        let Ok(origin) = origin.to_str() else {
            return Permission::Refused(Refusal::Unknown);
        };
        let origin = origin.trim_end_matches('/').to_lowercase();
        if same_origin(&origin, headers) {
            return Permission::NotCrossOrigin;
        }
        if self.configured.contains(&origin) {
            return Permission::Allowed { partner: false };
        }
        if !self.tokens.contains(&origin).await {
            return Permission::Refused(Refusal::Unknown);
        }
        if user_token {
            Permission::Refused(Refusal::UserTokenFromPartner)
        } else {
            Permission::Allowed { partner: true }
        }
    }

    /// Whether `origin` (normalised) is allowed, the way [`guard`] decides for a request
    /// without a user's token.
    #[cfg(test)]
    async fn allow(&self, origin: &HeaderValue, user_token: bool) -> bool {
        matches!(
            self.permission(origin, &HeaderMap::new(), user_token).await,
            Permission::Allowed { .. }
        )
    }
}

/// Whether the page that sends the request was served by this server: its origin's host
/// is the request's `Host` (a browser sets both and a page cannot change either).
fn same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
}

/// The origins of active partner tokens, read through [`tokens::active_origins`] at most
/// every [`REFRESH`], whenever this process changed a token, and on a miss at most every
/// [`MISS_REFRESH`]; one read at a time.
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

    /// Whether an active token names `origin`: the set is read again when it is older
    /// than [`REFRESH`], or older than [`MISS_REFRESH`] and does not hold the origin.
    async fn contains(&self, origin: &str) -> bool {
        self.current(REFRESH).await.contains(origin)
            || self.current(MISS_REFRESH).await.contains(origin)
    }

    /// The set, read again when older than `max_age`. While one caller refreshes a stale
    /// set, the others use the stale one; before the first read they wait for it.
    async fn current(&self, max_age: Duration) -> Arc<HashSet<String>> {
        let cached = self.cached();
        if let Some(cached) = &cached
            && cached.fresh(max_age)
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
            && cached.fresh(max_age)
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
    fn fresh(&self, max_age: Duration) -> bool {
        self.at.elapsed() < max_age && self.changes == tokens::changes()
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
        crate::db::observe(&mut db, move |_| {
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
        // A token another server process created (this one's count of changes does not
        // move) is found on a miss once the set is older than a second.
        tokio::time::sleep(MISS_REFRESH + Duration::from_millis(100)).await;
        let db = &origins.tokens.db;
        token(db, "https://elsewhere.example", None, false).await;
        let header = HeaderValue::from_static("https://elsewhere.example");
        assert!(origins.allow(&header, false).await, "read again on a miss");
        assert!(
            !origins.allow(&header, true).await,
            "not with a user's token"
        );
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
