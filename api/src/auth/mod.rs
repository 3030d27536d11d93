//! Who is calling, and the one access policy every domain function asks.
//!
//! The rules: PUBLIC records for everyone; NETWORK records for members, editors, admins and
//! READ_NETWORK partner tokens; ORGANISATION records for members of an organisation
//! involved in them, and admins. Editors write the dialogues, proposals, evidence,
//! cooperations and goals their organisation takes part in (or owns), as the record is and
//! as it will be; network goals and themes are the admins'; only the lead's editors
//! move a proposal along its lifecycle or delete it; admins write everything; partner
//! tokens never write.

pub mod jwt;
pub mod password;
pub mod secrets;

use crate::error::{AppError, AppResult};
use crate::paging::{self, column, linked};
pub use entity::PrincipalKind;
use entity::{
    MembershipRole, TokenScope, Visibility, api_token, cooperation, cooperation_organisation,
    dialogue, dialogue_organisation, evidence, evidence_organisation, goal, membership, proposal,
    proposal_co_signer, user,
};
use sea_orm::sea_query::{Condition, ExprTrait};
use sea_orm::{ActiveEnum, ColumnTrait};
use uuid::Uuid;

/// The caller of a request, decided once per request by the HTTP layer
/// ([`crate::account::caller`]).
#[derive(Debug, Clone)]
pub struct Principal {
    /// What kind of caller this is.
    pub kind: PrincipalKind,
    /// The signed-in user.
    pub user_id: Option<Uuid>,
    /// The user's session (ended by `logout`).
    pub session_id: Option<Uuid>,
    /// The partner token.
    pub token_id: Option<Uuid>,
    /// A name for the audit log when no user acts: the token's name, or `command line`.
    pub actor: Option<String>,
    /// What a partner token may read.
    pub scope: Option<TokenScope>,
    /// May do everything.
    pub admin: bool,
    /// May read NETWORK records.
    pub network: bool,
    /// Organisations the caller is a member or editor of: ORGANISATION records involving them are visible.
    pub member_of: Vec<Uuid>,
    /// Organisations the caller may write for.
    pub editor_of: Vec<Uuid>,
}

impl Principal {
    /// What this caller may see.
    pub fn sight(&self) -> Sight {
        let mut member_of = self.member_of.clone();
        member_of.sort_unstable();
        member_of.dedup();
        Sight {
            admin: self.admin,
            network: self.network,
            member_of,
        }
    }

    /// An anonymous visitor: PUBLIC records, read only.
    pub fn anonymous() -> Self {
        Self {
            kind: PrincipalKind::Anonymous,
            user_id: None,
            session_id: None,
            token_id: None,
            actor: None,
            scope: None,
            admin: false,
            network: false,
            member_of: vec![],
            editor_of: vec![],
        }
    }

    /// The operator at the command line: may do everything.
    pub fn system() -> Self {
        Self {
            kind: PrincipalKind::System,
            actor: Some("command line".into()),
            admin: true,
            network: true,
            ..Self::anonymous()
        }
    }

    /// A signed-in user with their memberships, as stored now.
    pub fn user(user: &user::Model, session: Uuid, memberships: &[membership::Model]) -> Self {
        Self {
            kind: PrincipalKind::User,
            user_id: Some(user.id),
            session_id: Some(session),
            admin: user.admin,
            network: user.admin || !memberships.is_empty(),
            member_of: memberships.iter().map(|m| m.organisation_id).collect(),
            editor_of: memberships
                .iter()
                .filter(|m| m.role == MembershipRole::Editor)
                .map(|m| m.organisation_id)
                .collect(),
            ..Self::anonymous()
        }
    }

    /// A partner token: read-only, PUBLIC or also NETWORK records.
    pub fn partner(token: &api_token::Model) -> Self {
        Self {
            kind: PrincipalKind::PartnerToken,
            token_id: Some(token.id),
            actor: Some(token.name.clone()),
            scope: Some(token.scope),
            network: token.scope == TokenScope::ReadNetwork,
            ..Self::anonymous()
        }
    }

    /// Whether contact details (never public) may be shown: to members and above.
    pub fn sees_contact_details(&self) -> bool {
        self.admin || !self.member_of.is_empty()
    }
}

impl<'a> From<&'a Principal> for crate::audit::Actor<'a> {
    fn from(principal: &'a Principal) -> Self {
        Self {
            kind: principal.kind,
            user_id: principal.user_id,
            name: principal.actor.as_deref(),
        }
    }
}

/// The records whose visibility depends on the organisations involved in them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Guarded {
    /// Involved: the participating organisations.
    Dialogue,
    /// Involved: the lead organisation and the co-signers.
    Proposal,
    /// Involved: the organisations it credits.
    Evidence,
    /// Involved: the organisations taking part.
    Cooperation,
    /// Involved: the owning organisation.
    Goal,
}

/// What a caller may see: all of them that [`visible`] reads, so that two callers of the
/// same sight are shown the same rows (an answer kept for one may be given the other).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sight {
    admin: bool,
    network: bool,
    member_of: Vec<Uuid>,
}

