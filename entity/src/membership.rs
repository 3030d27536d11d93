//! A user's role in an organisation.

use crate::MembershipRole;
use sea_orm::entity::prelude::*;

/// A row of `memberships`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "memberships")]
pub struct Model {
    /// The user.
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The organisation.
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
    /// The role.
    pub role: MembershipRole,
    /// When it was granted.
    pub created_at: DateTimeUtc,
}

/// No relations are navigated through sea-orm; queries are built explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
