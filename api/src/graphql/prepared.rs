//! Documents that need no preparation: a query the checking schema has validated in full,
//! without variables, runs its root fields straight away.
//!
//! `Schema::execute` prepares every request before it resolves anything: it validates the
//! document again (the fast rules still visit every field and compute its depth and
//! complexity), removes the fields that `@skip` and `@include` leave out, and its root type
//! asks the registry on every root field whether the schema has federation entities, a walk
//! over every type. For a document that [`super::documents::Parsed::validated`] says passed
//! validation once, and that has no variables and no directives, none of that can change
//! from one request to the next: it was a seventh of the server's instructions on a small
//! query (W1 in `bench/instructions`).
//!
//! So such a document runs here: the operation, the request's data and the schema's
//! environment make the engine's query environment, and the root fields resolve as the
//! engine would resolve them, concurrently, into the same answer. Everything else (a first
//! request, variables, directives, introspection, a mutation, a schema with extensions)
//! goes to the engine.
//!
//! The engine gives no public way to its schema's environment, so the schema lends it: the
//! query member it asks first, [`Capture`], hands the environment to a request that carries
//! [`Capturing`], once per schema, and answers that request's field itself.

use super::documents::Parsed;
use async_graphql::extensions::Extensions;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::registry::{MetaType, MetaTypeId, Registry};
use async_graphql::resolver_utils::{ContainerType, resolve_container};
use async_graphql::{
    Context, ContextSelectionSet, ObjectType, OutputType, Positioned, QueryEnv, QueryEnvInner,
    Request, Response, SchemaEnv, ServerResult, Value, Variables,
};
use std::any::TypeId;
use std::borrow::Cow;
use std::sync::{Arc, OnceLock, Weak};

/// The schema's environment, as the engine's own requests see it.
struct Environment {
    schema: SchemaEnv,
    /// The schema's extensions: none, or this path is not taken.
    extensions: Extensions,
}

/// Runs the documents of one schema that need no preparation, once it has the schema's
/// environment. Disabled for a schema with extensions: they hook each request, and this
/// path would pass them by.
#[derive(Clone, Default)]
pub struct Prepared {
    environment: Option<Arc<OnceLock<Environment>>>,
}

/// Marks the one request that asks a schema for its environment.
struct Capturing(Weak<OnceLock<Environment>>);

/// The request that asks for the environment: any root field will do, since [`Capture`]
/// answers it before its resolver runs.
const CAPTURE: &str = r#"query { organisation(slug: "") { id } }"#;

impl Prepared {
    /// A runner for a schema without extensions.
    pub fn enabled() -> Self {
        Self {
            environment: Some(Arc::default()),
        }
    }

    /// Runs `request`, whose document is `document`, on `schema`: directly when the
    /// document needs no preparation, by the engine otherwise. The checking schema must
    /// have validated `document` for this request in full.
    ///
    /// A document that a plan covers ([`super::compiled`]) is answered by its plan: then
    /// the answer's `data` is the JSON text returned beside an empty response.
    pub async fn execute(
        &self,
        schema: &super::SamverkanSchema,
        document: &Parsed,
        mut request: Request,
    ) -> (Response, Option<Vec<u8>>) {
        let operation = match &self.environment {
            Some(_) => ready(document, request.operation_name.as_deref()),
            None => None,
        };
        let environment = match (&self.environment, operation) {
            (Some(slot), Some(_)) => environment(slot, schema).await,
            _ => None,
        };
        let (Some(environment), Some((name, operation))) = (environment, operation) else {
            request.set_parsed_query(document.document());
            return (schema.execute(request).await, None);
        };
        if let Some(plan) = document.plan(operation)
            && let Some(data) = plan.run(&request.data).await
        {
            return (Response::new(Value::Null), Some(data));
        }
        let query = QueryEnv::new(QueryEnvInner {
            extensions: environment.extensions.clone(),
            variables: Variables::default(),
            operation_name: name.map(str::to_owned),
            operation: operation.clone(),
            fragments: document.fragments.clone(),
            uploads: Vec::new(),
            session_data: Arc::default(),
            query_data: Arc::new(std::mem::take(&mut request.data)),
            http_headers: Default::default(),
            introspection_mode: request.introspection_mode,
            errors: Default::default(),
        });
        let set = &query.operation.node.selection_set;
        let ctx = query.create_context(&environment.schema, None, set, None);
        // As the engine's `execute_once`: the root fields concurrently, then the errors the
        // fields reported and the headers they set.
        let mut response = match resolve_container(&ctx, &super::Query::default()).await {
            Ok(value) => Response::new(value),
            Err(error) => Response::from_errors(vec![error]),
        };
        if let Ok(mut headers) = query.http_headers.lock() {
            response.http_headers = std::mem::take(&mut *headers);
        }
        if let Ok(mut errors) = query.errors.lock() {
            response.errors.extend(std::mem::take(&mut *errors));
        }
        (response, None)
    }
}

