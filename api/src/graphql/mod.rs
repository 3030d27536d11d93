//! The GraphQL schema: types, resolvers and loaders, assembled by [`build_schema`].

pub mod loaders;
pub mod mutation;
pub mod query;
pub mod types;

use async_graphql::{EmptySubscription, Schema};

/// The schema type served at `/graphql`.
pub type SamverkanSchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// Builds the schema. It needs no database: the connection, the caller and the loaders are
/// attached per request ([`loaders::attach`]), so the same function serves the server, the
/// tests and `samverkan schema`.
pub fn build_schema() -> SamverkanSchema {
    Schema::build(query::Query, mutation::Mutation, EmptySubscription).finish()
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema().sdl()
}
