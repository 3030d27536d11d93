//! A network member organisation.

use crate::OrganisationKind;
use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `organisations`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "organisations")]
    pub struct Model {
        /// UUIDv7 primary key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// Unique, URL-safe short name.
        #[sea_orm(unique)]
        pub slug: String,
        /// Display name.
        pub name: String,
        /// What kind of body it is.
        pub kind: OrganisationKind,
        /// Free-text description.
        #[sea_orm(column_type = "Text")]
        pub description: String,
        /// Public website.
        pub website: Option<String>,
        /// Contact address; never shown to the public.
        pub contact_email: Option<String>,
        /// Home city.
        pub city: Option<String>,
        /// Optimistic-concurrency counter, bumped by every update.
        pub version: i32,
        /// When the row was created.
        pub created_at: DateTimeUtc,
        /// When the row was last changed.
        pub updated_at: DateTimeUtc,
    }
}

/// What points at an organisation.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// Its participations in dialogues.
    #[sea_orm(has_many = "super::dialogue_organisation::Entity")]
    DialogueLinks,
    /// The proposals it leads.
    #[sea_orm(has_many = "super::proposal::Entity")]
    LedProposals,
    /// The proposals it co-signs.
    #[sea_orm(has_many = "super::proposal_co_signer::Entity")]
    CoSignerLinks,
    /// Its members' roles.
    #[sea_orm(has_many = "super::membership::Entity")]
    Memberships,
}

impl Related<super::proposal::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::LedProposals.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
