//! The audit log as admins read it: newest first, filtered by user, record or action.

use crate::auth::Principal;
use crate::db::Connection;
use crate::error::AppResult;
use crate::paging::{Page, Rows, column};
use crate::records;
use crate::sortable;
use chrono::{DateTime, Utc};
use entity::audit_entry;
use sea_orm::sea_query::{Condition, ExprTrait};
use uuid::Uuid;

sortable! {
    /// The order of the audit log.
    pub enum AuditOrderField, AuditKey for audit_entry {
        /// By the time of the change.
        At(DateTime<Utc>) = at,
    }
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only changes by this user.
    pub user_id: Option<Uuid>,
    /// Only changes to this record.
    pub record_id: Option<Uuid>,
    /// Only this action, by its name (such as `updateProposal`); a name no action has
    /// matches nothing.
    pub action: Option<String>,
}

impl AuditFilter {
    fn condition(&self) -> Condition {
        use audit_entry::Column;
        let mut condition = Condition::all();
        if let Some(user) = self.user_id {
            condition = condition.add(column(Column::UserId).eq(user));
        }
        if let Some(record) = self.record_id {
            condition = condition.add(column(Column::RecordId).eq(record));
        }
        if let Some(action) = &self.action {
            condition = condition.add(column(Column::Action).eq(action.as_str()));
        }
        condition
    }
}

/// One page of audit entries, and how many there are in all.
///
/// # Errors
/// UNAUTHENTICATED/FORBIDDEN unless admin.
pub async fn list(
    db: &impl Connection,
    principal: &Principal,
    filter: &AuditFilter,
    page: &Page<AuditKey>,
) -> AppResult<(Rows<audit_entry::Model>, i64)> {
    records::admin_list(db, principal, filter.condition(), page).await
}
