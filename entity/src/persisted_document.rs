//! A persisted query document a client taught a server process, for every process.

use sea_orm::entity::prelude::*;

/// A row of `persisted_documents`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "persisted_documents")]
pub struct Model {
    /// The SHA-256 of the document, lower-case hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    /// The document's text.
    #[sea_orm(column_type = "Text")]
    pub document: String,
    /// When it was learned.
    pub learned_at: DateTimeUtc,
}

/// Documents stand alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
