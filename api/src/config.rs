//! Typed settings from the environment, checked once at start by clap (each variable
//! declared once, with its default and parser, in [`Variables`]). A bad setting is one
//! clear line on stderr and exit code 2 (see `main.rs`), never a panic.

use crate::limits::Limits;
use clap::{ArgAction, CommandFactory, FromArgMatches};
use std::net::SocketAddr;
use std::time::Duration;

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
        match value.filter(|v| !v.trim().is_empty()) {
            None => Ok(Self::Sqlite("samverkan.db".to_owned())),
            Some(url) => database(url).map_err(|reason| format!("DATABASE_URL {reason}")),
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
    /// `SAMVERKAN_SQLITE_MMAP_MIB`: how much of an SQLite file each connection reads through
    /// a memory map instead of `pread` (default 0, off); ignored on PostgreSQL.
    pub sqlite_mmap_mib: usize,
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
    /// `SAMVERKAN_SCHEMA_SDL`: `on` (default) serves the SDL at `/schema.graphql`, even with
    /// introspection off; `off` hides it too.
    pub schema_sdl: bool,
    /// `SAMVERKAN_REQUEST_TIMEOUT_SECS`: time limit of one request (default 30).
    pub request_timeout: std::time::Duration,
    /// `SAMVERKAN_METRICS_TOKEN`: `/metrics` answers only with `Authorization: Bearer <it>`; off when unset.
    pub metrics_token: Option<String>,
    /// `SAMVERKAN_SHUTDOWN_GRACE_SECS`: how long `/readyz` says 503 before the server stops accepting (default 5).
    pub shutdown_grace: std::time::Duration,
    /// `SAMVERKAN_MAX_CONNECTIONS`: the most connections open at once (default 1024).
    pub max_connections: usize,
    /// `SAMVERKAN_MAX_CONNECTIONS_PER_ADDRESS`: the most from one client address (default 64).
    pub max_connections_per_address: usize,
    /// `SAMVERKAN_READ_TIMEOUT_SECS`: time to send a request header, or a body, or to start the
    /// next request on an idle connection (default 10).
    pub read_timeout: std::time::Duration,
    /// `SAMVERKAN_CACHE_MAX_AGE_SECS`: how long browsers and shared caches may keep a GET
    /// query's answer to an anonymous or partner caller (default 30; 0 makes them ask again
    /// each time, with the ETag).
    pub cache_max_age: std::time::Duration,
    /// `SAMVERKAN_PERSISTED_ONLY`: `off` (default) or `on` (also `1`): anonymous and partner
    /// callers run registered documents only.
    pub persisted_only: bool,
    /// How often a subscription socket is pinged and its credential checked again (30 s;
    /// not a setting of its own: tests shorten it).
    pub subscription_ping: std::time::Duration,
    /// `SAMVERKAN_PERSISTED_QUERIES`: a manifest file of documents to register (Apollo's
    /// persisted query manifest, or an object of hashes to texts); its documents, read at
    /// start.
    pub persisted_queries: Vec<String>,
    /// How webhooks are delivered (`SAMVERKAN_WEBHOOK_*`).
    pub webhooks: crate::webhook::Settings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            limits: crate::limits::Limits::default(),
            cors_origins: vec![],
            introspection: true,
            graphiql: true,
            schema_sdl: true,
            request_timeout: std::time::Duration::from_secs(30),
            metrics_token: None,
            shutdown_grace: std::time::Duration::from_secs(5),
            max_connections: 1024,
            max_connections_per_address: 64,
            read_timeout: std::time::Duration::from_secs(10),
            cache_max_age: std::time::Duration::from_secs(30),
            persisted_only: false,
            subscription_ping: std::time::Duration::from_secs(30),
            persisted_queries: Vec::new(),
            webhooks: crate::webhook::Settings::default(),
        }
    }
}

