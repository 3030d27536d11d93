//! Public authorities the network engages, in a tree: committees under the Riksdag,
//! municipalities under their region.

use crate::audit;
use crate::auth::{Principal, require_admin};
use crate::error::{AppError, AppResult};
use crate::ids::{self, NodeType};
use crate::paging::{self, ListFilter, OrderDirection, Row, Sort, SortValue};
use crate::records::{self, on_unique};
use crate::validate::{self, NAME_MAX};
use async_graphql::{Enum, InputObject, MaybeUndefined};
use entity::{AuthorityKind, AuthorityLevel, authority};
use sea_orm::sea_query::{Condition, ExprTrait};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionTrait,
};
use uuid::Uuid;

const TABLE: &str = "authorities";

impl Row for authority::Model {
    const TABLE: &'static str = TABLE;
    fn id(&self) -> Uuid {
        self.id
    }
    fn sort_value(&self, column: &str) -> SortValue {
        match column {
            "created_at" => SortValue::Time(self.created_at),
            "updated_at" => SortValue::Time(self.updated_at),
            "slug" => SortValue::Text(self.slug.clone()),
            _ => SortValue::Text(self.name.clone()),
        }
    }
}

/// Fields authorities can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum AuthorityOrderField {
    /// Alphabetically by name.
    Name,
    /// By slug.
    Slug,
    /// By creation time.
    CreatedAt,
    /// By time of the last change.
    UpdatedAt,
}

/// How to order authorities; by name ascending when absent.
#[derive(Debug, Clone, Copy, InputObject)]
pub struct AuthorityOrder {
    /// The field to order by.
    pub field: AuthorityOrderField,
    /// The direction.
    pub direction: OrderDirection,
}

impl AuthorityOrder {
    /// The ordering as a keyset sort.
    pub fn sort(order: Option<Self>) -> Sort {
        let order = order.unwrap_or(Self {
            field: AuthorityOrderField::Name,
            direction: OrderDirection::Asc,
        });
        let column = match order.field {
            AuthorityOrderField::Name => "name",
            AuthorityOrderField::Slug => "slug",
            AuthorityOrderField::CreatedAt => "created_at",
            AuthorityOrderField::UpdatedAt => "updated_at",
        };
        Sort {
            column,
            descending: order.direction.is_descending(),
        }
    }
}

/// Which authorities to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct AuthorityFilter {
    /// Only this level.
    pub level: Option<AuthorityLevel>,
    /// Only this kind.
    pub kind: Option<AuthorityKind>,
    /// Only the direct children of this authority.
    pub parent_id: Option<async_graphql::ID>,
    /// Only authorities whose name, slug or code contains this text (case-insensitive).
    pub text: Option<String>,
}

impl ListFilter for AuthorityFilter {
    type Row = authority::Model;

    fn condition(&self, _principal: &Principal) -> AppResult<Condition> {
        let mut condition = Condition::all();
        if let Some(level) = self.level {
            condition = condition.add(paging::column(TABLE, "level").eq(level.to_value()));
        }
        if let Some(kind) = self.kind {
            condition = condition.add(paging::column(TABLE, "kind").eq(kind.to_value()));
        }
        if let Some(parent) = &self.parent_id {
            let parent = ids::decode(NodeType::Authority, parent, "filter.parentId")?;
            condition = condition.add(paging::column(TABLE, "parent_id").eq(parent));
        }
        if let Some(text) = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            condition = condition.add(paging::text_search(TABLE, &["name", "slug", "code"], text));
        }
        Ok(condition)
    }
}

