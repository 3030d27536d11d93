//! The delivery worker of one server process. Several processes on one database share the
//! work safely: an outbox event is handed on by whoever deletes it, and a delivery is sent
//! by whoever claims it (a conditional update), so each is sent once per attempt.
//!
//! Each round: hand the outbox's events to the webhooks that want them, then send the
//! deliveries that are due, oldest first; an endpoint's deliveries one after another, in
//! the order of the changes, different endpoints at the same time. A round starts at each
//! change committed anywhere ([`crate::changes`]) and at least every [`TICK`].

use super::{Settings, address, event_of, signature, wants};
use crate::auth::Principal;
use crate::changes::{Change, Event};
use crate::error::AppResult;
use chrono::{SecondsFormat, TimeDelta, Utc};
use entity::{DeliveryStatus, TokenScope, WebhookScope, webhook, webhook_delivery, webhook_event};
use futures_util::future::BoxFuture;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

/// The longest pause between two rounds: retries fall due without a change to wake them.
pub const TICK: Duration = Duration::from_secs(1);
/// Events handed on, and deliveries sent, per round at most.
const BATCH: u64 = 100;
/// How long a claim on a delivery outlasts the attempt's time limit: a process killed
/// mid-attempt leaves it to the others (or to itself, restarted) after that.
const CLAIM_MARGIN: Duration = Duration::from_secs(5);

/// How the body of a delivery learns about the record: implemented by the GraphQL layer,
/// so that a webhook is told of a record exactly as the API shows it to a reader of the
/// webhook's scope.
pub trait Payloads: Send + Sync + 'static {
    /// The record of `change` as `reader` may read it; `None` when it may not.
    fn record(&self, reader: Principal, change: Change) -> BoxFuture<'_, AppResult<Option<Json>>>;
    /// The record's id as the API names it.
    fn id(&self, change: Change) -> String;
}

/// Who reads a record for a webhook of `scope`: as a partner token of the same reach.
pub fn reader(scope: WebhookScope) -> Principal {
    match scope {
        WebhookScope::Public => Principal::anonymous(),
        WebhookScope::Network => Principal {
            scope: Some(TokenScope::ReadNetwork),
            network: true,
            actor: Some("webhook".into()),
            ..Principal::anonymous()
        },
    }
}

/// SQLite's one writer at a time, which the worker's writes wait for like a mutation.
pub type WriteGate = Arc<tokio::sync::Mutex<()>>;

/// The worker; it stops when this is dropped.
pub struct Worker {
    db: DatabaseConnection,
    gate: Option<WriteGate>,
    settings: Settings,
    client: reqwest::Client,
    payloads: Arc<dyn Payloads>,
}

