//! The HTTP surface: `/graphql` (POST, and GET for queries only), `/graphiql`,
//! `/healthz` and `/readyz`.

use crate::auth::Principal;
use crate::auth::jwt::Keys;
use crate::auth::request::{self, Credentials};
use crate::error::AppError;
use crate::error::REQUEST_ID;
use crate::graphql::{SamverkanSchema, build_schema, loaders};
use async_graphql::http::GraphiQLSource;
use async_graphql_axum::rejection::GraphQLRejection;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    schema: SamverkanSchema,
    db: DatabaseConnection,
    keys: Keys,
}

/// The router of the service over a connected, migrated database, signing access tokens
/// with `keys`.
pub fn router(db: DatabaseConnection, keys: Keys) -> Router {
    let state = AppState {
        schema: build_schema(),
        db,
        keys,
    };
    Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .route("/graphiql", get(graphiql))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(state)
}

/// The caller of a request, from its headers.
async fn principal(state: &AppState, headers: &HeaderMap) -> Result<Principal, AppError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let credentials = Credentials {
        authorization: header("authorization"),
        api_key: header("x-api-key"),
        origin: header("origin"),
    };
    request::principal(&state.db, &state.keys, credentials).await
}

/// A credential that does not work is refused outright (401, or 403 for a partner token
/// used from a foreign origin) rather than treated as anonymous, so the client knows.
fn refused(error: AppError) -> Response {
    let status = if error.code() == "FORBIDDEN" {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNAUTHORIZED
    };
    let error = async_graphql::Error::from(error);
    let body = serde_json::json!({ "errors": [{ "message": error.message, "extensions": error.extensions }] });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert("www-authenticate", HeaderValue::from_static("Bearer"));
    }
    response
}

async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
) -> Response {
    let request_id = uuid::Uuid::now_v7().to_string();
    let mut response = REQUEST_ID
        .scope(request_id.clone(), async {
            match principal(state, headers).await {
                Ok(principal) => {
                    let request = loaders::attach(request, &state.db, &state.keys, principal);
                    GraphQLResponse::from(state.schema.execute(request).await).into_response()
                }
                Err(error) => refused(error),
            }
        })
        .await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    match request {
        Ok(request) => execute(&state, &headers, request.into_inner()).await,
        // A body that is not one GraphQL request (bad JSON, a batch: batching is off) is
        // refused before anything runs, without echoing parser details.
        Err(_) => error(
            StatusCode::BAD_REQUEST,
            "the body must be one GraphQL request as JSON: {\"query\": ..., \"variables\": {...}}",
        ),
    }
}

/// GET runs queries only: a mutation must not be triggered by a link or an image tag.
async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<GetParams>,
) -> Response {
    let variables = match params
        .variables
        .as_deref()
        .map(serde_json::from_str::<async_graphql::Variables>)
    {
        None => async_graphql::Variables::default(),
        Some(Ok(variables)) => variables,
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "variables must be a JSON object"),
    };
    let Some(query) = params.query else {
        return error(StatusCode::BAD_REQUEST, "missing query parameter");
    };
    if let Ok(document) = async_graphql::parser::parse_query(&query) {
        let is_mutation = document.operations.iter().any(|(name, op)| {
            let selected = params
                .operation_name
                .as_deref()
                .is_none_or(|wanted| name.is_some_and(|n| n.as_str() == wanted));
            selected && op.node.ty == async_graphql::parser::types::OperationType::Mutation
        });
        if is_mutation {
            let mut response = error(
                StatusCode::METHOD_NOT_ALLOWED,
                "mutations must be sent with POST",
            );
            response
                .headers_mut()
                .insert("allow", HeaderValue::from_static("POST"));
            return response;
        }
    }
    let mut request = async_graphql::Request::new(query).variables(variables);
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    execute(&state, &headers, request).await
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    query: Option<String>,
    variables: Option<String>,
    operation_name: Option<String>,
}

fn error(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": "BAD_REQUEST" } }] });
    (status, Json(body)).into_response()
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("Samverkan")
            .finish(),
    )
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(error) => {
            tracing::warn!(%error, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
