//! Network member organisations: listing, lookup and admin-only changes.

use crate::auth::{Principal, require_admin};
use crate::error::AppResult;
use crate::paging::{self, Sort, column};
use crate::records::{self, ListFilter, Reference, Unique};
use crate::sortable;
use crate::validate::{self, NAME_MAX, SUMMARY_MAX};
use chrono::{DateTime, Utc};
use entity::{
    AuditAction, OrganisationKind, dialogue_organisation, organisation, proposal,
    proposal_co_signer,
};
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func};
use sea_orm::{
    ActiveEnum, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    TransactionTrait,
};
use uuid::Uuid;

sortable! {
    /// Fields organisations can be ordered by.
    pub enum OrganisationOrderField, OrganisationKey for organisation {
        /// Alphabetically by name.
        Name(String) = name,
        /// By slug.
        Slug(String) = slug,
        /// By creation time.
        CreatedAt(DateTime<Utc>) = created_at,
        /// By time of the last change.
        UpdatedAt(DateTime<Utc>) = updated_at,
    }
}

/// The order of lists of these when the client gives none: by name.
pub const DEFAULT_ORDER: Sort<OrganisationOrderField> = Sort {
    field: OrganisationOrderField::Name,
    descending: false,
};

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

    fn condition(&self, _principal: &Principal) -> AppResult<Condition> {
        use organisation::Column;
        let mut condition = Condition::all();
        if let Some(kind) = self.kind {
            condition = condition.add(column(Column::Kind).eq(kind.to_value()));
        }
        if let Some(city) = validate::search_text(self.city.as_deref()) {
            condition = condition
                .add(Expr::expr(Func::lower(column(Column::City))).eq(city.to_lowercase()));
        }
        if let Some(text) = validate::search_text(self.text.as_deref()) {
            condition = condition.add(paging::text_search(
                &[Column::Name, Column::Slug, Column::Description],
                text,
            ));
        }
        Ok(condition)
    }
}

/// Finds an organisation by slug.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_slug(
    db: &impl ConnectionTrait,
    _principal: &Principal,
    slug: &str,
) -> AppResult<Option<organisation::Model>> {
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// A new organisation, as `createOrganisation` gives it.
#[derive(Debug, Clone)]
pub struct NewOrganisation {
    /// Unique short name for URLs.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Kind of body.
    pub kind: OrganisationKind,
    /// What the organisation does.
    pub description: String,
    /// Public website (http or https).
    pub website: Option<String>,
    /// Contact address.
    pub contact_email: Option<String>,
    /// Home city.
    pub city: Option<String>,
}

/// A change to an organisation: only the fields given change; `Some(None)` clears.
#[derive(Debug, Clone)]
pub struct OrganisationChange {
    /// The organisation.
    pub id: Uuid,
    /// The version the change was based on.
    pub expected_version: i32,
    /// New slug.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<OrganisationKind>,
    /// New description.
    pub description: Option<String>,
    /// New website, or none.
    pub website: Option<Option<String>>,
    /// New contact address, or none.
    pub contact_email: Option<Option<String>>,
    /// New city, or none.
    pub city: Option<Option<String>>,
}

const SLUG_TAKEN: Unique = (
    "input.slug",
    "an organisation with this slug already exists",
);

fn description(value: &str) -> AppResult<String> {
    Ok(validate::optional_text("input.description", Some(value), SUMMARY_MAX)?.unwrap_or_default())
}

/// Creates an organisation.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for invalid fields or a taken slug.
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: NewOrganisation,
) -> AppResult<organisation::Model> {
    require_admin(principal)?;
    let now = validate::now();
    let row = organisation::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set(validate::slug("input.slug", &input.slug)?),
        name: Set(validate::text("input.name", &input.name, NAME_MAX)?),
        kind: Set(input.kind),
        description: Set(description(&input.description)?),
        website: Set(validate::url("input.website", input.website.as_deref())?),
        contact_email: Set(validate::email(
            "input.contactEmail",
            input.contact_email.as_deref(),
        )?),
        city: Set(validate::optional_text(
            "input.city",
            input.city.as_deref(),
            NAME_MAX,
        )?),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    records::insert_logged(
        db,
        principal,
        row,
        AuditAction::CreateOrganisation,
        Some(SLUG_TAKEN),
    )
    .await
}

/// Changes an organisation if nobody else has since `expected_version`.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for invalid fields; NOT_FOUND; CONFLICT on a stale version.
pub async fn update(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: OrganisationChange,
) -> AppResult<organisation::Model> {
    require_admin(principal)?;
    let mut row: organisation::ActiveModel = Default::default();
    if let Some(slug) = &input.slug {
        row.slug = Set(validate::slug("input.slug", slug)?);
    }
    if let Some(name) = &input.name {
        row.name = Set(validate::text("input.name", name, NAME_MAX)?);
    }
    if let Some(kind) = input.kind {
        row.kind = Set(kind);
    }
    if let Some(text) = &input.description {
        row.description = Set(description(text)?);
    }
    if let Some(website) = &input.website {
        row.website = Set(validate::url("input.website", website.as_deref())?);
    }
    if let Some(email) = &input.contact_email {
        row.contact_email = Set(validate::email("input.contactEmail", email.as_deref())?);
    }
    if let Some(city) = &input.city {
        row.city = Set(validate::optional_text(
            "input.city",
            city.as_deref(),
            NAME_MAX,
        )?);
    }
    records::update_logged::<organisation::Entity, _>(
        records::begin_write(db).await?,
        principal,
        row,
        (input.id, input.expected_version),
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
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    id: Uuid,
) -> AppResult<organisation::Model> {
    require_admin(principal)?;
    records::delete_unreferenced::<organisation::Entity>(
        db,
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
        ],
        AuditAction::DeleteOrganisation,
    )
    .await
}
