//! One change to the record: who, what, which record, when.

use crate::{AuditAction, PrincipalKind, RecordType};
use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `audit_entries`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_entries")]
    pub struct Model {
        /// UUIDv7 primary key; also the order of entries.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// When.
        pub at: DateTimeUtc,
        /// What kind of caller.
        pub principal_kind: PrincipalKind,
        /// The user, when a user did it.
        pub user_id: Option<Uuid>,
        /// The partner token or command line, when no user did it.
        pub actor: Option<String>,
        /// The mutation, such as `updateProposal`.
        pub action: AuditAction,
        /// The kind of record changed, such as `Proposal`.
        pub record_type: RecordType,
        /// The id of the record changed.
        pub record_id: Option<Uuid>,
        /// The changed fields and their new values, as JSON (secrets never included).
        #[sea_orm(column_type = "Text")]
        pub changes: String,
    }
}

/// Audit entries outlive the users and records they name, so they link to nothing.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
