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
    /// The participating authority.
    #[sea_orm(
        belongs_to = "super::authority::Entity",
        from = "Column::AuthorityId",
        to = "super::authority::Column::Id"
    )]
    Authority,
}

impl Related<super::dialogue::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Dialogue.def()
    }
}

impl Related<super::authority::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Authority.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
