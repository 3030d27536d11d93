//! Who is calling, and the one access policy every domain function asks.
//!
//! Until accounts exist every request runs as [`Principal::development_admin`]; the policy
//! below already covers the other callers so that accounts slot in without touching the
//! domain modules.

use entity::Visibility;
use sea_orm::ActiveEnum;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query};
use uuid::Uuid;

/// The caller of a request, decided once per request by the HTTP layer.
#[derive(Debug, Clone)]
pub struct Principal {
    /// What kind of caller this is.
    pub kind: PrincipalKind,
    /// May do everything.
    pub admin: bool,
    /// May read NETWORK records.
    pub network: bool,
    /// Organisations the caller is a member or editor of: ORGANISATION records involving them are visible.
    pub member_of: Vec<Uuid>,
    /// Organisations the caller may write for.
    pub editor_of: Vec<Uuid>,
}

/// The kinds of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrincipalKind {
    /// Nobody signed in.
    Anonymous,
    /// A signed-in user.
    User,
    /// A partner website's read-only token.
    PartnerToken,
}

impl Principal {
    /// An anonymous visitor: PUBLIC records, read only.
    pub fn anonymous() -> Self {
        Self {
            kind: PrincipalKind::Anonymous,
            admin: false,
            network: false,
            member_of: vec![],
            editor_of: vec![],
        }
    }

    /// The caller every request runs as until accounts exist.
    pub fn development_admin() -> Self {
        Self {
            kind: PrincipalKind::User,
            admin: true,
            network: true,
            member_of: vec![],
            editor_of: vec![],
        }
    }

    /// Whether contact details (never public) may be shown.
    pub fn sees_contact_details(&self) -> bool {
        self.admin || !self.member_of.is_empty()
    }
}

/// The records whose visibility depends on the organisations involved in them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Guarded {
    /// Involved: the participating organisations.
    Dialogue,
    /// Involved: the lead organisation and the co-signers.
    Proposal,
}

/// The SQL condition that keeps only the rows of `record` the principal may read.
/// Lists, counts, lookups by id and nested edges all use it, so they agree.
pub fn visible(principal: &Principal, record: Guarded) -> Condition {
    if principal.admin {
        return Condition::all();
    }
    let (table, column) = match record {
        Guarded::Dialogue => ("dialogues", "visibility"),
        Guarded::Proposal => ("proposals", "visibility"),
    };
    let visibility = Expr::col((Alias::new(table), Alias::new(column)));
    let mut allowed = Condition::any().add(visibility.clone().eq(Visibility::Public.to_value()));
    if principal.network {
        allowed = allowed.add(visibility.clone().eq(Visibility::Network.to_value()));
    }
    if !principal.member_of.is_empty() {
        let members = principal.member_of.iter().copied();
        let involved = match record {
            Guarded::Dialogue => Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(Alias::new("dialogue_organisations"))
                    .and_where(
                        Expr::col((
                            Alias::new("dialogue_organisations"),
                            Alias::new("dialogue_id"),
                        ))
                        .equals((Alias::new("dialogues"), Alias::new("id"))),
                    )
                    .and_where(
                        Expr::col((
                            Alias::new("dialogue_organisations"),
                            Alias::new("organisation_id"),
                        ))
                        .is_in(members),
                    )
                    .to_owned(),
            ),
            Guarded::Proposal => {
                Expr::col((Alias::new("proposals"), Alias::new("lead_organisation_id")))
                    .is_in(principal.member_of.iter().copied())
                    .or(Expr::exists(
                        Query::select()
                            .expr(Expr::val(1))
                            .from(Alias::new("proposal_co_signers"))
                            .and_where(
                                Expr::col((
                                    Alias::new("proposal_co_signers"),
                                    Alias::new("proposal_id"),
                                ))
                                .equals((Alias::new("proposals"), Alias::new("id"))),
                            )
                            .and_where(
                                Expr::col((
                                    Alias::new("proposal_co_signers"),
                                    Alias::new("organisation_id"),
                                ))
                                .is_in(members),
                            )
                            .to_owned(),
                    ))
            }
        };
        allowed = allowed.add(
            visibility
                .eq(Visibility::Organisation.to_value())
                .and(involved),
        );
    }
    allowed
}

/// Organisations and authorities are reference data: only admins change them.
///
/// # Errors
/// FORBIDDEN for anyone else.
pub fn require_admin(principal: &Principal) -> crate::error::AppResult<()> {
    if principal.admin {
        Ok(())
    } else if principal.kind == PrincipalKind::Anonymous {
        Err(crate::error::AppError::Unauthenticated)
    } else {
        Err(crate::error::AppError::Forbidden(
            "only an admin may do this".into(),
        ))
    }
}

/// An editor may write a dialogue or proposal when one of its organisations is involved.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN when none of `involved` is the caller's.
pub fn require_editor_of_any(
    principal: &Principal,
    involved: &[Uuid],
) -> crate::error::AppResult<()> {
    if principal.admin || involved.iter().any(|id| principal.editor_of.contains(id)) {
        Ok(())
    } else if principal.kind == PrincipalKind::Anonymous {
        Err(crate::error::AppError::Unauthenticated)
    } else {
        Err(crate::error::AppError::Forbidden(
            "you may only write records your organisation takes part in".into(),
        ))
    }
}
