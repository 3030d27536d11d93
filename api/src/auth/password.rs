//! Password hashing: argon2id at OWASP's parameters (m=19456 KiB, t=2, p=1), stored as PHC
//! strings, computed off the async runtime.

use crate::error::{AppError, AppResult};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::{Arc, OnceLock};

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// Longest password accepted (hashing cost grows with length).
pub const MAX_LENGTH: usize = 1024;

fn hasher() -> AppResult<Argon2<'static>> {
    let params = Params::new(19_456, 2, 1, None).map_err(|e| internal(&e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// How long a password check waits for a turn before the caller is told to come back.
const TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A turn to run one Argon2 computation: at most one per core at once, since each holds
/// 19 MiB and a flood of sign-ins in parallel took the process from 75 MB to 2.1 GB.
pub struct Turn {
    _held: tokio::sync::SemaphorePermit<'static>,
}

/// Waits for a turn to hash.
///
/// # Errors
/// RATE_LIMITED when none comes within [`TURN_WAIT`].
pub async fn turn() -> AppResult<Turn> {
    static TURNS: crate::limits::CoreTurns = crate::limits::CoreTurns::new(1);
    let permit = tokio::time::timeout(TURN_WAIT, TURNS.get().acquire())
        .await
        .map_err(|_| AppError::RateLimited)?
        .map_err(|e| internal(&e.to_string()))?;
    Ok(Turn { _held: permit })
}

/// Runs one Argon2 computation on the blocking pool in the given turn. The turn ends when
/// the computation does, not when the caller stops waiting for it: a client that hangs up
/// mid-sign-in does not free a turn while its hash still runs.
async fn in_turn<T: Send + 'static>(
    turn: Turn,
    work: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(move || {
        let result = work();
        drop(turn);
        result
    })
    .await
    .map_err(|e| internal(&e.to_string()))?
}

fn internal(message: &str) -> AppError {
    AppError::Internal(Arc::new(std::io::Error::other(message.to_owned())))
}

/// Checks a new password's length.
///
/// # Errors
/// BAD_USER_INPUT naming `field`.
pub fn check(field: &str, password: &str) -> AppResult<()> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        Err(AppError::bad_input(
            field,
            format!("the password must be at least {MIN_LENGTH} characters"),
        ))
    } else if length > MAX_LENGTH {
        Err(AppError::bad_input(
            field,
            format!("the password must be at most {MAX_LENGTH} characters"),
        ))
    } else {
        Ok(())
    }
}

/// Hashes a password.
///
/// # Errors
/// RATE_LIMITED when no turn comes within [`TURN_WAIT`]; INTERNAL when hashing fails.
pub async fn hash(password: String) -> AppResult<String> {
    let salt = super::secrets::random_bytes(16)?;
    in_turn(turn().await?, move || {
        let salt = SaltString::encode_b64(&salt).map_err(|e| internal(&e.to_string()))?;
        Ok(hasher()?
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| internal(&e.to_string()))?
            .to_string())
    })
    .await
}

/// A hash of a random password, verified against when the account does not exist so that
/// an unknown email takes as long as a wrong password.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"samverkan-decoy!").ok();
        salt.and_then(|salt| {
            hasher()
                .ok()?
                .hash_password(b"no account has this password", &salt)
                .ok()
                .map(|h| h.to_string())
        })
        .unwrap_or_default()
    })
}

/// Checks a password against a stored hash, or against a decoy when there is none, in a
/// turn the caller waited for ([`turn`]).
///
/// # Errors
/// INTERNAL when verification cannot run.
pub async fn verify(turn: Turn, password: String, stored: Option<String>) -> AppResult<bool> {
    in_turn(turn, move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| decoy().to_owned());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return Ok(false);
        };
        let matches = hasher()?
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
}
