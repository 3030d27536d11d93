//! Themes in the schema: the object type, its inputs and its admin-only mutations.

use super::connection::{Input, Member, Order, db, given, member, principal, versioned};
use super::ids::{self, NodeType};
use super::scalars::DateTime;
use crate::error::AppError;
use crate::theme as domain;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use entity::theme;
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

member! {
    /// A topic shared across dialogues, proposals, evidence and cooperations.
    Theme(theme::Model)
}

/// A subject the network works on, such as poverty or the labour market; records are tagged with themes.
#[Object]
impl Theme {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(NodeType::Theme, self.row.id)
    }
    /// Unique short name for URLs and filters.
    async fn slug(&self) -> &str {
        &self.row.slug
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// What the theme covers.
    async fn description(&self) -> &str {
        &self.row.description
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
}

/// Fields themes can be ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::theme::ThemeOrderField")]
pub enum ThemeOrderField {
    /// Alphabetically by name.
    Name,
    /// By slug.
    Slug,
    /// By creation time.
    CreatedAt,
    /// By time of the last change.
    UpdatedAt,
}

/// How to order themes; by name ascending when absent.
pub type ThemeOrder = Order<ThemeOrderField>;

/// Which themes to list.
#[derive(Debug, Clone, Default, InputObject)]
pub struct ThemeFilter {
    /// Only themes whose name, slug or description contains this text (case-insensitive).
    pub text: Option<String>,
}

impl Input for ThemeFilter {
    type Domain = domain::ThemeFilter;

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        Ok(domain::ThemeFilter { text: self.text })
    }
}

/// The themes of a record's input, decoded; `None` when not given.
///
/// # Errors
/// BAD_USER_INPUT naming `input.themeIds` for an id that is not a theme's.
pub fn theme_ids(ids: Option<Vec<ID>>) -> Result<Option<Vec<Uuid>>, AppError> {
    ids.map(|ids| ids::decode_list(NodeType::Theme, &ids, "input.themeIds"))
        .transpose()
}

/// Input of `createTheme`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateThemeInput {
    /// Unique short name: 2-64 lowercase letters, digits and single hyphens.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What the theme covers.
    #[graphql(default)]
    pub description: String,
}

impl Input for CreateThemeInput {
    type Domain = theme::ActiveModel;

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        Ok(theme::ActiveModel {
            slug: Set(self.slug),
            name: Set(self.name),
            description: Set(self.description),
            ..Default::default()
        })
    }
}

/// Input of `updateTheme`: only the fields given change.
#[derive(Debug, Clone, InputObject)]
pub struct UpdateThemeInput {
    /// The theme's id.
    pub id: ID,
    /// The version the change was based on; a newer stored version is a CONFLICT.
    pub expected_version: i32,
    /// New slug.
    pub slug: Option<String>,
    /// New name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
}

impl Input for UpdateThemeInput {
    type Domain = ((Uuid, i32), theme::ActiveModel);

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        let id = versioned(NodeType::Theme, &self.id, self.expected_version)?;
        Ok((
            id,
            theme::ActiveModel {
                slug: given(self.slug),
                name: given(self.name),
                description: given(self.description),
                ..Default::default()
            },
        ))
    }
}

/// Input of `deleteTheme`.
#[derive(Debug, Clone, InputObject)]
pub struct DeleteThemeInput {
    /// The theme's id.
    pub id: ID,
}

/// Changes to the themes: admins only.
#[derive(Default)]
pub struct ThemeMutation;

#[Object]
impl ThemeMutation {
    /// Adds a theme.
    async fn create_theme(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: CreateThemeInput,
    ) -> Result<Theme> {
        domain::may_write(principal(ctx))?;
        let row = input.into_domain()?;
        Ok(Theme::single(
            domain::create(db(ctx), principal(ctx), row).await?,
        ))
    }
    /// Changes a theme.
    async fn update_theme(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: UpdateThemeInput,
    ) -> Result<Theme> {
        domain::may_write(principal(ctx))?;
        let (id, row) = input.into_domain()?;
        Ok(Theme::single(
            domain::update(db(ctx), principal(ctx), id, row).await?,
        ))
    }
    /// Removes a theme: the records it tagged lose the tag. CONFLICT while a goal's measure names it.
    async fn delete_theme(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: DeleteThemeInput,
    ) -> Result<Theme> {
        domain::may_write(principal(ctx))?;
        let id = ids::decode(NodeType::Theme, &input.id, "input.id")?;
        Ok(Theme::single(
            domain::delete(db(ctx), principal(ctx), id).await?,
        ))
    }
}
