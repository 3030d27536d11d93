//! Webhooks: admins register endpoints, and every change to the record they may be told of
//! is POSTed to them, signed the Standard Webhooks way ([`signature`]).
//!
//! - The change is written to the outbox (`webhook_events`) in the transaction of the
//!   change itself ([`enqueue`], from [`crate::audit::record`]): what is committed is
//!   delivered, even if the server is killed the next instant.
//! - The worker ([`worker`]) in every server process hands each event to the webhooks that
//!   want it, as one delivery each (its body fixed then, so every attempt sends the same),
//!   and sends the deliveries that are due, retrying with growing pauses
//!   ([`Settings::retries`]) until the endpoint answers 2xx or the attempts run out.
//! - A webhook with the PUBLIC scope is told only of PUBLIC records, as an anonymous
//!   visitor would see them; with the NETWORK scope, of NETWORK records too. ORGANISATION
//!   records are never sent.
//! - URLs must be http(s) and resolve to public addresses ([`address`]).

pub mod address;
pub mod signature;
pub mod worker;

use crate::audit;
use crate::auth::Principal;
use crate::error::{AppError, AppResult};
use crate::paging::{Page, Rows};
use crate::records;
use crate::sortable;
use chrono::{DateTime, Utc};
use entity::{
    AuditAction, DeliveryStatus, RecordType, Visibility, WebhookEvent, WebhookScope, webhook,
    webhook_delivery, webhook_event,
};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait,
    DatabaseConnection, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
};
use serde_json::{Map, Value as Json};
use std::time::Duration;
use uuid::Uuid;

