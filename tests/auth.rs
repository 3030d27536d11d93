//! Sign-in, access tokens, refresh tokens, partner tokens, password storage and sign-in
//! throttling.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use samverkan_tests::{Caller, LOGIN, PASSWORD, TestApp, assert_code};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

const VIEWER: &str = "{ viewer { kind user { email } token { name scope } memberships { role organisation { slug } } } }";

async fn signing_secret(app: &TestApp) -> Vec<u8> {
    samverkan::auth::secrets::signing_secret(&app.db, None)
        .await
        .map_err(|e| e.message())
        .expect("secret")
}

/// The claims of a valid access token for the admin, to tamper with.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json")
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
    )
    .expect("sign")
}

async fn refused(app: &TestApp, caller: Caller) {
    let (status, body) = app.post_as(&caller, VIEWER, json!({})).await;
    assert_eq!(status, 401, "{caller:?}: {body}");
    assert_code(&body["errors"][0], "UNAUTHENTICATED", None);
    assert!(
        body.get("data").is_none_or(Value::is_null),
        "nothing ran: {body}"
    );
}

#[tokio::test]
async fn forged_expired_and_misplaced_tokens_are_unauthenticated() {
    let app = TestApp::start().await;
    let secret = signing_secret(&app).await;
    let good = app.admin_token.clone();
    let (status, body) = app
        .post_as(&Caller::User(good.clone()), VIEWER, json!({}))
        .await;
    assert_eq!(
        (status, body["data"]["viewer"]["kind"].as_str()),
        (200, Some("USER"))
    );
    let claims = claims_of(&good);

    let mut tampered = good.clone();
    tampered.pop();
    tampered.push(if good.ends_with('A') { 'B' } else { 'A' });
    let with = |key: &str, value: Value| {
        let mut c = claims.clone();
        c[key] = value;
        c
    };
    let now = chrono::Utc::now().timestamp();
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none_token = format!(
        "{none_header}.{}.",
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let partner = app.partner_token("site", "READ_NETWORK", &[]).await;
    let cases = vec![
        ("tampered signature", tampered),
        ("expired", sign(&with("exp", json!(now - 120)), &secret)),
        (
            "exp as a string",
            sign(&with("exp", json!((now + 600).to_string())), &secret),
        ),
        (
            "wrong issuer",
            sign(&with("iss", json!("someone-else")), &secret),
        ),
        (
            "wrong audience",
            sign(&with("aud", json!("another-api")), &secret),
        ),
        (
            "no subject",
            sign(
                &{
                    let mut c = claims.clone();
                    c.as_object_mut().expect("object").remove("sub");
                    c
                },
                &secret,
            ),
        ),
        (
            "wrong token type",
            sign(&with("typ", json!("refresh")), &secret),
        ),
        ("alg none", none_token),
        (
            "HS256 with another key",
            sign(&claims, b"another key that is at least thirty-two bytes"),
        ),
        ("a partner token as a JWT", partner.clone()),
        ("garbage", "not.a.jwt".to_owned()),
    ];
    for (name, token) in cases {
        let (status, body) = app.post_as(&Caller::User(token), VIEWER, json!({})).await;
        assert_eq!(status, 401, "{name}: {body}");
        assert_code(&body["errors"][0], "UNAUTHENTICATED", None);
    }
    refused(&app, Caller::Partner(good.clone())).await;
    refused(
        &app,
        Caller::Headers(vec![("authorization".into(), good.clone())]),
    )
    .await;
    refused(
        &app,
        Caller::Headers(vec![
            ("authorization".into(), format!("Bearer {good}")),
            ("x-api-key".into(), partner),
        ]),
    )
    .await;
}

#[tokio::test]
async fn login_refresh_rotation_and_reuse() {
    let app = TestApp::start().await;
    app.create_user("Editor@Example.org", false).await;
    let (_, body) = app
        .post_as(
            &Caller::Anonymous,
            LOGIN,
            json!({ "email": "EDITOR@example.org", "password": PASSWORD }),
        )
        .await;
    let login = body["data"]["login"].clone();
    assert_eq!(
        login["user"]["email"], "editor@example.org",
        "emails are case-insensitive: {body}"
    );
    let first_refresh = login["refreshToken"].as_str().expect("refresh").to_owned();
    assert!(first_refresh.starts_with("svk_rt_"));

    let refresh = "mutation($t: String!) { refreshSession(input: { refreshToken: $t }) { accessToken refreshToken } }";
    let (_, body) = app
        .post_as(&Caller::Anonymous, refresh, json!({ "t": first_refresh }))
        .await;
    let second = body["data"]["refreshSession"].clone();
    let second_refresh = second["refreshToken"].as_str().expect("rotated").to_owned();
    let second_access = second["accessToken"].as_str().expect("access").to_owned();
    assert_ne!(second_refresh, first_refresh);
    let (status, _) = app
        .post_as(&Caller::User(second_access.clone()), VIEWER, json!({}))
        .await;
    assert_eq!(status, 200);

    // Presenting the first refresh token again ends the whole session.
    let (_, body) = app
        .post_as(&Caller::Anonymous, refresh, json!({ "t": first_refresh }))
        .await;
    assert_code(&body["errors"][0], "UNAUTHENTICATED", None);
    let (_, body) = app
        .post_as(&Caller::Anonymous, refresh, json!({ "t": second_refresh }))
        .await;
    assert_code(&body["errors"][0], "UNAUTHENTICATED", None);
    refused(&app, Caller::User(second_access)).await;
}

#[tokio::test]
async fn logout_deactivation_and_role_changes_apply_on_the_next_request() {
    let app = TestApp::start().await;
    let org = app.organisation("org-a", "A").await;
    let user = app.create_user("editor@example.org", false).await;
    let grant = "mutation($u: ID!, $o: ID!) { grantMembership(input: { userId: $u, organisationId: $o, role: EDITOR }) { role } }";
    app.ok(grant, json!({ "u": user, "o": org })).await;
    let token = app.login("editor@example.org").await;
    let caller = Caller::User(token.clone());
    let create = "mutation($a: ID!) { createDialogue(input: { title: \"T\", kind: CALL, status: HELD, heldOn: \"2021-02-02\", summary: \"S\", organisationIds: [$a] }) { id } }";
    assert!(
        app.post_as(&caller, create, json!({ "a": org }))
            .await
            .1
            .get("errors")
            .is_none()
    );

    app.ok("mutation($u: ID!, $o: ID!) { revokeMembership(input: { userId: $u, organisationId: $o }) { role } }", json!({ "u": user, "o": org }))
        .await;
    assert_code(
        &app.post_as(&caller, create, json!({ "a": org })).await.1["errors"][0],
        "FORBIDDEN",
        None,
    );

    app.ok(
        "mutation($u: ID!) { setAdmin(input: { id: $u, admin: true }) { admin } }",
        json!({ "u": user }),
    )
    .await;
    let (_, body) = app
        .post_as(&caller, "{ users { totalCount } }", json!({}))
        .await;
    assert!(body.get("errors").is_none(), "admin at once: {body}");
    app.ok(
        "mutation($u: ID!) { setAdmin(input: { id: $u, admin: false }) { admin } }",
        json!({ "u": user }),
    )
    .await;
    assert_code(
        &app.post_as(&caller, "{ users { totalCount } }", json!({}))
            .await
            .1["errors"][0],
        "FORBIDDEN",
        None,
    );

    app.ok(
        "mutation($u: ID!) { deactivateUser(input: { id: $u }) { active } }",
        json!({ "u": user }),
    )
    .await;
    refused(&app, caller.clone()).await;
    let (_, body) = app
        .post_as(
            &Caller::Anonymous,
            LOGIN,
            json!({ "email": "editor@example.org", "password": PASSWORD }),
        )
        .await;
    assert_code(&body["errors"][0], "UNAUTHENTICATED", None);
    app.ok(
        "mutation($u: ID!) { reactivateUser(input: { id: $u }) { active } }",
        json!({ "u": user }),
    )
    .await;

    let again = Caller::User(app.login("editor@example.org").await);
    let (_, body) = app.post_as(&again, "mutation { logout }", json!({})).await;
    assert_eq!(body["data"]["logout"], true);
    refused(&app, again).await;
}

#[tokio::test]
async fn partner_tokens_read_only_revocable_and_bound_to_origins() {
    let app = TestApp::start().await;
    let created = app
        .ok(
            "mutation { createApiToken(input: { name: \"Partner site\", scope: READ_NETWORK, allowedOrigins: [\"https://partner.example.org/\"] }) { token apiToken { id name prefix scope allowedOrigins lastUsedAt revokedAt } } }",
            json!({}),
        )
        .await["createApiToken"]
        .clone();
    let secret = created["token"].as_str().expect("secret").to_owned();
    assert!(
        secret.starts_with("svk_pt_") && secret.len() >= 7 + 43,
        "prefix and 32 random bytes: {secret}"
    );
    assert!(secret.starts_with(created["apiToken"]["prefix"].as_str().expect("prefix")));
    assert_eq!(
        created["apiToken"]["allowedOrigins"],
        json!(["https://partner.example.org"])
    );
    let caller = Caller::Partner(secret.clone());

    let (_, body) = app.post_as(&caller, VIEWER, json!({})).await;
    assert_eq!(
        body["data"]["viewer"],
        json!({ "kind": "PARTNER_TOKEN", "user": null, "token": { "name": "Partner site", "scope": "READ_NETWORK" }, "memberships": [] })
    );
    let (_, body) = app.post_as(&caller, "mutation { createOrganisation(input: { slug: \"x-x\", name: \"X\", kind: OTHER }) { id } }", json!({})).await;
    assert_code(&body["errors"][0], "FORBIDDEN", None);

    let from = |origin: &str| {
        Caller::Headers(vec![
            ("x-api-key".into(), secret.clone()),
            ("origin".into(), origin.into()),
        ])
    };
    let (status, _) = app
        .post_as(&from("https://partner.example.org"), VIEWER, json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, body) = app
        .post_as(&from("https://evil.example.com"), VIEWER, json!({}))
        .await;
    assert_eq!(status, 403);
    assert_code(&body["errors"][0], "FORBIDDEN", None);

    let listed = app
        .ok(
            "{ apiTokens { totalCount nodes { name prefix lastUsedAt } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["apiTokens"]["totalCount"], 1);
    assert!(
        !listed["apiTokens"]["nodes"][0]["lastUsedAt"].is_null(),
        "use is recorded"
    );
    assert!(
        !listed.to_string().contains(&secret),
        "the secret is never shown again"
    );

    app.ok(
        "mutation($id: ID!) { revokeApiToken(input: { id: $id }) { revokedAt } }",
        json!({ "id": created["apiToken"]["id"] }),
    )
    .await;
    refused(&app, caller).await;
    let error = app.err("mutation { createApiToken(input: { name: \"x\", scope: READ_PUBLIC, allowedOrigins: [\"partner.example.org/path\"] }) { token } }", json!({})).await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.allowedOrigins"));
    let error = app.err("mutation { createApiToken(input: { name: \"x\", scope: READ_PUBLIC, expiresAt: \"2001-01-01T00:00:00Z\" }) { token } }", json!({})).await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.expiresAt"));
}

#[tokio::test]
async fn an_expired_partner_token_stops_working() {
    let app = TestApp::start().await;
    let secret = app.partner_token("short-lived", "READ_PUBLIC", &[]).await;
    assert_eq!(
        app.post_as(&Caller::Partner(secret.clone()), VIEWER, json!({}))
            .await
            .0,
        200
    );
    app.db
        .execute_unprepared("UPDATE api_tokens SET expires_at = created_at")
        .await
        .expect("expire");
    refused(&app, Caller::Partner(secret)).await;
}

#[tokio::test]
async fn no_secret_is_stored_in_clear_and_hashes_are_argon2id() {
    let app = TestApp::start().await;
    let user = app.create_user("member@example.org", false).await;
    let (_, body) = app
        .post_as(
            &Caller::Anonymous,
            LOGIN,
            json!({ "email": "member@example.org", "password": PASSWORD }),
        )
        .await;
    let refresh = body["data"]["login"]["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let partner = app.partner_token("site", "READ_PUBLIC", &[]).await;
    let error = app.err("mutation { createUser(input: { email: \"short@example.org\", name: \"S\", password: \"elevenchars\" }) { id } }", json!({})).await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.password"));
    let _ = user;

    let backend = app.db.get_database_backend();
    let hashes = app
        .db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT password_hash FROM users",
        ))
        .await
        .expect("hashes");
    for row in hashes {
        let hash: String = row.try_get("", "password_hash").expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
    }
    let mut everything = String::new();
    for table in [
        "users",
        "sessions",
        "refresh_tokens",
        "api_tokens",
        "audit_entries",
        "settings",
        "login_failures",
    ] {
        let rows = app
            .db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT * FROM {table}"),
            ))
            .await
            .expect("rows");
        for row in rows {
            for column in row.column_names() {
                if let Ok(Some(text)) = row.try_get::<Option<String>>("", &column) {
                    everything.push_str(&text);
                    everything.push('\n');
                }
            }
        }
    }
    for secret in [PASSWORD, refresh.as_str(), partner.as_str()] {
        assert!(!everything.contains(secret), "a secret is stored in clear");
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_however_they_arrive() {
    let app = TestApp::start().await;
    app.create_user("target@example.org", false).await;
    let wrong = |email: &str| json!({ "email": email, "password": "wrong password, long enough" });
    let unknown = app
        .post_as(&Caller::Anonymous, LOGIN, wrong("nobody@example.org"))
        .await
        .1;
    let wrong_password = app
        .post_as(&Caller::Anonymous, LOGIN, wrong("target@example.org"))
        .await
        .1;
    assert_eq!(
        unknown["errors"][0]["message"], wrong_password["errors"][0]["message"],
        "an unknown email looks like a wrong password"
    );
    assert_code(&unknown["errors"][0], "UNAUTHENTICATED", None);

    // Four more failures, one request each: a document may sign in only once.
    for i in 0..4 {
        let body = app
            .post_as(
                &Caller::Anonymous,
                LOGIN,
                json!({ "email": "target@example.org", "password": format!("wrong password {i}, long enough") }),
            )
            .await
            .1;
        assert_code(&body["errors"][0], "UNAUTHENTICATED", None);
    }
    let locked = app
        .post_as(
            &Caller::Anonymous,
            LOGIN,
            json!({ "email": "target@example.org", "password": PASSWORD }),
        )
        .await
        .1;
    assert_code(&locked["errors"][0], "RATE_LIMITED", None);
    let other = app.create_user("bystander@example.org", false).await;
    let _ = other;
    app.login("bystander@example.org").await;

    // Batching is off: a batch of guesses is refused as a whole, before anything runs.
    let batch: Vec<Value> = (0..8)
        .map(|_| json!({ "query": LOGIN, "variables": wrong("batch@example.org") }))
        .collect();
    let response = app
        .client
        .post(format!("{}/graphql", app.url))
        .json(&batch)
        .send()
        .await
        .expect("batch");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("a JSON error");
    assert!(body["errors"][0]["message"].is_string(), "{body}");
    let count = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM login_failures WHERE email = 'batch@example.org'",
        ))
        .await
        .expect("count");
    assert_eq!(
        count.map(|r| r.try_get::<i64>("", "n").expect("n")),
        Some(0),
        "no attempt was made"
    );
}

