//! The embeddable widget: `GET /embed/samverkan.js`, a dependency-free web component
//! (`<samverkan-feed>`) that shows the network's dialogues, proposals and goal progress on
//! a partner's page. Its documents are registered persisted queries ([`documents`]), so
//! its requests are GETs of a hash that browsers and CDNs cache.

use axum::http::HeaderMap;
use axum::response::Response;
use std::sync::OnceLock;

/// The widget's documents: (what the feed shows, the operation).
const DOCUMENTS: [(&str, &str); 4] = [
    (
        "network",
        "query SamverkanNetworkFeed { dialogues(first: 5) { nodes { id title kind heldOn authorities { name } } } proposals(first: 5) { nodes { id title status } } goals(first: 10) { nodes { slug title progress { current target reached } } } }",
    ),
    (
        "organisation",
        "query SamverkanOrganisationFeed($slug: String!) { organisation(slug: $slug) { name dialogues(first: 5) { nodes { id title kind heldOn authorities { name } } } proposals(first: 5) { nodes { id title status } } } }",
    ),
    (
        "authority",
        "query SamverkanAuthorityFeed($slug: String!) { authority(slug: $slug) { name dialogues(first: 5) { nodes { id title kind heldOn organisations { name } } } } }",
    ),
    (
        "goal",
        "query SamverkanGoalFeed($slug: String!) { goal(slug: $slug) { slug title description progress { current target reached } } }",
    ),
];

/// The widget's documents, for the server to register as persisted queries.
pub fn documents() -> impl Iterator<Item = String> {
    DOCUMENTS.iter().map(|(_, text)| (*text).to_owned())
}

/// The script, with its documents' operation names and hashes filled in, and its ETag.
fn script() -> &'static super::Asset {
    static SCRIPT: OnceLock<super::Asset> = OnceLock::new();
    SCRIPT.get_or_init(|| {
        let documents: serde_json::Map<String, serde_json::Value> = DOCUMENTS
            .iter()
            .map(|(kind, text)| {
                let name = text
                    .strip_prefix("query ")
                    .and_then(|rest| rest.split(['(', ' ']).next())
                    .unwrap_or_default();
                let hash = crate::auth::secrets::sha256_hex(text.as_bytes());
                (
                    (*kind).to_owned(),
                    serde_json::json!({ "name": name, "hash": hash }),
                )
            })
            .collect();
        let source = include_str!("embed/samverkan.js").replace(
            "/*DOCUMENTS*/ {}",
            &serde_json::Value::Object(documents).to_string(),
        );
        super::Asset::new(source, "text/javascript; charset=utf-8")
    })
}

/// `GET /embed/samverkan.js`.
pub async fn samverkan_js(headers: HeaderMap) -> Response {
    script().answer(&headers)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_document_is_filled_in_with_its_operation_name() {
        let script = &super::script().body;
        assert!(!script.contains("/*DOCUMENTS*/"));
        for name in [
            "SamverkanNetworkFeed",
            "SamverkanOrganisationFeed",
            "SamverkanAuthorityFeed",
            "SamverkanGoalFeed",
        ] {
            assert!(script.contains(&format!("\"name\":\"{name}\"")), "{name}");
        }
    }
}
