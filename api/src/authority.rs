//! Public authorities the network engages, in a tree: committees under the Riksdag,
//! municipalities under their region.

use crate::auth::Principal;
use crate::db::{Connection, Transactional};
use crate::error::{AppError, AppResult};
use crate::paging::{self, Direction, Sort, column};
use crate::records::{self, ListFilter, Reference, Unique};
use crate::sortable;
use crate::validate::{self, NAME_MAX};
use chrono::{DateTime, Utc};
use entity::{
    AuditAction, AuthorityKind, AuthorityLevel, authority, cooperation, dialogue_authority,
    evidence, proposal_target,
};
use sea_orm::sea_query::{Condition, ExprTrait};
use sea_orm::{ActiveEnum, ActiveValue::Set, ColumnTrait, EntityTrait};
use uuid::Uuid;

sortable! {
    /// Fields authorities can be ordered by.
    pub enum AuthorityOrderField, AuthorityKey for authority {
        /// Alphabetically by name.
        Name(crate::collation::Swedish) = name,
        /// By slug.
        Slug(String) = slug,
        /// By creation time.
        CreatedAt(DateTime<Utc>) = created_at,
        /// By time of the last change.
        UpdatedAt(DateTime<Utc>) = updated_at,
    }
}

/// The municipality codes of the metropolitan municipalities: Stockholm, Göteborg, Malmö.
pub const METROPOLITAN_CODES: [&str; 3] = ["0180", "1480", "1280"];

/// Whether the caller may write these records at all, checked before anything else: the
/// GraphQL layer asks it too, before it reads the ids it was sent, so that a caller who
/// may not write learns nothing from input errors. Only admins add, change or remove authorities.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN for anyone else who may not.
pub fn may_write(principal: &Principal) -> AppResult<()> {
    crate::auth::require_admin(principal)
}

/// The order of lists of these when the client gives none: by name.
pub const DEFAULT_ORDER: Sort<AuthorityOrderField> =
    Sort::new(AuthorityOrderField::Name, Direction::Asc);

/// Which authorities to list.
#[derive(Debug, Clone, Default)]
pub struct AuthorityFilter {
    /// Only this level.
    pub level: Option<AuthorityLevel>,
    /// Only this kind.
    pub kind: Option<AuthorityKind>,
    /// Only the direct children of this authority.
    pub parent_id: Option<Uuid>,
    /// Only the metropolitan municipalities (true) or all others (false).
    pub metropolitan: Option<bool>,
    /// Only authorities whose name, slug or code contains this text (case-insensitive).
    pub text: Option<String>,
}

impl ListFilter for AuthorityFilter {
    type Row = authority::Model;

    fn searches(&self) -> bool {
        self.text.is_some()
    }

    fn condition(&self, _principal: &Principal) -> AppResult<Condition> {
        use authority::Column;
        let mut condition = Condition::all();
        if let Some(level) = self.level {
            condition =
                condition.add(column(Column::Level).eq(paging::vocabulary(level.to_value())));
        }
        if let Some(kind) = self.kind {
            condition = condition.add(column(Column::Kind).eq(paging::vocabulary(kind.to_value())));
        }
        if let Some(parent) = self.parent_id {
            condition = condition.add(column(Column::ParentId).eq(parent));
        }
        if let Some(metropolitan) = self.metropolitan {
            condition =
                condition.add(column(Column::IsMetropolitan).eq(paging::vocabulary(metropolitan)));
        }
        if let Some(text) = validate::search_text("filter.text", self.text.as_deref())? {
            condition = condition.add(paging::text_search(
                &[Column::Name, Column::Slug, Column::Code],
                &text,
            ));
        }
        Ok(condition)
    }
}

/// Finds an authority by slug, with the `wanted` columns (and those always read).
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_slug(
    db: &impl Connection,
    _principal: &Principal,
    slug: &str,
    wanted: paging::Wanted,
) -> AppResult<Option<authority::Model>> {
    let condition = Condition::all().add(authority::Column::Slug.eq(slug));
    paging::one(db, condition, wanted).await
}

const SLUG_TAKEN: Unique = ("input.slug", "an authority with this slug already exists");

/// Longest official identifier.
const CODE_MAX: usize = 32;