/// Finds an authority by slug.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_slug(
    db: &impl ConnectionTrait,
    _principal: &Principal,
    slug: &str,
) -> AppResult<Option<authority::Model>> {
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(authority::Entity::find()
        .filter(authority::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// Input of `createAuthority`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateAuthorityInput {
    /// Unique short name for URLs: lowercase letters, digits, hyphens.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Level of government.
    pub level: AuthorityLevel,
    /// Kind of body.
    pub kind: AuthorityKind,
    /// The authority this one sits under.
    pub parent_id: Option<async_graphql::ID>,
    /// Public website (http or https).
    pub website: Option<String>,
    /// An official identifier, such as the municipality code.
    pub code: Option<String>,
}

/// Input of `updateAuthority`: only the fields given change; `null` clears an optional field.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateAuthorityInput {
    /// The authority's id.
    pub id: async_graphql::ID,
    /// The version the change was based on; a newer stored version is a CONFLICT.
    pub expected_version: i32,
    /// New slug.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New level.
    pub level: Option<AuthorityLevel>,
    /// New kind.
    pub kind: Option<AuthorityKind>,
    /// New parent, or `null` for none.
    pub parent_id: MaybeUndefined<async_graphql::ID>,
    /// New website, or `null` to clear.
    pub website: MaybeUndefined<String>,
    /// New official identifier, or `null` to clear.
    pub code: MaybeUndefined<String>,
}

/// Input of `deleteAuthority`.
#[derive(Debug, Clone, InputObject)]
pub struct DeleteAuthorityInput {
    /// The authority's id.
    pub id: async_graphql::ID,
}

const SLUG_TAKEN: &str = "an authority with this slug already exists";

async fn checked_parent(
    db: &impl ConnectionTrait,
    id: Option<Uuid>,
    parent: Option<&async_graphql::ID>,
) -> AppResult<Option<Uuid>> {
    let Some(parent) = parent else {
        return Ok(None);
    };
    let parent = ids::decode(NodeType::Authority, parent, "input.parentId")?;
    records::ensure_exist(db, TABLE, &[parent], "input.parentId").await?;
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

/// Creates an authority.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for invalid fields, an unknown parent or a taken slug.
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: CreateAuthorityInput,
) -> AppResult<authority::Model> {
    require_admin(principal)?;
    let now = validate::now();
    let mut row = authority::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set(validate::slug("input.slug", &input.slug)?),
        name: Set(validate::text("input.name", &input.name, NAME_MAX)?),
        level: Set(input.level),
        kind: Set(input.kind),
        parent_id: Set(None),
        website: Set(validate::url("input.website", input.website.as_deref())?),
        code: Set(validate::optional_text(
            "input.code",
            input.code.as_deref(),
            32,
        )?),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    row.parent_id = Set(checked_parent(db, None, input.parent_id.as_ref()).await?);
    let changes = audit::changes(&row);
    let txn = crate::records::begin_write(db).await?;
    let created = row
        .insert(&txn)
        .await
        .map_err(on_unique("input.slug", SLUG_TAKEN))?;
    audit::commit(
        txn,
        principal,
        "createAuthority",
        "Authority",
        created.id,
        changes,
    )
    .await?;
    Ok(created)
}

/// Changes an authority if nobody else has since `expected_version`.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for invalid fields or a parent cycle; NOT_FOUND; CONFLICT on a stale version.
pub async fn update(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: UpdateAuthorityInput,
) -> AppResult<authority::Model> {
    require_admin(principal)?;
    let id = ids::decode(NodeType::Authority, &input.id, "input.id")?;
    let mut row: authority::ActiveModel = Default::default();
    if let Some(slug) = &input.slug {
        row.slug = Set(validate::slug("input.slug", slug)?);
    }
    if let Some(name) = &input.name {
        row.name = Set(validate::text("input.name", name, NAME_MAX)?);
    }
    if let Some(level) = input.level {
        row.level = Set(level);
    }
    if let Some(kind) = input.kind {
        row.kind = Set(kind);
    }
    if let Some(website) = input.website.as_opt_ref().map(|w| w.map(String::as_str)) {
        row.website = Set(validate::url("input.website", website)?);
    }
    if let Some(code) = input.code.as_opt_ref().map(|w| w.map(String::as_str)) {
        row.code = Set(validate::optional_text("input.code", code, 32)?);
    }
    let txn = crate::records::begin_write(db).await?;
    if let Some(parent) = input.parent_id.as_opt_ref() {
        row.parent_id = Set(checked_parent(&txn, Some(id), parent).await?);
    }
    let changes = audit::changes(&row);
    let updated = records::versioned_update::<authority::Entity, _>(
        &txn,
        row,
        id,
        input.expected_version,
        "authority",
    )
    .await
    .map_err(records::UpdateError::or_unique("input.slug", SLUG_TAKEN))?;
    audit::commit(txn, principal, "updateAuthority", "Authority", id, changes).await?;
    Ok(updated)
}

/// Deletes an authority that nothing references any more.
///
/// # Errors
/// FORBIDDEN unless admin; NOT_FOUND; CONFLICT naming what still references it.
pub async fn delete(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: DeleteAuthorityInput,
) -> AppResult<authority::Model> {
    require_admin(principal)?;
    let id = ids::decode(NodeType::Authority, &input.id, "input.id")?;
    let txn = crate::records::begin_write(db).await?;
    let row = authority::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("authority"))?;
    records::ensure_unreferenced(
        &txn,
        "authority",
        id,
        &[
            ("authorities", "parent_id", "authority(ies) under it"),
            (
                "dialogue_authorities",
                "authority_id",
                "dialogue(s) as participant",
            ),
            ("proposal_targets", "authority_id", "proposal(s) as target"),
        ],
    )
    .await?;
    authority::Entity::delete_by_id(id).exec(&txn).await?;
    let removed = audit::removed(&authority::ActiveModel::from(row.clone()));
    audit::commit(txn, principal, "deleteAuthority", "Authority", id, removed).await?;
    Ok(row)
}
