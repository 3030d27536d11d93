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

/// No relations are navigated through sea-orm; queries are built explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
