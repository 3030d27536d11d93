//! Webhooks in the schema: the admin API (`webhooks`, `webhookDeliveries`, `createWebhook`,
//! `deleteWebhook`, `redeliverWebhook`) and the bodies of deliveries, which show a record
//! exactly as this API shows it to a reader of the webhook's scope ([`Payloads`]).

use super::connection::{Member, Paged, TotalCount, connection, db, member, principal};
use super::enums::{WebhookDeliveryStatus, WebhookEventType, WebhookScope};
use super::ids::{self, NodeType};
use super::scalars::DateTime;
use super::{SamverkanSchema, loaders};
use crate::auth::Principal;
use crate::auth::jwt::Keys;
use crate::changes::Change;
use crate::error::{AppError, AppResult};
use crate::paging::{Direction, Page, PageArgs, Sort};
use crate::webhook::{self as domain, DeliveryOrderField, NewWebhook, WebhookOrderField};
use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use entity::{DeliveryStatus, webhook, webhook_delivery};
use futures_util::future::BoxFuture;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

member! {
    /// An endpoint told of changes to the record (admins).
    Webhook(webhook::Model)
}

/// An endpoint told of changes to the record, by signed POSTs (admins only; never its
/// secret).
#[Object]
impl Webhook {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Webhook, self.row.id)
    }
    /// Where deliveries are POSTed.
    async fn url(&self) -> &str {
        &self.row.url
    }
    /// The events it is sent; empty means every event.
    async fn events(&self) -> Vec<WebhookEventType> {
        domain::events(&self.row)
            .into_iter()
            .map(Into::into)
            .collect()
    }
    /// Which records' changes it is sent.
    async fn scope(&self) -> WebhookScope {
        self.row.scope.into()
    }
    /// What it is for.
    async fn description(&self) -> &str {
        &self.row.description
    }
    /// When it was registered.
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }
}

member! {
    /// One change sent, or to be sent, to a webhook (admins).
    WebhookDelivery(webhook_delivery::Model)
}

/// One change sent, or to be sent, to a webhook, with its attempts (admins only).
#[Object]
impl WebhookDelivery {
    /// Opaque global id. Receivers see `webhook-id: msg_` and the hex of the uuid inside it.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::WebhookDelivery, self.row.id)
    }
    /// The `webhook-id` header of every attempt: receivers drop repeats by it.
    async fn message_id(&self) -> String {
        domain::worker::message_id(self.row.id)
    }
    /// The webhook it is sent to.
    async fn webhook(&self, ctx: &Context<'_>) -> Result<Option<Webhook>> {
        Ok(domain::by_id(db(ctx), principal(ctx), self.row.webhook_id)
            .await?
            .map(Webhook::single))
    }
    /// What happened.
    async fn event_type(&self) -> WebhookEventType {
        self.row.event_type.into()
    }
    /// Where it stands.
    async fn status(&self) -> WebhookDeliveryStatus {
        self.row.status.into()
    }
    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.row.attempts
    }
    /// When the next attempt is due; null unless PENDING.
    async fn next_attempt_at(&self) -> Option<DateTime> {
        (self.row.status == DeliveryStatus::Pending).then(|| self.row.next_attempt_at.into())
    }
    /// The HTTP status of the last answer, if one came.
    async fn last_response_code(&self) -> Option<i32> {
        self.row.last_response_code
    }
    /// Why the last attempt failed, in a few words; null once delivered.
    async fn last_error(&self) -> Option<&str> {
        self.row.last_error.as_deref()
    }
    /// The body every attempt sends: `type`, `timestamp` and `data` (`id`, `recordType`,
    /// and `record` as the webhook's scope sees it, null for a deletion).
    async fn body(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.row.body).unwrap_or_default())
    }
    /// When it was made.
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }
    /// When the endpoint accepted it.
    async fn delivered_at(&self) -> Option<DateTime> {
        self.row.delivered_at.map(Into::into)
    }
}