/// Checks the fields a new or changed authority gives, but its parent.
fn check(row: &mut authority::ActiveModel) -> AppResult<()> {
    validate::given(&mut row.slug, |v| validate::slug("input.slug", &v))?;
    validate::given(&mut row.name, |v| {
        validate::text("input.name", &v, NAME_MAX)
    })?;
    validate::given(&mut row.website, |v| {
        validate::url("input.website", v.as_deref())
    })?;
    validate::given(&mut row.code, |v| {
        validate::optional_text("input.code", v.as_deref(), CODE_MAX)
    })
}

async fn checked_parent(
    db: &impl Connection,
    id: Option<Uuid>,
    parent: Option<Uuid>,
) -> AppResult<Option<Uuid>> {
    let Some(parent) = parent else {
        return Ok(None);
    };
    records::ensure_exist::<authority::Model>(db, &[parent], Condition::all(), "input.parentId")
        .await?;
    if let Some(id) = id {
        // Walk up from the new parent: meeting the authority itself would close a cycle.
        let mut cursor = Some(parent);
        let mut steps = 0;
        while let Some(current) = cursor {
            if current == id {
                return Err(AppError::bad_input(
                    "input.parentId",
                    "an authority cannot sit under itself or one of its own children",
                ));
            }
            steps += 1;
            if steps > 1_000 {
                break;
            }
            cursor = authority::Entity::find_by_id(current)
                .one(db)
                .await?
                .and_then(|a| a.parent_id);
        }
    }
    Ok(Some(parent))
}

/// Creates an authority from `row`, which sets every field but the id, the version and
/// the times.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for invalid fields, an unknown parent or a taken slug.
pub async fn create(
    db: &impl Transactional,
    principal: &Principal,
    mut row: authority::ActiveModel,
) -> AppResult<authority::Model> {
    may_write(principal)?;
    check(&mut row)?;
    let parent = row.parent_id.take().flatten();
    row.parent_id = Set(checked_parent(db, None, parent).await?);
    let action = AuditAction::CreateAuthority;
    records::insert_logged::<authority::Entity>(db, principal, row, action, Some(SLUG_TAKEN)).await
}

/// Changes the fields `row` sets on authority `id`, if nobody else has since `expected_version`.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for invalid fields or a parent cycle; NOT_FOUND; CONFLICT on a stale version.
pub async fn update(
    db: &impl Transactional,
    principal: &Principal,
    (id, expected_version): (Uuid, i32),
    mut row: authority::ActiveModel,
) -> AppResult<authority::Model> {
    may_write(principal)?;
    check(&mut row)?;
    let txn = records::begin_write(db).await?;
    if row.parent_id.is_set() {
        let parent = row.parent_id.take().flatten();
        row.parent_id = Set(checked_parent(&txn, Some(id), parent).await?);
    }
    records::update_logged::<authority::Entity, _>(
        txn,
        principal,
        row,
        (id, expected_version),
        "authority",
        AuditAction::UpdateAuthority,
        Some(SLUG_TAKEN),
    )
    .await
}

/// Deletes an authority that nothing references any more.
///
/// # Errors
/// FORBIDDEN unless admin; NOT_FOUND; CONFLICT naming what still references it.
pub async fn delete(
    db: &impl Transactional,
    principal: &Principal,
    id: Uuid,
) -> AppResult<authority::Model> {
    may_write(principal)?;
    let txn = records::begin_write(db).await?;
    crate::goal::ensure_unnamed(&txn, "authority", id).await?;
    records::delete_unreferenced_in::<authority::Entity, _>(
        txn,
        principal,
        id,
        "authority",
        &[
            Reference::new(authority::Column::ParentId, "authority(ies) under it"),
            Reference::new(
                dialogue_authority::Column::AuthorityId,
                "dialogue(s) as participant",
            ),
            Reference::new(
                proposal_target::Column::AuthorityId,
                "proposal(s) as target",
            ),
            Reference::new(evidence::Column::AuthorityId, "evidence as issuer"),
            Reference::new(cooperation::Column::AuthorityId, "cooperation(s) there"),
        ],
        AuditAction::DeleteAuthority,
    )
    .await
}
