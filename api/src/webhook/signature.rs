//! Signing deliveries the Standard Webhooks way: `webhook-signature` is `v1,` and the
//! base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`, keyed with the bytes of
//! the secret (`whsec_` and base64).

use crate::error::{AppError, AppResult};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Every signing secret starts with this.
pub const PREFIX: &str = "whsec_";
/// The shortest and longest secret, in bytes (the convention's bounds).
const KEY_BYTES: std::ops::RangeInclusive<usize> = 24..=64;

/// A new signing secret: 32 random bytes.
///
/// # Errors
/// INTERNAL when the random source fails.
pub fn new_secret() -> AppResult<String> {
    Ok(format!(
        "{PREFIX}{}",
        STANDARD.encode(crate::auth::secrets::random_bytes(32)?)
    ))
}

/// The key bytes of a secret given by an admin, checked.
///
/// # Errors
/// BAD_USER_INPUT on `field` unless it is `whsec_` and the base64 of 24 to 64 bytes.
pub fn key(field: &str, secret: &str) -> AppResult<Vec<u8>> {
    secret
        .strip_prefix(PREFIX)
        .and_then(|encoded| STANDARD.decode(encoded).ok())
        .filter(|key| KEY_BYTES.contains(&key.len()))
        .ok_or_else(|| {
            AppError::bad_input(
                field,
                format!("{field} must be {PREFIX} followed by the base64 of 24 to 64 random bytes"),
            )
        })
}

/// The `webhook-signature` of one attempt.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of every length")
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signs_as_the_reference_implementations_do() {
        let key = key("secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("a valid secret");
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn refuses_secrets_that_are_not_whsec_base64_of_24_to_64_bytes() {
        assert!(key("s", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(key("s", "whsec_not base64!").is_err());
        assert!(key("s", &format!("whsec_{}", STANDARD.encode([1u8; 16]))).is_err());
        assert!(key("s", &format!("whsec_{}", STANDARD.encode([1u8; 65]))).is_err());
        let fresh = new_secret().expect("random");
        assert_eq!(key("s", &fresh).map(|k| k.len()).ok(), Some(32));
    }
}