impl Settings {
    /// Reads the settings through `get` (the process environment in production).
    ///
    /// # Errors
    /// A one-line message naming the bad setting.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        // Each variable becomes the argument clap knows it by, and clap parses them all.
        // clap's own reading of the environment is switched off here so that `get` is the
        // only source (the tests pass their own).
        let command = Variables::command();
        let mut argv = Vec::new();
        for arg in command.get_arguments() {
            let (Some(name), Some(long)) = (arg.get_env(), arg.get_long()) else {
                continue;
            };
            let Some(value) = name.to_str().and_then(&get) else {
                continue;
            };
            // Set but empty means unset, as before.
            if !value.trim().is_empty() {
                argv.push(format!("--{long}={value}"));
            }
        }
        let matches = command
            .mut_args(|arg| arg.env(None))
            .try_get_matches_from(argv)
            .map_err(|error| one_line(&error))?;
        let variables = Variables::from_arg_matches(&matches).map_err(|error| one_line(&error))?;
        Ok(variables.into())
    }

    /// Reads the settings from the process environment.
    ///
    /// # Errors
    /// A one-line message naming the bad setting.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }
}

/// Every setting, declared once: its environment variable, its default and its parser.
/// Values are trimmed by the parsers, except the secrets'.
#[derive(Debug, clap::Parser)]
#[command(no_binary_name = true)]
struct Variables {
    #[arg(long, env = "DATABASE_URL", value_parser = database)]
    database: Option<Database>,
    #[arg(long, env = "SAMVERKAN_SQLITE_MMAP_MIB", default_value = "0", value_parser = whole_number)]
    sqlite_mmap_mib: usize,
    #[arg(long, env = "SAMVERKAN_LISTEN", default_value = "127.0.0.1:8000", value_parser = listen)]
    listen: SocketAddr,
    #[arg(long, env = "SAMVERKAN_SEED", default_value = "demo", value_parser = seed)]
    seed: Seed,
    #[arg(long, env = "SAMVERKAN_JWT_SECRET", hide_env_values = true, value_parser = jwt_secret)]
    jwt_secret: Option<Secret>,
    #[arg(long, env = "SAMVERKAN_LOG_FORMAT", default_value = "text", value_parser = log_format, action = ArgAction::Set)]
    json_logs: bool,
    #[arg(long, env = "SAMVERKAN_MAX_BODY_BYTES", default_value_t = Limits::default().max_body_bytes, value_parser = whole_number)]
    max_body_bytes: usize,
    #[arg(long, env = "SAMVERKAN_MAX_DEPTH", default_value_t = Limits::default().max_depth, value_parser = whole_number)]
    max_depth: usize,
    #[arg(long, env = "SAMVERKAN_MAX_COST", default_value_t = Limits::default().max_cost, value_parser = whole_number)]
    max_cost: usize,
    #[arg(long, env = "SAMVERKAN_RATE_LIMIT", default_value_t = Limits::default().budget_per_minute, value_parser = whole_number)]
    rate_limit: usize,
    #[arg(long, env = "SAMVERKAN_MAX_COST_IN_FLIGHT", default_value_t = Limits::default().max_cost_in_flight, value_parser = at_least_one)]
    max_cost_in_flight: usize,
    #[arg(long, env = "SAMVERKAN_CORS_ORIGINS", default_value = "", value_parser = origins)]
    cors_origins: Origins,
    #[arg(long, env = "SAMVERKAN_INTROSPECTION", default_value = "on", value_parser = switch, action = ArgAction::Set)]
    introspection: bool,
    #[arg(long, env = "SAMVERKAN_GRAPHIQL", default_value = "on", value_parser = switch, action = ArgAction::Set)]
    graphiql: bool,
    #[arg(long, env = "SAMVERKAN_SCHEMA_SDL", default_value = "on", value_parser = switch, action = ArgAction::Set)]
    schema_sdl: bool,
    #[arg(long, env = "SAMVERKAN_REQUEST_TIMEOUT_SECS", default_value = "30", value_parser = seconds)]
    request_timeout: Duration,
    #[arg(long, env = "SAMVERKAN_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    #[arg(long, env = "SAMVERKAN_SHUTDOWN_GRACE_SECS", default_value = "5", value_parser = seconds)]
    shutdown_grace: Duration,
    #[arg(long, env = "SAMVERKAN_MAX_CONNECTIONS", default_value_t = HttpSettings::default().max_connections, value_parser = at_least_one)]
    max_connections: usize,
    #[arg(long, env = "SAMVERKAN_MAX_CONNECTIONS_PER_ADDRESS", default_value_t = HttpSettings::default().max_connections_per_address, value_parser = at_least_one)]
    max_connections_per_address: usize,
    #[arg(long, env = "SAMVERKAN_READ_TIMEOUT_SECS", default_value = "10", value_parser = at_least_one_second)]
    read_timeout: Duration,
    #[arg(long, env = "SAMVERKAN_CACHE_MAX_AGE_SECS", default_value = "30", value_parser = seconds)]
    cache_max_age: Duration,
    #[arg(long, env = "SAMVERKAN_PERSISTED_ONLY", default_value = "off", value_parser = switch, action = ArgAction::Set)]
    persisted_only: bool,
    #[arg(long, env = "SAMVERKAN_PERSISTED_QUERIES", value_parser = manifest)]
    persisted_queries: Option<Manifest>,
    #[arg(long, env = "SAMVERKAN_WEBHOOK_DELIVERY", default_value = "on", value_parser = switch, action = ArgAction::Set)]
    webhook_delivery: bool,
    #[arg(long, env = "SAMVERKAN_WEBHOOK_ALLOW_PRIVATE", default_value = "off", value_parser = switch, action = ArgAction::Set)]
    webhook_allow_private: bool,
    #[arg(long, env = "SAMVERKAN_WEBHOOK_RETRIES", default_value = "10s,1m,5m,30m,2h,5h,8h,8h", value_parser = pauses)]
    webhook_retries: Pauses,
    #[arg(long, env = "SAMVERKAN_WEBHOOK_TIMEOUT_SECS", default_value = "10", value_parser = at_least_one_second)]
    webhook_timeout: Duration,
    #[arg(long, env = "SAMVERKAN_WEBHOOK_KEEP_DAYS", default_value = "30", value_parser = days)]
    webhook_keep: Duration,
}

