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

/// No relations are navigated through sea-orm; queries are built explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
