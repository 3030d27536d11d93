//! A measurable target of the network or of one organisation.

use crate::{GoalCategory, GoalMeasureKind, Visibility};
use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `goals`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "goals")]
    pub struct Model {
        /// UUIDv7 primary key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Unique, URL-safe short name.
        #[sea_orm(unique)]
        pub slug: String,
        /// Short title.
        pub title: String,
        /// What reaching it means.
        #[sea_orm(column_type = "Text")]
        pub description: String,
        /// The area of work.
        pub category: GoalCategory,
        /// The first day records count.
        pub period_start: Date,
        /// The last day records count.
        pub period_end: Date,
        /// How many count as reached (at least 1).
        pub target: i32,
        /// Which kind of records count.
        pub measure_kind: GoalMeasureKind,
        /// The measure's criteria as JSON, read and written only by the API's goal module.
        #[sea_orm(column_type = "Text")]
        pub measure: String,
        /// Who may read it.
        pub visibility: Visibility,
        /// The organisation whose goal it is; none for the whole network.
        pub owner_id: Option<Uuid>,
        /// Optimistic-concurrency counter, bumped by every update.
        pub version: i32,
        /// When the row was created.
        pub created_at: DateTimeUtc,
        /// When the row was last changed.
        pub updated_at: DateTimeUtc,
    }
}

/// The owner.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The organisation whose goal it is.
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OwnerId",
        to = "super::organisation::Column::Id"
    )]
    Owner,
}

impl ActiveModelBehavior for ActiveModel {}
