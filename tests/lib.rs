//! Test support: a fresh database per test (SQLite in a temporary directory, or, when
//! `TEST_DATABASE_URL` is a PostgreSQL URL, a database of its own on that server, dropped
//! afterwards), the real router served on a loopback port, and a GraphQL client.
#![forbid(unsafe_code)]

use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A running server over its own database.
pub struct TestApp {
    /// Base URL, such as `http://127.0.0.1:40123`.
    pub url: String,
    /// HTTP client.
    pub client: reqwest::Client,
    /// The server's database, for setting up and inspecting state.
    pub db: DatabaseConnection,
    /// The URL of this test's database, for a second server process on the same data.
    pub database_url: String,
    /// Turn to `false` to make `/readyz` answer 503, as at shutdown.
    pub ready: Arc<std::sync::atomic::AtomicBool>,
    /// The access token of the admin the helpers act as.
    pub admin_token: String,
    /// The keys the server signs access tokens with.
    keys: samverkan::auth::jwt::Keys,
    statements: Arc<AtomicUsize>,
    log: Arc<std::sync::Mutex<Vec<String>>>,
    _database: TestDatabase,
}

/// Who sends a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// No credentials.
    Anonymous,
    /// A user's access token, as `Authorization: Bearer`.
    User(String),
    /// A partner token, as `X-Api-Key`.
    Partner(String),
    /// Any headers, for malformed credentials.
    Headers(Vec<(String, String)>),
}

impl Caller {
    /// Adds this caller's credentials to `request`.
    pub fn apply(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self {
            Self::Anonymous => request,
            Self::User(token) => request.header("authorization", format!("Bearer {token}")),
            Self::Partner(token) => request.header("x-api-key", token),
            Self::Headers(headers) => headers.iter().fold(request, |r, (k, v)| r.header(k, v)),
        }
    }
}

/// The sign-in mutation.
pub const LOGIN: &str = "mutation($email: String!, $password: String!) { login(input: { email: $email, password: $password }) { accessToken refreshToken expiresAt user { id email } } }";

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";

enum TestDatabase {
    Sqlite(
        #[expect(dead_code, reason = "kept so the directory lives as long as the test")]
        tempfile::TempDir,
    ),
    Postgres {
        admin_url: String,
        name: String,
    },
    /// The test's own, which it cleans up itself.
    Given,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Self::Postgres { admin_url, name } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime: drop the database from a thread of its own.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .ok()?;
                runtime.block_on(async {
                    let admin = sea_orm::Database::connect(&admin_url).await.ok()?;
                    admin
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await
                        .ok()
                })
            })
            .join();
        }
    }
}

