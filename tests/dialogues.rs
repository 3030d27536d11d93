//! Dialogues: participants on both sides, proposals discussed, filters and changes.

use samverkan_tests::{Caller, TestApp, assert_code};
use serde_json::json;

const UPDATE: &str = "mutation($input: UpdateDialogueInput!) { updateDialogue(input: $input) { title status outcome version organisations { slug } authorities { slug } proposals { title } } }";

#[tokio::test]
async fn a_dialogue_links_organisations_authorities_and_proposals() {
    let app = TestApp::start().await;
    let a = app.organisation("coompanion", "Coompanion").await;
    let b = app.organisation("koopi", "Koopi").await;
    let esf = app.authority("esf-radet", "Svenska ESF-rådet", None).await;
    let proposal = app
        .proposal("ESF-regler för civilsamhället", &a, "PUBLIC")
        .await;
    let created = app
        .ok(
            "mutation($input: CreateDialogueInput!) { createDialogue(input: $input) { id title kind status heldOn visibility version
                organisations { slug } authorities { slug } proposals { id } } }",
            json!({ "input": { "title": "Seminarium med ESF-rådet", "kind": "SEMINAR", "status": "HELD", "heldOn": "2016-04-06",
                "summary": "Hur socialfonden fungerar", "organisationIds": [b, a, a], "authorityIds": [esf], "proposalIds": [proposal] } }),
        )
        .await["createDialogue"]
        .clone();
    assert_eq!(
        created["visibility"], "NETWORK",
        "NETWORK unless told otherwise"
    );
    assert_eq!(
        created["organisations"],
        json!([{ "slug": "coompanion" }, { "slug": "koopi" }]),
        "deduplicated, by name"
    );
    assert_eq!(created["proposals"][0]["id"], proposal.as_str());
    let back = app
        .ok(
            "query($id: ID!) { proposal(id: $id) { dialogues { totalCount nodes { title } } } }",
            json!({ "id": proposal }),
        )
        .await;
    assert_eq!(back["proposal"]["dialogues"]["totalCount"], 1);
    let of_authority = app
        .ok(
            "{ authority(slug: \"esf-radet\") { dialogues { totalCount nodes { heldOn } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        of_authority["authority"]["dialogues"]["nodes"][0]["heldOn"],
        "2016-04-06"
    );
    let by_id = app
        .ok(
            "query($id: ID!) { dialogue(id: $id) { title } }",
            json!({ "id": created["id"] }),
        )
        .await;
    assert_eq!(by_id["dialogue"]["title"], "Seminarium med ESF-rådet");
}

#[tokio::test]
async fn bad_dialogue_input_is_refused() {
    let app = TestApp::start().await;
    let org = app.organisation("rfhl", "RFHL").await;
    let authority = app.authority("skl", "SKL", None).await;
    let valid = json!({ "title": "Möte", "kind": "MEETING", "status": "PLANNED", "heldOn": "2027-01-10", "summary": "Om handlingsplanen",
        "organisationIds": [org], "authorityIds": [authority] });
    let q = "mutation($input: CreateDialogueInput!) { createDialogue(input: $input) { id } }";
    for (field, value, expected) in [
        ("title", json!(""), "input.title"),
        ("summary", json!("x".repeat(5001)), "input.summary"),
        ("heldOn", json!("1850-01-01"), "input.heldOn"),
        ("heldOn", json!("2101-01-01"), "input.heldOn"),
        ("organisationIds", json!([]), "input.organisationIds"),
        (
            "organisationIds",
            json!([authority]),
            "input.organisationIds",
        ),
        ("authorityIds", json!([org]), "input.authorityIds"),
        (
            "authorityIds",
            json!(["QXV0aG9yaXR5OjAxOTAwMDAwLTAwMDAtNzAwMC04MDAwLTAwMDAwMDAwMDAwMA"]),
            "input.authorityIds",
        ),
        ("proposalIds", json!(["nonsense"]), "input.proposalIds"),
    ] {
        let mut input = valid.clone();
        input[field] = value;
        let error = app.err(q, json!({ "input": input })).await;
        assert_code(&error, "BAD_USER_INPUT", Some(expected));
    }
    let count = app.ok("{ dialogues { totalCount } }", json!({})).await;
    assert_eq!(count["dialogues"]["totalCount"], 0);
}

