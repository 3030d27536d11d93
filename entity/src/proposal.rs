//! A policy proposal of the network.

use crate::{ProposalStatus, Visibility};
use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `proposals`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "proposals")]
    pub struct Model {
        /// UUIDv7 primary key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Short title.
        pub title: String,
        /// One-paragraph summary.
        #[sea_orm(column_type = "Text")]
        pub summary: String,
        /// Full text.
        #[sea_orm(column_type = "Text")]
        pub body: String,
        /// Place in the lifecycle.
        pub status: ProposalStatus,
        /// Who may read it.
        pub visibility: Visibility,
        /// The organisation that leads it.
        pub lead_organisation_id: Uuid,
        /// Optimistic-concurrency counter, bumped by every update.
        pub version: i32,
        /// When the row was created.
        pub created_at: DateTimeUtc,
        /// When the row was last changed.
        pub updated_at: DateTimeUtc,
    }
}

/// A proposal's lead, co-signers, targets, history and the dialogues that discussed it.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The organisation that leads it (`lead_organisation_id`).
    #[sea_orm(
        belongs_to = "super::organisation::Entity",
        from = "Column::LeadOrganisationId",
        to = "super::organisation::Column::Id"
    )]
    LeadOrganisation,
    /// Links to the co-signing organisations.
    #[sea_orm(has_many = "super::proposal_co_signer::Entity")]
    CoSignerLinks,
    /// Links to the authorities it is addressed to.
    #[sea_orm(has_many = "super::proposal_target::Entity")]
    TargetLinks,
    /// Its moves along the lifecycle.
    #[sea_orm(has_many = "super::proposal_status_change::Entity")]
    History,
    /// Links to the dialogues that discussed it.
    #[sea_orm(has_many = "super::dialogue_proposal::Entity")]
    DialogueLinks,
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LeadOrganisation.def()
    }
}

impl Related<super::proposal_status_change::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::History.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
