//! One move of a proposal along its lifecycle.

use crate::ProposalStatus;
use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `proposal_status_changes`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "proposal_status_changes")]
    pub struct Model {
        /// UUIDv7 primary key; also orders the history.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// The proposal that moved.
        pub proposal_id: Uuid,
        /// Status before the move; `None` for the creation of the proposal.
        pub from_status: Option<ProposalStatus>,
        /// Status after the move.
        pub to_status: ProposalStatus,
        /// When it moved.
        pub changed_at: DateTimeUtc,
        /// Why it moved.
        #[sea_orm(column_type = "Text", nullable)]
        pub note: Option<String>,
    }
}

/// The proposal that moved.
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
}

impl Related<super::proposal::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Proposal.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
