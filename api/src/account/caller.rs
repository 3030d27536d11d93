//! Who is calling: decided once per request from its headers. A user's access token goes in
//! `Authorization: Bearer <jwt>`; a partner token in `X-Api-Key: <token>`. Each is accepted
//! only in its own place. The user, their session and memberships are read on every request,
//! so deactivation, logout and revoked roles take effect at once.

use super::tokens;
use crate::auth::Principal;
use crate::auth::jwt::Keys;
use crate::error::{AppError, AppResult};
use entity::{membership, session, user};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

/// The credentials a request carries.
#[derive(Debug, Default)]
pub struct Credentials<'a> {
    /// The value of `Authorization`.
    pub authorization: Option<&'a str>,
    /// The value of `X-Api-Key`.
    pub api_key: Option<&'a str>,
    /// The value of `Origin`, for partner tokens bound to websites.
    pub origin: Option<&'a str>,
}

/// Turns the credentials into a principal.
///
/// # Errors
/// UNAUTHENTICATED for a malformed, expired, revoked or unknown credential, or both kinds
/// at once; FORBIDDEN for a partner token used from an origin it is not allowed on.
pub async fn principal(
    db: &DatabaseConnection,
    keys: &Keys,
    credentials: Credentials<'_>,
) -> AppResult<Principal> {
    match (credentials.authorization, credentials.api_key) {
        (None, None) => Ok(Principal::anonymous()),
        (Some(_), Some(_)) => Err(AppError::Unauthenticated),
        (Some(authorization), None) => {
            let token = authorization
                .strip_prefix("Bearer ")
                .ok_or(AppError::Unauthenticated)?;
            Box::pin(user_principal(db, keys, token.trim())).await
        }
        (None, Some(api_key)) => {
            Box::pin(tokens::authenticate(db, api_key.trim(), credentials.origin)).await
        }
    }
}

async fn user_principal(db: &DatabaseConnection, keys: &Keys, token: &str) -> AppResult<Principal> {
    let (user_id, session_id) = keys.verify(token)?;
    let now = chrono::Utc::now();
    let session = session::Entity::find_by_id(session_id)
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    if session.user_id != user_id || session.revoked_at.is_some() || session.expires_at <= now {
        return Err(AppError::Unauthenticated);
    }
    let user = user::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .filter(|u| u.active)
        .ok_or(AppError::Unauthenticated)?;
    let memberships = membership::Entity::find()
        .filter(membership::Column::UserId.eq(user_id))
        .all(db)
        .await?;
    Ok(Principal::user(&user, session_id, &memberships))
}
