//! An authority a proposal is addressed to.

use sea_orm::entity::prelude::*;

/// A row of `proposal_targets`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "proposal_targets")]
pub struct Model {
    /// The proposal.
    #[sea_orm(primary_key, auto_increment = false)]
    pub proposal_id: Uuid,
    /// The target authority.
    #[sea_orm(primary_key, auto_increment = false)]
    pub authority_id: Uuid,
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
    /// The authority it is addressed to.
    #[sea_orm(
        belongs_to = "super::authority::Entity",
        from = "Column::AuthorityId",
        to = "super::authority::Column::Id"
    )]
    Authority,
}

impl Related<super::proposal::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Proposal.def()
    }
}

impl Related<super::authority::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Authority.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
