//! A read-only partner token; the secret is stored only as a hash.

use crate::TokenScope;
use sea_orm::entity::prelude::*;

crate::columns::model! {
    /// A row of `api_tokens`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_tokens")]
    pub struct Model {
        /// UUIDv7 primary key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// What it is for, such as the partner website.
        pub name: String,
        /// The first characters of the secret, to recognise it.
        pub prefix: String,
        /// SHA-256 of the secret, hex; unique.
        #[sea_orm(unique)]
        pub token_hash: String,
        /// What it may read.
        pub scope: TokenScope,
        /// Browser origins allowed to use it, one per line; empty means server-side use only.
        #[sea_orm(column_type = "Text")]
        pub allowed_origins: String,
        /// When it stops working, if ever.
        pub expires_at: Option<DateTimeUtc>,
        /// When it was last used.
        pub last_used_at: Option<DateTimeUtc>,
        /// When it was revoked.
        pub revoked_at: Option<DateTimeUtc>,
        /// The admin who created it.
        pub created_by: Option<Uuid>,
        /// When it was created.
        pub created_at: DateTimeUtc,
    }
}

/// Partner tokens stand alone; `created_by` is kept as history, not as a link.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
