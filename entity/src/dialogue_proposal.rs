//! A proposal discussed in a dialogue.

use sea_orm::entity::prelude::*;

/// A row of `dialogue_proposals`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dialogue_proposals")]
pub struct Model {
    /// The dialogue.
    #[sea_orm(primary_key, auto_increment = false)]
    pub dialogue_id: Uuid,
    /// The proposal discussed.
    #[sea_orm(primary_key, auto_increment = false)]
    pub proposal_id: Uuid,
    /// A copy of the dialogue's date, kept by the API for ordering by the other side.
    pub held_on: Date,
}

/// No relations are navigated through sea-orm; queries are built explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