/// A new webhook: the signing secret is shown this once.
#[derive(SimpleObject)]
pub struct CreatedWebhook {
    /// The signing secret (`whsec_` and base64): check each delivery's `webhook-signature`
    /// with it. It cannot be shown again.
    pub secret: String,
    /// The webhook's record.
    pub webhook: Webhook,
}

/// Input of `createWebhook` (no `Debug`: it holds the secret).
#[derive(Clone, InputObject)]
pub struct CreateWebhookInput {
    /// Where to POST: an http(s) URL whose host has a public address.
    pub url: String,
    /// The events to send; an empty list means every event.
    pub events: Vec<WebhookEventType>,
    /// Which records' changes to send: PUBLIC (the default) or also NETWORK ones.
    #[graphql(default_with = "WebhookScope::Public")]
    pub scope: WebhookScope,
    /// The signing secret, `whsec_` and the base64 of 24 to 64 random bytes; a new one is
    /// made when absent.
    #[graphql(secret)]
    pub secret: Option<String>,
    /// What it is for, such as the partner's name.
    pub description: Option<String>,
}

/// Input of `deleteWebhook`.
#[derive(Debug, Clone, InputObject)]
pub struct DeleteWebhookInput {
    /// The webhook's id.
    pub id: ID,
}

/// Input of `redeliverWebhook`.
#[derive(Debug, Clone, InputObject)]
pub struct RedeliverWebhookInput {
    /// The delivery's id.
    pub delivery_id: ID,
}

/// The webhook settings of the server, attached to mutations by the endpoint.
#[derive(Debug, Clone)]
pub struct WebhookSettings(pub Arc<domain::Settings>);

/// Reading webhooks and their deliveries (admins).
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// Every webhook, newest first (admin only).
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn webhooks(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many items to return from the start (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (the `endCursor` of an earlier page)."
        )]
        after: Option<String>,
        #[graphql(desc = "How many items to return from the end (at most 100).")] last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor (the `startCursor` of an earlier page)."
        )]
        before: Option<String>,
    ) -> Result<Paged<Webhook>> {
        let sort = Sort::new(WebhookOrderField::CreatedAt, Direction::Desc);
        let page = Page::new(PageArgs::new(first, after, last, before), sort)?;
        let (rows, total) = Box::pin(domain::list(db(ctx), principal(ctx), &page)).await?;
        Ok(connection(rows, sort.field, TotalCount::Known(total)))
    }

    /// A webhook's deliveries, newest first (admin only).
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook's id.")] webhook_id: ID,
        #[graphql(desc = "Only deliveries with this status; all when omitted.")] status: Option<
            WebhookDeliveryStatus,
        >,
        #[graphql(
            desc = "How many items to return from the start (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (the `endCursor` of an earlier page)."
        )]
        after: Option<String>,
        #[graphql(desc = "How many items to return from the end (at most 100).")] last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor (the `startCursor` of an earlier page)."
        )]
        before: Option<String>,
    ) -> Result<Paged<WebhookDelivery>> {
        let webhook = ids::decode(NodeType::Webhook, &webhook_id, "webhookId")?;
        let sort = Sort::new(DeliveryOrderField::CreatedAt, Direction::Desc);
        let page = Page::new(PageArgs::new(first, after, last, before), sort)?;
        let (rows, total) = Box::pin(domain::deliveries(
            db(ctx),
            principal(ctx),
            webhook,
            status.map(Into::into),
            &page,
        ))
        .await?;
        Ok(connection(rows, sort.field, TotalCount::Known(total)))
    }
}

