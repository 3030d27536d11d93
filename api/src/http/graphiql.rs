//! `/graphiql`: GraphiQL served entirely from the binary (pinned published builds, see
//! `graphiql/README.md` for versions and licences), so that it works offline and under a
//! content security policy that allows only this server.

use super::Asset;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;

/// The page. Every file it names is one of [`FILES`], under `/graphiql/`.
const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Samverkan GraphiQL</title>
  <link rel="stylesheet" href="/graphiql/graphiql.min.css">
  <style>body { margin: 0; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="/graphiql/react.production.min.js"></script>
  <script src="/graphiql/react-dom.production.min.js"></script>
  <script src="/graphiql/graphiql.min.js"></script>
  <script src="/graphiql/start.js"></script>
</body>
</html>
"#;

/// The files the page loads: (name, content type, text).
const FILES: [(&str, &str, &str); 5] = [
    (
        "graphiql.min.css",
        "text/css; charset=utf-8",
        include_str!("graphiql/graphiql.min.css"),
    ),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_str!("graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_str!("graphiql/react-dom.production.min.js"),
    ),
    (
        "graphiql.min.js",
        "text/javascript; charset=utf-8",
        include_str!("graphiql/graphiql.min.js"),
    ),
    (
        "start.js",
        "text/javascript; charset=utf-8",
        include_str!("graphiql/start.js"),
    ),
];

/// Only this server's own scripts; GraphiQL sets styles inline and carries its fonts as
/// data URLs; it talks to `/graphql` only.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src 'self' data:; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn assets() -> &'static Vec<(&'static str, Asset)> {
    static ASSETS: OnceLock<Vec<(&'static str, Asset)>> = OnceLock::new();
    ASSETS.get_or_init(|| {
        FILES
            .iter()
            .map(|(name, content_type, text)| (*name, Asset::new((*text).to_owned(), content_type)))
            .collect()
    })
}

/// `GET /graphiql`.
pub async fn page(headers: HeaderMap) -> Response {
    static PAGE_ASSET: OnceLock<Asset> = OnceLock::new();
    let mut response = PAGE_ASSET
        .get_or_init(|| Asset::new(PAGE.to_owned(), "text/html; charset=utf-8"))
        .answer(&headers);
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    response
}

/// `GET /graphiql/{file}`.
pub async fn file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match assets().iter().find(|(file, _)| *file == name) {
        Some((_, asset)) => asset.answer(&headers),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
