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

/// The fields of each record type, as a test asks for them.
const ORGANISATION: &[&str] = &[
    "id",
    "slug",
    "name",
    "kind",
    "description",
    "website",
    "contactEmail",
    "city",
    "version",
    "createdAt",
    "updatedAt",
];
const AUTHORITY: &[&str] = &[
    "id",
    "slug",
    "name",
    "level",
    "kind",
    "website",
    "code",
    "version",
    "createdAt",
    "updatedAt",
    "isMetropolitan",
    "parent { id }",
];
const DIALOGUE: &[&str] = &[
    "id",
    "title",
    "kind",
    "status",
    "heldOn",
    "summary",
    "outcome",
    "visibility",
    "version",
    "createdAt",
    "updatedAt",
];
const PROPOSAL: &[&str] = &[
    "id",
    "title",
    "summary",
    "body",
    "status",
    "visibility",
    "version",
    "createdAt",
    "updatedAt",
    "leadOrganisation { id }",
];

/// Every record at `path` in `data` (`*` steps into each item of a list), in order.
fn records(data: &Value, path: &[&str]) -> Vec<Value> {
    match path.split_first() {
        None => vec![data.clone()],
        Some((&"*", rest)) => data
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|item| records(item, rest))
            .collect(),
        Some((key, rest)) => records(&data[*key], rest),
    }
}

/// A value that a record read without its column would not hold.
fn holds_something(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Number(n) => n.as_i64() != Some(0),
        Value::Bool(_) => true,
        Value::Object(fields) => fields.values().any(holds_something),
        Value::Array(items) => !items.is_empty(),
    }
}

