//! Failed sign-ins per account (by lowercased email) and client address, to slow down
//! password guessing without letting a stranger lock the owner out.

use sea_orm::entity::prelude::*;

/// A row of `login_failures`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_failures")]
pub struct Model {
    /// Lowercased email, known or not.
    #[sea_orm(primary_key, auto_increment = false)]
    pub email: String,
    /// The client address the attempts came from.
    #[sea_orm(primary_key, auto_increment = false)]
    pub client: String,
    /// Attempts since `window_start` that did not succeed (or are under way).
    pub attempts: i32,
    /// Start of the current 15-minute window.
    pub window_start: DateTimeUtc,
    /// Sign-ins from this address answer RATE_LIMITED until then.
    pub locked_until: Option<DateTimeUtc>,
    /// How many times this address was locked out of the account; each lock lasts twice the last.
    pub lockouts: i32,
}

/// Failures are kept by email, for addresses with or without an account: no link.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
