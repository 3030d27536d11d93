//! The GraphQL schema: types, resolvers and loaders, assembled by [`build_schema`].

pub mod account;
pub mod authority;
pub mod checks;
pub mod compiled;
pub mod connection;
pub mod cooperation;
pub mod cost;
pub mod dialogue;
pub mod direct;
pub mod documents;
pub mod endpoint;
pub mod enums;
pub mod error;
pub mod evidence;
pub mod goal;
pub mod group;
pub mod ids;
pub mod json;
pub mod loaders;
pub mod ordering;
pub mod organisation;
pub mod persisted;
pub mod prepared;
pub mod proposal;
pub mod query;
pub mod responses;
pub mod scalars;
pub mod search;
pub mod statistics;
pub mod subscription;
pub mod theme;
pub mod webhook;
pub mod websocket;

use async_graphql::{MergedObject, Schema};

/// Every query: the network's record and accounts.
#[derive(MergedObject, Default)]
pub struct Query(
    query::RecordQuery,
    account::AccountQuery,
    webhook::WebhookQuery,
    search::SearchQuery,
    // The engine asks the last member first.
    prepared::Capture,
);

/// Every mutation: the network's record and accounts.
#[derive(MergedObject, Default)]
pub struct Mutation(
    organisation::OrganisationMutation,
    authority::AuthorityMutation,
    dialogue::DialogueMutation,
    proposal::ProposalMutation,
    theme::ThemeMutation,
    evidence::EvidenceMutation,
    cooperation::CooperationMutation,
    goal::GoalMutation,
    account::AccountMutation,
    webhook::WebhookMutation,
);

/// The schema type served at `/graphql`.
pub type SamverkanSchema = Schema<Query, Mutation, subscription::Subscription>;

/// Builds the schema. It needs no database: the connection, the caller and the loaders are
/// attached per request ([`loaders::attach`]), so the same function serves the server, the
/// tests and `samverkan schema`.
pub fn build_schema() -> SamverkanSchema {
    Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
    )
    .finish()
}

/// The schemas as served: field suggestions only for callers who are not anonymous,
/// introspection as configured.
pub struct Schemas {
    /// Checks every request: validation, and the cost guard. Subscriptions also run on it.
    pub checks: SamverkanSchema,
    /// Runs the queries and mutations that `checks` passed, without extensions, so that its
    /// fields resolve on async-graphql's direct path ([`cost`] says why). Its validation is
    /// the fast one: the document was validated in full by `checks`.
    pub runs: SamverkanSchema,
    /// Runs on `runs` the documents that need no preparation.
    pub prepared: prepared::Prepared,
}

/// Builds [`Schemas`] with these settings and budgets; `extra` is one more extension on
/// both (tests use it).
pub fn schema_with(
    suggestions: bool,
    introspection: bool,
    limits: std::sync::Arc<crate::limits::Limits>,
    limiter: std::sync::Arc<crate::limits::RateLimiter>,
    extra: Option<std::sync::Arc<dyn async_graphql::extensions::ExtensionFactory>>,
) -> Schemas {
    let schema = |mode: async_graphql::ValidationMode| {
        let mut builder = Schema::build(
            Query::default(),
            Mutation::default(),
            subscription::Subscription,
        )
        .validation_mode(mode)
        .limit_depth(limits.max_depth)
        .limit_recursive_depth(limits.max_nesting);
        if !suggestions {
            builder = builder.disable_suggestions();
        }
        if !introspection {
            builder = builder.disable_introspection();
        }
        builder
    };
    let mut checks = schema(async_graphql::ValidationMode::Strict).extension(cost::CostGuard {
        limits: limits.clone(),
        limiter: limiter.clone(),
    });
    let mut runs = schema(async_graphql::ValidationMode::Fast);
    let mut prepared = prepared::Prepared::default();
    if let Some(extra) = extra {
        checks = checks.extension(Shared(extra.clone()));
        runs = runs.extension(Shared(extra));
    } else {
        runs = runs.data(direct::Allowed);
        prepared = prepared::Prepared::enabled();
    }
    Schemas {
        checks: checks.finish(),
        runs: runs.finish(),
        prepared,
    }
}

/// An extension factory shared between the two schemas.
struct Shared(std::sync::Arc<dyn async_graphql::extensions::ExtensionFactory>);

impl async_graphql::extensions::ExtensionFactory for Shared {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        self.0.create()
    }
}

/// The schema in SDL, as committed in `schema.graphql`.
pub fn sdl() -> String {
    build_schema().sdl_with_options(async_graphql::SDLExportOptions::new().include_specified_by())
}

/// Compares a committed SDL file with the schema the code builds.
///
/// # Errors
/// A message saying how to fix the file, or why it cannot be read.
pub fn check_sdl(path: &std::path::Path) -> Result<(), String> {
    let committed = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if committed == sdl() {
        Ok(())
    } else {
        Err(format!(
            "{} differs from the schema in the code; run `samverkan schema > {}`",
            path.display(),
            path.display()
        ))
    }
}
