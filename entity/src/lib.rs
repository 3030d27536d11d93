//! sea-orm entities of Samverkan: one module per table, plus the domain enums that the
//! tables store as text and the GraphQL schema exposes under the same names.
#![forbid(unsafe_code)]

pub mod api_token;
pub mod audit_entry;
pub mod authority;
pub mod dialogue;
pub mod dialogue_authority;
pub mod dialogue_organisation;
pub mod dialogue_proposal;
pub mod enums;
pub mod login_failure;
pub mod membership;
pub mod organisation;
pub mod proposal;
pub mod proposal_co_signer;
pub mod proposal_status_change;
pub mod proposal_target;
pub mod refresh_token;
pub mod session;
pub mod setting;
pub mod user;

pub use enums::*;
