//! Typed settings from the environment, checked once at start. A bad setting is one clear
//! line on stderr and exit code 2 (see `main.rs`), never a panic.

use std::net::SocketAddr;

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file (the embedded default: `./samverkan.db`).
    Sqlite(String),
    /// A PostgreSQL server.
    Postgres(String),
}

impl Database {
    /// The URL to connect with.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(path) if path.starts_with("sqlite:") => path.clone(),
            Self::Sqlite(path) => format!("sqlite://{path}?mode=rwc"),
            Self::Postgres(url) => url.clone(),
        }
    }

    /// Reads `DATABASE_URL`: unset or empty means `./samverkan.db`.
    ///
    /// # Errors
    /// When the URL is neither `sqlite:` nor `postgres://`/`postgresql://`.
    pub fn from_value(value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(Self::Sqlite("samverkan.db".to_owned())),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Self::Postgres(url.to_owned()))
            }
            Some(url) if url.starts_with("sqlite:") => Ok(Self::Sqlite(url.to_owned())),
            Some(_) => Err(
                "DATABASE_URL must start with sqlite: or postgres:// (unset means ./samverkan.db)"
                    .to_owned(),
            ),
        }
    }
}

/// What to load into an empty database at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seed {
    /// The demo network (the default).
    Demo,
    /// Nothing.
    None,
}

/// All settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `DATABASE_URL`.
    pub database: Database,
    /// `SAMVERKAN_LISTEN`, default `127.0.0.1:8000`.
    pub listen: SocketAddr,
    /// `SAMVERKAN_SEED`: `demo` (default) or `none`.
    pub seed: Seed,
    /// `SAMVERKAN_JWT_SECRET`: at least 32 bytes; when unset, a secret generated at the
    /// first start and kept in the database.
    pub jwt_secret: Option<Vec<u8>>,
    /// How the HTTP surface behaves: limits, CORS, tooling, time limits.
    pub http: HttpSettings,
    /// `SAMVERKAN_LOG_FORMAT`: `text` (default) or `json`.
    pub json_logs: bool,
}

/// Settings of the HTTP surface.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Limits on documents and budgets.
    pub limits: crate::limits::Limits,
    /// `SAMVERKAN_CORS_ORIGINS`: comma-separated browser origins allowed besides partner tokens' own.
    pub cors_origins: Vec<String>,
    /// `SAMVERKAN_INTROSPECTION`: `on` (default) or `off`.
    pub introspection: bool,
    /// `SAMVERKAN_GRAPHIQL`: `on` (default) or `off`.
    pub graphiql: bool,
    /// `SAMVERKAN_REQUEST_TIMEOUT_SECS`: time limit of one request (default 30).
    pub request_timeout: std::time::Duration,
    /// `SAMVERKAN_METRICS_TOKEN`: `/metrics` answers only with `Authorization: Bearer <it>`; off when unset.
    pub metrics_token: Option<String>,
    /// `SAMVERKAN_SHUTDOWN_GRACE_SECS`: how long `/readyz` says 503 before the server stops accepting (default 5).
    pub shutdown_grace: std::time::Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            limits: crate::limits::Limits::default(),
            cors_origins: vec![],
            introspection: true,
            graphiql: true,
            request_timeout: std::time::Duration::from_secs(30),
            metrics_token: None,
            shutdown_grace: std::time::Duration::from_secs(5),
        }
    }
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: usize,
) -> Result<usize, String> {
    match get(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(default),
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| format!("{name} must be a whole number, not {value:?}")),
    }
}

fn switch(get: &impl Fn(&str) -> Option<String>, name: &str) -> Result<bool, String> {
    match get(name).as_deref().map(str::trim) {
        None | Some("") | Some("on") => Ok(true),
        Some("off") => Ok(false),
        Some(other) => Err(format!("{name} must be on or off, not {other:?}")),
    }
}