/// A new, empty database for one test: in a temporary directory, or on the PostgreSQL
/// server `TEST_DATABASE_URL` names.
async fn fresh_database() -> (samverkan::config::Database, TestDatabase) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            let name = format!("samverkan_test_{}", uuid::Uuid::new_v4().simple());
            let admin = sea_orm::Database::connect(&url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let db_url = with_database(&url, &name);
            (
                samverkan::config::Database::Postgres(db_url),
                TestDatabase::Postgres {
                    admin_url: url,
                    name,
                },
            )
        }
        _ => {
            let dir = tempfile::tempdir().expect("temporary directory");
            let path = dir.path().join("samverkan.db");
            (
                samverkan::config::Database::Sqlite(path.display().to_string()),
                TestDatabase::Sqlite(dir),
            )
        }
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = base.trim_end_matches('/');
    let server = match base.rfind('/') {
        Some(slash) if base[..slash].ends_with('/') => base, // postgres://host with no database
        Some(slash) => &base[..slash],
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// Whether the suite runs against PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

impl TestApp {
    /// Starts a server over a fresh, migrated, empty database.
    pub async fn start() -> Self {
        Self::start_with(samverkan::config::HttpSettings::default(), None).await
    }

    /// Starts a server with the given HTTP settings and, optionally, one more schema extension.
    pub async fn start_with(
        settings: samverkan::config::HttpSettings,
        extension: Option<Arc<dyn async_graphql::extensions::ExtensionFactory>>,
    ) -> Self {
        let (database, guard) = fresh_database().await;
        Self::start_over(database, guard, settings, extension).await
    }

    /// Starts a server over a database the test made (such as an SQLite file on a small
    /// file system of its own), with default settings.
    pub async fn start_on(database: samverkan::config::Database) -> Self {
        Self::start_over(
            database,
            TestDatabase::Given,
            samverkan::config::HttpSettings::default(),
            None,
        )
        .await
    }

    async fn start_over(
        database: samverkan::config::Database,
        guard: TestDatabase,
        settings: samverkan::config::HttpSettings,
        extension: Option<Arc<dyn async_graphql::extensions::ExtensionFactory>>,
    ) -> Self {
        // Server errors (logged with their request id) show in the output of a failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "error".into()),
            )
            .with_test_writer()
            .try_init();
        let database_url = database.url();
        let mut db = samverkan::db::connect(&database)
            .await
            .expect("connect to the test database");
        samverkan::db::migrate(&db).await.expect("migrate");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = log.clone();
        samverkan::db::observe(&mut db, move |info| {
            counter.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut log) = sink.lock() {
                log.push(info.statement.sql.clone());
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let secret = samverkan::auth::secrets::signing_secret(&db, None)
            .await
            .map_err(|e| e.message())
            .expect("signing secret");
        let keys = samverkan::auth::jwt::Keys::new(&secret);
        let app =
            samverkan::http::App::with_extension(db.clone(), keys.clone(), settings, extension);
        let ready = app.ready.clone();
        tokio::spawn(app.serve(listener, std::future::pending()));
        let mut app = Self {
            url,
            client: reqwest::Client::new(),
            db,
            database_url,
            ready,
            admin_token: String::new(),
            keys,
            statements,
            log,
            _database: guard,
        };
        app.create_user("admin@samverkan.example", true).await;
        app.admin_token = app.token_for("admin@samverkan.example").await;
        app
    }

    /// Starts a server over a fresh database holding the demo network.
    pub async fn with_demo() -> Self {
        let app = Self::start().await;
        samverkan::seed::demo(&app.db)
            .await
            .map_err(|e| e.message())
            .expect("seed the demo network");
        app
    }

    /// POSTs a GraphQL request as the admin and returns the whole JSON response.
    pub async fn post(&self, query: &str, variables: Value) -> Value {
        self.post_as(&Caller::User(self.admin_token.clone()), query, variables)
            .await
            .1
    }

    /// POSTs a GraphQL request as `caller`; returns the HTTP status and the JSON response.
    pub async fn post_as(&self, caller: &Caller, query: &str, variables: Value) -> (u16, Value) {
        let request = self
            .client
            .post(format!("{}/graphql", self.url))
            .json(&json!({ "query": query, "variables": variables }));
        let response = caller.apply(request).send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON response"))
    }

    /// Creates a user with [`PASSWORD`] directly (as the operator would) and returns its global id.
    pub async fn create_user(&self, email: &str, admin: bool) -> String {
        let input = samverkan::account::users::NewUser {
            email: email.into(),
            name: email.into(),
            password: PASSWORD.into(),
            admin,
        };
        let user = samverkan::account::users::create(
            &self.db,
            &samverkan::auth::Principal::system(),
            input,
        )
        .await
        .map_err(|e| e.message())
        .expect("create user");
        samverkan::graphql::ids::encode(samverkan::graphql::ids::NodeType::User, user.id).0
    }

    /// An access token for a user, from a session opened without the password check: as
    /// [`TestApp::login`] does after it, without spending an Argon2 verification.
    pub async fn token_for(&self, email: &str) -> String {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let user = entity::user::Entity::find()
            .filter(entity::user::Column::Email.eq(email.to_lowercase()))
            .one(&self.db)
            .await
            .expect("look up the user")
            .expect("the user exists");
        samverkan::account::session::open(&self.db, &self.keys, user)
            .await
            .map_err(|e| e.message())
            .expect("open a session")
            .access_token
    }

    /// Signs in with [`PASSWORD`] through the `login` mutation and returns the access token.
    pub async fn login(&self, email: &str) -> String {
        let (_, body) = self
            .post_as(
                &Caller::Anonymous,
                LOGIN,
                json!({ "email": email, "password": PASSWORD }),
            )
            .await;
        body["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_owned()
    }

    /// Creates a partner token as the admin and returns its secret.
    pub async fn partner_token(&self, name: &str, scope: &str, origins: &[&str]) -> String {
        let data = self
            .ok(
                "mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) { token } }",
                json!({ "input": { "name": name, "scope": scope, "allowedOrigins": origins } }),
            )
            .await;
        data["createApiToken"]["token"]
            .as_str()
            .expect("token")
            .to_owned()
    }

    /// Runs a GraphQL operation that must succeed and returns its `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let response = self.post(query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }

    /// Runs a GraphQL operation that must fail and returns its first error.
    pub async fn err(&self, query: &str, variables: Value) -> Value {
        let response = self.post(query, variables).await;
        response["errors"][0].clone()
    }

    /// Runs `f` and returns how many SQL statements the server ran meanwhile.
    pub async fn count_statements<F: std::future::Future>(&self, f: F) -> (F::Output, usize) {
        let before = self.statements.load(Ordering::SeqCst);
        if let Ok(mut log) = self.log.lock() {
            log.clear();
        }
        let output = f.await;
        (output, self.statements.load(Ordering::SeqCst) - before)
    }

    /// The text of each statement run since the last [`TestApp::count_statements`] began.
    pub fn statement_log(&self) -> Vec<String> {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }
}

/// Asserts an error's `extensions.code` (and `extensions.field`, when given).
pub fn assert_code(error: &Value, code: &str, field: Option<&str>) {
    assert_eq!(error["extensions"]["code"], code, "error: {error:#}");
    if let Some(field) = field {
        assert_eq!(error["extensions"]["field"], field, "error: {error:#}");
    }
}

/// Quick ways to set up records through the API itself.
impl TestApp {
    /// Creates an organisation and returns its global id.
    pub async fn organisation(&self, slug: &str, name: &str) -> String {
        let data = self
            .ok(
                "mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) { id } }",
                json!({ "input": { "slug": slug, "name": name, "kind": "ASSOCIATION", "city": "Stockholm" } }),
            )
            .await;
        data["createOrganisation"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Creates an authority (optionally under a parent) and returns its global id.
    pub async fn authority(&self, slug: &str, name: &str, parent: Option<&str>) -> String {
        let data = self
            .ok(
                "mutation($input: CreateAuthorityInput!) { createAuthority(input: $input) { id } }",
                json!({ "input": { "slug": slug, "name": name, "level": "NATIONAL", "kind": "AGENCY", "parentId": parent } }),
            )
            .await;
        data["createAuthority"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Records a dialogue and returns its global id.
    pub async fn dialogue(
        &self,
        title: &str,
        held_on: &str,
        organisations: &[&str],
        authorities: &[&str],
        visibility: &str,
    ) -> String {
        let data = self
            .ok(
                "mutation($input: CreateDialogueInput!) { createDialogue(input: $input) { id } }",
                json!({ "input": {
                    "title": title, "kind": "MEETING", "status": "HELD", "heldOn": held_on,
                    "summary": format!("About {title}"), "visibility": visibility,
                    "organisationIds": organisations, "authorityIds": authorities } }),
            )
            .await;
        data["createDialogue"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// Drafts a proposal and returns its global id.
    pub async fn proposal(&self, title: &str, lead: &str, visibility: &str) -> String {
        let data = self
            .ok(
                "mutation($input: CreateProposalInput!) { createProposal(input: $input) { id } }",
                json!({ "input": { "title": title, "summary": "Summary", "body": "Body", "visibility": visibility, "leadOrganisationId": lead } }),
            )
            .await;
        data["createProposal"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }
}

/// A server in a process of its own (this test binary, re-run as [`child_server`]), for
/// tests that kill or signal it.
pub struct ChildServer {
    /// The process.
    pub process: std::process::Child,
    /// Base URL.
    pub url: String,
}

/// The environment variable that turns a run of the test binary into a server.
pub const CHILD_ENV: &str = "SAMVERKAN_TEST_CHILD";

impl ChildServer {
    /// Starts `samverkan serve` on `database_url` in a new process and waits until it answers.
    pub async fn spawn(database_url: &str, env: &[(&str, &str)]) -> Self {
        samverkan::webhook::install_tls();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("address")
            .port();
        let mut command = std::process::Command::new(std::env::current_exe().expect("test binary"));
        command
            .args([
                "--exact",
                "durability::child_server",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, "1")
            .env("DATABASE_URL", database_url)
            .env("SAMVERKAN_LISTEN", format!("127.0.0.1:{port}"))
            .env("SAMVERKAN_SEED", "none")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        // Held by the guard at once, so the process is reaped on every path.
        let server = Self {
            process: command.spawn().expect("spawn the server process"),
            url: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if client
                .get(format!("{}/healthz", server.url))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return server;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the server process did not start");
    }

    /// Sends a signal by name (`KILL`, `TERM`).
    pub fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.process.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit, failing the test after `limit`.
    pub async fn exit_status(&mut self, limit: std::time::Duration) -> std::process::ExitStatus {
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = self.process.try_wait().expect("wait") {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "the server exits within {limit:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}
