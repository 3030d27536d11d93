//! The audit log: every mutation writes one entry in the same transaction as its change.

use crate::error::AppResult;
use entity::{
    AuditAction, PrincipalKind, RecordType, api_token, audit_entry, dialogue, organisation,
    refresh_token, user, webhook,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ColumnTrait, ConnectionTrait, EntityTrait, IdenStatic, Iterable,
    TransactionSession, Value,
};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

/// Who made a change, as the log keeps it.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// What kind of caller.
    pub kind: PrincipalKind,
    /// The signed-in user, if any.
    pub user_id: Option<Uuid>,
    /// A name when no user acts: a partner token's, or `command line`.
    pub name: Option<&'a str>,
}

/// The kind of record each action changes: the one place that pairs them.
pub fn record_type(action: AuditAction) -> RecordType {
    use AuditAction::*;
    match action {
        CreateOrganisation | UpdateOrganisation | DeleteOrganisation => RecordType::Organisation,
        CreateAuthority | UpdateAuthority | DeleteAuthority => RecordType::Authority,
        CreateDialogue | UpdateDialogue | DeleteDialogue => RecordType::Dialogue,
        CreateTheme | UpdateTheme | DeleteTheme => RecordType::Theme,
        CreateEvidence | UpdateEvidence | DeleteEvidence => RecordType::Evidence,
        CreateCooperation | UpdateCooperation | DeleteCooperation => RecordType::Cooperation,
        CreateGoal | UpdateGoal | DeleteGoal | RecordGoalProgress => RecordType::Goal,
        CreateProposal | UpdateProposal | TransitionProposal | DeleteProposal => {
            RecordType::Proposal
        }
        CreateUser | DeactivateUser | ReactivateUser | SetAdmin | UnlockUser | GrantMembership
        | RevokeMembership => RecordType::User,
        CreateApiToken | RevokeApiToken => RecordType::ApiToken,
        CreateWebhook | DeleteWebhook | RedeliverWebhook => RecordType::Webhook,
        Login | RefreshSession | Logout => RecordType::Session,
    }
}

/// Columns whose values never enter the log: secrets, listed one by one.
fn is_secret(column: &impl ColumnTrait) -> bool {
    let column = column.as_column_ref();
    [
        user::Column::PasswordHash.as_column_ref(),
        api_token::Column::TokenHash.as_column_ref(),
        refresh_token::Column::TokenHash.as_column_ref(),
        webhook::Column::Secret.as_column_ref(),
    ]
    .contains(&column)
}

/// Columns that copy what link tables hold, which the log keeps under the link table's
/// name: one by one.
fn is_copy(column: &impl ColumnTrait) -> bool {
    column.as_column_ref() == dialogue::Column::AuthorityIds.as_column_ref()
}

/// Bookkeeping columns every versioned table has under the same names (as organisations
/// do): they say nothing about what changed.
fn is_bookkeeping(column: &impl IdenStatic) -> bool {
    [
        organisation::Column::Version.as_str(),
        organisation::Column::CreatedAt.as_str(),
        organisation::Column::UpdatedAt.as_str(),
    ]
    .contains(&column.as_str())
}

/// The JSON form of a column value, for the audit log.
fn json(value: &Value) -> Json {
    match value {
        Value::Bool(Some(b)) => Json::Bool(*b),
        Value::Int(Some(n)) => Json::from(*n),
        Value::BigInt(Some(n)) => Json::from(*n),
        Value::String(Some(s)) => Json::String(s.clone()),
        Value::Uuid(Some(u)) => Json::String(u.to_string()),
        Value::ChronoDate(Some(d)) => Json::String(d.to_string()),
        Value::ChronoDateTimeUtc(Some(t)) => Json::String(t.to_rfc3339()),
        other => {
            let debug = format!("{other:?}");
            if debug.ends_with("(None)") {
                Json::Null
            } else {
                Json::String(debug)
            }
        }
    }
}

/// The fields set on `row` and their values; bookkeeping columns, secrets and copies of
/// link tables are left out.
pub fn changes<A: ActiveModelTrait>(row: &A) -> Map<String, Json> {
    fields(row, false)
}

/// All fields of a deleted record, as they were.
pub fn removed<A: ActiveModelTrait>(row: &A) -> Map<String, Json> {
    fields(row, true)
}

fn fields<A: ActiveModelTrait>(row: &A, unchanged_too: bool) -> Map<String, Json> {
    let mut changes = Map::new();
    for column in <A::Entity as EntityTrait>::Column::iter() {
        if is_bookkeeping(&column) || is_secret(&column) || is_copy(&column) {
            continue;
        }
        match row.get(column) {
            ActiveValue::Set(value) => {
                changes.insert(column.as_str().to_owned(), json(&value));
            }
            ActiveValue::Unchanged(value) if unchanged_too => {
                changes.insert(column.as_str().to_owned(), json(&value));
            }
            _ => {}
        }
    }
    changes
}

/// Writes an audit entry.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn record<'a>(
    db: &impl ConnectionTrait,
    actor: impl Into<Actor<'a>>,
    action: AuditAction,
    record_id: Option<Uuid>,
    changes: Map<String, Json>,
) -> AppResult<()> {
    let actor = actor.into();
    if let Some(id) = record_id {
        crate::webhook::enqueue(db, action, record_type(action), id, &changes).await?;
    }
    audit_entry::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        at: ActiveValue::Set(crate::validate::now()),
        principal_kind: ActiveValue::Set(actor.kind),
        user_id: ActiveValue::Set(actor.user_id),
        actor: ActiveValue::Set(actor.name.map(str::to_owned)),
        action: ActiveValue::Set(action),
        record_type: ActiveValue::Set(record_type(action)),
        record_id: ActiveValue::Set(record_id),
        changes: ActiveValue::Set(Json::Object(changes).to_string()),
    }
    .insert(db)
    .await?;
    if let Some(id) = record_id {
        let change = crate::changes::Change {
            record_type: record_type(action),
            id,
            action,
        };
        crate::changes::announce(db, change).await?;
    }
    Ok(())
}

/// Writes the audit entry of a change and commits the change with it.
///
/// # Errors
/// INTERNAL on a database failure; nothing is committed then.
pub async fn commit<'a, T: ConnectionTrait + TransactionSession>(
    txn: T,
    actor: impl Into<Actor<'a>>,
    action: AuditAction,
    record_id: Uuid,
    changes: Map<String, Json>,
) -> AppResult<()> {
    record(&txn, actor, action, Some(record_id), changes).await?;
    txn.commit().await?;
    Ok(())
}
