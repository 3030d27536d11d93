//! The one error type of the domain, with the code and the message a client may see.
//! The GraphQL layer maps it to `extensions.code` in one place (`graphql::error`).

tokio::task_local! {
    /// The id of the HTTP request being served, set by the HTTP layer around execution.
    pub static REQUEST_ID: String;
}

/// Everything a domain function can fail with.
/// It deliberately does not implement `Display`: async-graphql converts any `Display` type
/// into an error without `extensions.code`, so the one conversion in `graphql::error` is
/// the only way out.
#[derive(Debug, Clone)]
pub enum AppError {
    /// The caller must sign in first.
    Unauthenticated,
    /// The caller is known but may not do this.
    Forbidden(String),
    /// The record does not exist or the caller may not see it.
    NotFound(&'static str),
    /// An argument is invalid; `field` is its path in the input, as the client sent it.
    BadUserInput {
        /// Input path of the offending field, such as `input.slug`.
        field: String,
        /// What is wrong with it, for a person to read.
        message: String,
    },
    /// The request conflicts with the current state (stale version, still referenced, taken slug).
    Conflict(String),
    /// The caller has made too many requests.
    RateLimited,
    /// Anything else; the source is logged, never shown.
    Internal(std::sync::Arc<dyn std::error::Error + Send + Sync>),
}

/// Shorthand for domain results.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A BAD_USER_INPUT error naming the field.
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The message a client sees.
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated => "authentication required".to_owned(),
            Self::Forbidden(message) | Self::Conflict(message) => message.clone(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::BadUserInput { message, .. } => message.clone(),
            Self::RateLimited => "rate limit exceeded".to_owned(),
            Self::Internal(_) => "internal error".to_owned(),
        }
    }

    /// The error for an operator (command line, logs): internal causes included.
    pub fn into_report(self) -> Box<dyn std::error::Error> {
        match self {
            Self::Internal(source) => Box::new(std::io::Error::other(source.to_string())),
            other => other.message().into(),
        }
    }

    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::Internal(_) => "INTERNAL",
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(error: sea_orm::DbErr) -> Self {
        crate::db::note_failure(&error);
        Self::Internal(std::sync::Arc::new(error))
    }
}

/// The request id of the current request, or `-` outside one (command line, seeding).
pub fn current_request_id() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "-".to_owned())
}