impl Worker {
    /// Starts the worker over `db`; it runs a round at each of `wake`'s events and at least
    /// every [`TICK`].
    ///
    /// # Errors
    /// When the HTTP client cannot be built (no TLS roots).
    pub fn start(
        db: DatabaseConnection,
        gate: Option<WriteGate>,
        settings: Settings,
        payloads: Arc<dyn Payloads>,
        mut wake: broadcast::Receiver<Event>,
    ) -> Result<Arc<Self>, reqwest::Error> {
        super::install_tls();
        let client = reqwest::Client::builder()
            .user_agent(concat!("Samverkan-Webhooks/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .pool_max_idle_per_host(2)
            .dns_resolver(Arc::new(address::Resolver {
                allow_private: settings.allow_private,
            }))
            .build()?;
        let worker = Arc::new(Self {
            db,
            gate,
            settings,
            client,
            payloads,
        });
        let weak: Weak<Self> = Arc::downgrade(&worker);
        tokio::spawn(async move {
            loop {
                let Some(worker) = weak.upgrade() else {
                    return;
                };
                if let Err(error) = worker.round().await {
                    tracing::warn!(error = ?error, "webhook round failed; trying again");
                }
                drop(worker);
                tokio::select! {
                    changed = wake.recv() => {
                        if matches!(changed, Err(broadcast::error::RecvError::Closed)) {
                            tokio::time::sleep(TICK).await;
                        }
                    }
                    () = tokio::time::sleep(TICK) => {}
                }
            }
        });
        Ok(worker)
    }

    async fn turn(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.gate {
            Some(gate) => Some(gate.lock().await),
            None => None,
        }
    }

    async fn round(&self) -> AppResult<()> {
        while self.hand_on().await? == BATCH {}
        self.send_due().await
    }

    /// Hands the oldest outbox events to the webhooks that want them; returns how many.
    async fn hand_on(&self) -> AppResult<u64> {
        let events = webhook_event::Entity::find()
            .order_by_asc(webhook_event::Column::Id)
            .limit(BATCH)
            .all(&self.db)
            .await?;
        if events.is_empty() {
            return Ok(0);
        }
        let count = events.len() as u64;
        let hooks = webhook::Entity::find().all(&self.db).await?;
        if hooks.is_empty() {
            // Nobody to tell: the events go, in one statement.
            let _turn = self.turn().await;
            webhook_event::Entity::delete_many()
                .filter(webhook_event::Column::Id.is_in(events.iter().map(|event| event.id)))
                .exec(&self.db)
                .await?;
            return Ok(count);
        }
        for event in events {
            let deliveries = self.deliveries(&hooks, &event).await?;
            let _turn = self.turn().await;
            let txn = crate::records::begin_write(&self.db).await?;
            // Whoever deletes the event hands it on; another process that read it too
            // finds nothing to delete and leaves it.
            let gone = webhook_event::Entity::delete_by_id(event.id)
                .exec(&txn)
                .await?;
            if gone.rows_affected == 1 && !deliveries.is_empty() {
                webhook_delivery::Entity::insert_many(deliveries)
                    .exec(&txn)
                    .await?;
            }
            txn.commit().await?;
        }
        Ok(count)
    }

    /// One delivery of `event` per webhook that wants it and may be told of the record.
    async fn deliveries(
        &self,
        hooks: &[webhook::Model],
        event: &webhook_event::Model,
    ) -> AppResult<Vec<webhook_delivery::ActiveModel>> {
        let Some(kind) = event_of(event.action) else {
            return Ok(Vec::new());
        };
        let change = Change {
            record_type: event.record_type,
            id: event.record_id,
            action: event.action,
        };
        // One body per scope (at most two), made the first time a webhook needs it.
        let mut bodies: Vec<(WebhookScope, Option<String>)> = Vec::new();
        let mut deliveries = Vec::new();
        let now = crate::validate::now();
        for hook in hooks.iter().filter(|hook| wants(hook, kind)) {
            let body = match bodies.iter().find(|(scope, _)| *scope == hook.scope) {
                Some((_, body)) => body.clone(),
                None => {
                    let body = self.body(hook.scope, kind, change, event).await?;
                    bodies.push((hook.scope, body.clone()));
                    body
                }
            };
            let Some(body) = body else {
                continue;
            };
            deliveries.push(webhook_delivery::ActiveModel {
                id: Set(Uuid::now_v7()),
                webhook_id: Set(hook.id),
                event_type: Set(kind),
                body: Set(body),
                status: Set(DeliveryStatus::Pending),
                attempts: Set(0),
                next_attempt_at: Set(now),
                claimed_until: Set(None),
                last_response_code: Set(None),
                last_error: Set(None),
                created_at: Set(now),
                delivered_at: Set(None),
            });
        }
        Ok(deliveries)
    }

    /// The body a webhook of `scope` is sent for `event`; `None` when it may not be told.
    async fn body(
        &self,
        scope: WebhookScope,
        kind: entity::WebhookEvent,
        change: Change,
        event: &webhook_event::Model,
    ) -> AppResult<Option<String>> {
        let record = if change.deleted() {
            if !super::sees(scope, event.visibility) {
                return Ok(None);
            }
            Json::Null
        } else {
            match self.payloads.record(reader(scope), change).await? {
                Some(record) => record,
                None => return Ok(None),
            }
        };
        Ok(Some(
            json!({
                "type": kind.to_value(),
                "timestamp": event.at.to_rfc3339_opts(SecondsFormat::Millis, true),
                "data": {
                    "id": self.payloads.id(change),
                    "recordType": event.record_type.to_value(),
                    "record": record,
                },
            })
            .to_string(),
        ))
    }

    /// Sends the deliveries that are due.
    async fn send_due(&self) -> AppResult<()> {
        let now = crate::validate::now();
        let due = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
            .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
            .filter(unclaimed(now))
            .order_by_asc(webhook_delivery::Column::Id)
            .limit(BATCH)
            .all(&self.db)
            .await?;
        if due.is_empty() {
            return Ok(());
        }
        let mut by_hook: Vec<(Uuid, Vec<webhook_delivery::Model>)> = Vec::new();
        for delivery in due {
            match by_hook
                .iter_mut()
                .find(|(id, _)| *id == delivery.webhook_id)
            {
                Some((_, list)) => list.push(delivery),
                None => by_hook.push((delivery.webhook_id, vec![delivery])),
            }
        }
        let hooks: HashMap<Uuid, webhook::Model> = webhook::Entity::find()
            .filter(webhook::Column::Id.is_in(by_hook.iter().map(|(id, _)| *id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|hook| (hook.id, hook))
            .collect();
        let sends = by_hook.into_iter().filter_map(|(id, list)| {
            let hook = hooks.get(&id)?;
            Some(async move {
                for delivery in list {
                    if let Err(error) = self.attempt(hook, delivery).await {
                        tracing::warn!(error = ?error, "a webhook attempt could not be noted");
                    }
                }
            })
        });
        futures_util::future::join_all(sends).await;
        Ok(())
    }

    /// Claims `delivery`, sends it once and notes the outcome.
    async fn attempt(
        &self,
        hook: &webhook::Model,
        delivery: webhook_delivery::Model,
    ) -> AppResult<()> {
        let now = crate::validate::now();
        let lease = TimeDelta::from_std(self.settings.timeout + CLAIM_MARGIN)
            .unwrap_or(TimeDelta::minutes(1));
        {
            let _turn = self.turn().await;
            let claimed = webhook_delivery::Entity::update_many()
                .col_expr(
                    webhook_delivery::Column::ClaimedUntil,
                    sea_orm::sea_query::Expr::val(now + lease),
                )
                .filter(webhook_delivery::Column::Id.eq(delivery.id))
                .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
                .filter(unclaimed(now))
                .exec(&self.db)
                .await?;
            if claimed.rows_affected != 1 {
                return Ok(());
            }
        }
        let outcome = self.send(hook, &delivery).await;
        let attempts = delivery.attempts + 1;
        let mut row = delivery.into_active_model();
        row.attempts = Set(attempts);
        row.claimed_until = Set(None);
        let done = crate::validate::now();
        match outcome {
            Ok(code) if (200..300).contains(&code) => {
                row.status = Set(DeliveryStatus::Delivered);
                row.delivered_at = Set(Some(done));
                row.last_response_code = Set(Some(code));
                row.last_error = Set(None);
            }
            failed => {
                let (code, error) = match failed {
                    Ok(code) => (Some(code), format!("the endpoint answered {code}")),
                    Err(error) => (None, error),
                };
                row.last_response_code = Set(code);
                row.last_error = Set(Some(error));
                match self.pause_after(attempts) {
                    Some(pause) => row.next_attempt_at = Set(done + pause),
                    None => row.status = Set(DeliveryStatus::Failed),
                }
            }
        }
        let _turn = self.turn().await;
        // Gone when the webhook was deleted meanwhile: nothing to note then.
        let _ = row.update(&self.db).await;
        Ok(())
    }

    /// The pause before the next attempt after `attempts` failed ones; `None` when the
    /// retries are spent.
    fn pause_after(&self, attempts: i32) -> Option<TimeDelta> {
        let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
        let pause = *self.settings.retries.get(index)?;
        // Up to a tenth either way, at random.
        let random = crate::auth::secrets::random_bytes(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .unwrap_or(u16::MAX / 2);
        let factor = 0.9 + 0.2 * f64::from(random) / f64::from(u16::MAX);
        TimeDelta::from_std(pause.mul_f64(factor)).ok()
    }

    /// One POST of `delivery` to `hook`: the HTTP status, or why none came.
    async fn send(
        &self,
        hook: &webhook::Model,
        delivery: &webhook_delivery::Model,
    ) -> Result<i32, String> {
        let url = reqwest::Url::parse(&hook.url).map_err(|_| "the URL is not valid".to_owned())?;
        if !self.settings.allow_private && address::literal_refused(&url) {
            return Err(address::Refused.to_string());
        }
        let key = signature::key("secret", &hook.secret)
            .map_err(|_| "the signing secret is not valid".to_owned())?;
        let id = message_id(delivery.id);
        let timestamp = Utc::now().timestamp();
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                signature::sign(&key, &id, timestamp, &delivery.body),
            )
            .body(delivery.body.clone())
            .send()
            .await
            .map_err(|error| describe(&error))?;
        Ok(i32::from(response.status().as_u16()))
    }
}

/// The `webhook-id` of a delivery: the same on every attempt, so receivers can drop
/// repeats.
pub fn message_id(delivery: Uuid) -> String {
    format!("msg_{}", delivery.simple())
}

/// Not claimed by a process that is sending it now.
fn unclaimed(now: chrono::DateTime<Utc>) -> Condition {
    Condition::any()
        .add(webhook_delivery::Column::ClaimedUntil.is_null())
        .add(webhook_delivery::Column::ClaimedUntil.lt(now))
}

/// Why an attempt failed, in a few words, for `lastError` (never the receiver's body).
fn describe(error: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(cause) = source {
        if cause.is::<address::Refused>() {
            return address::Refused.to_string();
        }
        source = cause.source();
    }
    if error.is_timeout() {
        "no answer within the time limit".into()
    } else if error.is_connect() {
        "could not connect".into()
    } else {
        "the request failed".into()
    }
}
