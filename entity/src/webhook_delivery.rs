//! One change to be sent to one webhook, with its attempts.

use crate::{DeliveryStatus, WebhookEvent};
use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `webhook_deliveries`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        /// UUIDv7 primary key: the message id (`webhook-id`), the same on every attempt, and
        /// the order of an endpoint's deliveries.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The webhook it is sent to.
        pub webhook_id: Uuid,
        /// The event's dotted name, such as `dialogue.updated`.
        pub event_type: WebhookEvent,
        /// The JSON body, fixed when the delivery was made: every attempt sends the same.
        #[sea_orm(column_type = "Text")]
        pub body: String,
        /// Where it stands.
        pub status: DeliveryStatus,
        /// Attempts made so far.
        pub attempts: i32,
        /// When it is due (again).
        pub next_attempt_at: DateTimeUtc,
        /// While a server process is sending it: until when the others leave it alone.
        pub claimed_until: Option<DateTimeUtc>,
        /// The HTTP status of the last answer, if any came.
        pub last_response_code: Option<i32>,
        /// Why the last attempt failed, in a few words.
        pub last_error: Option<String>,
        /// When it was made.
        pub created_at: DateTimeUtc,
        /// When the endpoint accepted it.
        pub delivered_at: Option<DateTimeUtc>,
    }
}

/// A delivery belongs to its webhook.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The webhook.
    #[sea_orm(
        belongs_to = "super::webhook::Entity",
        from = "Column::WebhookId",
        to = "super::webhook::Column::Id",
        on_delete = "Cascade"
    )]
    Webhook,
}

impl Related<super::webhook::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Webhook.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
