//! The outbox: a change to the record not yet handed to the webhooks, written in the same
//! transaction as the change itself.

use crate::{AuditAction, RecordType, Visibility};
use sea_orm::entity::prelude::*;

/// A row of `webhook_events`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_events")]
pub struct Model {
    /// UUIDv7 primary key; also the order of events.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The kind of record changed.
    pub record_type: RecordType,
    /// The record changed.
    pub record_id: Uuid,
    /// The change.
    pub action: AuditAction,
    /// The record's visibility as the change left it (none for kinds of record that are
    /// always public): for a deletion, who may be told, as the record can no longer be read.
    pub visibility: Option<Visibility>,
    /// Rounds in which the record could not be read for the webhooks.
    pub tries: i32,
    /// When the change was made.
    pub at: DateTimeUtc,
}

/// Events stand alone until they are handed on.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
