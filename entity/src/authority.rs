//! A public body the network engages.

use crate::{AuthorityKind, AuthorityLevel};
use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `authorities`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "authorities")]
    pub struct Model {
        /// UUIDv7 primary key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Unique, URL-safe short name.
        #[sea_orm(unique)]
        pub slug: String,
        /// Display name.
        pub name: String,
        /// Level of government.
        pub level: AuthorityLevel,
        /// Kind of body.
        pub kind: AuthorityKind,
        /// The body this one sits under (a committee under the Riksdag, a municipality under its region).
        pub parent_id: Option<Uuid>,
        /// Public website.
        pub website: Option<String>,
        /// An official identifier, such as the four-digit municipality code.
        pub code: Option<String>,
        /// One of the metropolitan municipalities: Stockholm, Göteborg, Malmö.
        pub is_metropolitan: bool,
        /// Optimistic-concurrency counter, bumped by every update.
        pub version: i32,
        /// When the row was created.
        pub created_at: DateTimeUtc,
        /// When the row was last changed.
        pub updated_at: DateTimeUtc,
    }
}

/// How an authority relates to other tables.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The body this one sits under (`parent_id`).
    #[sea_orm(belongs_to = "Entity", from = "Column::ParentId", to = "Column::Id")]
    Parent,
    /// Its participations in dialogues.
    #[sea_orm(has_many = "super::dialogue_authority::Entity")]
    DialogueLinks,
    /// The proposals addressed to it.
    #[sea_orm(has_many = "super::proposal_target::Entity")]
    TargetLinks,
}

impl Related<super::dialogue::Entity> for Entity {
    fn to() -> RelationDef {
        super::dialogue_authority::Relation::Dialogue.def()
    }
    fn via() -> Option<RelationDef> {
        Some(super::dialogue_authority::Relation::Authority.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