#[tokio::test]
async fn update_replaces_given_lists_and_checks_the_version() {
    let app = TestApp::start().await;
    let a = app.organisation("verdandi", "Verdandi").await;
    let b = app.organisation("visir", "Visir").await;
    let ams = app.authority("ams", "AMS", None).await;
    let id = app
        .dialogue("Möte med AMS", "2008-03-01", &[&a], &[&ams], "PUBLIC")
        .await;
    let updated = app
        .ok(UPDATE, json!({ "input": { "id": id, "expectedVersion": 1, "status": "FOLLOW_UP", "outcome": "Nytt möte i maj", "organisationIds": [b] } }))
        .await["updateDialogue"]
        .clone();
    assert_eq!(updated["status"], "FOLLOW_UP");
    assert_eq!(updated["organisations"], json!([{ "slug": "visir" }]));
    assert_eq!(
        updated["authorities"],
        json!([{ "slug": "ams" }]),
        "lists not given are kept"
    );
    assert_eq!(updated["version"], 2);
    let error = app
        .err(
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "title": "Stale" } }),
        )
        .await;
    assert_code(&error, "CONFLICT", None);
    let cleared = app
        .ok(
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 2, "outcome": null } }),
        )
        .await;
    assert!(cleared["updateDialogue"]["outcome"].is_null());
}