impl From<Variables> for Settings {
    fn from(v: Variables) -> Self {
        let limits = Limits {
            max_body_bytes: v.max_body_bytes,
            max_depth: v.max_depth,
            max_cost: v.max_cost,
            budget_per_minute: v.rate_limit,
            max_cost_in_flight: v.max_cost_in_flight,
            ..Limits::default()
        };
        Self {
            database: v
                .database
                .unwrap_or_else(|| Database::Sqlite("samverkan.db".to_owned())),
            sqlite_mmap_mib: v.sqlite_mmap_mib,
            listen: v.listen,
            seed: v.seed,
            jwt_secret: v.jwt_secret.map(|s| s.0),
            http: HttpSettings {
                limits,
                cors_origins: v.cors_origins.0,
                introspection: v.introspection,
                graphiql: v.graphiql,
                schema_sdl: v.schema_sdl,
                request_timeout: v.request_timeout,
                metrics_token: v.metrics_token,
                shutdown_grace: v.shutdown_grace,
                max_connections: v.max_connections,
                max_connections_per_address: v.max_connections_per_address,
                read_timeout: v.read_timeout,
                cache_max_age: v.cache_max_age,
                persisted_only: v.persisted_only,
                subscription_ping: HttpSettings::default().subscription_ping,
                persisted_queries: v.persisted_queries.map(|m| m.0).unwrap_or_default(),
                webhooks: crate::webhook::Settings {
                    deliver: v.webhook_delivery,
                    allow_private: v.webhook_allow_private,
                    retries: v.webhook_retries.0,
                    timeout: v.webhook_timeout,
                    keep: v.webhook_keep,
                },
            },
            json_logs: v.json_logs,
        }
    }
}

