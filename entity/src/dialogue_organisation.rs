//! An organisation taking part in a dialogue.

use sea_orm::entity::prelude::*;

/// A row of `dialogue_organisations`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dialogue_organisations")]
pub struct Model {
    /// The dialogue.
    #[sea_orm(primary_key, auto_increment = false)]
    pub dialogue_id: Uuid,
    /// The participating organisation.
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
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
    /// The participating organisation.
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
}

impl Related<super::dialogue::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Dialogue.def()
    }
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organisation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
