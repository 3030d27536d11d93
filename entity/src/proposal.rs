//! A policy proposal of the network.

use crate::{ProposalStatus, Visibility};
use sea_orm::entity::prelude::*;

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

/// No relations are navigated through sea-orm; queries are built explicitly.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