/// A secret's bytes.
#[derive(Debug, Clone)]
struct Secret(Vec<u8>);

/// The documents of a persisted query manifest.
#[derive(Debug, Clone)]
struct Manifest(Vec<String>);

/// Pauses, in order.
#[derive(Debug, Clone)]
struct Pauses(Vec<Duration>);

/// Browser origins, normalised: lower case, no trailing `/`.
#[derive(Debug, Clone)]
struct Origins(Vec<String>);

/// clap's error as one line naming the variable: "NAME must be ..., not "value"" (a
/// secret's value is not repeated).
fn one_line(error: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue};
    let text = |kind| match error.get(kind) {
        Some(ContextValue::String(text)) => Some(text.as_str()),
        _ => None,
    };
    let arg = text(ContextKind::InvalidArg).and_then(|invalid| {
        let long = invalid.trim_start_matches('-').split([' ', '=']).next()?;
        Variables::command()
            .get_arguments()
            .find(|arg| arg.get_long() == Some(long))
            .cloned()
    });
    let reason = std::error::Error::source(error).map(ToString::to_string);
    match (arg, reason) {
        (Some(arg), Some(reason)) => {
            let name = arg
                .get_env()
                .and_then(|n| n.to_str())
                .unwrap_or("a setting");
            match text(ContextKind::InvalidValue) {
                Some(value) if !arg.is_hide_env_values_set() => {
                    format!("{name} {reason}, not {:?}", value.trim())
                }
                _ => format!("{name} {reason}"),
            }
        }
        _ => error
            .to_string()
            .lines()
            .next()
            .unwrap_or("a setting is invalid")
            .trim_start_matches("error: ")
            .to_owned(),
    }
}

fn database(value: &str) -> Result<Database, String> {
    match value.trim() {
        url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Database::Postgres(url.to_owned()))
        }
        url if url.starts_with("sqlite:") => Ok(Database::Sqlite(url.to_owned())),
        _ => Err("must start with sqlite: or postgres:// (unset means ./samverkan.db)".into()),
    }
}

fn listen(value: &str) -> Result<SocketAddr, String> {
    value
        .trim()
        .parse()
        .map_err(|_| "must be an address and port such as 127.0.0.1:8000".into())
}

fn seed(value: &str) -> Result<Seed, String> {
    match value.trim() {
        "demo" => Ok(Seed::Demo),
        "none" => Ok(Seed::None),
        _ => Err("must be demo or none".into()),
    }
}

fn jwt_secret(value: &str) -> Result<Secret, String> {
    if value.len() >= 32 {
        Ok(Secret(value.as_bytes().to_vec()))
    } else {
        Err("must be at least 32 bytes (or unset to generate one)".into())
    }
}

fn log_format(value: &str) -> Result<bool, String> {
    match value.trim() {
        "text" => Ok(false),
        "json" => Ok(true),
        _ => Err("must be text or json".into()),
    }
}

fn whole_number(value: &str) -> Result<usize, String> {
    value
        .trim()
        .parse()
        .map_err(|_| "must be a whole number".into())
}

fn at_least_one(value: &str) -> Result<usize, String> {
    match whole_number(value)? {
        0 => Err("must be at least 1".into()),
        n => Ok(n),
    }
}

fn seconds(value: &str) -> Result<Duration, String> {
    Ok(Duration::from_secs(whole_number(value)? as u64))
}

fn days(value: &str) -> Result<Duration, String> {
    Ok(Duration::from_secs(at_least_one(value)? as u64 * 24 * 3600))
}

fn at_least_one_second(value: &str) -> Result<Duration, String> {
    Ok(Duration::from_secs(at_least_one(value)? as u64))
}

