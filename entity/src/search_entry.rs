//! The text of one searchable record, kept in step with the record by the database's own
//! triggers and indexed for full-text search (a Swedish `tsvector` column `document` on
//! PostgreSQL, the FTS5 table `search_index` on SQLite; neither is a field here).

use crate::enums::SearchType;
use sea_orm::entity::prelude::*;

/// A row of `search_entries`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "search_entries")]
pub struct Model {
    /// The record's id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub record_id: Uuid,
    /// Which kind of record it is.
    pub record_type: SearchType,
    /// Its name or title.
    #[sea_orm(column_type = "Text")]
    pub title: String,
    /// Its other text, joined by spaces.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// Whether anyone may read the record: its visibility is PUBLIC, or its kind has none.
    /// A copy the database keeps in step with the record, so that a search lets a public
    /// record through without reading the record.
    pub public: bool,
}

/// Entries point at their records through `record_id`, of several tables.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
