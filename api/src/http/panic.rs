//! A panic anywhere in the stack becomes a clean INTERNAL error instead of a dropped
//! connection; the panic's message goes to the log with the request id, never to the
//! client. A panicking resolver is answered by the GraphQL endpoint itself, like any other
//! GraphQL error (see `graphql::endpoint`); this is the backstop for everything else.

use crate::error::current_request_id;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use std::any::Any;
use tower_http::catch_panic::CatchPanicLayer;

/// What answers a panic.
type Answer = fn(Box<dyn Any + Send>) -> Response<String>;

/// The layer.
pub fn layer() -> CatchPanicLayer<Answer> {
    CatchPanicLayer::custom(answer as Answer)
}

fn answer(panic: Box<dyn Any + Send>) -> Response<String> {
    let request_id = current_request_id();
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(%request_id, panic = message, "internal error: a handler panicked");
    let body = serde_json::json!({ "errors": [{
        "message": format!("internal error (request id {request_id})"),
        "extensions": { "code": "INTERNAL", "requestId": request_id },
    }] });
    let mut response = Response::new(body.to_string());
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request_id;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::{ServiceBuilder, ServiceExt};

    #[tokio::test]
    async fn a_panic_is_a_clean_internal_error_quoting_the_request_id() {
        let router: Router = Router::new()
            .route(
                "/boom",
                get(|| async {
                    if true {
                        panic!("bug at src/somewhere.rs:1");
                    }
                    "unreachable"
                }),
            )
            .layer(
                ServiceBuilder::new()
                    .layer(request_id::forget_client_id())
                    .layer(request_id::set())
                    .layer(request_id::propagate())
                    .layer(request_id::ScopeLayer)
                    .layer(layer()),
            );
        let request = axum::http::Request::get("/boom")
            .header("x-request-id", "chosen-by-the-client")
            .body(Body::empty())
            .expect("request");
        let response = router.oneshot(request).await.expect("infallible");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let id = response.headers()["x-request-id"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert_ne!(id, "chosen-by-the-client", "the server makes its own id");
        assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let body: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "INTERNAL");
        assert_eq!(error["extensions"]["requestId"], id.as_str());
        assert!(!body.to_string().contains("somewhere"), "{body}");
    }
}
