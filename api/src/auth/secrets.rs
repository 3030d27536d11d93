//! Random secrets, their hashes, and the key that signs access tokens.

use crate::error::{AppError, AppResult};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use entity::setting;
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait};
use sha2::{Digest, Sha256};

/// `n` bytes from the operating system's random source.
///
/// # Errors
/// INTERNAL when the source fails.
pub fn random_bytes(n: usize) -> AppResult<Vec<u8>> {
    let mut bytes = vec![0u8; n];
    getrandom::getrandom(&mut bytes).map_err(|e| {
        AppError::Internal(std::sync::Arc::new(std::io::Error::other(e.to_string())))
    })?;
    Ok(bytes)
}

/// A new secret: a recognisable `prefix` followed by 32 random bytes, base64url.
///
/// # Errors
/// INTERNAL when the random source fails.
pub fn new_secret(prefix: &str) -> AppResult<String> {
    Ok(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(random_bytes(32)?)
    ))
}

/// The SHA-256 of a secret, hex: what is stored instead of the secret.
pub fn hash(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

/// The SHA-256 of `bytes` in lower-case hex (persisted queries' ids, ETags).
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const JWT_SECRET_KEY: &str = "jwt_secret";

/// The key that signs access tokens: `SAMVERKAN_JWT_SECRET` when set, otherwise one
/// generated at the first start and kept in the database, so that the embedded default
/// needs no setup and several instances on one PostgreSQL agree.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn signing_secret(
    db: &DatabaseConnection,
    configured: Option<&[u8]>,
) -> AppResult<Vec<u8>> {
    if let Some(secret) = configured {
        return Ok(secret.to_vec());
    }
    let candidate = STANDARD.encode(random_bytes(48)?);
    // Insert-if-absent, then read: whichever instance wrote first, all read the same value.
    let insert = Query::insert()
        .into_table(setting::Entity)
        .columns([setting::Column::Key, setting::Column::Value])
        .values_panic([JWT_SECRET_KEY.into(), candidate.into()])
        .on_conflict(
            OnConflict::column(setting::Column::Key)
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await?;
    let stored = setting::Entity::find_by_id(JWT_SECRET_KEY.to_owned())
        .one(db)
        .await?
        .ok_or_else(|| {
            AppError::Internal(std::sync::Arc::new(std::io::Error::other(
                "signing secret missing after insert",
            )))
        })?;
    STANDARD
        .decode(stored.value)
        .map_err(|e| AppError::Internal(std::sync::Arc::new(e)))
}
