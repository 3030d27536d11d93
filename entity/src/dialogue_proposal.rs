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

/// The two sides this link joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The dialogue.
    #[sea_orm(
        belongs_to = "super::dialogue::Entity",
        from = "Column::DialogueId",
        to = "super::dialogue::Column::Id",
        on_delete = "Cascade"
    )]
    Dialogue,
    /// The proposal discussed.
    #[sea_orm(
        belongs_to = "super::proposal::Entity",
        from = "Column::ProposalId",
        to = "super::proposal::Column::Id"
    )]
    Proposal,
}

impl Related<super::dialogue::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Dialogue.def()
    }
}

impl Related<super::proposal::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Proposal.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
