//! Local cooperation between network organisations in a municipality or region.

use crate::{CooperationKind, Visibility};
use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `cooperations`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cooperations")]
    pub struct Model {
        /// UUIDv7 primary key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The form it takes.
        pub kind: CooperationKind,
        /// Short title.
        pub title: String,
        /// What it does.
        #[sea_orm(column_type = "Text")]
        pub summary: String,
        /// The municipality or region where it happens.
        pub authority_id: Uuid,
        /// The day it began.
        pub established_on: Date,
        /// The day it ended, if it has.
        pub ended_on: Option<Date>,
        /// Who may read it.
        pub visibility: Visibility,
        /// Optimistic-concurrency counter, bumped by every update.
        pub version: i32,
        /// When the row was created.
        pub created_at: DateTimeUtc,
        /// When the row was last changed.
        pub updated_at: DateTimeUtc,
    }
}

/// Where it happens.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The municipality or region.
    #[sea_orm(
        belongs_to = "super::authority::Entity",
        from = "Column::AuthorityId",
        to = "super::authority::Column::Id"
    )]
    Authority,
}

impl ActiveModelBehavior for ActiveModel {}