/// A record type's name and its fields.
type Fields = (&'static str, &'static [&'static str]);

/// The records at `path` of the answer to `list` with `selection` in place of SELECTION.
async fn answered(app: &TestApp, list: &str, path: &[&str], selection: &str) -> Vec<Value> {
    let query = format!("{{ {} }}", list.replace("SELECTION", selection));
    records(&app.ok(&query, json!({})).await, path)
}

/// A lookup by slug reads only the columns its fields need, as lists do: each field asked
/// alone answers as it does through a fragment (which reads every column), for every
/// organisation and authority of the demo network.
#[tokio::test]
async fn a_field_of_a_lookup_by_slug_answers_as_the_record_holds_it() {
    let mut settings = samverkan::config::HttpSettings::default();
    settings.limits.budget_per_minute = 0;
    let app = TestApp::start_with(settings, None).await;
    samverkan::seed::demo(&app.db)
        .await
        .map_err(|e| e.message())
        .expect("seed the demo network");
    let lookups: [(&str, &str, Fields); 2] = [
        (
            "organisation",
            "organisations",
            ("Organisation", ORGANISATION),
        ),
        ("authority", "authorities", ("Authority", AUTHORITY)),
    ];
    for (lookup, list, (type_name, fields)) in lookups {
        let listed = app
            .ok(
                &format!("{{ {list}(first: 40) {{ nodes {{ slug }} }} }}"),
                json!({}),
            )
            .await;
        let slugs = records(&listed, &[list, "nodes", "*", "slug"]);
        assert!(slugs.len() > 5, "the demo network has {list}");
        let ask = |slug: &Value, selection: &str| {
            format!("{{ {lookup}(slug: {slug}) {{ {selection} }} }}")
        };
        let all = format!("... on {type_name} {{ {} }}", fields.join(" "));
        let mut held = Vec::new();
        for slug in &slugs {
            held.push(app.ok(&ask(slug, &all), json!({})).await[lookup].clone());
        }
        for field in fields {
            let name = field.split(' ').next().unwrap_or_default();
            for (slug, record) in slugs.iter().zip(&held) {
                let alone = app.ok(&ask(slug, field), json!({})).await;
                assert_eq!(
                    alone[lookup][name], record[name],
                    "{field} of {lookup} {slug}"
                );
            }
            assert!(
                held.iter().any(|record| holds_something(&record[name])),
                "the demo network gives {name} a value in {lookup}, so a column not read would show"
            );
        }
    }
}

/// Two aliases of one reference that ask for different fields each get their own: the
/// records loaded for one are not handed to the other with its columns left out.
#[tokio::test]
async fn aliases_of_a_reference_each_get_the_fields_they_ask_for() {
    let app = TestApp::start().await;
    samverkan::seed::demo(&app.db)
        .await
        .map_err(|e| e.message())
        .expect("seed the demo network");
    let data = app
        .ok(
            "{ proposals(first: 20) { nodes { a: leadOrganisation { name } b: leadOrganisation { website } c: leadOrganisation { ... on Organisation { name website } } } } }",
            json!({}),
        )
        .await;
    let nodes = records(&data, &["proposals", "nodes", "*"]);
    assert!(
        nodes
            .iter()
            .any(|node| holds_something(&node["c"]["website"])),
        "the demo network's lead organisations have websites"
    );
    for node in &nodes {
        assert_eq!(node["a"]["name"], node["c"]["name"], "{node}");
        assert_eq!(node["b"]["website"], node["c"]["website"], "{node}");
    }
}

/// Lists read only the columns that the fields asked for need. So every field, asked alone
/// or with all the others, must answer as it does when the fields are asked through a
/// fragment (which reads every column), on every way rows are read: top-level pages, nested
/// pages through a link table's index, by row number and by owner, edges, short nested
/// lists, and to-one references.
#[tokio::test]
async fn a_field_asked_alone_answers_as_the_record_holds_it() {
    let mut settings = samverkan::config::HttpSettings::default();
    settings.limits.budget_per_minute = 0;
    settings.limits.max_cost = 1_000_000;
    let app = TestApp::start_with(settings, None).await;
    samverkan::seed::demo(&app.db)
        .await
        .map_err(|e| e.message())
        .expect("seed the demo network");
    let lists: &[(&str, &[&str], Fields)] = &[
        (
            "organisations(first: 40) { nodes { SELECTION } }",
            &["organisations", "nodes", "*"],
            ("Organisation", ORGANISATION),
        ),
        (
            "authorities(first: 40) { nodes { SELECTION } }",
            &["authorities", "nodes", "*"],
            ("Authority", AUTHORITY),
        ),
        (
            "dialogues(first: 40) { nodes { SELECTION } }",
            &["dialogues", "nodes", "*"],
            ("Dialogue", DIALOGUE),
        ),
        (
            "proposals(first: 40) { nodes { SELECTION } }",
            &["proposals", "nodes", "*"],
            ("Proposal", PROPOSAL),
        ),
        (
            "organisations(first: 40) { nodes { dialogues(first: 20) { nodes { SELECTION } } } }",
            &["organisations", "nodes", "*", "dialogues", "nodes", "*"],
            ("Dialogue", DIALOGUE),
        ),
        (
            "organisations(first: 40) { nodes { dialogues(first: 20, orderBy: { field: TITLE, direction: ASC }) { edges { node { SELECTION } } } } }",
            &[
                "organisations",
                "nodes",
                "*",
                "dialogues",
                "edges",
                "*",
                "node",
            ],
            ("Dialogue", DIALOGUE),
        ),
        (
            "organisations(first: 40) { nodes { proposals(first: 20) { nodes { SELECTION } } } }",
            &["organisations", "nodes", "*", "proposals", "nodes", "*"],
            ("Proposal", PROPOSAL),
        ),
        (
            "dialogues(first: 40) { nodes { authorities { SELECTION } } }",
            &["dialogues", "nodes", "*", "authorities", "*"],
            ("Authority", AUTHORITY),
        ),
        (
            "dialogues(first: 40) { nodes { organisations { SELECTION } } }",
            &["dialogues", "nodes", "*", "organisations", "*"],
            ("Organisation", ORGANISATION),
        ),
        (
            "dialogues(first: 40) { nodes { proposals { SELECTION } } }",
            &["dialogues", "nodes", "*", "proposals", "*"],
            ("Proposal", PROPOSAL),
        ),
        (
            "proposals(first: 40) { nodes { leadOrganisation { SELECTION } } }",
            &["proposals", "nodes", "*", "leadOrganisation"],
            ("Organisation", ORGANISATION),
        ),
    ];
    for (list, path, (type_name, fields)) in lists {
        let all = fields.join(" ");
        let held = answered(&app, list, path, &format!("... on {type_name} {{ {all} }}")).await;
        assert!(!held.is_empty(), "the demo network fills {list}");
        // Each field alone, then all of them together.
        let name = |field: &&str| field.split(' ').next().unwrap_or_default().to_owned();
        let alone = fields
            .iter()
            .map(|field| ((*field).to_owned(), vec![name(field)]));
        let together = (all.clone(), fields.iter().map(name).collect());
        for (selection, keys) in alone.chain(std::iter::once(together)) {
            let answer = answered(&app, list, path, &selection).await;
            for field in &keys {
                let expected: Vec<&Value> = held.iter().map(|record| &record[field]).collect();
                let got: Vec<&Value> = answer.iter().map(|record| &record[field]).collect();
                assert_eq!(got, expected, "{field} asked as `{selection}` in {list}");
                assert!(
                    expected.iter().any(|value| holds_something(value)),
                    "the demo network gives {field} a value in {list}, so a column not read would show"
                );
            }
        }
    }
}
