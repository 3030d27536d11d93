//! The delivery worker of one server process. Several processes on one database share the
//! work safely: an outbox event is handed on by whoever deletes it, and a delivery is sent
//! by whoever claims it (a conditional update), so each is sent once per attempt.
//!
//! Each round: hand up to [`BATCH`] of the outbox's events to the webhooks that want them,
//! then send the deliveries that are due, oldest first: an endpoint's one after another in
//! a task of its own, in the order of the changes, until one fails (the rest wait for a
//! later round), different endpoints at the same time. A round starts at each change
//! committed anywhere ([`crate::changes`]) and at least every [`TICK`].
//!
//! Claims compare times of the claiming process's clock: the servers' clocks must agree
//! (NTP), as they must for access tokens anyway.

use super::{Settings, address, event_of, signature, wants};
use crate::auth::Principal;
use crate::changes::{Change, Event};
use crate::db::WriteGate;
use crate::error::AppResult;
use chrono::{SecondsFormat, TimeDelta, Utc};
use entity::{
    DeliveryStatus, RecordType, TokenScope, Visibility, WebhookScope, audit_entry, webhook,
    webhook_delivery, webhook_event,
};
use futures_util::future::BoxFuture;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
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
/// Rounds an event whose record cannot be read is tried in before it is dropped.
const TRIES: i32 = 5;
/// How often delivered and failed deliveries past their keeping time are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
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

/// The worker; it stops when this is dropped.
pub struct Worker {
    /// The webhooks this process is sending to now.
    sending: std::sync::Mutex<std::collections::HashSet<Uuid>>,
    /// When old deliveries were last deleted.
    pruned: std::sync::Mutex<Option<std::time::Instant>>,
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
            sending: std::sync::Mutex::default(),
            pruned: std::sync::Mutex::default(),
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

