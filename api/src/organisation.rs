//! Network member organisations: listing, lookup and admin-only changes.

use crate::audit;
use crate::auth::{Principal, require_admin};
use crate::error::{AppError, AppResult};
use crate::paging::{self, ListFilter, Row, Sort, SortValue};
use crate::records::{self, on_unique};
use crate::validate::{self, NAME_MAX, SUMMARY_MAX};
use async_graphql::{Enum, InputObject, MaybeUndefined};
use entity::{OrganisationKind, organisation};
use sea_orm::sea_query::{Condition, ExprTrait};
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ActiveValue::Set, ConnectionTrait, EntityTrait, TransactionTrait,
};
use uuid::Uuid;

const TABLE: &str = "organisations";

impl Row for organisation::Model {
    const TABLE: &'static str = TABLE;
    fn id(&self) -> Uuid {
        self.id
    }
    fn sort_value(&self, column: &str) -> SortValue {
        match column {
            "created_at" => SortValue::Time(self.created_at),
            "updated_at" => SortValue::Time(self.updated_at),
            "slug" => SortValue::Text(self.slug.clone()),
            _ => SortValue::Text(self.name.clone()),
        }
    }
}

/// Fields organisations can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum OrganisationOrderField {
    /// Alphabetically by name.
    Name,
    /// By slug.
    Slug,
    /// By creation time.
    CreatedAt,
    /// By time of the last change.
    UpdatedAt,
}

/// How to order organisations; by name ascending when absent.
#[derive(Debug, Clone, Copy, InputObject)]
pub struct OrganisationOrder {
    /// The field to order by.
    pub field: OrganisationOrderField,
    /// The direction.
    pub direction: crate::paging::OrderDirection,
}

impl OrganisationOrder {
    /// The ordering as a keyset sort.
    pub fn sort(order: Option<Self>) -> Sort {
        let order = order.unwrap_or(Self {
            field: OrganisationOrderField::Name,
            direction: crate::paging::OrderDirection::Asc,
        });
        let column = match order.field {
            OrganisationOrderField::Name => "name",
            OrganisationOrderField::Slug => "slug",
            OrganisationOrderField::CreatedAt => "created_at",
            OrganisationOrderField::UpdatedAt => "updated_at",
        };
        Sort {
            column,
            descending: order.direction.is_descending(),
        }
    }
}

/// Which organisations to list.
#[derive(Debug, Clone, Default, InputObject)]
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
        let mut condition = Condition::all();
        if let Some(kind) = self.kind {
            condition = condition.add(paging::column(TABLE, "kind").eq(kind.to_value()));
        }
        if let Some(city) = self
            .city
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            condition = condition.add(
                sea_orm::sea_query::Expr::expr(sea_orm::sea_query::Func::lower(paging::column(
                    TABLE, "city",
                )))
                .eq(city.to_lowercase()),
            );
        }
        if let Some(text) = self
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            condition = condition.add(paging::text_search(
                TABLE,
                &["name", "slug", "description"],
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
    use sea_orm::{ColumnTrait, QueryFilter};
    Ok(organisation::Entity::find()
        .filter(organisation::Column::Slug.eq(slug))
        .one(db)
        .await?)
}

/// Input of `createOrganisation`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateOrganisationInput {
    /// Unique short name for URLs: lowercase letters, digits, hyphens.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// Kind of body.
    pub kind: OrganisationKind,
    /// What the organisation does.
    #[graphql(default)]
    pub description: String,
    /// Public website (http or https).
    pub website: Option<String>,
    /// Contact address; shown only to members of the network.
    pub contact_email: Option<String>,
    /// Home city.
    pub city: Option<String>,
}

/// Input of `updateOrganisation`: only the fields given change; `null` clears an optional field.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateOrganisationInput {
    /// The organisation's id.
    pub id: async_graphql::ID,
    /// The version the change was based on; a newer stored version is a CONFLICT.
    pub expected_version: i32,
    /// New slug.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<OrganisationKind>,
    /// New description.
    pub description: Option<String>,
    /// New website, or `null` to clear.
    pub website: MaybeUndefined<String>,
    /// New contact address, or `null` to clear.
    pub contact_email: MaybeUndefined<String>,
    /// New city, or `null` to clear.
    pub city: MaybeUndefined<String>,
}