/// Registering and removing webhooks, and sending a delivery again (admins).
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Registers a webhook; the signing secret is in the answer and nowhere else (admin
    /// only).
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: CreateWebhookInput,
    ) -> Result<CreatedWebhook> {
        let settings = ctx
            .data_opt::<WebhookSettings>()
            .map(|s| s.0.clone())
            .unwrap_or_default();
        let input = NewWebhook {
            url: input.url,
            events: input.events.into_iter().map(Into::into).collect(),
            scope: input.scope.into(),
            secret: input.secret,
            description: input.description,
        };
        let (secret, record) = domain::create(db(ctx), principal(ctx), &settings, input).await?;
        Ok(CreatedWebhook {
            secret,
            webhook: Webhook::single(record),
        })
    }
    /// Removes a webhook and its deliveries; nothing more is sent to it (admin only).
    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: DeleteWebhookInput,
    ) -> Result<Webhook> {
        crate::account::may_manage(principal(ctx))?;
        let id = ids::decode(NodeType::Webhook, &input.id, "input.id")?;
        Ok(Webhook::single(
            domain::delete(db(ctx), principal(ctx), id).await?,
        ))
    }
    /// Sends a delivery again at once, with the same `webhook-id` (admin only).
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: RedeliverWebhookInput,
    ) -> Result<WebhookDelivery> {
        crate::account::may_manage(principal(ctx))?;
        let id = ids::decode(
            NodeType::WebhookDelivery,
            &input.delivery_id,
            "input.deliveryId",
        )?;
        Ok(WebhookDelivery::single(
            domain::redeliver(db(ctx), principal(ctx), id).await?,
        ))
    }
}

/// The document a delivery's record is read with: what the API shows of each kind, with
/// the ids of what it links to.
const RECORD: &str = r"query WebhookRecord($id: ID!) {
  node(id: $id) {
    id
    ... on Organisation { slug name kind description website city version createdAt updatedAt }
    ... on Authority { slug name level kind website code isMetropolitan parent { id } version createdAt updatedAt }
    ... on Dialogue { title kind status heldOn summary outcome visibility organisations { id } authorities { id } proposals { id } themes { id } version createdAt updatedAt }
    ... on Proposal { title summary body status visibility leadOrganisation { id } coSigners { id } targetAuthorities { id } themes { id } history { from to at note } version createdAt updatedAt }
    ... on Theme { slug name description version createdAt updatedAt }
    ... on Evidence { kind title url publisher reach publishedOn summary visibility authority { id } organisations { id } proposals { id } dialogues { id } themes { id } version createdAt updatedAt }
    ... on Cooperation { kind title summary establishedOn endedOn visibility authority { id } organisations { id } themes { id } version createdAt updatedAt }
    ... on Goal { slug title description category periodStart periodEnd target visibility owner { id } progress { current target ratio reached reachedOn complete } version createdAt updatedAt }
  }
}";

/// Reads records for delivery bodies through the schema itself.
pub struct Payloads {
    schema: SamverkanSchema,
    db: DatabaseConnection,
    keys: Keys,
}

impl Payloads {
    /// Over `db`, with the plain schema (no limits: the document is the server's own).
    pub fn new(db: DatabaseConnection, keys: Keys) -> Self {
        Self {
            schema: super::build_schema(),
            db,
            keys,
        }
    }
}

impl domain::worker::Payloads for Payloads {
    fn record(
        &self,
        reader: Principal,
        change: Change,
    ) -> BoxFuture<'_, AppResult<Option<serde_json::Value>>> {
        Box::pin(async move {
            let Some(node_type) = NodeType::of(change.record_type) else {
                return Ok(None);
            };
            let variables = async_graphql::Variables::from_json(
                serde_json::json!({ "id": ids::encode(node_type, change.id) }),
            );
            let request = async_graphql::Request::new(RECORD).variables(variables);
            let response = self
                .schema
                .execute(loaders::attach(request, &self.db, &self.keys, reader))
                .await;
            if let Some(error) = response.errors.first() {
                return Err(AppError::Internal(Arc::new(std::io::Error::other(
                    format!("reading a record for a webhook: {}", error.message),
                ))));
            }
            let data = response
                .data
                .into_json()
                .map_err(|error| AppError::Internal(Arc::new(error)))?;
            Ok(data.get("node").filter(|node| !node.is_null()).cloned())
        })
    }

    fn id(&self, change: Change) -> String {
        NodeType::of(change.record_type)
            .map(|node_type| ids::encode(node_type, change.id).0)
            .unwrap_or_default()
    }
}
