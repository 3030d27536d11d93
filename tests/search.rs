//! Full-text search and Swedish ordering, as a Swedish user would try them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use samverkan_tests::{Caller, TestApp, assert_code};
use serde_json::{Value, json};

const SEARCH: &str = "query($q: String!, $types: [SearchType!], $first: Int, $after: String) {
  search(query: $q, types: $types, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { score snippet node { __typename
      ... on Organisation { name } ... on Authority { name }
      ... on Dialogue { title } ... on Proposal { title } } } }
  }
}";

/// The names or titles of the hits, best first.
fn found(data: &Value) -> Vec<String> {
    data["search"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            let node = &edge["node"]["node"];
            node["name"]
                .as_str()
                .or_else(|| node["title"].as_str())
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

async fn search(app: &TestApp, q: &str) -> Value {
    app.ok(SEARCH, json!({ "q": q })).await
}

#[tokio::test]
async fn search_finds_swedish_words_in_any_form_and_case() {
    let app = TestApp::start().await;
    app.authority("orebro-lan", "Örebro län", None).await;
    let ministry = app
        .authority("socialdepartementet", "Socialdepartementet", None)
        .await;
    let org = app.organisation("stadsmissionen", "Stadsmissionen").await;
    app.dialogue(
        "Samtal om fattigdom i Örebro",
        "2026-03-01",
        &[&org],
        &[&ministry],
        "PUBLIC",
    )
    .await;
    app.dialogue("Budgetsamråd", "2026-03-02", &[&org], &[], "PUBLIC")
        .await;

    for (q, expected) in [
        ("fattigdomen", vec!["Samtal om fattigdom i Örebro"]),
        ("socialdep", vec!["Socialdepartementet"]),
        (
            "\"samtal om fattigdom\"",
            vec!["Samtal om fattigdom i Örebro"],
        ),
        ("\"samtal fattigdom\"", vec![]),
        (
            "\"fattigdom i Örebro\"",
            vec!["Samtal om fattigdom i Örebro"],
        ),
        ("\"fattigdom å Örebro\"", vec![]),
        ("om", vec!["Samtal om fattigdom i Örebro"]),
        ("\"fattigdom om\"", vec![]),
        ("fattigdom budget", vec![]),
        ("budgetsamråden", vec!["Budgetsamråd"]),
    ] {
        assert_eq!(found(&search(&app, q).await), expected, "{q}");
    }
    // Örebro in any case: the county by name, and the dialogue by a word of its title.
    // "o" and a combining diaeresis, as some keyboards send "ö", is the same letter.
    for q in ["Örebro", "örebro", "ÖREBRO", "o\u{308}rebro"] {
        let mut names = found(&search(&app, q).await);
        names.sort();
        assert_eq!(names, ["Samtal om fattigdom i Örebro", "Örebro län"], "{q}");
    }
    // å, ä and ö are letters of their own: "Orebro" is another word.
    assert_eq!(found(&search(&app, "Orebro").await), Vec::<String>::new());

    // A name that matches outranks a text that mentions it, and the kinds can be narrowed.
    let data = app
        .ok(SEARCH, json!({ "q": "örebro", "types": ["AUTHORITY"] }))
        .await;
    assert_eq!(found(&data), ["Örebro län"]);
    assert_eq!(data["search"]["totalCount"], 1);
    let data = search(&app, "fattigdom").await;
    let hit = &data["search"]["edges"][0]["node"];
    assert_eq!(hit["node"]["__typename"], "Dialogue");
    assert!(hit["score"].as_f64().expect("score") > 0.0, "{hit}");
    assert_eq!(hit["snippet"], "About Samtal om fattigdom i Örebro");
}

#[tokio::test]
async fn search_shows_only_what_the_caller_may_see_and_says_no_more_in_its_count() {
    let app = TestApp::start().await;
    let org = app.organisation("natverket", "Nätverket").await;
    let open = app
        .proposal("Öppen plan mot fattigdom", &org, "PUBLIC")
        .await;
    let internal = app
        .proposal("Intern plan mot fattigdom", &org, "NETWORK")
        .await;
    let query = "query($q: String!) { search(query: $q, types: [PROPOSAL]) { totalCount nodes { node { ... on Proposal { title } } } } }";
    let (_, anonymous) = app
        .post_as(&Caller::Anonymous, query, json!({ "q": "fattigdom" }))
        .await;
    assert_eq!(
        anonymous["data"]["search"],
        json!({ "totalCount": 1, "nodes": [{ "node": { "title": "Öppen plan mot fattigdom" } }] }),
        "{anonymous}"
    );
    let admin = app.ok(query, json!({ "q": "intern" })).await;
    assert_eq!(admin["search"]["totalCount"], 1);
    let (_, anonymous) = app
        .post_as(&Caller::Anonymous, query, json!({ "q": "intern" }))
        .await;
    assert_eq!(
        anonymous["data"]["search"],
        json!({ "totalCount": 0, "nodes": [] })
    );

    // A change of visibility shows at the next search, both ways.
    let publish = "mutation($id: ID!, $visibility: Visibility!) { updateProposal(input: { id: $id, expectedVersion: 1, visibility: $visibility }) { version } }";
    app.ok(publish, json!({ "id": open, "visibility": "ORGANISATION" }))
        .await;
    app.ok(publish, json!({ "id": internal, "visibility": "PUBLIC" }))
        .await;
    let (_, anonymous) = app
        .post_as(&Caller::Anonymous, query, json!({ "q": "fattigdom" }))
        .await;
    assert_eq!(
        anonymous["data"]["search"],
        json!({ "totalCount": 1, "nodes": [{ "node": { "title": "Intern plan mot fattigdom" } }] }),
        "{anonymous}"
    );
    let admin = app.ok(query, json!({ "q": "fattigdom" })).await;
    assert_eq!(admin["search"]["totalCount"], 2);
}

#[tokio::test]
async fn search_follows_every_change_at_once() {
    let app = TestApp::start().await;
    let id = app.organisation("gamla", "Gamla föreningen").await;
    assert_eq!(found(&search(&app, "gamla").await), ["Gamla föreningen"]);
    app.ok(
        "mutation($id: ID!) { updateOrganisation(input: { id: $id, expectedVersion: 1, name: \"Nya föreningen\", description: \"Arbetar mot hemlöshet\" }) { id } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(found(&search(&app, "gamla").await), Vec::<String>::new());
    assert_eq!(found(&search(&app, "nya").await), ["Nya föreningen"]);
    let data = search(&app, "hemlösheten").await;
    assert_eq!(found(&data), ["Nya föreningen"]);
    assert_eq!(
        data["search"]["edges"][0]["node"]["snippet"],
        "Arbetar mot hemlöshet Stockholm"
    );
    app.ok(
        "mutation($id: ID!) { deleteOrganisation(input: { id: $id }) { slug } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(found(&search(&app, "nya").await), Vec::<String>::new());
}

#[tokio::test]
async fn search_pages_do_not_overlap_and_bad_input_is_named() {
    let app = TestApp::start().await;
    for n in 1..=5 {
        app.organisation(&format!("lag-{n}"), &format!("Lokalt nätverk {n}"))
            .await;
    }
    let mut seen = Vec::new();
    let mut after = Value::Null;
    for page in 0..3 {
        let data = app
            .ok(
                SEARCH,
                json!({ "q": "nätverk", "first": 2, "after": after }),
            )
            .await;
        let info = &data["search"]["pageInfo"];
        assert_eq!(info["hasPreviousPage"], page > 0);
        assert_eq!(info["hasNextPage"], page < 2);
        assert_eq!(data["search"]["totalCount"], 5);
        seen.extend(found(&data));
        after = info["endCursor"].clone();
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 5, "{seen:?}");
    // Past the last hit: nothing, and still the count.
    let data = app
        .ok(
            SEARCH,
            json!({ "q": "nätverk", "first": 2, "after": after }),
        )
        .await;
    assert_eq!(found(&data), Vec::<String>::new());
    assert_eq!(data["search"]["totalCount"], 5);
    assert_eq!(data["search"]["pageInfo"]["hasNextPage"], false);

    for (variables, field) in [
        (json!({ "q": " \" * " }), "query"),
        (json!({ "q": "x".repeat(201) }), "query"),
        (json!({ "q": "nätverk", "types": [] }), "types"),
        (json!({ "q": "nätverk", "first": 101 }), "first"),
        (json!({ "q": "nätverk", "after": "not a cursor" }), "after"),
        (
            json!({ "q": "nätverk", "after": URL_SAFE_NO_PAD.encode("search:18446744073709551600") }),
            "after",
        ),
        (
            json!({ "q": "nätverk", "first": 50, "after": URL_SAFE_NO_PAD.encode("search:990") }),
            "after",
        ),
    ] {
        let error = app.err(SEARCH, variables).await;
        assert_code(&error, "BAD_USER_INPUT", Some(field));
    }
}

#[tokio::test]
async fn names_are_ordered_as_in_swedish_and_cursors_follow_that_order() {
    let app = TestApp::start().await;
    for name in [
        "Älmhult",
        "Åmål",
        "Vänersborg",
        "Vårgårda",
        "KRIS",
        "Koopi",
        "Zinkgruvan",
        "Örebro",
        "Alingsås",
    ] {
        app.organisation(
            &name
                .to_lowercase()
                .replace(['å', 'ä'], "a")
                .replace('ö', "o"),
            name,
        )
        .await;
    }
    let expected = [
        "Alingsås",
        "Koopi",
        "KRIS",
        "Vårgårda",
        "Vänersborg",
        "Zinkgruvan",
        "Åmål",
        "Älmhult",
        "Örebro",
    ];
    let query = "query($after: String, $direction: OrderDirection!) {
      organisations(first: 2, after: $after, orderBy: { field: NAME, direction: $direction }) {
        nodes { name } pageInfo { endCursor hasNextPage } } }";
    for (direction, expected) in [
        ("ASC", expected.to_vec()),
        ("DESC", expected.iter().rev().copied().collect()),
    ] {
        let mut names = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = app
                .ok(query, json!({ "after": after, "direction": direction }))
                .await;
            let page = &data["organisations"];
            names.extend(
                page["nodes"]
                    .as_array()
                    .expect("nodes")
                    .iter()
                    .map(|node| node["name"].as_str().expect("name").to_owned()),
            );
            if page["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(names, expected, "{direction}");
    }
}
