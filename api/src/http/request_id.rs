//! Every request gets an id of the server's making (a UUIDv7): in the `x-request-id`
//! response header, in the log, and in the message of an internal error, so that a client's
//! report leads to the log line.
//!
//! tower-http's layers set and propagate the header. An id the client sends is dropped
//! first: tower-http would keep it, and then two requests could share an id or a client
//! could choose the text of our log's key. One small layer of our own makes the id the
//! request's [`crate::error::REQUEST_ID`] while everything below runs.

use crate::error::REQUEST_ID;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use std::task::{Context, Poll};
use tokio::task::futures::TaskLocalFuture;
use tower::util::MapRequestLayer;
use tower::{Layer, Service};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};

/// The header, in requests (made here) and responses.
const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Drops the client's id, so that [`SetRequestIdLayer`] makes one.
pub fn forget_client_id() -> MapRequestLayer<fn(Request) -> Request> {
    MapRequestLayer::new(without_id as fn(Request) -> Request)
}

fn without_id(mut request: Request) -> Request {
    request.headers_mut().remove(X_REQUEST_ID);
    request
}

/// Makes an id for each request.
pub fn set() -> SetRequestIdLayer<ServerId> {
    SetRequestIdLayer::new(X_REQUEST_ID, ServerId)
}

/// Copies the id into the response.
pub fn propagate() -> PropagateRequestIdLayer {
    PropagateRequestIdLayer::new(X_REQUEST_ID)
}

/// A time-ordered UUID per request, as the log sorts.
#[derive(Clone, Copy)]
pub struct ServerId;

impl MakeRequestId for ServerId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(RequestId::new)
    }
}

/// Runs the rest of the stack with the request's id as [`REQUEST_ID`].
#[derive(Clone, Copy)]
pub struct ScopeLayer;

impl<S> Layer<S> for ScopeLayer {
    type Service = Scope<S>;

    fn layer(&self, inner: S) -> Scope<S> {
        Scope(inner)
    }
}

/// See [`ScopeLayer`].
#[derive(Clone)]
pub struct Scope<S>(S);

impl<S: Service<Request>> Service<Request> for Scope<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = TaskLocalFuture<String, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let id = request
            .extensions()
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or("-")
            .to_owned();
        REQUEST_ID.scope(id, self.0.call(request))
    }
}