/// Comma-separated pauses, each a whole number and a unit: `500ms`, `10s`, `5m`, `2h`, `1d`.
fn pauses(value: &str) -> Result<Pauses, String> {
    let bad = || "must be pauses such as 10s,1m,5m,30m,2h (units ms, s, m, h, d)".to_owned();
    value
        .split(',')
        .map(str::trim)
        .filter(|pause| !pause.is_empty())
        .map(|pause| {
            let digits = pause.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            let amount: u64 = pause[..digits].parse().map_err(|_| bad())?;
            let millis = match &pause[digits..] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return Err(bad()),
            };
            amount
                .checked_mul(millis)
                .map(Duration::from_millis)
                .ok_or_else(bad)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Pauses)
}

fn switch(value: &str) -> Result<bool, String> {
    match value.trim() {
        "on" | "1" => Ok(true),
        "off" | "0" => Ok(false),
        _ => Err("must be on or off".into()),
    }
}

fn manifest(value: &str) -> Result<Manifest, String> {
    let path = value.trim();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("must name a readable file ({path}: {e})"))?;
    crate::graphql::persisted::read_manifest(&text)
        .map(Manifest)
        .map_err(|e| format!("must be a persisted query manifest: {path} {e}"))
}

fn origins(value: &str) -> Result<Origins, String> {
    let origins: Vec<String> = value
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_lowercase())
        .filter(|o| !o.is_empty())
        .collect();
    match origins
        .iter()
        .find(|o| !(o.starts_with("https://") || o.starts_with("http://")))
    {
        Some(bad) => Err(format!(
            "must list origins such as https://example.org ({bad:?} is not one)"
        )),
        None => Ok(Origins(origins)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        Settings::from_lookup(|name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn nothing_set_means_the_defaults() {
        let settings = read(&[]).expect("defaults");
        assert_eq!(settings.database, Database::Sqlite("samverkan.db".into()));
        assert_eq!(settings.listen.to_string(), "127.0.0.1:8000");
        assert_eq!(settings.seed, Seed::Demo);
        assert_eq!(settings.jwt_secret, None);
        assert_eq!(settings.sqlite_mmap_mib, 0);
        assert!(!settings.json_logs);
        let defaults = HttpSettings::default();
        let http = settings.http;
        assert_eq!(http.limits, defaults.limits);
        assert_eq!(http.cors_origins, defaults.cors_origins);
        assert_eq!(
            (http.introspection, http.graphiql, http.schema_sdl),
            (
                defaults.introspection,
                defaults.graphiql,
                defaults.schema_sdl
            )
        );
        assert_eq!(http.request_timeout, defaults.request_timeout);
        assert_eq!(http.metrics_token, None);
        assert_eq!(http.shutdown_grace, defaults.shutdown_grace);
        assert_eq!(http.max_connections, 1024);
        assert_eq!(http.max_connections_per_address, 64);
        assert_eq!(http.read_timeout, Duration::from_secs(10));
        assert_eq!(http.webhooks, crate::webhook::Settings::default());
    }

    #[test]
    fn empty_or_blank_means_unset_and_values_are_trimmed() {
        let settings = read(&[
            ("DATABASE_URL", "  "),
            ("SAMVERKAN_MAX_DEPTH", ""),
            ("SAMVERKAN_MAX_COST", " 99 "),
            ("SAMVERKAN_GRAPHIQL", " off "),
            ("SAMVERKAN_METRICS_TOKEN", " "),
        ])
        .expect("valid");
        assert_eq!(settings.database, Database::Sqlite("samverkan.db".into()));
        assert_eq!(settings.http.limits.max_depth, Limits::default().max_depth);
        assert_eq!(settings.http.limits.max_cost, 99);
        assert!(!settings.http.graphiql);
        assert_eq!(settings.http.metrics_token, None);
    }

    #[test]
    fn every_setting_is_read() {
        let secret = "s".repeat(32);
        let settings = read(&[
            ("DATABASE_URL", "postgres://db/samverkan"),
            ("SAMVERKAN_LISTEN", "0.0.0.0:9000"),
            ("SAMVERKAN_SQLITE_MMAP_MIB", "256"),
            ("SAMVERKAN_SEED", "none"),
            ("SAMVERKAN_JWT_SECRET", &secret),
            ("SAMVERKAN_LOG_FORMAT", "json"),
            ("SAMVERKAN_MAX_BODY_BYTES", "10"),
            ("SAMVERKAN_MAX_DEPTH", "11"),
            ("SAMVERKAN_MAX_COST", "12"),
            ("SAMVERKAN_RATE_LIMIT", "0"),
            ("SAMVERKAN_MAX_COST_IN_FLIGHT", "14"),
            (
                "SAMVERKAN_CORS_ORIGINS",
                "https://A.example/, http://b.example",
            ),
            ("SAMVERKAN_INTROSPECTION", "off"),
            ("SAMVERKAN_GRAPHIQL", "on"),
            ("SAMVERKAN_REQUEST_TIMEOUT_SECS", "15"),
            ("SAMVERKAN_METRICS_TOKEN", "m"),
            ("SAMVERKAN_SHUTDOWN_GRACE_SECS", "0"),
            ("SAMVERKAN_MAX_CONNECTIONS", "16"),
            ("SAMVERKAN_MAX_CONNECTIONS_PER_ADDRESS", "4"),
            ("SAMVERKAN_READ_TIMEOUT_SECS", "3"),
            ("SAMVERKAN_WEBHOOK_DELIVERY", "off"),
            ("SAMVERKAN_WEBHOOK_ALLOW_PRIVATE", "1"),
            ("SAMVERKAN_WEBHOOK_RETRIES", "250ms, 2s,1m,1h,1d"),
            ("SAMVERKAN_WEBHOOK_TIMEOUT_SECS", "2"),
            ("SAMVERKAN_WEBHOOK_KEEP_DAYS", "7"),
        ])
        .expect("valid");
        assert_eq!(settings.database.url(), "postgres://db/samverkan");
        assert_eq!(settings.listen.port(), 9000);
        assert_eq!(settings.sqlite_mmap_mib, 256);
        assert_eq!(settings.seed, Seed::None);
        assert_eq!(settings.jwt_secret, Some(secret.into_bytes()));
        assert!(settings.json_logs);
        let http = settings.http;
        let limits = &http.limits;
        assert_eq!(
            (limits.max_body_bytes, limits.max_depth, limits.max_cost),
            (10, 11, 12)
        );
        assert_eq!(
            (limits.budget_per_minute, limits.max_cost_in_flight),
            (0, 14)
        );
        assert_eq!(
            http.cors_origins,
            vec![
                "https://a.example".to_owned(),
                "http://b.example".to_owned()
            ]
        );
        assert!(!http.introspection && http.graphiql);
        assert_eq!(http.request_timeout, Duration::from_secs(15));
        assert_eq!(http.metrics_token.as_deref(), Some("m"));
        assert_eq!(http.shutdown_grace, Duration::ZERO);
        assert_eq!(http.max_connections, 16);
        assert_eq!(http.max_connections_per_address, 4);
        assert_eq!(http.read_timeout, Duration::from_secs(3));
        assert_eq!(
            http.webhooks,
            crate::webhook::Settings {
                deliver: false,
                allow_private: true,
                retries: [250, 2_000, 60_000, 3_600_000, 86_400_000]
                    .map(Duration::from_millis)
                    .to_vec(),
                timeout: Duration::from_secs(2),
                keep: Duration::from_secs(7 * 24 * 3600),
            }
        );
    }

    #[test]
    fn a_bad_value_is_one_line_naming_the_variable_and_the_value() {
        for (name, value, expected) in [
            (
                "DATABASE_URL",
                "mysql://x",
                "DATABASE_URL must start with sqlite: or postgres:// (unset means ./samverkan.db), not \"mysql://x\"",
            ),
            (
                "SAMVERKAN_LISTEN",
                "localhost",
                "SAMVERKAN_LISTEN must be an address and port such as 127.0.0.1:8000, not \"localhost\"",
            ),
            (
                "SAMVERKAN_SEED",
                "lots",
                "SAMVERKAN_SEED must be demo or none, not \"lots\"",
            ),
            (
                "SAMVERKAN_LOG_FORMAT",
                "xml",
                "SAMVERKAN_LOG_FORMAT must be text or json, not \"xml\"",
            ),
            (
                "SAMVERKAN_WEBHOOK_RETRIES",
                "10s,soon",
                "SAMVERKAN_WEBHOOK_RETRIES must be pauses such as 10s,1m,5m,30m,2h (units ms, s, m, h, d), not \"10s,soon\"",
            ),
            (
                "SAMVERKAN_MAX_BODY_BYTES",
                "1 MB",
                "SAMVERKAN_MAX_BODY_BYTES must be a whole number, not \"1 MB\"",
            ),
            (
                "SAMVERKAN_MAX_DEPTH",
                "-1",
                "SAMVERKAN_MAX_DEPTH must be a whole number, not \"-1\"",
            ),
            (
                "SAMVERKAN_MAX_COST",
                "1e6",
                "SAMVERKAN_MAX_COST must be a whole number, not \"1e6\"",
            ),
            (
                "SAMVERKAN_RATE_LIMIT",
                "lots",
                "SAMVERKAN_RATE_LIMIT must be a whole number, not \"lots\"",
            ),
            (
                "SAMVERKAN_MAX_COST_IN_FLIGHT",
                "0",
                "SAMVERKAN_MAX_COST_IN_FLIGHT must be at least 1, not \"0\"",
            ),
            (
                "SAMVERKAN_CORS_ORIGINS",
                "https://ok.example, partner.example",
                "SAMVERKAN_CORS_ORIGINS must list origins such as https://example.org (\"partner.example\" is not one), not \"https://ok.example, partner.example\"",
            ),
            (
                "SAMVERKAN_INTROSPECTION",
                "yes",
                "SAMVERKAN_INTROSPECTION must be on or off, not \"yes\"",
            ),
            (
                "SAMVERKAN_GRAPHIQL",
                "true",
                "SAMVERKAN_GRAPHIQL must be on or off, not \"true\"",
            ),
            (
                "SAMVERKAN_REQUEST_TIMEOUT_SECS",
                "30s",
                "SAMVERKAN_REQUEST_TIMEOUT_SECS must be a whole number, not \"30s\"",
            ),
            (
                "SAMVERKAN_SHUTDOWN_GRACE_SECS",
                "1.5",
                "SAMVERKAN_SHUTDOWN_GRACE_SECS must be a whole number, not \"1.5\"",
            ),
            (
                "SAMVERKAN_MAX_CONNECTIONS",
                "0",
                "SAMVERKAN_MAX_CONNECTIONS must be at least 1, not \"0\"",
            ),
            (
                "SAMVERKAN_READ_TIMEOUT_SECS",
                "0",
                "SAMVERKAN_READ_TIMEOUT_SECS must be at least 1, not \"0\"",
            ),
        ] {
            assert_eq!(
                read(&[(name, value)]).err().as_deref(),
                Some(expected),
                "{name}"
            );
        }
    }

    #[test]
    fn a_bad_secret_is_named_but_not_repeated() {
        let message = read(&[("SAMVERKAN_JWT_SECRET", "hunter2")]).expect_err("too short");
        assert_eq!(
            message,
            "SAMVERKAN_JWT_SECRET must be at least 32 bytes (or unset to generate one)"
        );
    }

    #[test]
    fn values_that_look_like_flags_are_values() {
        let message = read(&[("SAMVERKAN_SEED", "--help")]).expect_err("not a seed");
        assert_eq!(
            message,
            "SAMVERKAN_SEED must be demo or none, not \"--help\""
        );
    }
}
