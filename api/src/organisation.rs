//! Network member organisations: listing, lookup and admin-only changes.

use crate::auth::Principal;
use crate::db::{Connection, Transactional};
use crate::error::AppResult;
use crate::paging::{self, Direction, Sort, column};
use crate::records::{self, ListFilter, Reference, Unique};
use crate::sortable;
use crate::validate::{self, NAME_MAX, SUMMARY_MAX};
use chrono::{DateTime, Utc};
use entity::{
    AuditAction, OrganisationKind, cooperation_organisation, dialogue_organisation,
    evidence_organisation, goal, organisation, proposal, proposal_co_signer,
};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func};
use sea_orm::{ActiveEnum, ColumnTrait};
use uuid::Uuid;

sortable! {
    /// Fields organisations can be ordered by.
    pub enum OrganisationOrderField, OrganisationKey for organisation {
        /// Alphabetically by name.
        Name(crate::collation::Swedish) = name,
        /// By slug.
        Slug(String) = slug,
        /// By creation time.
        CreatedAt(DateTime<Utc>) = created_at,
        /// By time of the last change.
        UpdatedAt(DateTime<Utc>) = updated_at,
    }
}

/// Whether the caller may write these records at all, checked before anything else: the
/// GraphQL layer asks it too, before it reads the ids it was sent, so that a caller who
/// may not write learns nothing from input errors. Only admins add, change or remove organisations.
///
/// # Errors
/// UNAUTHENTICATED for anonymous callers, FORBIDDEN for anyone else who may not.
pub fn may_write(principal: &Principal) -> AppResult<()> {
    crate::auth::require_admin(principal)
}

/// The order of lists of these when the client gives none: by name.
pub const DEFAULT_ORDER: Sort<OrganisationOrderField> =
    Sort::new(OrganisationOrderField::Name, Direction::Asc);

/// Which organisations to list.
#[derive(Debug, Clone, Default)]
pub struct OrganisationFilter {
    /// Only this kind.
    pub kind: Option<OrganisationKind>,
    /// Only organisations in this city (exact, case-insensitive).
    pub city: Option<String>,
    /// Only organisations whose name, slug or description contains this text (case-insensitive).
    pub text: Option<String>,
}

impl ListFilter for OrganisationFilter {
    type Row = organisation::Model;

    fn searches(&self) -> bool {
        self.text.is_some()
    }

    fn condition(&self, _principal: &Principal) -> AppResult<Condition> {
        use organisation::Column;
        let mut condition = Condition::all();
        if let Some(kind) = self.kind {
            condition = condition.add(column(Column::Kind).eq(paging::vocabulary(kind.to_value())));
        }
        if let Some(city) = validate::search_text("filter.city", self.city.as_deref())? {
            condition = condition
                .add(Expr::expr(Func::lower(column(Column::City))).eq(city.to_lowercase()));
        }
        if let Some(text) = validate::search_text("filter.text", self.text.as_deref())? {
            condition = condition.add(paging::text_search(
                &[Column::Name, Column::Slug, Column::Description],
                &text,
            ));
        }
        Ok(condition)
    }
}

/// Finds an organisation by slug, with the `wanted` columns (and those always read).
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_slug(
    db: &impl Connection,
    _principal: &Principal,
    slug: &str,
    wanted: paging::Wanted,
) -> AppResult<Option<organisation::Model>> {
    let condition = Condition::all().add(organisation::Column::Slug.eq(slug));
    paging::one(db, condition, wanted).await
}

const SLUG_TAKEN: Unique = (
    "input.slug",
    "an organisation with this slug already exists",
);

/// Checks the fields a new or changed organisation gives.
fn check(row: &mut organisation::ActiveModel) -> AppResult<()> {
    validate::given(&mut row.slug, |v| validate::slug("input.slug", &v))?;
    validate::given(&mut row.name, |v| {
        validate::text("input.name", &v, NAME_MAX)
    })?;
    validate::given(&mut row.description, |v| {
        Ok(
            validate::optional_text("input.description", Some(&v), SUMMARY_MAX)?
                .unwrap_or_default(),
        )
    })?;
    validate::given(&mut row.website, |v| {
        validate::url("input.website", v.as_deref())
    })?;
    validate::given(&mut row.contact_email, |v| {
        validate::email("input.contactEmail", v.as_deref())
    })?;
    validate::given(&mut row.city, |v| {
        validate::optional_text("input.city", v.as_deref(), NAME_MAX)
    })
}

/// Creates an organisation from `row`, which sets every field but the id, the version and
/// the times.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for invalid fields or a taken slug.
pub async fn create(
    db: &impl Transactional,
    principal: &Principal,
    mut row: organisation::ActiveModel,
) -> AppResult<organisation::Model> {
    may_write(principal)?;
    check(&mut row)?;
    let action = AuditAction::CreateOrganisation;
    records::insert_logged::<organisation::Entity>(db, principal, row, action, Some(SLUG_TAKEN))
        .await
}

/// Changes the fields `row` sets on organisation `id`, if nobody else has since `expected_version`.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for invalid fields; NOT_FOUND; CONFLICT on a stale version.
pub async fn update(
    db: &impl Transactional,
    principal: &Principal,
    (id, expected_version): (Uuid, i32),
    mut row: organisation::ActiveModel,
) -> AppResult<organisation::Model> {
    may_write(principal)?;
    check(&mut row)?;
    records::update_logged::<organisation::Entity, _>(
        records::begin_write(db).await?,
        principal,
        row,
        (id, expected_version),
        "organisation",
        AuditAction::UpdateOrganisation,
        Some(SLUG_TAKEN),
    )
    .await
}

/// Deletes an organisation that nothing references any more.
///
/// # Errors
/// FORBIDDEN unless admin; NOT_FOUND; CONFLICT naming what still references it.
pub async fn delete(
    db: &impl Transactional,
    principal: &Principal,
    id: Uuid,
) -> AppResult<organisation::Model> {
    may_write(principal)?;
    let txn = records::begin_write(db).await?;
    crate::goal::ensure_unnamed(&txn, "organisation", id).await?;
    records::delete_unreferenced_in::<organisation::Entity, _>(
        txn,
        principal,
        id,
        "organisation",
        &[
            Reference::new(
                dialogue_organisation::Column::OrganisationId,
                "dialogue(s) as participant",
            ),
            Reference::new(proposal::Column::LeadOrganisationId, "proposal(s) as lead"),
            Reference::new(
                proposal_co_signer::Column::OrganisationId,
                "proposal(s) as co-signer",
            ),
            Reference::new(
                evidence_organisation::Column::OrganisationId,
                "evidence crediting it",
            ),
            Reference::new(
                cooperation_organisation::Column::OrganisationId,
                "cooperation(s) it takes part in",
            ),
            Reference::new(goal::Column::OwnerId, "goal(s) it owns"),
        ],
        AuditAction::DeleteOrganisation,
    )
    .await
}
