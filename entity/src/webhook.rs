//! An endpoint that admins registered to be told of changes to the record.

use crate::WebhookScope;
use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `webhooks`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhooks")]
    pub struct Model {
        /// UUIDv7 primary key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Where deliveries are POSTed: an http(s) URL.
        pub url: String,
        /// The dotted names of the events it is sent ([`crate::WebhookEvent`]), one per line;
        /// empty means every event.
        #[sea_orm(column_type = "Text")]
        pub events: String,
        /// Which records' changes it is sent.
        pub scope: WebhookScope,
        /// The signing secret, `whsec_` and base64 (Standard Webhooks); never shown after
        /// creation and never in the audit log.
        pub secret: String,
        /// What it is for.
        pub description: String,
        /// The admin who registered it.
        pub created_by: Option<Uuid>,
        /// When it was registered.
        pub created_at: DateTimeUtc,
    }
}

/// Deliveries belong to their webhook and go with it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
