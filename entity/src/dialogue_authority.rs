//! An authority taking part in a dialogue.

use sea_orm::entity::prelude::*;

/// A row of `dialogue_authorities`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dialogue_authorities")]
pub struct Model {
    /// The dialogue.
    #[sea_orm(primary_key, auto_increment = false)]
    pub dialogue_id: Uuid,
    /// The participating authority.
    #[sea_orm(primary_key, auto_increment = false)]
    pub authority_id: Uuid,
    /// A copy of the dialogue's date, kept by the API for ordering by the other side.
    pub held_on: Date,
}

/// No relations are navigated through sea-orm; queries are built explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