/// How webhooks are delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `SAMVERKAN_WEBHOOK_DELIVERY`: `on` (default) runs the delivery worker in this
    /// process; `off` leaves delivery to other processes on the same database (changes are
    /// still put in the outbox).
    pub deliver: bool,
    /// `SAMVERKAN_WEBHOOK_ALLOW_PRIVATE`: also call loopback and private addresses (for
    /// tests and closed networks; off by default).
    pub allow_private: bool,
    /// `SAMVERKAN_WEBHOOK_RETRIES`: the pauses before each retry after a failed attempt
    /// (default `10s,1m,5m,30m,2h,5h,8h,8h`: the first retry within a minute, the last
    /// about a day after the first attempt), each stretched or shortened by up to a tenth
    /// at random so that failed deliveries do not come back all at once.
    pub retries: Vec<Duration>,
    /// `SAMVERKAN_WEBHOOK_TIMEOUT_SECS`: how long one attempt may take, connection and
    /// answer (default 10).
    pub timeout: Duration,
    /// `SAMVERKAN_WEBHOOK_KEEP_DAYS`: how long delivered and failed deliveries are kept
    /// for `webhookDeliveries` before they are deleted (default 30).
    pub keep: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        let (minute, hour) = (60, 3600);
        Self {
            deliver: true,
            allow_private: false,
            retries: [
                10,
                minute,
                5 * minute,
                30 * minute,
                2 * hour,
                5 * hour,
                8 * hour,
                8 * hour,
            ]
            .into_iter()
            .map(Duration::from_secs)
            .collect(),
            timeout: Duration::from_secs(10),
            keep: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

/// Chooses ring as the process's TLS provider, as rustls needs one chosen before any
/// HTTPS client is built (the webhook client, and every other reqwest client in the
/// process, tests' included). Calling it again does nothing.
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The event a change to the record makes: the one table pairing them. `None` for changes
/// that are not the record's (accounts, tokens, webhooks themselves).
pub fn event_of(action: AuditAction) -> Option<WebhookEvent> {
    use AuditAction as A;
    use WebhookEvent as E;
    Some(match action {
        A::CreateOrganisation => E::OrganisationCreated,
        A::UpdateOrganisation => E::OrganisationUpdated,
        A::DeleteOrganisation => E::OrganisationDeleted,
        A::CreateAuthority => E::AuthorityCreated,
        A::UpdateAuthority => E::AuthorityUpdated,
        A::DeleteAuthority => E::AuthorityDeleted,
        A::CreateDialogue => E::DialogueCreated,
        A::UpdateDialogue => E::DialogueUpdated,
        A::DeleteDialogue => E::DialogueDeleted,
        A::CreateProposal => E::ProposalCreated,
        A::UpdateProposal => E::ProposalUpdated,
        A::TransitionProposal => E::ProposalTransitioned,
        A::DeleteProposal => E::ProposalDeleted,
        A::CreateTheme => E::ThemeCreated,
        A::UpdateTheme => E::ThemeUpdated,
        A::DeleteTheme => E::ThemeDeleted,
        A::CreateEvidence => E::EvidenceCreated,
        A::UpdateEvidence => E::EvidenceUpdated,
        A::DeleteEvidence => E::EvidenceDeleted,
        A::CreateCooperation => E::CooperationCreated,
        A::UpdateCooperation => E::CooperationUpdated,
        A::DeleteCooperation => E::CooperationDeleted,
        A::CreateGoal => E::GoalCreated,
        A::UpdateGoal => E::GoalUpdated,
        A::RecordGoalProgress => E::GoalProgressRecorded,
        A::DeleteGoal => E::GoalDeleted,
        A::CreateUser
        | A::DeactivateUser
        | A::ReactivateUser
        | A::SetAdmin
        | A::UnlockUser
        | A::GrantMembership
        | A::RevokeMembership
        | A::CreateApiToken
        | A::RevokeApiToken
        | A::CreateWebhook
        | A::DeleteWebhook
        | A::RedeliverWebhook
        | A::Login
        | A::RefreshSession
        | A::Logout => return None,
    })
}

/// Whether a webhook of `scope` may be told of a record of `visibility` (`None`: a kind of
/// record that is always public).
pub fn sees(scope: WebhookScope, visibility: Option<Visibility>) -> bool {
    match visibility {
        None | Some(Visibility::Public) => true,
        Some(Visibility::Network) => scope == WebhookScope::Network,
        Some(Visibility::Organisation) => false,
    }
}

/// Puts a change to the record into the outbox, in the transaction `db` of the change.
/// `changes` are the audit log's: for a deletion, every field of the record as it was, so
/// its visibility is known when it can no longer be read.
///
/// # Errors
/// INTERNAL on a database failure (the change then fails with it).
pub async fn enqueue(
    db: &impl ConnectionTrait,
    action: AuditAction,
    record_type: RecordType,
    record_id: Uuid,
    changes: &Map<String, Json>,
) -> AppResult<()> {
    if event_of(action).is_none() {
        return Ok(());
    }
    let visibility = changes
        .get("visibility")
        .and_then(Json::as_str)
        .and_then(|value| Visibility::try_from_value(&value.to_owned()).ok());
    webhook_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        record_type: Set(record_type),
        record_id: Set(record_id),
        action: Set(action),
        visibility: Set(visibility),
        tries: Set(0),
        at: Set(crate::validate::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

sortable! {
    /// The order of the webhook list.
    pub enum WebhookOrderField, WebhookKey for webhook {
        /// By registration time.
        CreatedAt(DateTime<Utc>) = created_at,
    }
}

sortable! {
    /// The order of a webhook's deliveries.
    pub enum DeliveryOrderField, DeliveryKey for webhook_delivery {
        /// By the time the delivery was made.
        CreatedAt(DateTime<Utc>) = created_at,
    }
}

/// A new webhook (no `Debug`: it holds the secret).
#[derive(Clone)]
pub struct NewWebhook {
    /// Where to POST.
    pub url: String,
    /// The events it wants; every event when empty.
    pub events: Vec<WebhookEvent>,
    /// Which records' changes.
    pub scope: WebhookScope,
    /// The signing secret; a new one when absent.
    pub secret: Option<String>,
    /// What it is for.
    pub description: Option<String>,
}

/// The events a webhook wants; empty means every event.
pub fn events(webhook: &webhook::Model) -> Vec<WebhookEvent> {
    webhook
        .events
        .lines()
        .filter_map(|name| WebhookEvent::try_from_value(&name.to_owned()).ok())
        .collect()
}

/// Whether `webhook` wants `event`.
pub fn wants(webhook: &webhook::Model, event: WebhookEvent) -> bool {
    webhook.events.is_empty() || webhook.events.lines().any(|name| name == event.to_value())
}

/// The most webhooks that may be registered: each change is sent to every one, so their
/// number multiplies the work of every write.
pub const MAX_WEBHOOKS: u64 = 50;

/// Registers a webhook; returns its signing secret (shown this once) and the record.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for a bad URL, secret or description; CONFLICT
/// when [`MAX_WEBHOOKS`] are registered.
pub async fn create(
    db: &DatabaseConnection,
    principal: &Principal,
    settings: &Settings,
    input: NewWebhook,
) -> AppResult<(String, webhook::Model)> {
    crate::account::may_manage(principal)?;
    let url = address::check_url("input.url", &input.url, settings.allow_private)?;
    let secret = match input.secret {
        Some(secret) => {
            signature::key("input.secret", &secret)?;
            secret
        }
        None => signature::new_secret()?,
    };
    let description = match input.description.as_deref().map(str::trim) {
        None | Some("") => String::new(),
        Some(text) => crate::validate::text("input.description", text, crate::validate::NAME_MAX)?,
    };
    let mut events: Vec<String> = input.events.iter().map(|e| e.to_value()).collect();
    events.sort_unstable();
    events.dedup();
    let txn = records::begin_write(db).await?;
    if webhook::Entity::find().count(&txn).await? >= MAX_WEBHOOKS {
        return Err(AppError::Conflict(format!(
            "at most {MAX_WEBHOOKS} webhooks may be registered; delete one first"
        )));
    }
    let row = webhook::ActiveModel {
        id: Set(Uuid::now_v7()),
        url: Set(url.to_string()),
        events: Set(events.join("\n")),
        scope: Set(input.scope),
        secret: Set(secret.clone()),
        description: Set(description),
        created_by: Set(principal.user_id),
        created_at: Set(crate::validate::now()),
    };
    let changes = audit::changes(&row);
    let created = row.insert(&txn).await?;
    audit::commit(
        txn,
        principal,
        AuditAction::CreateWebhook,
        created.id,
        changes,
    )
    .await?;
    Ok((secret, created))
}

/// Removes a webhook and its deliveries; nothing more is sent to it.
///
/// # Errors
/// FORBIDDEN unless admin; NOT_FOUND.
pub async fn delete(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<webhook::Model> {
    crate::account::may_manage(principal)?;
    let txn = records::begin_write(db).await?;
    let found = webhook::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("webhook"))?;
    let changes = audit::removed(&found.clone().into_active_model());
    webhook_delivery::Entity::delete_many()
        .filter(webhook_delivery::Column::WebhookId.eq(id))
        .exec(&txn)
        .await?;
    webhook::Entity::delete_by_id(id).exec(&txn).await?;
    audit::commit(txn, principal, AuditAction::DeleteWebhook, id, changes).await?;
    Ok(found)
}

/// Sends a delivery again as soon as the worker comes to it, whatever became of it: one
/// more attempt, with the same message id (a failed one stays out of retries: it is
/// FAILED again if this attempt fails).
///
/// # Errors
/// FORBIDDEN unless admin; NOT_FOUND; CONFLICT while it is being sent.
pub async fn redeliver(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<webhook_delivery::Model> {
    crate::account::may_manage(principal)?;
    let txn = records::begin_write(db).await?;
    let found = webhook_delivery::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("webhook delivery"))?;
    let now = crate::validate::now();
    let mut row = found.clone().into_active_model();
    row.status = Set(DeliveryStatus::Pending);
    row.next_attempt_at = Set(now);
    let mut changes = audit::changes(&row);
    changes.insert("delivery_id".into(), Json::String(id.to_string()));
    // Not while a process is sending it: that attempt's outcome would overwrite this.
    let queued = webhook_delivery::Entity::update_many()
        .col_expr(
            webhook_delivery::Column::Status,
            sea_orm::sea_query::Expr::val(DeliveryStatus::Pending.to_value()),
        )
        .col_expr(
            webhook_delivery::Column::NextAttemptAt,
            sea_orm::sea_query::Expr::val(now),
        )
        .filter(webhook_delivery::Column::Id.eq(id))
        .filter(worker::unclaimed(now))
        .exec(&txn)
        .await?;
    if queued.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the delivery is being sent right now; ask again once the attempt is over".into(),
        ));
    }
    let webhook = found.webhook_id;
    let queued = webhook_delivery::Model {
        status: DeliveryStatus::Pending,
        next_attempt_at: now,
        ..found
    };
    // Logged against the webhook, whose id the log's record type names.
    audit::commit(
        txn,
        principal,
        AuditAction::RedeliverWebhook,
        webhook,
        changes,
    )
    .await?;
    Ok(queued)
}

