//! Organisations: create, read, update with versions, delete, and every bad-input path.

use samverkan_tests::{TestApp, assert_code};
use serde_json::json;

const CREATE: &str = "mutation($input: CreateOrganisationInput!) { createOrganisation(input: $input) { id slug name kind description website contactEmail city version } }";
const UPDATE: &str = "mutation($input: UpdateOrganisationInput!) { updateOrganisation(input: $input) { id name website city version } }";
const DELETE: &str =
    "mutation($input: DeleteOrganisationInput!) { deleteOrganisation(input: $input) { slug } }";

#[tokio::test]
async fn create_then_read_by_slug_and_node() {
    let app = TestApp::start().await;
    let created = app
        .ok(
            CREATE,
            json!({ "input": { "slug": "rsmh", "name": "RSMH", "kind": "ASSOCIATION", "description": " Riksförbundet för social och mental hälsa ",
                "website": "https://rsmh.se", "contactEmail": "kontakt@rsmh.example", "city": "Stockholm" } }),
        )
        .await["createOrganisation"]
        .clone();
    assert_eq!(created["slug"], "rsmh");
    assert_eq!(
        created["description"], "Riksförbundet för social och mental hälsa",
        "text is trimmed"
    );
    assert_eq!(created["version"], 1);
    let id = created["id"].as_str().expect("id");
    let by_slug = app
        .ok(
            "{ organisation(slug: \"rsmh\") { id name kind website contactEmail } }",
            json!({}),
        )
        .await;
    assert_eq!(by_slug["organisation"]["id"], id);
    assert_eq!(
        by_slug["organisation"]["contactEmail"],
        "kontakt@rsmh.example"
    );
    let node = app
        .ok(
            "query($id: ID!) { node(id: $id) { id ... on Organisation { slug } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(node["node"]["slug"], "rsmh");
    let missing = app
        .ok("{ organisation(slug: \"nobody\") { id } }", json!({}))
        .await;
    assert!(missing["organisation"].is_null());
}

#[tokio::test]
async fn bad_input_is_refused_naming_the_field_and_changes_nothing() {
    let app = TestApp::start().await;
    let valid = json!({ "slug": "verdandi", "name": "Verdandi", "kind": "ASSOCIATION" });
    let long = "x".repeat(201);
    for (field, value, expected_field) in [
        ("slug", json!("Verdandi!"), "input.slug"),
        ("slug", json!("a"), "input.slug"),
        ("slug", json!("-verdandi"), "input.slug"),
        ("slug", json!("ver--dandi"), "input.slug"),
        ("name", json!("   "), "input.name"),
        ("name", json!(long), "input.name"),
        ("website", json!("verdandi.se"), "input.website"),
        ("website", json!("javascript:alert(1)"), "input.website"),
        ("website", json!("https://exa mple.org"), "input.website"),
        ("contactEmail", json!("not-an-email"), "input.contactEmail"),
        ("contactEmail", json!("a@b"), "input.contactEmail"),
    ] {
        let mut input = valid.clone();
        input[field] = value.clone();
        let error = app.err(CREATE, json!({ "input": input })).await;
        assert_code(&error, "BAD_USER_INPUT", Some(expected_field));
    }
    let error = app
        .err(
            CREATE,
            json!({ "input": { "slug": "x1", "name": "X", "kind": "NOT_A_KIND" } }),
        )
        .await;
    assert!(
        error["message"].as_str().is_some(),
        "an unknown enum value is refused: {error}"
    );
    let count = app.ok("{ organisations { totalCount } }", json!({})).await;
    assert_eq!(
        count["organisations"]["totalCount"], 0,
        "nothing was written"
    );
}

#[tokio::test]
async fn taken_slug_is_refused() {
    let app = TestApp::start().await;
    app.organisation("verdandi", "Verdandi").await;
    let error = app
        .err(
            CREATE,
            json!({ "input": { "slug": "verdandi", "name": "Another", "kind": "OTHER" } }),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.slug"));
    let other = app.organisation("rfhl", "RFHL").await;
    let error = app
        .err(
            UPDATE,
            json!({ "input": { "id": other, "expectedVersion": 1, "slug": "verdandi" } }),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.slug"));
}

#[tokio::test]
async fn update_changes_given_fields_clears_nulls_and_bumps_version() {
    let app = TestApp::start().await;
    let created = app
        .ok(CREATE, json!({ "input": { "slug": "kris", "name": "KRIS", "kind": "ASSOCIATION", "website": "https://kris.se", "city": "Stockholm" } }))
        .await;
    let id = created["createOrganisation"]["id"].clone();
    let updated = app
        .ok(UPDATE, json!({ "input": { "id": id, "expectedVersion": 1, "name": "Kriminellas revansch i samhället", "website": null } }))
        .await["updateOrganisation"]
        .clone();
    assert_eq!(updated["name"], "Kriminellas revansch i samhället");
    assert!(updated["website"].is_null(), "null clears");
    assert_eq!(updated["city"], "Stockholm", "absent fields are kept");
    assert_eq!(updated["version"], 2);
}

#[tokio::test]
async fn stale_version_is_a_conflict_and_changes_nothing() {
    let app = TestApp::start().await;
    let id = app.organisation("sios", "SIOS").await;
    app.ok(
        UPDATE,
        json!({ "input": { "id": id, "expectedVersion": 1, "name": "SIOS first" } }),
    )
    .await;
    let error = app
        .err(
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "name": "SIOS second" } }),
        )
        .await;
    assert_code(&error, "CONFLICT", None);
    let now = app
        .ok(
            "{ organisation(slug: \"sios\") { name version } }",
            json!({}),
        )
        .await;
    assert_eq!(now["organisation"]["name"], "SIOS first");
    assert_eq!(now["organisation"]["version"], 2);
}

