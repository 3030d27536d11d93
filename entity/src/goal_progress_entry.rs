//! Progress recorded by hand on a MANUAL goal, kept as history.

use sea_orm::entity::prelude::*;

/// A row of `goal_progress_entries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "goal_progress_entries")]
pub struct Model {
    /// UUIDv7 primary key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The goal.
    pub goal_id: Uuid,
    /// How much was achieved.
    pub amount: i32,
    /// The day it was achieved.
    pub recorded_on: Date,
    /// What was achieved.
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    /// When it was recorded.
    pub created_at: DateTimeUtc,
}

/// The goal.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The goal it counts towards.
    #[sea_orm(
        belongs_to = "super::goal::Entity",
        from = "Column::GoalId",
        to = "super::goal::Column::Id",
        on_delete = "Cascade"
    )]
    Goal,
}

impl ActiveModelBehavior for ActiveModel {}
