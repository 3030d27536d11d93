//! Access tokens: short-lived JWTs signed with HS256 (pinned), checked for issuer,
//! audience, expiry, subject and token type.

use crate::error::{AppError, AppResult};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use std::sync::Arc;
use uuid::Uuid;

const ISSUER: &str = "samverkan";
const AUDIENCE: &str = "samverkan-api";
const TOKEN_TYPE: &str = "access";
/// How long an access token lives.
pub const ACCESS_TOKEN_MINUTES: i64 = 15;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: Uuid,
    sid: Uuid,
    iat: i64,
    exp: i64,
    typ: String,
}

/// The keys that sign and check access tokens.
#[derive(Clone)]
pub struct Keys(Arc<(EncodingKey, DecodingKey, Validation)>);

impl Keys {
    /// Keys from a secret of at least 32 bytes.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        validation.validate_nbf = true;
        Self(Arc::new((
            EncodingKey::from_secret(secret),
            DecodingKey::from_secret(secret),
            validation,
        )))
    }

    /// Issues an access token for a user's session; returns it and its expiry.
    ///
    /// # Errors
    /// INTERNAL when signing fails.
    pub fn issue(&self, user: Uuid, session: Uuid) -> AppResult<(String, DateTime<Utc>)> {
        let now = Utc::now();
        let expires = now + chrono::TimeDelta::minutes(ACCESS_TOKEN_MINUTES);
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user,
            sid: session,
            iat: now.timestamp(),
            exp: expires.timestamp(),
            typ: TOKEN_TYPE.into(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.0.0)
            .map_err(|e| AppError::Internal(Arc::new(e)))?;
        Ok((token, expires))
    }

    /// Checks an access token; returns its user and session.
    ///
    /// # Errors
    /// UNAUTHENTICATED for anything but a valid, unexpired access token of ours.
    pub fn verify(&self, token: &str) -> AppResult<(Uuid, Uuid)> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.0.1, &self.0.2)
            .map_err(|_| AppError::Unauthenticated)?;
        if data.claims.typ != TOKEN_TYPE {
            return Err(AppError::Unauthenticated);
        }
        Ok((data.claims.sub, data.claims.sid))
    }
}