/// Input of `deleteOrganisation`.
#[derive(Debug, Clone, InputObject)]
pub struct DeleteOrganisationInput {
    /// The organisation's id.
    pub id: async_graphql::ID,
}

const SLUG_TAKEN: &str = "an organisation with this slug already exists";

/// Creates an organisation.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for invalid fields or a taken slug.
pub async fn create(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: CreateOrganisationInput,
) -> AppResult<organisation::Model> {
    require_admin(principal)?;
    let now = validate::now();
    let row = organisation::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set(validate::slug("input.slug", &input.slug)?),
        name: Set(validate::text("input.name", &input.name, NAME_MAX)?),
        kind: Set(input.kind),
        description: Set(validate::optional_text(
            "input.description",
            Some(&input.description),
            SUMMARY_MAX,
        )?
        .unwrap_or_default()),
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
    let changes = audit::changes(&row);
    let txn = crate::records::begin_write(db).await?;
    let created = row
        .insert(&txn)
        .await
        .map_err(on_unique("input.slug", SLUG_TAKEN))?;
    audit::commit(
        txn,
        principal,
        "createOrganisation",
        "Organisation",
        created.id,
        changes,
    )
    .await?;
    Ok(created)
}

/// Changes an organisation if nobody else has since `expected_version`.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for invalid fields; NOT_FOUND; CONFLICT on a stale version.
pub async fn update(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: UpdateOrganisationInput,
) -> AppResult<organisation::Model> {
    require_admin(principal)?;
    let id = crate::ids::decode(crate::ids::NodeType::Organisation, &input.id, "input.id")?;
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
    if let Some(description) = &input.description {
        row.description =
            Set(
                validate::optional_text("input.description", Some(description), SUMMARY_MAX)?
                    .unwrap_or_default(),
            );
    }
    if let Some(website) = input.website.as_opt_ref().map(|w| w.map(String::as_str)) {
        row.website = Set(validate::url("input.website", website)?);
    }
    if let Some(email) = input
        .contact_email
        .as_opt_ref()
        .map(|w| w.map(String::as_str))
    {
        row.contact_email = Set(validate::email("input.contactEmail", email)?);
    }
    if let Some(city) = input.city.as_opt_ref().map(|w| w.map(String::as_str)) {
        row.city = Set(validate::optional_text("input.city", city, NAME_MAX)?);
    }
    let changes = audit::changes(&row);
    let txn = crate::records::begin_write(db).await?;
    let updated = records::versioned_update::<organisation::Entity, _>(
        &txn,
        row,
        id,
        input.expected_version,
        "organisation",
    )
    .await
    .map_err(records::UpdateError::or_unique("input.slug", SLUG_TAKEN))?;
    audit::commit(
        txn,
        principal,
        "updateOrganisation",
        "Organisation",
        id,
        changes,
    )
    .await?;
    Ok(updated)
}

/// Deletes an organisation that nothing references any more.
///
/// # Errors
/// FORBIDDEN unless admin; NOT_FOUND; CONFLICT naming what still references it.
pub async fn delete(
    db: &(impl ConnectionTrait + TransactionTrait),
    principal: &Principal,
    input: DeleteOrganisationInput,
) -> AppResult<organisation::Model> {
    require_admin(principal)?;
    let id = crate::ids::decode(crate::ids::NodeType::Organisation, &input.id, "input.id")?;
    let txn = crate::records::begin_write(db).await?;
    let row = organisation::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("organisation"))?;
    records::ensure_unreferenced(
        &txn,
        "organisation",
        id,
        &[
            (
                "dialogue_organisations",
                "organisation_id",
                "dialogue(s) as participant",
            ),
            ("proposals", "lead_organisation_id", "proposal(s) as lead"),
            (
                "proposal_co_signers",
                "organisation_id",
                "proposal(s) as co-signer",
            ),
        ],
    )
    .await?;
    organisation::Entity::delete_by_id(id).exec(&txn).await?;
    let removed = audit::removed(&organisation::ActiveModel::from(row.clone()));
    audit::commit(
        txn,
        principal,
        "deleteOrganisation",
        "Organisation",
        id,
        removed,
    )
    .await?;
    Ok(row)
}
