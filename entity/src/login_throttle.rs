//! Sign-in attempts per account (by lowercased email), to slow down password guessing.

use sea_orm::entity::prelude::*;

/// A row of `login_throttles`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttles")]
pub struct Model {
    /// Lowercased email, known or not.
    #[sea_orm(primary_key, auto_increment = false)]
    pub email: String,
    /// Attempts since `window_start` that did not succeed (or are under way).
    pub attempts: i32,
    /// Start of the current 15-minute window.
    pub window_start: DateTimeUtc,
    /// Sign-ins answer RATE_LIMITED until then.
    pub locked_until: Option<DateTimeUtc>,
    /// How many times the account was locked; each lock lasts twice the last.
    pub lockouts: i32,
}

/// Throttles are kept by email, for addresses with or without an account: no link.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