#[tokio::test]
async fn every_mutation_leaves_an_audit_entry() {
    let app = TestApp::start().await;
    let org = app.organisation("org-a", "A").await;
    let proposal = app.proposal("Förslag", &org, "PUBLIC").await;
    app.ok("mutation($id: ID!) { updateProposal(input: { id: $id, expectedVersion: 1, title: \"Nytt förslag\" }) { id } }", json!({ "id": proposal })).await;
    let failed = app.err("mutation($id: ID!) { updateProposal(input: { id: $id, expectedVersion: 1, title: \"Stale\" }) { id } }", json!({ "id": proposal })).await;
    assert_code(&failed, "CONFLICT", None);
    let log = app
        .ok(
            "query($id: ID!) { auditLog(filter: { recordId: $id }) { totalCount nodes { action principalKind user { email } recordType recordId changes at } } }",
            json!({ "id": proposal }),
        )
        .await;
    let entries = log["auditLog"]["nodes"].as_array().expect("entries");
    assert_eq!(
        log["auditLog"]["totalCount"], 2,
        "a refused change leaves no entry: {log}"
    );
    assert_eq!(entries[0]["action"], "updateProposal", "newest first");
    assert_eq!(entries[0]["principalKind"], "USER");
    assert_eq!(entries[0]["user"]["email"], "admin@samverkan.example");
    assert_eq!(entries[0]["recordId"], proposal.as_str());
    assert_eq!(entries[0]["changes"], json!({ "title": "Nytt förslag" }));
    assert_eq!(entries[1]["action"], "createProposal");
    let all = app
        .ok("{ auditLog(first: 100) { nodes { action } } }", json!({}))
        .await;
    let actions: Vec<&str> = all["auditLog"]["nodes"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "createOrganisation",
        "createProposal",
        "updateProposal",
        "login",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn the_audit_log_filtered_by_an_action_nobody_took_is_empty() {
    let app = TestApp::start().await;
    app.organisation("rsmh", "RSMH").await;
    let data = app
        .ok(
            "query($a: String!) { auditLog(filter: { action: $a }) { totalCount } }",
            json!({ "a": "createOrganisation" }),
        )
        .await;
    assert_eq!(data["auditLog"]["totalCount"], 1);
    let data = app
        .ok(
            "query($a: String!) { auditLog(filter: { action: $a }) { totalCount } }",
            json!({ "a": "noSuchAction" }),
        )
        .await;
    assert_eq!(data["auditLog"]["totalCount"], 0);
}

#[tokio::test]
async fn a_reactivated_user_starts_fresh_and_a_token_not_yet_valid_is_refused() {
    let app = TestApp::start().await;
    let user = app.create_user("member@example.org", false).await;
    let old = Caller::User(app.token_for("member@example.org").await);
    let switch = |on: bool| {
        let mutation = if on {
            "reactivateUser"
        } else {
            "deactivateUser"
        };
        format!("mutation($id: ID!) {{ {mutation}(input: {{ id: $id }}) {{ active }} }}")
    };
    app.ok(&switch(false), json!({ "id": user })).await;
    app.ok(&switch(true), json!({ "id": user })).await;
    refused(&app, old).await;
    assert!(
        !app.login("member@example.org").await.is_empty(),
        "a new sign-in works"
    );

    let mut claims = claims_of(&app.admin_token);
    claims["nbf"] = json!(chrono::Utc::now().timestamp() + 3600);
    let early = sign(&claims, &signing_secret(&app).await);
    refused(&app, Caller::User(early)).await;
}

#[tokio::test]
async fn a_request_signs_in_at_most_once() {
    let app = TestApp::start().await;
    app.create_user("member@example.org", false).await;
    let two = "mutation($e: String!, $p: String!) { a: login(input: { email: $e, password: $p }) { accessToken } b: login(input: { email: $e, password: $p }) { accessToken } }";
    let through_fragment = "mutation($e: String!, $p: String!) { ...Twice } fragment Twice on Mutation { a: login(input: { email: $e, password: $p }) { accessToken } refreshSession(input: { refreshToken: \"x\" }) { accessToken } }";
    for document in [two, through_fragment] {
        let (_, body) = app
            .post_as(
                &Caller::Anonymous,
                document,
                json!({ "e": "member@example.org", "p": "a wrong password" }),
            )
            .await;
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("sign in once"), "{body}");
        assert!(
            body.get("data").is_none_or(Value::is_null),
            "nothing ran: {body}"
        );
    }
    // Nothing ran, so nothing counted against the account.
    let throttled = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM login_failures",
        ))
        .await
        .expect("count")
        .and_then(|row| row.try_get::<i64>("", "n").ok());
    assert_eq!(throttled, Some(0));
    assert!(!app.login("member@example.org").await.is_empty());
}

