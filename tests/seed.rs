//! The demo network: the source documents' organisations and authorities, and every
//! Swedish region and municipality.

use samverkan_tests::TestApp;
use serde_json::json;

#[tokio::test]
async fn demo_network_is_complete() {
    let app = TestApp::with_demo().await;
    let counts = app
        .ok(
            "{ municipalities: authorities(filter: { kind: MUNICIPALITY }) { totalCount }
               regions: authorities(filter: { kind: REGION }) { totalCount }
               organisations { totalCount }
               committees: authorities(filter: { kind: PARLIAMENTARY_COMMITTEE }) { nodes { parent { slug } } } }",
            json!({}),
        )
        .await;
    assert_eq!(counts["municipalities"]["totalCount"], 290);
    assert_eq!(counts["regions"]["totalCount"], 21);
    assert!(
        counts["organisations"]["totalCount"]
            .as_i64()
            .is_some_and(|n| n >= 17)
    );
    let committees = counts["committees"]["nodes"]
        .as_array()
        .expect("committees");
    assert!(committees.len() >= 5);
    assert!(
        committees
            .iter()
            .all(|c| c["parent"]["slug"] == "riksdagen")
    );
    let goteborg = app
        .ok(
            "{ authority(slug: \"goteborg-kommun\") { code level parent { slug kind } } }",
            json!({}),
        )
        .await;
    assert_eq!(goteborg["authority"]["code"], "1480");
    assert_eq!(
        goteborg["authority"]["parent"]["slug"],
        "region-vastra-gotaland"
    );
    let coompanion = app.ok("{ organisation(slug: \"coompanion-stockholm\") { kind dialogues { totalCount } proposals { totalCount } } }", json!({})).await;
    assert_eq!(coompanion["organisation"]["kind"], "COOPERATIVE");
    assert!(
        coompanion["organisation"]["dialogues"]["totalCount"]
            .as_i64()
            .is_some_and(|n| n > 0)
    );
    for slug in [
        "socialdepartementet",
        "arbetsmarknadsdepartementet",
        "integrationsdepartementet",
        "skl",
        "esf-radet",
        "forsakringskassan",
        "socialstyrelsen",
    ] {
        let found = app
            .ok(
                "query($s: String!) { authority(slug: $s) { id } }",
                json!({ "s": slug }),
            )
            .await;
        assert!(!found["authority"].is_null(), "demo lacks {slug}");
    }
    let statuses = app
        .ok(
            "{ proposals(first: 100) { nodes { status history { to } } } }",
            json!({}),
        )
        .await;
    for proposal in statuses["proposals"]["nodes"]
        .as_array()
        .expect("proposals")
    {
        let history = proposal["history"].as_array().expect("history");
        assert_eq!(
            history.last().map(|h| &h["to"]),
            Some(&proposal["status"]),
            "status is the last move"
        );
    }
}

/// At start the server reads on a pool of its own (is the database empty? its signing key),
/// then closes that pool and opens the one it serves with. Closing waits for every
/// connection the pool handed out: those its page reads kept must come back first, or the
/// server never starts.
#[tokio::test]
async fn a_pool_that_read_pages_closes() {
    let app = TestApp::start().await;
    let database =
        samverkan::config::Database::from_value(Some(&app.database_url)).expect("database url");
    let setup = samverkan::db::connect(&database).await.expect("connect");
    samverkan::seed::is_empty(&setup).await.expect("read");
    tokio::time::timeout(
        std::time::Duration::from_secs(5),
        samverkan::db::close(setup),
    )
    .await
    .expect("the pool closes")
    .expect("closed without error");
}
