//! sea-orm entities of Samverkan: one module per table, plus the domain enums that the
//! tables store as text and the GraphQL schema exposes under the same names.
#![forbid(unsafe_code)]

pub mod api_token;
pub mod audit_entry;
pub mod authority;
pub mod columns;
pub mod cooperation;
pub mod cost_budget;
pub mod dialogue;
pub mod dialogue_authority;
pub mod dialogue_organisation;
pub mod dialogue_proposal;
pub mod enums;
pub mod evidence;
pub mod goal;
pub mod goal_progress_entry;
mod id_list;
mod links;
pub mod login_failure;
pub mod membership;
pub mod organisation;
pub mod persisted_document;
pub mod proposal;
pub mod proposal_co_signer;
pub mod proposal_status_change;
pub mod proposal_target;
pub mod refresh_token;
pub mod search_entry;
pub mod session;
pub mod setting;
pub mod theme;
pub mod user;
pub mod webhook;
pub mod webhook_delivery;
pub mod webhook_event;

pub use columns::FromColumns;
pub use enums::*;
pub use id_list::IdList;
pub use links::{
    cooperation_organisation, cooperation_theme, dialogue_theme, evidence_dialogue,
    evidence_organisation, evidence_proposal, evidence_theme, goal_reference, proposal_theme,
};
