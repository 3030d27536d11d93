//! What a caller spent of its budget of cost points in one minute, across every server
//! process on the database.

use sea_orm::entity::prelude::*;

/// A row of `cost_budgets`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cost_budgets")]
pub struct Model {
    /// Who pays: a partner token, a user or a client address.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// The minute (since the Unix epoch) `spent` counts in.
    pub minute: i64,
    /// Points handed out to server processes in that minute.
    pub spent: i64,
}

/// Budgets stand alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