#[tokio::test]
async fn update_and_delete_of_unknown_or_malformed_ids() {
    let app = TestApp::start().await;
    let id = app.organisation("sios", "SIOS").await;
    app.ok(DELETE, json!({ "input": { "id": id } })).await;
    let error = app
        .err(
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "name": "Gone" } }),
        )
        .await;
    assert_code(&error, "NOT_FOUND", None);
    let error = app.err(DELETE, json!({ "input": { "id": id } })).await;
    assert_code(&error, "NOT_FOUND", None);
    let error = app
        .err(DELETE, json!({ "input": { "id": "not-an-id" } }))
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.id"));
    let authority = app
        .authority("socialstyrelsen", "Socialstyrelsen", None)
        .await;
    let error = app
        .err(DELETE, json!({ "input": { "id": authority } }))
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.id"));
}

#[tokio::test]
async fn deleting_a_referenced_organisation_is_a_conflict_naming_the_references() {
    let app = TestApp::start().await;
    let org = app.organisation("hso", "HSO").await;
    let ministry = app
        .authority("socialdepartementet", "Socialdepartementet", None)
        .await;
    app.dialogue("Möte", "2008-05-01", &[&org], &[&ministry], "PUBLIC")
        .await;
    app.proposal("Förslag", &org, "PUBLIC").await;
    let error = app.err(DELETE, json!({ "input": { "id": org } })).await;
    assert_code(&error, "CONFLICT", None);
    let message = error["message"].as_str().expect("message");
    assert!(
        message.contains("1 dialogue") && message.contains("1 proposal"),
        "{message}"
    );
    let still = app
        .ok("{ organisation(slug: \"hso\") { id } }", json!({}))
        .await;
    assert_eq!(still["organisation"]["id"], org.as_str());
}

#[tokio::test]
async fn filters_by_kind_city_and_text() {
    let app = TestApp::start().await;
    for (slug, name, kind, city) in [
        ("coompanion", "Coompanion", "COOPERATIVE", "Stockholm"),
        (
            "fralsningsarmen",
            "Frälsningsarmén",
            "FAITH_BASED",
            "Stockholm",
        ),
        ("fontanhus", "Sveriges Fontänhus", "ASSOCIATION", "Göteborg"),
    ] {
        app.ok(CREATE, json!({ "input": { "slug": slug, "name": name, "kind": kind, "city": city, "description": format!("{name} arbetar 100% ideellt") } }))
            .await;
    }
    let q =
        "query($f: OrganisationFilter) { organisations(filter: $f) { totalCount nodes { slug } } }";
    let slugs = |data: serde_json::Value| -> Vec<String> {
        data["organisations"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["slug"].as_str().expect("slug").to_owned())
            .collect()
    };
    assert_eq!(
        slugs(app.ok(q, json!({ "f": { "kind": "FAITH_BASED" } })).await),
        ["fralsningsarmen"]
    );
    assert_eq!(
        slugs(app.ok(q, json!({ "f": { "city": "göteborg" } })).await),
        ["fontanhus"]
    );
    assert_eq!(
        slugs(app.ok(q, json!({ "f": { "text": "COOMP" } })).await),
        ["coompanion"]
    );
    assert_eq!(
        slugs(app.ok(q, json!({ "f": { "text": "100%" } })).await).len(),
        3
    );
    assert_eq!(
        slugs(app.ok(q, json!({ "f": { "text": "1_0" } })).await).len(),
        0,
        "LIKE wildcards are literal"
    );
    assert_eq!(
        slugs(app.ok(q, json!({ "f": { "kind": "UMBRELLA" } })).await).len(),
        0
    );
}