/// The SQL condition that keeps only the rows of `record` the principal may read.
/// Lists, counts, lookups by id and nested edges all use it, so they agree.
pub fn visible(principal: &Principal, record: Guarded) -> Condition {
    if principal.admin {
        return Condition::all();
    }
    let visibility = match record {
        Guarded::Dialogue => column(dialogue::Column::Visibility),
        Guarded::Proposal => column(proposal::Column::Visibility),
        Guarded::Evidence => column(evidence::Column::Visibility),
        Guarded::Cooperation => column(cooperation::Column::Visibility),
        Guarded::Goal => column(goal::Column::Visibility),
    };
    let mut allowed = Condition::any().add(
        visibility
            .clone()
            .eq(paging::vocabulary(Visibility::Public.to_value())),
    );
    if principal.network {
        allowed = allowed.add(
            visibility
                .clone()
                .eq(paging::vocabulary(Visibility::Network.to_value())),
        );
    }
    if !principal.member_of.is_empty() {
        let members = || principal.member_of.iter().copied();
        let involved = match record {
            Guarded::Dialogue => linked(
                dialogue_organisation::Column::DialogueId.as_column_ref(),
                dialogue::Column::Id.as_column_ref(),
                column(dialogue_organisation::Column::OrganisationId).is_in(members()),
            ),
            Guarded::Proposal => column(proposal::Column::LeadOrganisationId)
                .is_in(members())
                .or(linked(
                    proposal_co_signer::Column::ProposalId.as_column_ref(),
                    proposal::Column::Id.as_column_ref(),
                    column(proposal_co_signer::Column::OrganisationId).is_in(members()),
                )),
            Guarded::Evidence => linked(
                evidence_organisation::Column::EvidenceId.as_column_ref(),
                evidence::Column::Id.as_column_ref(),
                column(evidence_organisation::Column::OrganisationId).is_in(members()),
            ),
            Guarded::Cooperation => linked(
                cooperation_organisation::Column::CooperationId.as_column_ref(),
                cooperation::Column::Id.as_column_ref(),
                column(cooperation_organisation::Column::OrganisationId).is_in(members()),
            ),
            Guarded::Goal => column(goal::Column::OwnerId).is_in(members()),
        };
        allowed = allowed.add(
            visibility
                .eq(paging::vocabulary(Visibility::Organisation.to_value()))
                .and(involved),
        );
    }
    // Wrapped, so that whoever adds to the result narrows it rather than widening it.
    Condition::all().add(allowed)
}

/// Organisations, authorities, users and tokens: only admins change them.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN for anyone else.
pub fn require_admin(principal: &Principal) -> AppResult<()> {
    if principal.admin {
        Ok(())
    } else {
        Err(refusal(principal, "only an admin may do this"))
    }
}

/// An editor may write a dialogue or proposal when one of its organisations is involved.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN when none of `involved` is the caller's.
pub fn require_editor_of_any(principal: &Principal, involved: &[Uuid]) -> AppResult<()> {
    if principal.admin || involved.iter().any(|id| principal.editor_of.contains(id)) {
        Ok(())
    } else {
        Err(refusal(
            principal,
            "you may only write records your organisation takes part in",
        ))
    }
}

/// An editor may change a record only when one of its organisations is involved before the
/// change and, when the change replaces who is involved, after it too: nobody hands a
/// record to organisations they do not edit for, or takes their own out of it.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN when either state is not the caller's.
pub fn require_editor_of_change(
    principal: &Principal,
    before: &[Uuid],
    after: Option<&[Uuid]>,
) -> AppResult<()> {
    require_editor_of_any(principal, before)?;
    after.map_or(Ok(()), |after| require_editor_of_any(principal, after))
}

/// Writing dialogues, proposals, evidence, cooperations and goals needs an editor role
/// somewhere (or admin); which records
/// may be written is then checked per record by [`require_editor_of_any`].
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN for partner tokens and plain members.
pub fn require_writer(principal: &Principal) -> AppResult<()> {
    if principal.admin || !principal.editor_of.is_empty() {
        Ok(())
    } else {
        Err(refusal(
            principal,
            "only editors may write the network's record",
        ))
    }
}

/// A signed-in user, for self-service such as `logout`.
///
/// # Errors
/// UNAUTHENTICATED unless a user is signed in.
pub fn require_user(principal: &Principal) -> AppResult<Uuid> {
    principal.user_id.ok_or(AppError::Unauthenticated)
}

/// Why a write is refused: sign in first, partner tokens are read-only, or it is not yours.
fn refusal(principal: &Principal, message: &str) -> AppError {
    match principal.kind {
        PrincipalKind::Anonymous => AppError::Unauthenticated,
        PrincipalKind::PartnerToken => AppError::Forbidden("partner tokens are read-only".into()),
        PrincipalKind::User | PrincipalKind::System => AppError::Forbidden(message.into()),
    }
}
