//! Server-wide settings kept in the database, such as the generated signing secret.

use sea_orm::entity::prelude::*;

/// A row of `settings`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "settings")]
pub struct Model {
    /// Name.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Value.
    #[sea_orm(column_type = "Text")]
    pub value: String,
}

/// Settings stand alone.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
