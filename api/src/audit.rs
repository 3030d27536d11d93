//! The audit log: every mutation writes one entry in the same transaction as its change.

use crate::auth::Principal;
use crate::error::AppResult;
use entity::audit_entry;
use sea_orm::{
    ActiveModelTrait, ActiveValue, ConnectionTrait, EntityTrait, Iterable, TransactionSession,
    Value,
};
use serde_json::{Map, Value as Json};
use uuid::Uuid;

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

/// The fields set on `row` and their values; `version`, timestamps and anything that
/// looks like a secret are left out.
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
        let name = sea_orm::IdenStatic::as_str(&column).to_owned();
        if matches!(name.as_str(), "version" | "created_at" | "updated_at") || name.contains("hash")
        {
            continue;
        }
        match row.get(column) {
            ActiveValue::Set(value) => {
                changes.insert(name, json(&value));
            }
            ActiveValue::Unchanged(value) if unchanged_too => {
                changes.insert(name, json(&value));
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
pub async fn record(
    db: &impl ConnectionTrait,
    principal: &Principal,
    action: &str,
    record_type: &str,
    record_id: Option<Uuid>,
    changes: Map<String, Json>,
) -> AppResult<()> {
    audit_entry::ActiveModel {
        id: ActiveValue::Set(Uuid::now_v7()),
        at: ActiveValue::Set(crate::validate::now()),
        principal_kind: ActiveValue::Set(principal.kind),
        user_id: ActiveValue::Set(principal.user_id),
        actor: ActiveValue::Set(principal.actor.clone()),
        action: ActiveValue::Set(action.to_owned()),
        record_type: ActiveValue::Set(record_type.to_owned()),
        record_id: ActiveValue::Set(record_id),
        changes: ActiveValue::Set(Json::Object(changes).to_string()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Writes the audit entry of a change and commits the change with it.
///
/// # Errors
/// INTERNAL on a database failure; nothing is committed then.
pub async fn commit<T: ConnectionTrait + TransactionSession>(
    txn: T,
    principal: &Principal,
    action: &str,
    record_type: &str,
    record_id: Uuid,
    changes: Map<String, Json>,
) -> AppResult<()> {
    record(
        &txn,
        principal,
        action,
        record_type,
        Some(record_id),
        changes,
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

impl crate::paging::Row for audit_entry::Model {
    const TABLE: &'static str = "audit_entries";
    fn id(&self) -> Uuid {
        self.id
    }
    fn sort_value(&self, _column: &str) -> crate::paging::SortValue {
        crate::paging::SortValue::Time(self.at)
    }
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default, async_graphql::InputObject)]
pub struct AuditFilter {
    /// Only changes by this user.
    pub user_id: Option<async_graphql::ID>,
    /// Only changes to this record (any kind of id).
    pub record_id: Option<async_graphql::ID>,
    /// Only this mutation, such as `updateProposal`.
    pub action: Option<String>,
}

impl AuditFilter {
    fn condition(&self) -> AppResult<sea_orm::sea_query::Condition> {
        use crate::paging::column;
        use sea_orm::sea_query::{Condition, ExprTrait};
        let mut condition = Condition::all();
        if let Some(user) = &self.user_id {
            let user = crate::ids::decode(crate::ids::NodeType::User, user, "filter.userId")?;
            condition = condition.add(column("audit_entries", "user_id").eq(user));
        }
        if let Some(record) = &self.record_id {
            let (_, record) = crate::ids::decode_any(record).ok_or_else(|| {
                crate::error::AppError::bad_input("filter.recordId", "not a valid id")
            })?;
            condition = condition.add(column("audit_entries", "record_id").eq(record));
        }
        if let Some(action) = &self.action {
            condition = condition.add(column("audit_entries", "action").eq(action.clone()));
        }
        Ok(condition)
    }
}

/// Lists audit entries, newest first.
///
/// # Errors
/// UNAUTHENTICATED/FORBIDDEN unless admin; BAD_USER_INPUT for a malformed filter id.
pub async fn list(
    db: &impl ConnectionTrait,
    principal: &Principal,
    filter: &AuditFilter,
    page: &crate::paging::Page,
) -> AppResult<(crate::paging::Rows<audit_entry::Model>, i64)> {
    crate::auth::require_admin(principal)?;
    let condition = filter.condition()?;
    Ok((
        crate::paging::page(db, condition.clone(), page).await?,
        crate::paging::count(db, "audit_entries", condition).await?,
    ))
}
