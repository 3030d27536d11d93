//! A topic shared across records.

use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `themes`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "themes")]
    pub struct Model {
        /// UUIDv7 primary key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Unique, URL-safe short name.
        #[sea_orm(unique)]
        pub slug: String,
        /// Display name.
        pub name: String,
        /// What the theme covers.
        #[sea_orm(column_type = "Text")]
        pub description: String,
        /// Optimistic-concurrency counter, bumped by every update.
        pub version: i32,
        /// When the row was created.
        pub created_at: DateTimeUtc,
        /// When the row was last changed.
        pub updated_at: DateTimeUtc,
    }
}

/// Themes are reached through the link tables.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
