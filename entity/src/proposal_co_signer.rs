//! An organisation co-signing a proposal.

use sea_orm::entity::prelude::*;

/// A row of `proposal_co_signers`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proposal_co_signers")]
pub struct Model {
    /// The proposal.
    #[sea_orm(primary_key, auto_increment = false)]
    pub proposal_id: Uuid,
    /// The co-signing organisation.
    #[sea_orm(primary_key, auto_increment = false)]
    pub organisation_id: Uuid,
}

/// The two sides this link joins.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The proposal.
    #[sea_orm(
        belongs_to = "super::proposal::Entity",
        from = "Column::ProposalId",
        to = "super::proposal::Column::Id",
        on_delete = "Cascade"
    )]
    Proposal,
    /// The co-signing organisation.
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::OrganisationId",
        to = "super::organisation::Column::Id"
    )]
    Organisation,
}

impl Related<super::proposal::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Proposal.def()
    }
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Organisation.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
