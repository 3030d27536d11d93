//! Partner tokens: read-only credentials for partner websites. The secret is shown once at
//! creation and stored only as a SHA-256 hash.

use crate::audit;
use crate::auth::{Principal, secrets};
use crate::error::{AppError, AppResult};
use crate::paging::{Page, Rows};
use crate::records;
use crate::sortable;
use chrono::{DateTime, Utc};
use entity::{AuditAction, TokenScope, api_token};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};
use uuid::Uuid;

/// Every partner token starts with this, so a leaked one is recognisable (and scannable).
pub const PREFIX: &str = "svk_pt_";
const SHOWN_PREFIX_LENGTH: usize = 12;

sortable! {
    /// The order of the partner token list.
    pub enum ApiTokenOrderField, ApiTokenKey for api_token {
        /// By creation time.
        CreatedAt(DateTime<Utc>) = created_at,
    }
}

/// The allowed origins of a token as a list.
pub fn origins(token: &api_token::Model) -> Vec<String> {
    token
        .allowed_origins
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A new partner token.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// What it is for, such as the partner website's name.
    pub name: String,
    /// What it may read.
    pub scope: TokenScope,
    /// Browser origins (`https://example.org`) allowed to use it; none means server-side only.
    pub allowed_origins: Vec<String>,
    /// When it stops working; never when absent.
    pub expires_at: Option<DateTime<Utc>>,
}

fn origin(field: &str, value: &str) -> AppResult<String> {
    let value = value.trim().trim_end_matches('/');
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let ok = rest.is_some_and(|host| {
        !host.is_empty()
            && !host.contains(['/', '?', '#', '@', ' '])
            && host.split(':').next().is_some_and(|h| !h.is_empty())
    });
    if ok {
        Ok(value.to_lowercase())
    } else {
        Err(AppError::bad_input(
            field,
            format!("{field} must be origins such as https://example.org (no path)"),
        ))
    }
}

/// How many partner tokens this process has created or revoked: the CORS layer reads the
/// tokens' origins again as soon as this changes, instead of at its next refresh.
static CHANGES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The count of partner token changes made by this process ([`CHANGES`]).
pub fn changes() -> u64 {
    CHANGES.load(std::sync::atomic::Ordering::SeqCst)
}

/// Notes a change to the partner tokens, made here or (told by the change feed) by another
/// server process: the browser origins are read again at the next request.
pub fn changed() {
    CHANGES.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// Creates a partner token; returns the secret (shown this once) and the record.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for a bad name, origin or a past expiry.
pub async fn create(
    db: &DatabaseConnection,
    principal: &Principal,
    input: NewApiToken,
) -> AppResult<(String, api_token::Model)> {
    super::may_manage(principal)?;
    let name = crate::validate::text("input.name", &input.name, crate::validate::NAME_MAX)?;
    if input.allowed_origins.len() > 50 {
        return Err(AppError::bad_input(
            "input.allowedOrigins",
            "at most 50 origins",
        ));
    }
    let origins = input
        .allowed_origins
        .iter()
        .map(|o| origin("input.allowedOrigins", o))
        .collect::<AppResult<Vec<_>>>()?;
    if input.expires_at.is_some_and(|t| t <= Utc::now()) {
        return Err(AppError::bad_input(
            "input.expiresAt",
            "input.expiresAt must be in the future",
        ));
    }
    let secret = secrets::new_secret(PREFIX)?;
    let row = api_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        prefix: Set(secret.chars().take(SHOWN_PREFIX_LENGTH).collect()),
        token_hash: Set(secrets::hash(&secret)),
        scope: Set(input.scope),
        allowed_origins: Set(origins.join("\n")),
        expires_at: Set(input.expires_at),
        last_used_at: Set(None),
        revoked_at: Set(None),
        created_by: Set(principal.user_id),
        created_at: Set(crate::validate::now()),
    };
    let txn = crate::records::begin_write(db).await?;
    let changes = audit::changes(&row);
    let created = row.insert(&txn).await?;
    audit::record(
        &txn,
        principal,
        AuditAction::CreateApiToken,
        Some(created.id),
        changes,
    )
    .await?;
    txn.commit().await?;
    changed();
    Ok((secret, created))
}

/// Revokes a partner token; it stops working on the next request.
///
/// # Errors
/// FORBIDDEN unless admin; NOT_FOUND.
pub async fn revoke(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<api_token::Model> {
    super::may_manage(principal)?;
    let txn = crate::records::begin_write(db).await?;
    let token = api_token::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("API token"))?;
    let mut row: api_token::ActiveModel = token.into();
    row.revoked_at = Set(Some(crate::validate::now()));
    let changes = audit::changes(&row);
    let revoked = row.update(&txn).await?;
    audit::record(
        &txn,
        principal,
        AuditAction::RevokeApiToken,
        Some(id),
        changes,
    )
    .await?;
    txn.commit().await?;
    changed();
    Ok(revoked)
}

/// A partner token by id, for admins; `None` for everyone else, as for a token that does
/// not exist.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_id(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<Option<api_token::Model>> {
    if !principal.admin {
        return Ok(None);
    }
    Ok(api_token::Entity::find_by_id(id).one(db).await?)
}

/// Lists partner tokens, newest first.
///
/// # Errors
/// FORBIDDEN unless admin.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    page: &Page<ApiTokenKey>,
) -> AppResult<(Rows<api_token::Model>, i64)> {
    records::admin_list(db, principal, Condition::all(), page).await
}

/// The principal of a partner token.
///
/// # Errors
/// UNAUTHENTICATED for an unknown, revoked or expired token; FORBIDDEN from an origin it
/// is not allowed on.
pub async fn authenticate(
    db: &DatabaseConnection,
    secret: &str,
    origin: Option<&str>,
) -> AppResult<Principal> {
    if !secret.starts_with(PREFIX) {
        return Err(AppError::Unauthenticated);
    }
    let now = Utc::now();
    let token = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(secrets::hash(secret)))
        .one(db)
        .await?
        .filter(|t| t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now))
        .ok_or(AppError::Unauthenticated)?;
    if let Some(origin) = origin {
        let origin = origin.trim_end_matches('/').to_lowercase();
        if !origins(&token).contains(&origin) {
            return Err(AppError::Forbidden(
                "this partner token is not allowed from this origin".into(),
            ));
        }
    }
    // Note the use at most once a minute, so reads do not each cost a write.
    if token
        .last_used_at
        .is_none_or(|t| now - t > chrono::TimeDelta::minutes(1))
    {
        let stamp = api_token::Entity::update_many()
            .col_expr(
                api_token::Column::LastUsedAt,
                Expr::val(crate::validate::now()),
            )
            .filter(api_token::Column::Id.eq(token.id));
        stamp.exec(db).await?;
    }
    Ok(Principal::partner(&token))
}

/// The browser origins of the active partner tokens (neither revoked nor expired), which
/// the CORS layer allows besides the configured ones.
///
/// # Errors
/// When the database cannot be read.
pub async fn active_origins(
    db: &DatabaseConnection,
) -> AppResult<std::collections::HashSet<String>> {
    let active = api_token::Entity::find()
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(
            Condition::any()
                .add(api_token::Column::ExpiresAt.is_null())
                .add(api_token::Column::ExpiresAt.gt(crate::validate::now())),
        )
        .filter(api_token::Column::AllowedOrigins.ne(""))
        .all(db)
        .await?;
    Ok(active.iter().flat_map(origins).collect())
}