/// Titles of a nested dialogue page, latest first.
fn titles(connection: &serde_json::Value) -> Vec<&str> {
    connection["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["title"].as_str().expect("title"))
        .collect()
}

#[tokio::test]
async fn every_participant_lists_its_dialogues_by_their_current_date() {
    let app = TestApp::start().await;
    let a = app.organisation("verdandi", "Verdandi").await;
    let b = app.organisation("visir", "Visir").await;
    let ams = app.authority("ams", "AMS", None).await;
    let proposal = app.proposal("Fler vägar in", &a, "PUBLIC").await;
    let january = app
        .dialogue("Januari", "2020-01-15", &[&a], &[&ams], "PUBLIC")
        .await;
    let march = app
        .dialogue("Mars", "2020-03-10", &[&a, &b], &[&ams], "PUBLIC")
        .await;
    let february = app
        .dialogue("Februari", "2020-02-01", &[&a], &[&ams], "PUBLIC")
        .await;
    app.dialogue("Hemligt", "2021-06-01", &[&a], &[&ams], "NETWORK")
        .await;
    const LISTS: &str = "query($proposal: ID!) {
        a: organisation(slug: \"verdandi\") { dialogues(first: 2) { nodes { title } pageInfo { hasNextPage endCursor } } }
        b: organisation(slug: \"visir\") { dialogues(first: 2) { nodes { title } } }
        ams: authority(slug: \"ams\") { dialogues(first: 2) { nodes { title } } }
        proposal(id: $proposal) { dialogues(first: 2) { nodes { title } } } }";
    let vars = json!({ "proposal": proposal });
    let (_, anonymous) = app.post_as(&Caller::Anonymous, LISTS, vars.clone()).await;
    let anonymous = &anonymous["data"];
    assert_eq!(
        titles(&anonymous["a"]["dialogues"]),
        ["Mars", "Februari"],
        "a dialogue the caller may not read takes no place in the page"
    );
    assert_eq!(anonymous["a"]["dialogues"]["pageInfo"]["hasNextPage"], true);
    let after = anonymous["a"]["dialogues"]["pageInfo"]["endCursor"].clone();
    let rest = app
        .post_as(
            &Caller::Anonymous,
            "query($after: String) { organisation(slug: \"verdandi\") { dialogues(first: 5, after: $after) { nodes { title } } } }",
            json!({ "after": after }),
        )
        .await
        .1;
    assert_eq!(
        titles(&rest["data"]["organisation"]["dialogues"]),
        ["Januari"]
    );

    // January moves to 2021, March leaves Verdandi, February is tied to the proposal.
    app.ok(
        UPDATE,
        json!({ "input": { "id": january, "expectedVersion": 1, "heldOn": "2021-01-01" } }),
    )
    .await;
    app.ok(
        UPDATE,
        json!({ "input": { "id": march, "expectedVersion": 1, "organisationIds": [b] } }),
    )
    .await;
    app.ok(
        UPDATE,
        json!({ "input": { "id": february, "expectedVersion": 1, "proposalIds": [proposal] } }),
    )
    .await;
    let lists = app.ok(LISTS, vars.clone()).await;
    assert_eq!(titles(&lists["a"]["dialogues"]), ["Hemligt", "Januari"]);
    assert_eq!(titles(&lists["b"]["dialogues"]), ["Mars"]);
    assert_eq!(titles(&lists["ams"]["dialogues"]), ["Hemligt", "Januari"]);
    assert_eq!(titles(&lists["proposal"]["dialogues"]), ["Februari"]);
    app.ok(
        UPDATE,
        json!({ "input": { "id": february, "expectedVersion": 2, "heldOn": "2022-01-01" } }),
    )
    .await;
    let lists = app.ok(LISTS, vars).await;
    assert_eq!(titles(&lists["a"]["dialogues"]), ["Februari", "Hemligt"]);
    assert_eq!(titles(&lists["ams"]["dialogues"]), ["Februari", "Hemligt"]);
    assert_eq!(titles(&lists["proposal"]["dialogues"]), ["Februari"]);
}

#[tokio::test]
async fn deleting_a_dialogue_frees_its_participants() {
    let app = TestApp::start().await;
    let org = app.organisation("urkraft", "Föreningen Urkraft").await;
    let kommun = app.authority("stockholm-kommun", "Stockholm", None).await;
    let id = app
        .dialogue(
            "Lokal samverkan",
            "2009-02-02",
            &[&org],
            &[&kommun],
            "PUBLIC",
        )
        .await;
    let deleted = app
        .ok(
            "mutation($id: ID!) { deleteDialogue(input: { id: $id }) { title } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(deleted["deleteDialogue"]["title"], "Lokal samverkan");
    let gone = app
        .ok(
            "query($id: ID!) { dialogue(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert!(gone["dialogue"].is_null());
    app.ok(
        "mutation($id: ID!) { deleteOrganisation(input: { id: $id }) { slug } }",
        json!({ "id": org }),
    )
    .await;
    app.ok(
        "mutation($id: ID!) { deleteAuthority(input: { id: $id }) { slug } }",
        json!({ "id": kommun }),
    )
    .await;
}

#[tokio::test]
async fn filters_by_every_field() {
    let app = TestApp::start().await;
    let a = app.organisation("coompanion", "Coompanion").await;
    let b = app.organisation("koopi", "Koopi").await;
    let x = app
        .authority("socialdepartementet", "Socialdepartementet", None)
        .await;
    let y = app.authority("skl", "SKL", None).await;
    let p = app.proposal("Handlingsplanen", &a, "PUBLIC").await;
    let d1 = app
        .dialogue(
            "Möte om handlingsplanen",
            "2008-01-10",
            &[&a],
            &[&x],
            "PUBLIC",
        )
        .await;
    app.dialogue("Brev till SKL", "2008-06-10", &[&b], &[&y], "PUBLIC")
        .await;
    app.dialogue("Seminarium", "2009-01-10", &[&a, &b], &[&x, &y], "PUBLIC")
        .await;
    app.ok(UPDATE, json!({ "input": { "id": d1, "expectedVersion": 1, "proposalIds": [p], "status": "CLOSED", "outcome": "Remissvar skickat" } }))
        .await;
    app.ok(
        "mutation($id: ID!) { updateDialogue(input: { id: $id, expectedVersion: 2, kind: LETTER }) { id } }",
        json!({ "id": d1 }),
    )
    .await;
    let q = "query($f: DialogueFilter) { dialogues(filter: $f) { totalCount nodes { title } } }";
    let titles = |data: serde_json::Value| -> Vec<String> {
        data["dialogues"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["title"].as_str().expect("title").to_owned())
            .collect()
    };
    assert_eq!(
        titles(app.ok(q, json!({ "f": { "organisationId": b } })).await),
        ["Seminarium", "Brev till SKL"],
        "latest first"
    );
    assert_eq!(
        titles(app.ok(q, json!({ "f": { "authorityId": x } })).await),
        ["Seminarium", "Möte om handlingsplanen"]
    );
    assert_eq!(
        titles(app.ok(q, json!({ "f": { "proposalId": p } })).await),
        ["Möte om handlingsplanen"]
    );
    assert_eq!(
        titles(app.ok(q, json!({ "f": { "status": "CLOSED" } })).await),
        ["Möte om handlingsplanen"]
    );
    assert_eq!(
        titles(app.ok(q, json!({ "f": { "kind": "LETTER" } })).await),
        ["Möte om handlingsplanen"]
    );
    assert_eq!(
        titles(
            app.ok(
                q,
                json!({ "f": { "heldFrom": "2008-06-10", "heldTo": "2008-12-31" } })
            )
            .await
        ),
        ["Brev till SKL"]
    );
    assert_eq!(
        titles(app.ok(q, json!({ "f": { "text": "remissvar" } })).await),
        ["Möte om handlingsplanen"],
        "outcome is searched"
    );
    assert_eq!(
        titles(
            app.ok(q, json!({ "f": { "organisationId": a, "authorityId": y } }))
                .await
        ),
        ["Seminarium"]
    );
    let error = app
        .err(
            q,
            json!({ "f": { "heldFrom": "2009-01-01", "heldTo": "2008-01-01" } }),
        )
        .await;
    assert_code(&error, "BAD_USER_INPUT", Some("filter.heldTo"));
    let error = app.err(q, json!({ "f": { "organisationId": x } })).await;
    assert_code(&error, "BAD_USER_INPUT", Some("filter.organisationId"));
}

#[tokio::test]
async fn a_value_that_cannot_be_read_says_where_it_is_and_how_to_write_it() {
    let app = TestApp::start().await;
    let date = "expected a date written as YYYY-MM-DD, such as 2026-11-20";
    let create = "mutation($input: CreateDialogueInput!) { createDialogue(input: $input) { id } }";
    for (query, variables, field, said) in [
        (
            "{ dialogues(filter: { heldFrom: \"2026-13-45\" }) { totalCount } }",
            json!({}),
            "filter.heldFrom",
            date,
        ),
        (
            "query($d: Date) { dialogues(filter: { heldFrom: $d }) { totalCount } }",
            json!({ "d": "2026-02-30" }),
            "filter.heldFrom",
            date,
        ),
        (
            create,
            json!({ "input": { "title": "t", "kind": "MEETING", "status": "HELD", "heldOn": "30/11/2026", "summary": "s", "organisationIds": [] } }),
            "input.heldOn",
            date,
        ),
        (
            "{ dialogues(filter: { kind: TEA_PARTY }) { totalCount } }",
            json!({}),
            "filter.kind",
            "enumeration type \"DialogueKind\" does not contain the value \"TEA_PARTY\"",
        ),
        (
            "{ dialogues(first: \"many\") { totalCount } }",
            json!({}),
            "first",
            "expected type \"Int\"",
        ),
    ] {
        let response = app.post(query, variables).await;
        let errors = response["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "one error for one bad value: {response}");
        assert_code(&errors[0], "BAD_USER_INPUT", Some(field));
        let message = errors[0]["message"].as_str().unwrap_or_default();
        assert_eq!(message, format!("{field}: {said}"));
        assert!(
            !message.contains("NaiveDate") && !message.contains("Failed to parse"),
            "{message}"
        );
    }
    // Two bad values: one error each, each naming its own.
    let response = app
        .post(
            "{ dialogues(last: \"x\", filter: { heldTo: \"soon\" }) { totalCount } }",
            json!({}),
        )
        .await;
    let mut fields: Vec<String> = response["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| format!("{} | {}", e["extensions"]["field"], e["message"]))
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            format!("\"filter.heldTo\" | \"filter.heldTo: {date}\""),
            "\"last\" | \"last: expected type \\\"Int\\\"\"".to_owned(),
        ],
        "{response}"
    );
}

/// The authority slugs of each dialogue on an organisation's first page of dialogues.
async fn authorities_on_page(app: &TestApp, organisation: &str) -> serde_json::Value {
    let page = app
        .ok(
            "query($slug: String!) { organisation(slug: $slug) { dialogues { nodes { authorities { slug } } } } }",
            json!({ "slug": organisation }),
        )
        .await;
    page["organisation"]["dialogues"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|node| node["authorities"].clone())
        .collect()
}

#[tokio::test]
async fn a_dialogues_authorities_follow_its_writes_in_swedish_order() {
    let app = TestApp::start().await;
    let org = app.organisation("skyddsvarnet", "Skyddsvärnet").await;
    let ale = app.authority("ale", "Ale kommun", None).await;
    let vanersborg = app
        .authority("vanersborg", "Vänersborgs kommun", None)
        .await;
    let vargarda = app.authority("vargarda", "Vårgårda kommun", None).await;
    let created = app
        .ok(
            "mutation($input: CreateDialogueInput!) { createDialogue(input: $input) { id authorities { slug } } }",
            json!({ "input": { "title": "Samråd", "kind": "MEETING", "status": "HELD", "heldOn": "2026-10-01",
                "summary": "Om försörjningsstöd", "visibility": "PUBLIC", "organisationIds": [org],
                "authorityIds": [vanersborg, ale] } }),
        )
        .await["createDialogue"]
        .clone();
    assert_eq!(
        created["authorities"],
        json!([{ "slug": "ale" }, { "slug": "vanersborg" }])
    );
    let id = created["id"].clone();
    let updated = app
        .ok(
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "authorityIds": [vanersborg, vargarda, vargarda] } }),
        )
        .await;
    let expected = json!([{ "slug": "vargarda" }, { "slug": "vanersborg" }]);
    assert_eq!(
        updated["updateDialogue"]["authorities"], expected,
        "å before ä, each once, in the answer to the write"
    );
    assert_eq!(
        authorities_on_page(&app, "skyddsvarnet").await,
        json!([expected.clone()]),
        "and on a page of dialogues"
    );
    let of_ale = app
        .ok(
            "{ authority(slug: \"ale\") { dialogues { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(of_ale["authority"]["dialogues"]["totalCount"], 0);

    let stale = app
        .err(
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 1, "authorityIds": [ale] } }),
        )
        .await;
    assert_code(&stale, "CONFLICT", None);
    let unknown = app
        .err(
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 2, "authorityIds": [ale, org] } }),
        )
        .await;
    assert_code(&unknown, "BAD_USER_INPUT", Some("input.authorityIds"));
    app.ok(
        UPDATE,
        json!({ "input": { "id": id, "expectedVersion": 2, "title": "Samråd om stödet" } }),
    )
    .await;
    assert_eq!(
        authorities_on_page(&app, "skyddsvarnet").await,
        json!([expected]),
        "a refused write and a write without the list leave it as it was"
    );
    let emptied = app
        .ok(
            UPDATE,
            json!({ "input": { "id": id, "expectedVersion": 3, "authorityIds": [] } }),
        )
        .await;
    assert_eq!(emptied["updateDialogue"]["authorities"], json!([]));
    assert_eq!(authorities_on_page(&app, "skyddsvarnet").await, json!([[]]));
}