/// Signs in as `email` from the loopback address `from` (127.0.0.0/8 is all this machine's);
/// returns the first error code, or `None` when signed in.
async fn login_from(app: &TestApp, from: [u8; 4], email: &str, password: &str) -> Option<String> {
    let client = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(from))
        .build()
        .expect("client");
    let body: Value = client
        .post(format!("{}/graphql", app.url))
        .json(&json!({ "query": LOGIN, "variables": { "email": email, "password": password } }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test]
async fn a_stranger_locks_out_only_their_own_address_and_an_admin_can_unlock() {
    let app = TestApp::start().await;
    let owner = app.create_user("owner@example.org", true).await;
    let stranger = [127, 0, 0, 2];
    let home = [127, 0, 0, 1];
    let wrong = "a wrong password, long enough";
    for _ in 0..5 {
        assert_eq!(
            login_from(&app, stranger, "owner@example.org", wrong)
                .await
                .as_deref(),
            Some("UNAUTHENTICATED")
        );
    }
    // The sixth guess locks the stranger out, even with the right password...
    assert_eq!(
        login_from(&app, stranger, "owner@example.org", wrong)
            .await
            .as_deref(),
        Some("RATE_LIMITED")
    );
    assert_eq!(
        login_from(&app, stranger, "owner@example.org", PASSWORD)
            .await
            .as_deref(),
        Some("RATE_LIMITED")
    );
    // ...while the owner, from another address, signs in.
    assert_eq!(
        login_from(&app, home, "owner@example.org", PASSWORD).await,
        None
    );

    // An admin forgets the failures, and the locked address may try again.
    app.ok(
        "mutation($id: ID!) { unlockUser(input: { id: $id }) { email } }",
        json!({ "id": owner }),
    )
    .await;
    assert_eq!(
        login_from(&app, stranger, "owner@example.org", PASSWORD).await,
        None
    );
}

#[tokio::test]
async fn one_address_guessing_across_many_accounts_is_stopped() {
    let app = TestApp::start().await;
    app.create_user("member@example.org", false).await;
    let sprayer = [127, 0, 0, 3];
    let mut codes = Vec::new();
    for i in 0..=samverkan::account::session::MAX_CLIENT_FAILURES {
        let email = format!("person{i}@example.org");
        codes.push(login_from(&app, sprayer, &email, "Sommar2026!!").await);
    }
    assert!(
        codes[..30]
            .iter()
            .all(|c| c.as_deref() == Some("UNAUTHENTICATED")),
        "{codes:?}"
    );
    assert_eq!(codes[30].as_deref(), Some("RATE_LIMITED"));
    // The stopped address cannot sign in to a real account either; another address can.
    assert_eq!(
        login_from(&app, sprayer, "member@example.org", PASSWORD)
            .await
            .as_deref(),
        Some("RATE_LIMITED")
    );
    assert_eq!(
        login_from(&app, [127, 0, 0, 1], "member@example.org", PASSWORD).await,
        None
    );
}

#[tokio::test]
async fn a_flood_of_sign_ins_does_not_hold_up_writes() {
    let app = std::sync::Arc::new(TestApp::start().await);
    let organisation = app.organisation("org-a", "A").await;
    let started = std::time::Instant::now();
    let mut sign_ins = tokio::task::JoinSet::new();
    for i in 0..12 {
        let app = app.clone();
        sign_ins.spawn(async move {
            let (_, body) = app
                .post_as(
                    &Caller::Anonymous,
                    LOGIN,
                    json!({ "email": format!("nobody-{i}@example.org"), "password": "a wrong password" }),
                )
                .await;
            assert_code(&body["errors"][0], "UNAUTHENTICATED", None);
            started.elapsed()
        });
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    app.dialogue("Möte", "2026-11-20", &[&organisation], &[], "PUBLIC")
        .await;
    let written = started.elapsed();
    let mut last_sign_in = std::time::Duration::ZERO;
    while let Some(took) = sign_ins.join_next().await {
        last_sign_in = last_sign_in.max(took.expect("sign-in"));
    }
    println!("write done at {written:?}; the last of 12 sign-ins at {last_sign_in:?}");
    assert!(
        written < last_sign_in,
        "a write does not wait for the password checks queued before it ({written:?} vs {last_sign_in:?})"
    );
}

#[tokio::test]
async fn one_address_typed_two_ways_is_one_account_and_names_are_stored_composed() {
    let app = TestApp::start().await;
    let create = "mutation($e: String!) { createUser(input: { email: $e, name: \"Renée\", password: \"correct horse battery staple\" }) { email } }";
    let composed = "ren\u{e9}@example.org";
    let decomposed = "RENE\u{301}@example.org";
    let created = app.ok(create, json!({ "e": composed })).await;
    assert_eq!(created["createUser"]["email"], composed);
    let again = app.err(create, json!({ "e": decomposed })).await;
    assert_code(&again, "BAD_USER_INPUT", Some("input.email"));
    let (_, body) = app
        .post_as(
            &Caller::Anonymous,
            LOGIN,
            json!({ "email": decomposed, "password": PASSWORD }),
        )
        .await;
    assert_eq!(body["data"]["login"]["user"]["email"], composed, "{body}");

    let organisation = app
        .ok(
            "mutation($n: String!) { createOrganisation(input: { slug: \"cafe\", name: $n, kind: ASSOCIATION }) { name } }",
            json!({ "n": "Cafe\u{301} Kontakt" }),
        )
        .await;
    assert_eq!(
        organisation["createOrganisation"]["name"],
        "Caf\u{e9} Kontakt"
    );
}

#[tokio::test]
async fn an_address_stored_before_it_was_composed_still_signs_in_as_typed() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let app = TestApp::start().await;
    app.create_user("old@example.org", false).await;
    // As an older release stored it: lower-cased, not composed.
    let decomposed = "rene\u{301}@example.org";
    entity::user::Entity::update_many()
        .col_expr(entity::user::Column::Email, Expr::val(decomposed))
        .filter(entity::user::Column::Email.eq("old@example.org"))
        .exec(&app.db)
        .await
        .expect("store the old form");
    let (_, body) = app
        .post_as(
            &Caller::Anonymous,
            LOGIN,
            json!({ "email": decomposed, "password": PASSWORD }),
        )
        .await;
    assert_eq!(body["data"]["login"]["user"]["email"], decomposed, "{body}");
}
