//! Accounts: users and their memberships, partner tokens, sessions, and who is calling.
//! The rules of who may do what are the access policy's ([`crate::auth`]); these modules
//! keep the records.

pub mod caller;
pub mod session;
pub mod tokens;
pub mod users;

use crate::auth::Principal;
use crate::error::AppResult;

/// Only admins manage users, memberships and partner tokens and read the audit log; the
/// GraphQL layer asks this too, before it reads the ids it was sent.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN for anyone else.
pub fn may_manage(principal: &Principal) -> AppResult<()> {
    crate::auth::require_admin(principal)
}