#[tokio::test]
async fn each_dialogue_names_its_authorities_as_its_links_do_however_written() {
    use migration::MigratorTrait;
    use sea_orm::ConnectionTrait;
    let app = TestApp::start().await;
    let org = app.organisation("verdandi", "Verdandi").await;
    let orebro = app
        .authority("orebro-lan", "Länsstyrelsen i Örebro län", None)
        .await;
    let af = app
        .authority("arbetsformedlingen", "Arbetsförmedlingen", None)
        .await;
    app.dialogue("Möte", "2026-03-01", &[&org], &[&orebro, &af], "PUBLIC")
        .await;
    app.dialogue("Brev", "2026-02-01", &[&org], &[], "PUBLIC")
        .await;
    // Back to the schema before the copy, whose rows do not have it (undoing the
    // migrations since as well), and forward again.
    let since_copy = migration::Migrator::migrations()
        .iter()
        .rev()
        .position(|m| m.name() == "m20261202_000013_dialogue_authority_ids")
        .expect("the copy's migration")
        + 1;
    migration::Migrator::down(&app.db, Some(u32::try_from(since_copy).expect("count")))
        .await
        .expect("down");
    migration::Migrator::up(&app.db, None).await.expect("up");
    assert_eq!(
        authorities_on_page(&app, "verdandi").await,
        json!([
            [{ "slug": "arbetsformedlingen" }, { "slug": "orebro-lan" }],
            []
        ]),
        "migrated"
    );
    // Links written past the API, as a server of an older release or a hand-written
    // statement would write them.
    app.db
        .execute_unprepared(
            "INSERT INTO dialogue_authorities (dialogue_id, authority_id, held_on) \
             SELECT d.id, a.id, d.held_on FROM dialogues d, authorities a \
             WHERE d.title = 'Brev' AND a.slug = 'orebro-lan'",
        )
        .await
        .expect("insert a link");
    app.db
        .execute_unprepared(
            "DELETE FROM dialogue_authorities WHERE authority_id = \
             (SELECT id FROM authorities WHERE slug = 'arbetsformedlingen')",
        )
        .await
        .expect("delete a link");
    assert_eq!(
        authorities_on_page(&app, "verdandi").await,
        json!([[{ "slug": "orebro-lan" }], [{ "slug": "orebro-lan" }]]),
        "written past the API"
    );
    app.db
        .execute_unprepared(
            "UPDATE dialogue_authorities SET authority_id = \
             (SELECT id FROM authorities WHERE slug = 'arbetsformedlingen') \
             WHERE dialogue_id = (SELECT id FROM dialogues WHERE title = 'Brev')",
        )
        .await
        .expect("move a link");
    assert_eq!(
        authorities_on_page(&app, "verdandi").await,
        json!([[{ "slug": "orebro-lan" }], [{ "slug": "arbetsformedlingen" }]]),
        "moved past the API"
    );
}

/// Dates read back as written across the range a dialogue may have, on each engine's own
/// encoding of them (PostgreSQL's day from 2000-01-01, SQLite's text), through a page of
/// dialogues and through one dialogue.
#[tokio::test]
async fn dates_read_back_as_written_from_1900_to_2100() {
    let app = TestApp::start().await;
    let org = app.organisation("rfhl", "RFHL").await;
    let days = [
        "1900-01-01",
        "1900-03-01",
        "1999-12-31",
        "2000-01-01",
        "2000-02-29",
        "2000-03-01",
        "2024-02-29",
        "2100-12-31",
    ];
    for day in days {
        let id = app
            .dialogue(&format!("Möte {day}"), day, &[&org], &[], "PUBLIC")
            .await;
        let one = app
            .ok(
                "query($id: ID!) { node(id: $id) { ... on Dialogue { heldOn } } }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(one["node"]["heldOn"], day);
    }
    let page = app
        .ok("{ dialogues(first: 20, orderBy: { field: HELD_ON, direction: ASC }) { nodes { heldOn } } }", json!({}))
        .await;
    let read: Vec<&str> = page["dialogues"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|node| node["heldOn"].as_str())
        .collect();
    assert_eq!(read, days);
}
