//! Accounts: users and their memberships, partner tokens, sessions, and who is calling.
//! The rules of who may do what are the access policy's ([`crate::auth`]); these modules
//! keep the records.

pub mod caller;
pub mod session;
pub mod tokens;
pub mod users;