/// A webhook by id, for admins; `None` for everyone else, as for one that does not exist.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_id(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> AppResult<Option<webhook::Model>> {
    if !principal.admin {
        return Ok(None);
    }
    Ok(webhook::Entity::find_by_id(id).one(db).await?)
}

/// A delivery by id, for admins; `None` for everyone else.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn delivery_by_id(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
) -> AppResult<Option<webhook_delivery::Model>> {
    if !principal.admin {
        return Ok(None);
    }
    Ok(webhook_delivery::Entity::find_by_id(id).one(db).await?)
}

/// Lists webhooks.
///
/// # Errors
/// FORBIDDEN unless admin.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    page: &Page<WebhookKey>,
) -> AppResult<(Rows<webhook::Model>, i64)> {
    records::admin_list(db, principal, Condition::all(), page).await
}

/// Lists a webhook's deliveries, of one status if given.
///
/// # Errors
/// FORBIDDEN unless admin.
pub async fn deliveries(
    db: &DatabaseConnection,
    principal: &Principal,
    webhook_id: Uuid,
    status: Option<DeliveryStatus>,
    page: &Page<DeliveryKey>,
) -> AppResult<(Rows<webhook_delivery::Model>, i64)> {
    let mut condition = Condition::all().add(webhook_delivery::Column::WebhookId.eq(webhook_id));
    if let Some(status) = status {
        condition = condition.add(webhook_delivery::Column::Status.eq(status));
    }
    records::admin_list(db, principal, condition, page).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Iterable;

    #[test]
    fn every_change_to_the_record_makes_an_event_and_every_event_has_a_change() {
        let made: Vec<WebhookEvent> = AuditAction::iter().filter_map(event_of).collect();
        for event in WebhookEvent::iter() {
            assert_eq!(made.iter().filter(|e| **e == event).count(), 1, "{event:?}");
        }
        for action in AuditAction::iter() {
            let record = audit::record_type(action);
            let of_record = !matches!(
                record,
                RecordType::User | RecordType::ApiToken | RecordType::Session | RecordType::Webhook
            );
            assert_eq!(event_of(action).is_some(), of_record, "{action:?}");
        }
    }
}
