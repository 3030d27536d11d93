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
        Ok(Self {
            database,
            listen,
            seed,
            jwt_secret,
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