/// The schema's environment: asked for once, by a request of its own.
async fn environment<'a>(
    slot: &'a Arc<OnceLock<Environment>>,
    schema: &super::SamverkanSchema,
) -> Option<&'a Environment> {
    if slot.get().is_none() {
        let asking = Request::new(CAPTURE).data(Capturing(Arc::downgrade(slot)));
        let _ = schema.execute(asking).await;
    }
    slot.get()
}

/// The operation of `document` that a request naming `name` runs, with the operation's
/// name, when it needs no preparation: the document's only operation, a query without variables or directives
/// anywhere, whose root asks for no introspection.
fn ready<'a>(
    document: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<(Option<&'a str>, &'a Positioned<OperationDefinition>)> {
    let (name, operation) = match (&document.operations, name) {
        (DocumentOperations::Single(operation), None) => (None, operation),
        (DocumentOperations::Multiple(operations), _) if operations.len() == 1 => {
            let (named, operation) = operations.iter().next()?;
            if name.is_some_and(|name| name != named.as_str()) {
                return None;
            }
            (Some(named.as_str()), operation)
        }
        _ => return None,
    };
    let root = &operation.node.selection_set.node;
    let plain = operation.node.ty == OperationType::Query
        && operation.node.variable_definitions.is_empty()
        && operation.node.directives.is_empty()
        && undirected(root)
        && document
            .fragments
            .values()
            .all(|fragment| fragment.node.directives.is_empty())
        && document
            .fragments
            .values()
            .all(|fragment| undirected(&fragment.node.selection_set.node))
        && root.items.iter().all(|selection| match &selection.node {
            Selection::Field(field) => !field.node.name.node.starts_with("__"),
            _ => false,
        });
    plain.then_some((name, operation))
}

/// Whether no selection in `set`, at any depth, carries a directive.
fn undirected(set: &SelectionSet) -> bool {
    set.items.iter().all(|selection| match &selection.node {
        Selection::Field(field) => {
            field.node.directives.is_empty() && undirected(&field.node.selection_set.node)
        }
        Selection::FragmentSpread(spread) => spread.node.directives.is_empty(),
        Selection::InlineFragment(inline) => {
            inline.node.directives.is_empty() && undirected(&inline.node.selection_set.node)
        }
    })
}

/// The member of [`super::Query`] that the engine asks first. It has no fields: it only lends the schema's
/// environment to the request that asks for it, and answers that request's field.
#[derive(Default)]
pub struct Capture;

impl ContainerType for Capture {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        let asking = ctx
            .query_env
            .query_data
            .get(&TypeId::of::<Capturing>())
            .and_then(|data| data.downcast_ref::<Capturing>());
        let Some(Capturing(slot)) = asking else {
            return Ok(None);
        };
        if let Some(slot) = slot.upgrade() {
            let _ = slot.set(Environment {
                schema: ctx.schema_env.clone(),
                extensions: ctx.query_env.extensions.clone(),
            });
        }
        Ok(Some(Value::Null))
    }
}

impl OutputType for Capture {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("Capture")
    }

    fn create_type_info(registry: &mut Registry) -> String {
        registry.create_output_type::<Self, _>(MetaTypeId::Object, |_| MetaType::Object {
            name: "Capture".to_owned(),
            description: None,
            fields: Default::default(),
            cache_control: Default::default(),
            extends: false,
            shareable: false,
            resolvable: true,
            keys: None,
            visible: None,
            inaccessible: false,
            interface_object: false,
            tags: Vec::new(),
            is_subscription: false,
            rust_typename: Some(std::any::type_name::<Self>()),
            directive_invocations: Vec::new(),
            requires_scopes: Vec::new(),
        })
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<async_graphql::parser::types::Field>,
    ) -> ServerResult<Value> {
        resolve_container(ctx, self).await
    }
}

impl ObjectType for Capture {}
