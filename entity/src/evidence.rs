//! Proof of the network's impact: an article, a mention in a plan, a decision.

use crate::{EvidenceKind, Reach, Visibility};
use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `evidence`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "evidence")]
    pub struct Model {
        /// UUIDv7 primary key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// What kind of proof it is.
        pub kind: EvidenceKind,
        /// Its title or headline.
        pub title: String,
        /// Where it can be read (http or https).
        pub url: Option<String>,
        /// The outlet or issuing body.
        pub publisher: String,
        /// How far it reaches.
        pub reach: Reach,
        /// The day it was published.
        pub published_on: Date,
        /// What it says about the network's work.
        #[sea_orm(column_type = "Text", nullable)]
        pub summary: Option<String>,
        /// Who may read it.
        pub visibility: Visibility,
        /// The authority that issued it (for policy mentions and decisions).
        pub authority_id: Option<Uuid>,
        /// Optimistic-concurrency counter, bumped by every update.
        pub version: i32,
        /// When the row was created.
        pub created_at: DateTimeUtc,
        /// When the row was last changed.
        pub updated_at: DateTimeUtc,
    }
}

/// The issuing authority.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    /// The authority that issued it.
    #[sea_orm(
        belongs_to = "super::authority::Entity",
        from = "Column::AuthorityId",
        to = "super::authority::Column::Id"
    )]
    Authority,
}

impl ActiveModelBehavior for ActiveModel {}
