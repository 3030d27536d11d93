//! Authorities: the tree of parents and children, filters, cycles and references.

use samverkan_tests::{TestApp, assert_code};
use serde_json::json;

const UPDATE: &str = "mutation($input: UpdateAuthorityInput!) { updateAuthority(input: $input) { id parent { slug } version } }";
const DELETE: &str =
    "mutation($input: DeleteAuthorityInput!) { deleteAuthority(input: $input) { slug } }";

#[tokio::test]
async fn committees_sit_under_the_riksdag() {
    let app = TestApp::start().await;
    let riksdag = app.authority("riksdagen", "Sveriges riksdag", None).await;
    app.authority("socialutskottet", "Socialutskottet", Some(&riksdag))
        .await;
    app.authority(
        "arbetsmarknadsutskottet",
        "Arbetsmarknadsutskottet",
        Some(&riksdag),
    )
    .await;
    let data = app
        .ok(
            "{ authority(slug: \"riksdagen\") { parent { slug } children { slug parent { slug } } } }",
            json!({}),
        )
        .await;
    assert!(data["authority"]["parent"].is_null());
    let children = data["authority"]["children"].as_array().expect("children");
    assert_eq!(children.len(), 2);
    assert_eq!(
        children[0]["slug"], "arbetsmarknadsutskottet",
        "children by name"
    );
    assert_eq!(children[1]["parent"]["slug"], "riksdagen");
    let filtered = app
        .ok(
            "query($p: ID) { authorities(filter: { parentId: $p }) { totalCount } }",
            json!({ "p": riksdag }),
        )
        .await;
    assert_eq!(filtered["authorities"]["totalCount"], 2);
}

#[tokio::test]
async fn filters_by_level_and_kind() {
    let app = TestApp::start().await;
    app.ok(
        "mutation { a: createAuthority(input: { slug: \"region-skane\", name: \"Region Skåne\", level: REGIONAL, kind: REGION, code: \"12\" }) { id }
                    b: createAuthority(input: { slug: \"malmo-kommun\", name: \"Malmö\", level: LOCAL, kind: MUNICIPALITY, code: \"1280\" }) { id }
                    c: createAuthority(input: { slug: \"skl\", name: \"SKL\", level: NATIONAL, kind: ASSOCIATION_OF_AUTHORITIES }) { id } }",
        json!({}),
    )
    .await;
    let q = "query($f: AuthorityFilter) { authorities(filter: $f) { nodes { slug code } } }";
    let local = app.ok(q, json!({ "f": { "level": "LOCAL" } })).await;
    assert_eq!(
        local["authorities"]["nodes"],
        json!([{ "slug": "malmo-kommun", "code": "1280" }])
    );
    let region = app.ok(q, json!({ "f": { "kind": "REGION" } })).await;
    assert_eq!(region["authorities"]["nodes"][0]["slug"], "region-skane");
    let by_code = app.ok(q, json!({ "f": { "text": "1280" } })).await;
    assert_eq!(by_code["authorities"]["nodes"][0]["slug"], "malmo-kommun");
    let error = app.err(q, json!({ "f": { "parentId": "garbage" } })).await;
    assert_code(&error, "BAD_USER_INPUT", Some("filter.parentId"));
}

#[tokio::test]
async fn parent_must_exist_and_never_form_a_cycle() {
    let app = TestApp::start().await;
    let top = app.authority("regeringen", "Regeringen", None).await;
    let middle = app
        .authority("socialdepartementet", "Socialdepartementet", Some(&top))
        .await;
    let org = app.organisation("rsmh", "RSMH").await;
    let error = app
        .err(
            UPDATE,
            json!({ "input": { "id": top, "expectedVersion": 1, "parentId": middle } }),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.parentId"));
    let error = app
        .err(
            UPDATE,
            json!({ "input": { "id": top, "expectedVersion": 1, "parentId": top } }),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.parentId"));
    let error = app
        .err(
            UPDATE,
            json!({ "input": { "id": top, "expectedVersion": 1, "parentId": org } }),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.parentId"));
    let moved = app
        .ok(
            UPDATE,
            json!({ "input": { "id": middle, "expectedVersion": 1, "parentId": null } }),
        )
        .await;
    assert!(moved["updateAuthority"]["parent"].is_null());
    assert_eq!(moved["updateAuthority"]["version"], 2);
    let error = app
        .err(
            "mutation($p: ID) { createAuthority(input: { slug: \"x-y\", name: \"X\", level: EU, kind: OTHER, parentId: $p }) { id } }",
            json!({ "p": "QXV0aG9yaXR5OjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA" }),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("input.parentId"));
}

#[tokio::test]
async fn deleting_a_referenced_authority_is_a_conflict() {
    let app = TestApp::start().await;
    let riksdag = app.authority("riksdagen", "Sveriges riksdag", None).await;
    let committee = app
        .authority("socialutskottet", "Socialutskottet", Some(&riksdag))
        .await;
    let error = app.err(DELETE, json!({ "input": { "id": riksdag } })).await;
    assert_code(&error, "CONFLICT", None);
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("under it"),
        "{error}"
    );
    let deleted = app
        .ok(DELETE, json!({ "input": { "id": committee } }))
        .await;
    assert_eq!(deleted["deleteAuthority"]["slug"], "socialutskottet");
    app.ok(DELETE, json!({ "input": { "id": riksdag } })).await;
    let gone = app
        .ok(
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": riksdag }),
        )
        .await;
    assert!(gone["node"].is_null());
}

#[tokio::test]
async fn text_search_finds_swedish_names_in_any_case() {
    let app = TestApp::start().await;
    for (slug, name) in [
        ("orebro-lan", "Örebro län"),
        ("amal", "Åmåls kommun"),
        ("vanersborg", "Vänersborgs kommun"),
        ("socialdepartementet", "Socialdepartementet"),
    ] {
        app.authority(slug, name, None).await;
    }
    let query = "query($t: String!) { authorities(filter: { text: $t }) { nodes { name } } }";
    for (text, found) in [
        ("Örebro", "Örebro län"),
        ("örebro", "Örebro län"),
        ("ÖREBRO LÄN", "Örebro län"),
        ("åmål", "Åmåls kommun"),
        ("ÅMÅL", "Åmåls kommun"),
        ("VÄNERSBORG", "Vänersborgs kommun"),
        ("socialdep", "Socialdepartementet"),
    ] {
        let data = app.ok(query, json!({ "t": text })).await;
        assert_eq!(
            data["authorities"]["nodes"],
            json!([{ "name": found }]),
            "{text}"
        );
    }
}