    async fn round(self: &Arc<Self>) -> AppResult<()> {
        let handed_on = self.hand_on().await;
        let sent = self.send_due().await;
        self.prune().await;
        handed_on.and(sent)
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
            let deliveries = match self.deliveries(&hooks, &event).await {
                Ok(deliveries) => deliveries,
                Err(error) => {
                    self.failed_to_hand_on(&event, &error).await?;
                    continue;
                }
            };
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

    /// Notes that an event could not be handed on (its record could not be read): it is
    /// tried again next round, and dropped once it failed [`TRIES`] times and is ten
    /// minutes old (a passing outage of the database does not lose it), so that one event
    /// that cannot be read does not come back for ever.
    async fn failed_to_hand_on(
        &self,
        event: &webhook_event::Model,
        error: &crate::error::AppError,
    ) -> AppResult<()> {
        let _turn = self.turn().await;
        let old = crate::validate::now() - event.at > TimeDelta::minutes(10);
        if event.tries + 1 >= TRIES && old {
            tracing::error!(
                error = ?error,
                record_type = ?event.record_type,
                record = %event.record_id,
                "a change could not be read for its webhooks {TRIES} times; it is dropped"
            );
            webhook_event::Entity::delete_by_id(event.id)
                .exec(&self.db)
                .await?;
        } else {
            tracing::warn!(error = ?error, "a change could not be read for its webhooks; trying again");
            webhook_event::Entity::update_many()
                .col_expr(
                    webhook_event::Column::Tries,
                    sea_orm::sea_query::Expr::col(webhook_event::Column::Tries).add(1),
                )
                .filter(webhook_event::Column::Id.eq(event.id))
                .exec(&self.db)
                .await?;
        }
        Ok(())
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
                // Hidden from this scope by this very change (PUBLIC made NETWORK, say):
                // told, with no record, so that it takes down what it showed.
                None if self
                    .visibility_before(event)
                    .await?
                    .is_some_and(|before| super::sees(scope, Some(before))) =>
                {
                    Json::Null
                }
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

    /// A record's visibility before the change of `event`, from the audit log (the last
    /// earlier entry that set it); `None` when no earlier change set one (a record that
    /// did not exist, or a kind without visibility, which no change hides).
    async fn visibility_before(
        &self,
        event: &webhook_event::Model,
    ) -> AppResult<Option<Visibility>> {
        if !matches!(
            event.record_type,
            RecordType::Dialogue
                | RecordType::Proposal
                | RecordType::Evidence
                | RecordType::Cooperation
                | RecordType::Goal
        ) {
            return Ok(None);
        }
        // The change's own entry comes after its event (both ids are UUIDv7 of one clock).
        let earlier = audit_entry::Entity::find()
            .select_only()
            .column(audit_entry::Column::Changes)
            .filter(audit_entry::Column::RecordId.eq(event.record_id))
            .filter(audit_entry::Column::Id.lt(event.id))
            .filter(audit_entry::Column::Changes.like("%\"visibility\":%"))
            .order_by_desc(audit_entry::Column::Id)
            .limit(1)
            .into_tuple::<String>()
            .all(&self.db)
            .await?;
        Ok(earlier.iter().find_map(|changes| {
            let changes: Json = serde_json::from_str(changes).ok()?;
            Visibility::try_from_value(&changes.get("visibility")?.as_str()?.to_owned()).ok()
        }))
    }

    /// Sends the deliveries that are due: each endpoint's in a task of its own, one after
    /// another in the order of the changes, so that a slow endpoint holds up only itself.
    /// An endpoint this process is still sending to is left for a later round.
    async fn send_due(self: &Arc<Self>) -> AppResult<()> {
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
        let mut hooks: HashMap<Uuid, webhook::Model> = webhook::Entity::find()
            .filter(webhook::Column::Id.is_in(by_hook.iter().map(|(id, _)| *id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|hook| (hook.id, hook))
            .collect();
        for (id, list) in by_hook {
            let Some(hook) = hooks.remove(&id) else {
                continue;
            };
            if !self
                .sending
                .lock()
                .map(|mut busy| busy.insert(id))
                .unwrap_or(false)
            {
                continue;
            }
            let worker = self.clone();
            tokio::spawn(async move {
                // The endpoint is free again however the task ends, a panic included.
                let _free = Sending {
                    worker: worker.clone(),
                    webhook: id,
                };
                for delivery in list {
                    match worker.attempt(&hook, delivery).await {
                        Ok(Some(true)) | Ok(None) => {}
                        // The endpoint is failing: its later deliveries wait for a later
                        // round rather than each wait out the time limit now.
                        Ok(Some(false)) => break,
                        Err(error) => {
                            tracing::warn!(error = ?error, "a webhook attempt could not be noted");
                            break;
                        }
                    }
                }
            });
        }
        Ok(())
    }

    /// Claims `delivery`, sends it once and notes the outcome: whether the endpoint took
    /// it, or `None` when another process (or a redelivery) had it first.
    async fn attempt(
        &self,
        hook: &webhook::Model,
        delivery: webhook_delivery::Model,
    ) -> AppResult<Option<bool>> {
        let now = crate::validate::now();
        let lease = now
            + TimeDelta::from_std(self.settings.timeout + CLAIM_MARGIN)
                .unwrap_or(TimeDelta::minutes(1));
        {
            // Claimed only as it was read: still pending, due, unclaimed, and no attempt
            // made since (by another process).
            let _turn = self.turn().await;
            let claimed = webhook_delivery::Entity::update_many()
                .col_expr(
                    webhook_delivery::Column::ClaimedUntil,
                    sea_orm::sea_query::Expr::val(lease),
                )
                .filter(webhook_delivery::Column::Id.eq(delivery.id))
                .filter(webhook_delivery::Column::Status.eq(DeliveryStatus::Pending))
                .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
                .filter(webhook_delivery::Column::Attempts.eq(delivery.attempts))
                .filter(unclaimed(now))
                .exec(&self.db)
                .await?;
            if claimed.rows_affected != 1 {
                return Ok(None);
            }
        }
        let outcome = self.send(hook, &delivery).await;
        let attempts = delivery.attempts + 1;
        let done = crate::validate::now();
        let update = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Attempts, Expr::val(attempts))
            .col_expr(
                webhook_delivery::Column::ClaimedUntil,
                Expr::val(Option::<chrono::DateTime<Utc>>::None),
            );
        let (update, taken) = match outcome {
            Ok(code) if (200..300).contains(&code) => (
                update
                    .col_expr(
                        webhook_delivery::Column::Status,
                        Expr::val(DeliveryStatus::Delivered.to_value()),
                    )
                    .col_expr(webhook_delivery::Column::DeliveredAt, Expr::val(done))
                    .col_expr(webhook_delivery::Column::LastResponseCode, Expr::val(code))
                    .col_expr(
                        webhook_delivery::Column::LastError,
                        Expr::val(Option::<String>::None),
                    ),
                true,
            ),
            failed => {
                let (code, error) = match failed {
                    Ok(code) => (Some(code), format!("the endpoint answered {code}")),
                    Err(error) => (None, error),
                };
                let update = update
                    .col_expr(webhook_delivery::Column::LastResponseCode, Expr::val(code))
                    .col_expr(webhook_delivery::Column::LastError, Expr::val(error));
                let update = match self.pause_after(attempts) {
                    Some(pause) => update.col_expr(
                        webhook_delivery::Column::NextAttemptAt,
                        Expr::val(done + pause),
                    ),
                    None => update.col_expr(
                        webhook_delivery::Column::Status,
                        Expr::val(DeliveryStatus::Failed.to_value()),
                    ),
                };
                (update, false)
            }
        };
        // Only while the claim is this attempt's: a claim that ran out meanwhile belongs
        // to whoever took the delivery next.
        let _turn = self.turn().await;
        update
            .filter(webhook_delivery::Column::Id.eq(delivery.id))
            .filter(webhook_delivery::Column::ClaimedUntil.eq(lease))
            .exec(&self.db)
            .await?;
        Ok(Some(taken))
    }

    /// Deletes the delivered and failed deliveries older than the keeping time, at most
    /// once every [`PRUNE_EVERY`].
    async fn prune(&self) {
        {
            let Ok(mut last) = self.pruned.lock() else {
                return;
            };
            if last.is_some_and(|at| at.elapsed() < PRUNE_EVERY) {
                return;
            }
            *last = Some(std::time::Instant::now());
        }
        let Ok(keep) = TimeDelta::from_std(self.settings.keep) else {
            return;
        };
        let _turn = self.turn().await;
        let pruned = webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::Status.ne(DeliveryStatus::Pending))
            .filter(webhook_delivery::Column::CreatedAt.lt(crate::validate::now() - keep))
            .exec(&self.db)
            .await;
        if let Err(error) = pruned {
            tracing::warn!(%error, "old webhook deliveries could not be deleted");
        }
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

/// A webhook this process is sending to; free again when dropped.
struct Sending {
    worker: Arc<Worker>,
    webhook: Uuid,
}

impl Drop for Sending {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.worker.sending.lock() {
            busy.remove(&self.webhook);
        }
    }
}

/// The `webhook-id` of a delivery: the same on every attempt, so receivers can drop
/// repeats.
pub fn message_id(delivery: Uuid) -> String {
    format!("msg_{}", delivery.simple())
}

/// Not claimed by a process that is sending it now.
pub(super) fn unclaimed(now: chrono::DateTime<Utc>) -> Condition {
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