impl HttpSettings {
    fn from_lookup(get: &impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let defaults = Self::default();
        let mut limits = defaults.limits.clone();
        limits.max_body_bytes = number(get, "SAMVERKAN_MAX_BODY_BYTES", limits.max_body_bytes)?;
        limits.max_depth = number(get, "SAMVERKAN_MAX_DEPTH", limits.max_depth)?;
        limits.max_cost = number(get, "SAMVERKAN_MAX_COST", limits.max_cost)?;
        limits.budget_per_minute = number(get, "SAMVERKAN_RATE_LIMIT", limits.budget_per_minute)?;
        limits.max_cost_in_flight = match number(
            get,
            "SAMVERKAN_MAX_COST_IN_FLIGHT",
            limits.max_cost_in_flight,
        )? {
            0 => return Err("SAMVERKAN_MAX_COST_IN_FLIGHT must be at least 1".into()),
            points => points,
        };
        let cors_origins = get("SAMVERKAN_CORS_ORIGINS")
            .unwrap_or_default()
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_lowercase())
            .filter(|o| !o.is_empty())
            .collect::<Vec<_>>();
        if let Some(bad) = cors_origins
            .iter()
            .find(|o| !(o.starts_with("https://") || o.starts_with("http://")))
        {
            return Err(format!(
                "SAMVERKAN_CORS_ORIGINS must list origins such as https://example.org, not {bad:?}"
            ));
        }
        let seconds = |name: &str, default: u64| -> Result<std::time::Duration, String> {
            Ok(std::time::Duration::from_secs(
                number(get, name, default as usize)? as u64,
            ))
        };
        Ok(Self {
            limits,
            cors_origins,
            introspection: switch(get, "SAMVERKAN_INTROSPECTION")?,
            graphiql: switch(get, "SAMVERKAN_GRAPHIQL")?,
            request_timeout: seconds("SAMVERKAN_REQUEST_TIMEOUT_SECS", 30)?,
            metrics_token: get("SAMVERKAN_METRICS_TOKEN").filter(|t| !t.trim().is_empty()),
            shutdown_grace: seconds("SAMVERKAN_SHUTDOWN_GRACE_SECS", 5)?,
        })
    }
}

impl Settings {
    /// Reads the settings through `get` (the process environment in production).
    ///
    /// # Errors
    /// A one-line message naming the bad setting.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let database = Database::from_value(get("DATABASE_URL").as_deref())?;
        let listen = match get("SAMVERKAN_LISTEN").filter(|v| !v.trim().is_empty()) {
            None => SocketAddr::from(([127, 0, 0, 1], 8000)),
            Some(value) => value
                .trim()
                .parse()
                .map_err(|_| format!("SAMVERKAN_LISTEN must be an address and port such as 127.0.0.1:8000, not {value:?}"))?,
        };
        let seed = match get("SAMVERKAN_SEED").as_deref().map(str::trim) {
            None | Some("") | Some("demo") => Seed::Demo,
            Some("none") => Seed::None,
            Some(other) => {
                return Err(format!(
                    "SAMVERKAN_SEED must be demo or none, not {other:?}"
                ));
            }
        };
        let jwt_secret = match get("SAMVERKAN_JWT_SECRET").filter(|v| !v.is_empty()) {
            None => None,
            Some(secret) if secret.len() >= 32 => Some(secret.into_bytes()),
            Some(_) => {
                return Err(
                    "SAMVERKAN_JWT_SECRET must be at least 32 bytes (or unset to generate one)"
                        .to_owned(),
                );
            }
        };
        let json_logs = match get("SAMVERKAN_LOG_FORMAT").as_deref().map(str::trim) {
            None | Some("") | Some("text") => false,
            Some("json") => true,
            Some(other) => {
                return Err(format!(
                    "SAMVERKAN_LOG_FORMAT must be text or json, not {other:?}"
                ));
            }
        };
        let http = HttpSettings::from_lookup(&get)?;
        Ok(Self {
            database,
            listen,
            seed,
            jwt_secret,
            http,
            json_logs,
        })
    }

    /// Reads the settings from the process environment.
    ///
    /// # Errors
    /// A one-line message naming the bad setting.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}
