//! One engagement between organisations and authorities.

use crate::{DialogueKind, DialogueStatus, IdList, Visibility};
use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `dialogues`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dialogues")]
    pub struct Model {
        /// UUIDv7 primary key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Short title.
        pub title: String,
        /// Form of the dialogue.
        pub kind: DialogueKind,
        /// Where it stands.
        pub status: DialogueStatus,
        /// The day it was (or is to be) held or sent.
        pub held_on: Date,
        /// What it was about.
        #[sea_orm(column_type = "Text")]
        pub summary: String,
        /// What came of it.
        #[sea_orm(column_type = "Text", nullable)]
        pub outcome: Option<String>,
        /// Who may read it.
        pub visibility: Visibility,
        /// The participating authorities: a copy of this dialogue's links in
        /// `dialogue_authorities`, which the database keeps (by triggers on the links) so
        /// that a page of dialogues names its authorities without reading the links.
        #[sea_orm(column_type = "Text")]
        pub authority_ids: IdList,
        /// Optimistic-concurrency counter, bumped by every update.
        pub version: i32,
        /// When the row was created.
        pub created_at: DateTimeUtc,
        /// When the row was last changed.
        pub updated_at: DateTimeUtc,
    }
}

/// A dialogue's participants and the proposals discussed, each through a link table.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Links to the participating organisations.
    #[sea_orm(has_many = "super::dialogue_organisation::Entity")]
    OrganisationLinks,
    /// Links to the participating authorities.
    #[sea_orm(has_many = "super::dialogue_authority::Entity")]
    AuthorityLinks,
    /// Links to the proposals discussed.
    #[sea_orm(has_many = "super::dialogue_proposal::Entity")]
    ProposalLinks,
}

impl Related<super::dialogue_organisation::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::OrganisationLinks.def()
    }
}

impl Related<super::dialogue_authority::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AuthorityLinks.def()
    }
}

impl Related<super::dialogue_proposal::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::ProposalLinks.def()
    }
}

impl Related<super::organisation::Entity> for Entity {
    fn to() -> RelationDef {
        super::dialogue_organisation::Relation::Organisation.def()
    }
    fn via() -> Option<RelationDef> {
        Some(super::dialogue_organisation::Relation::Dialogue.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
