//! Local cooperation in the schema: the object type, its inputs and its mutations.

use super::authority::Authority;
use super::connection::{
    Input, Member, Order, db, given, member, nested_list, nullable, principal, reference, versioned,
};
use super::direct::{Direct, Records};
use super::enums::{CooperationKind, Visibility};
use super::ids::{self, NodeType};
use super::loaders::ListRelation;
use super::organisation::Organisation;
use super::scalars::{Date, DateTime};
use super::theme::{Theme, theme_ids};
use crate::cooperation as domain;
use crate::error::AppError;
use crate::records::Lists;
use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, Result};
use entity::cooperation;
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

member! {
    /// Local cooperation between network organisations in a municipality or region.
    Cooperation(cooperation::Model)
}

/// Local cooperation between member organisations and a municipality or region.
#[Object]
impl Cooperation {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Cooperation, self.row.id)
    }
    /// The form it takes.
    async fn kind(&self) -> CooperationKind {
        self.row.kind.into()
    }
    /// Short title.
    async fn title(&self) -> &str {
        &self.row.title
    }
    /// What it does.
    async fn summary(&self) -> &str {
        &self.row.summary
    }
    /// The day it began.
    async fn established_on(&self) -> Date {
        self.row.established_on.into()
    }
    /// The day it ended; null while it goes on.
    async fn ended_on(&self) -> Option<Date> {
        self.row.ended_on.map(Into::into)
    }
    /// Who may read it.
    async fn visibility(&self) -> Visibility {
        self.row.visibility.into()
    }
    /// Version for optimistic concurrency: pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.row.version
    }
    /// When it was recorded.
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }
    /// When it last changed.
    async fn updated_at(&self) -> DateTime {
        self.row.updated_at.into()
    }
    /// The municipality or region where it happens.
    async fn authority(&self, ctx: &Context<'_>) -> Result<Direct<Authority>> {
        let key: fn(&cooperation::Model) -> _ = |c| Some(c.authority_id);
        reference(ctx, &self.group, ("authority", key), self.row.authority_id)
            .await?
            .ok_or_else(|| AppError::NotFound("authority").into())
    }
    /// The network organisations taking part, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn organisations(&self, ctx: &Context<'_>) -> Result<Records<Organisation>> {
        let relation = ListRelation::CooperationOrganisations;
        nested_list(ctx, (&self.group, self.row.id), relation).await
    }
    /// Its themes, by name.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn themes(&self, ctx: &Context<'_>) -> Result<Records<Theme>> {
        let relation = ListRelation::CooperationThemes;
        nested_list(ctx, (&self.group, self.row.id), relation).await
    }
}

/// Fields cooperations can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::cooperation::CooperationOrderField")]
pub enum CooperationOrderField {
    /// By the day it began.
    EstablishedOn,
    /// Alphabetically by title.
    Title,
    /// By creation time.
    CreatedAt,
    /// By time of the last change.
    UpdatedAt,
}

/// How to order cooperations; latest `establishedOn` first when absent.
pub type CooperationOrder = Order<CooperationOrderField>;

/// Which cooperations to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct CooperationFilter {
    /// Only this kind.
    pub kind: Option<CooperationKind>,
    /// Only cooperations in this municipality or region.
    pub authority_id: Option<ID>,
    /// Only cooperations this organisation takes part in.
    pub organisation_id: Option<ID>,
    /// Only cooperations tagged with the theme of this slug.
    pub theme: Option<String>,
    /// Only cooperations in a metropolitan municipality (true) or elsewhere (false).
    pub metropolitan: Option<bool>,
    /// Only cooperations active on this day.
    pub active_on: Option<Date>,
}

impl Input for CooperationFilter {
    type Domain = domain::CooperationFilter;

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        Ok(domain::CooperationFilter {
            kind: self.kind.map(Into::into),
            authority_id: ids::decode_optional(
                NodeType::Authority,
                self.authority_id,
                "filter.authorityId",
            )?,
            organisation_id: ids::decode_optional(
                NodeType::Organisation,
                self.organisation_id,
                "filter.organisationId",
            )?,
            theme: self.theme,
            metropolitan: self.metropolitan,
            active_on: self.active_on.map(Into::into),
        })
    }
}

/// The lists of a cooperation input, decoded in the order of [`domain::links`].
fn lists(organisations: Option<Vec<ID>>, themes: Option<Vec<ID>>) -> Result<Lists<2>, AppError> {
    Ok([
        organisations
            .map(|ids| ids::decode_list(NodeType::Organisation, &ids, "input.organisationIds"))
            .transpose()?,
        theme_ids(themes)?,
    ])
}

