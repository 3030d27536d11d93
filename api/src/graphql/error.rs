//! The one place that maps a domain error to a GraphQL error with `extensions.code`.
//! Database and other internal errors are logged with the request id and reach the client
//! only as INTERNAL with that id.

use crate::error::{AppError, current_request_id};
use async_graphql::ErrorExtensions;

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        let code = error.code();
        match &error {
            AppError::Internal(source) => {
                let request_id = current_request_id();
                tracing::error!(%request_id, error = %source, debug = ?source, "internal error");
                async_graphql::Error::new(format!("internal error (request id {request_id})"))
                    .extend_with(|_, e| {
                        e.set("code", code);
                        e.set("requestId", request_id.clone());
                    })
            }
            AppError::BadUserInput { field, message } => async_graphql::Error::new(message.clone())
                .extend_with(|_, e| {
                    e.set("code", code);
                    e.set("field", field.clone());
                }),
            _ => async_graphql::Error::new(error.message()).extend_with(|_, e| e.set("code", code)),
        }
    }
}

/// `error` as an error of the whole request (no position, no path), with its extensions:
/// for refusals and failures outside any field.
pub fn request_error(error: async_graphql::Error) -> async_graphql::ServerError {
    let mut request_error = async_graphql::ServerError::new(error.message, None);
    request_error.extensions = error.extensions;
    request_error
}
