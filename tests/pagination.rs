//! Relay pagination: both directions, every edge, orderings and limits.

use samverkan_tests::{TestApp, assert_code};
use serde_json::{Value, json};

const PAGE: &str =
    "query($first: Int, $after: String, $last: Int, $before: String, $order: OrganisationOrder) {
    organisations(first: $first, after: $after, last: $last, before: $before, orderBy: $order) {
        totalCount edges { cursor node { slug } } nodes { slug }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";

fn slugs(data: &Value) -> Vec<String> {
    data["organisations"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["slug"].as_str().expect("slug").to_owned())
        .collect()
}

async fn with_organisations(n: usize) -> TestApp {
    let app = TestApp::start().await;
    for i in 0..n {
        app.organisation(&format!("org-{i:02}"), &format!("Org {i:02}"))
            .await;
    }
    app
}

#[tokio::test]
async fn walks_forward_and_backward_through_every_page() {
    let app = with_organisations(7).await;
    let all: Vec<String> = (0..7).map(|i| format!("org-{i:02}")).collect();
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut pages = 0;
    loop {
        let data = app.ok(PAGE, json!({ "first": 3, "after": after })).await;
        assert_eq!(data["organisations"]["totalCount"], 7);
        seen.extend(slugs(&data));
        pages += 1;
        let info = &data["organisations"]["pageInfo"];
        assert_eq!(info["hasPreviousPage"], pages > 1);
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(seen, all);
    assert_eq!(pages, 3);

    let mut seen_back = Vec::new();
    let mut before = Value::Null;
    loop {
        let data = app.ok(PAGE, json!({ "last": 3, "before": before })).await;
        let mut page = slugs(&data);
        page.extend(seen_back);
        seen_back = page;
        let info = &data["organisations"]["pageInfo"];
        if info["hasPreviousPage"] == false {
            break;
        }
        before = info["startCursor"].clone();
    }
    assert_eq!(seen_back, all);
}

#[tokio::test]
async fn edges_carry_cursors_that_match_page_info() {
    let app = with_organisations(3).await;
    let data = app.ok(PAGE, json!({ "first": 2 })).await;
    let edges = data["organisations"]["edges"].as_array().expect("edges");
    assert_eq!(edges[0]["node"]["slug"], "org-00");
    assert_eq!(
        data["organisations"]["pageInfo"]["startCursor"],
        edges[0]["cursor"]
    );
    assert_eq!(
        data["organisations"]["pageInfo"]["endCursor"],
        edges[1]["cursor"]
    );
    let next = app
        .ok(PAGE, json!({ "first": 2, "after": edges[0]["cursor"] }))
        .await;
    assert_eq!(slugs(&next), ["org-01", "org-02"]);
}

#[tokio::test]
async fn orderings_and_directions() {
    let app = with_organisations(3).await;
    let desc = app
        .ok(
            PAGE,
            json!({ "order": { "field": "NAME", "direction": "DESC" } }),
        )
        .await;
    assert_eq!(slugs(&desc), ["org-02", "org-01", "org-00"]);
    let created = app
        .ok(
            PAGE,
            json!({ "order": { "field": "CREATED_AT", "direction": "ASC" } }),
        )
        .await;
    assert_eq!(slugs(&created), ["org-00", "org-01", "org-02"]);
    let first = app
        .ok(
            PAGE,
            json!({ "first": 1, "order": { "field": "SLUG", "direction": "DESC" } }),
        )
        .await;
    let after = first["organisations"]["pageInfo"]["endCursor"].clone();
    let rest = app.ok(PAGE, json!({ "first": 5, "after": after, "order": { "field": "SLUG", "direction": "DESC" } })).await;
    assert_eq!(slugs(&rest), ["org-01", "org-00"]);
    app.ok(
        "mutation($id: ID!) { updateOrganisation(input: { id: $id, expectedVersion: 1, city: \"Malmö\" }) { id } }",
        json!({ "id": app.ok("{ organisation(slug: \"org-00\") { id } }", json!({})).await["organisation"]["id"] }),
    )
    .await;
    let updated = app
        .ok(
            PAGE,
            json!({ "first": 1, "order": { "field": "UPDATED_AT", "direction": "DESC" } }),
        )
        .await;
    assert_eq!(slugs(&updated), ["org-00"]);
    let error = app.err(PAGE, json!({ "first": 1, "after": after })).await;
    assert_code(&error, "BAD_USER_INPUT", Some("after"));
}

#[tokio::test]
async fn empty_results_and_the_last_page() {
    let app = TestApp::start().await;
    let data = app.ok(PAGE, json!({ "first": 5 })).await;
    assert_eq!(data["organisations"]["totalCount"], 0);
    assert_eq!(data["organisations"]["edges"], json!([]));
    assert_eq!(data["organisations"]["pageInfo"]["hasNextPage"], false);
    assert!(data["organisations"]["pageInfo"]["endCursor"].is_null());
    let app = with_organisations(2).await;
    let exact = app.ok(PAGE, json!({ "first": 2 })).await;
    assert_eq!(
        exact["organisations"]["pageInfo"]["hasNextPage"], false,
        "a full last page has no next page"
    );
    let zero = app.ok(PAGE, json!({ "first": 0 })).await;
    assert_eq!(zero["organisations"]["nodes"], json!([]));
    assert_eq!(zero["organisations"]["totalCount"], 2);
}

#[tokio::test]
async fn the_cursor_of_a_deleted_row_still_works() {
    let app = with_organisations(4).await;
    let data = app.ok(PAGE, json!({ "first": 2 })).await;
    let cursor = data["organisations"]["pageInfo"]["endCursor"].clone();
    let id = app
        .ok("{ organisation(slug: \"org-01\") { id } }", json!({}))
        .await["organisation"]["id"]
        .clone();
    app.ok(
        "mutation($id: ID!) { deleteOrganisation(input: { id: $id }) { slug } }",
        json!({ "id": id }),
    )
    .await;
    let next = app.ok(PAGE, json!({ "first": 2, "after": cursor })).await;
    assert_eq!(slugs(&next), ["org-02", "org-03"]);
    let back = app.ok(PAGE, json!({ "last": 2, "before": cursor })).await;
    assert_eq!(slugs(&back), ["org-00"]);
}

#[tokio::test]
async fn page_size_limits_and_argument_errors() {
    let app = with_organisations(1).await;
    let default = app
        .ok("{ organisations { pageInfo { hasNextPage } } }", json!({}))
        .await;
    assert_eq!(default["organisations"]["pageInfo"]["hasNextPage"], false);
    let hundred = app.ok(PAGE, json!({ "first": 100 })).await;
    assert_eq!(slugs(&hundred).len(), 1);
    for (vars, field) in [
        (json!({ "first": 101 }), "first"),
        (json!({ "last": 101 }), "last"),
        (json!({ "first": -1 }), "first"),
        (json!({ "first": 1, "last": 1 }), "last"),
        (json!({ "after": "bm90IGEgY3Vyc29y" }), "after"),
        (json!({ "before": "%%%" }), "before"),
    ] {
        let error = app.err(PAGE, vars).await;
        assert_code(&error, "BAD_USER_INPUT", Some(field));
    }
    let nested = app
        .err(
            "{ organisations { nodes { dialogues(first: 500) { totalCount } } } }",
            json!({}),
        )
        .await;
    assert_code(&nested, "BAD_USER_INPUT", Some("first"));
}

#[tokio::test]
async fn default_page_is_twenty() {
    let app = with_organisations(21).await;
    let data = app
        .ok(
            "{ organisations { nodes { slug } pageInfo { hasNextPage } } }",
            json!({}),
        )
        .await;
    assert_eq!(slugs(&data).len(), 20);
    assert_eq!(data["organisations"]["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn nested_connections_page_per_parent() {
    let app = TestApp::start().await;
    let a = app.organisation("aaa", "A").await;
    let b = app.organisation("bbb", "B").await;
    for day in 1..=5 {
        app.dialogue(
            &format!("A{day}"),
            &format!("2010-01-0{day}"),
            &[&a],
            &[],
            "PUBLIC",
        )
        .await;
    }
    app.dialogue("B1", "2010-02-01", &[&b], &[], "PUBLIC").await;
    let q = "query($after: String) { organisations { nodes { slug dialogues(first: 2, after: $after) { totalCount nodes { title }
        pageInfo { hasNextPage hasPreviousPage endCursor } } } } }";
    let data = app.ok(q, json!({})).await;
    let nodes = data["organisations"]["nodes"].as_array().expect("nodes");
    assert_eq!(nodes[0]["dialogues"]["totalCount"], 5);
    assert_eq!(
        nodes[0]["dialogues"]["nodes"],
        json!([{ "title": "A5" }, { "title": "A4" }])
    );
    assert_eq!(nodes[0]["dialogues"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(nodes[1]["dialogues"]["nodes"], json!([{ "title": "B1" }]));
    assert_eq!(nodes[1]["dialogues"]["pageInfo"]["hasNextPage"], false);
    let after = nodes[0]["dialogues"]["pageInfo"]["endCursor"].clone();
    let next = app.ok(q, json!({ "after": after })).await;
    assert_eq!(
        next["organisations"]["nodes"][0]["dialogues"]["nodes"],
        json!([{ "title": "A3" }, { "title": "A2" }])
    );
    let last = app.ok("{ organisation(slug: \"aaa\") { dialogues(last: 2) { nodes { title } pageInfo { hasPreviousPage } } } }", json!({})).await;
    assert_eq!(
        last["organisation"]["dialogues"]["nodes"],
        json!([{ "title": "A2" }, { "title": "A1" }])
    );
    assert_eq!(
        last["organisation"]["dialogues"]["pageInfo"]["hasPreviousPage"],
        true
    );
}