/// Input of `createCooperation`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateCooperationInput {
    /// The form it takes.
    pub kind: CooperationKind,
    /// Short title.
    pub title: String,
    /// What it does.
    pub summary: String,
    /// The municipality or region where it happens.
    pub authority_id: ID,
    /// The day it began.
    pub established_on: Date,
    /// The day it ended, if it has.
    pub ended_on: Option<Date>,
    /// Who may read it; NETWORK when absent, so nothing becomes public by accident.
    #[graphql(default_with = "Visibility::Network")]
    pub visibility: Visibility,
    /// The network organisations taking part (at least one).
    pub organisation_ids: Vec<ID>,
    /// Its themes.
    #[graphql(default)]
    pub theme_ids: Vec<ID>,
}

impl Input for CreateCooperationInput {
    type Domain = (cooperation::ActiveModel, Lists<2>);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let authority = ids::decode(NodeType::Authority, &self.authority_id, "input.authorityId")?;
        let row = cooperation::ActiveModel {
            kind: Set(self.kind.into()),
            title: Set(self.title),
            summary: Set(self.summary),
            authority_id: Set(authority),
            established_on: Set(self.established_on.into()),
            ended_on: Set(self.ended_on.map(Into::into)),
            visibility: Set(self.visibility.into()),
            ..Default::default()
        };
        Ok((
            row,
            lists(Some(self.organisation_ids), Some(self.theme_ids))?,
        ))
    }
}

/// Input of `updateCooperation`: only the fields given change; a list given replaces the old one.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateCooperationInput {
    /// The cooperation's id.
    pub id: ID,
    /// The version the change was based on; a newer stored version is a CONFLICT.
    pub expected_version: i32,
    /// New kind.
    pub kind: Option<CooperationKind>,
    /// New title.
    pub title: Option<String>,
    /// New summary.
    pub summary: Option<String>,
    /// New place.
    pub authority_id: Option<ID>,
    /// New first day.
    pub established_on: Option<Date>,
    /// New last day, or `null` while it goes on.
    pub ended_on: MaybeUndefined<Date>,
    /// New visibility.
    pub visibility: Option<Visibility>,
    /// New organisations taking part (at least one).
    pub organisation_ids: Option<Vec<ID>>,
    /// New themes.
    pub theme_ids: Option<Vec<ID>>,
}

impl Input for UpdateCooperationInput {
    type Domain = ((Uuid, i32), cooperation::ActiveModel, Lists<2>);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let id = versioned(NodeType::Cooperation, &self.id, self.expected_version)?;
        let authority =
            ids::decode_optional(NodeType::Authority, self.authority_id, "input.authorityId")?;
        let row = cooperation::ActiveModel {
            kind: given(self.kind.map(Into::into)),
            title: given(self.title),
            summary: given(self.summary),
            authority_id: given(authority),
            established_on: given(self.established_on.map(Into::into)),
            ended_on: nullable(self.ended_on.map_value(Into::into)),
            visibility: given(self.visibility.map(Into::into)),
            ..Default::default()
        };
        Ok((id, row, lists(self.organisation_ids, self.theme_ids)?))
    }
}

/// Input of `deleteCooperation`.
#[derive(Debug, Clone, InputObject)]
pub struct DeleteCooperationInput {
    /// The cooperation's id.
    pub id: ID,
}

/// Changes to the record of local cooperation.
#[derive(Default)]
pub struct CooperationMutation;

#[Object]
impl CooperationMutation {
    /// Records a cooperation.
    async fn create_cooperation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: CreateCooperationInput,
    ) -> Result<Cooperation> {
        domain::may_write(principal(ctx))?;
        let (row, lists) = input.into_domain()?;
        Ok(Cooperation::single(
            domain::create(db(ctx), principal(ctx), row, lists).await?,
        ))
    }
    /// Changes a cooperation.
    async fn update_cooperation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: UpdateCooperationInput,
    ) -> Result<Cooperation> {
        domain::may_write(principal(ctx))?;
        let (id, row, lists) = input.into_domain()?;
        Ok(Cooperation::single(
            domain::update(db(ctx), principal(ctx), id, row, lists).await?,
        ))
    }
    /// Removes a cooperation; returns it as it was.
    async fn delete_cooperation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: DeleteCooperationInput,
    ) -> Result<Cooperation> {
        domain::may_write(principal(ctx))?;
        let id = ids::decode(NodeType::Cooperation, &input.id, "input.id")?;
        Ok(Cooperation::single(
            domain::delete(db(ctx), principal(ctx), id).await?,
        ))
    }
}
