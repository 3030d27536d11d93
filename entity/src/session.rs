//! A sign-in of a user, kept alive by rotating refresh tokens.

use sea_orm::entity::prelude::*;

/// A row of `sessions`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    /// UUIDv7 primary key; the `sid` claim of access tokens.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The user.
    pub user_id: Uuid,
    /// When the session was started.
    pub created_at: DateTimeUtc,
    /// When the session ends at the latest.
    pub expires_at: DateTimeUtc,
    /// When it was ended (logout, or reuse of a refresh token).
    pub revoked_at: Option<DateTimeUtc>,
}

/// No relations are navigated through sea-orm; queries are built explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
