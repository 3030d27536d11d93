//! An account of a person.

use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `users`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "users")]
    pub struct Model {
        /// UUIDv7 primary key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Sign-in address, stored lowercased; unique.
        #[sea_orm(unique)]
        pub email: String,
        /// Display name.
        pub name: String,
        /// Argon2id hash in PHC string form.
        pub password_hash: String,
        /// A deactivated user cannot sign in and their tokens stop working.
        pub active: bool,
        /// May do everything.
        pub admin: bool,
        /// Optimistic-concurrency counter, bumped by every update.
        pub version: i32,
        /// When the row was created.
        pub created_at: DateTimeUtc,
        /// When the row was last changed.
        pub updated_at: DateTimeUtc,
    }
}

/// A user's memberships and sessions.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Roles in organisations.
    #[sea_orm(has_many = "super::membership::Entity")]
    Memberships,
    /// Sessions signed in.
    #[sea_orm(has_many = "super::session::Entity")]
    Sessions,
}

impl Related<super::membership::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Memberships.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
