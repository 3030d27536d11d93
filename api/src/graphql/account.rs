//! Accounts in the schema: sign-in, the caller (`viewer`), and the admin API for users,
//! memberships, partner tokens and the audit log. Resolvers call `auth` and `audit`, which
//! hold the rules.

use super::group::{Group, Slot};
use super::types::{Member, Organisation, PageArgs, Paged, TotalCount, connection, load};
use crate::audit::{self, AuditFilter};
use crate::auth::jwt::Keys;
use crate::auth::session::{self, LoginInput, RefreshSessionInput};
use crate::auth::tokens::{self, CreateApiTokenInput, RevokeApiTokenInput};
use crate::auth::users::{
    self, CreateUserInput, GrantMembershipInput, RevokeMembershipInput, SetAdminInput, UserIdInput,
};
use crate::auth::{Principal, PrincipalKind};
use crate::ids::{self, NodeType};
use crate::paging::Sort;
use async_graphql::{Context, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{MembershipRole, TokenScope, api_token, audit_entry, membership, user};
use sea_orm::DatabaseConnection;
use std::sync::Arc;
use uuid::Uuid;

fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

fn principal<'a>(ctx: &Context<'a>) -> &'a Principal {
    ctx.data_unchecked::<Principal>()
}

/// A user account.
pub struct User {
    row: user::Model,
    group: Arc<Group>,
}

impl Member for User {
    type Row = user::Model;
    fn in_group(row: user::Model, group: Arc<Group>) -> Self {
        Self { row, group }
    }
}

#[Object]
impl User {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::User, self.row.id)
    }
    /// Sign-in address (lowercase).
    async fn email(&self) -> &str {
        &self.row.email
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// Whether the user may sign in.
    async fn active(&self) -> bool {
        self.row.active
    }
    /// Whether the user may do everything.
    async fn admin(&self) -> bool {
        self.row.admin
    }
    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
    /// The user's roles in organisations.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let all = self
            .group
            .once(Slot::Reference("memberships"), || {
                users::memberships_of(db(ctx), self.group.ids())
            })
            .await?;
        Ok(all
            .get(&self.row.id)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(Membership)
            .collect())
    }
}

/// A user's role in an organisation.
pub struct Membership(pub membership::Model);

#[Object]
impl Membership {
    /// The organisation.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        load::<Organisation>(ctx, self.0.organisation_id).await
    }
    /// The role.
    async fn role(&self) -> MembershipRole {
        self.0.role
    }
    /// When it was granted.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A read-only partner token (never its secret).
pub struct ApiToken {
    row: api_token::Model,
}

impl Member for ApiToken {
    type Row = api_token::Model;
    fn in_group(row: api_token::Model, _group: Arc<Group>) -> Self {
        Self { row }
    }
}

#[Object]
impl ApiToken {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::ApiToken, self.row.id)
    }
    /// What it is for.
    async fn name(&self) -> &str {
        &self.row.name
    }
    /// The first characters of the secret, to recognise it.
    async fn prefix(&self) -> &str {
        &self.row.prefix
    }
    /// What it may read.
    async fn scope(&self) -> TokenScope {
        self.row.scope
    }
    /// Browser origins allowed to use it; empty means server-side only.
    async fn allowed_origins(&self) -> Vec<String> {
        tokens::origins(&self.row)
    }
    /// When it stops working, if ever.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.row.expires_at
    }
    /// When it was last used (to the minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.row.last_used_at
    }
    /// When it was revoked.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.row.revoked_at
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }
}

/// A new partner token: the secret is shown this once.
#[derive(SimpleObject)]
pub struct CreatedApiToken {
    /// The secret, for the `X-Api-Key` header. It cannot be shown again.
    pub token: String,
    /// The token's record.
    pub api_token: ApiToken,
}

/// A signed-in session.
#[derive(SimpleObject)]
pub struct Session {
    /// The access token, for `Authorization: Bearer`; short-lived.
    pub access_token: String,
    /// The one-use token for `refreshSession`.
    pub refresh_token: String,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// The user.
    pub user: User,
}

impl From<session::Issued> for Session {
    fn from(issued: session::Issued) -> Self {
        Self {
            access_token: issued.access_token,
            refresh_token: issued.refresh_token,
            expires_at: issued.expires_at,
            user: User::single(issued.user),
        }
    }
}

/// One change to the record.
pub struct AuditEntry {
    row: audit_entry::Model,
    group: Arc<Group>,
}

impl Member for AuditEntry {
    type Row = audit_entry::Model;
    fn in_group(row: audit_entry::Model, group: Arc<Group>) -> Self {
        Self { row, group }
    }
}

#[Object]
impl AuditEntry {
    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.row.at
    }
    /// What kind of caller made the change.
    async fn principal_kind(&self) -> PrincipalKind {
        self.row.principal_kind
    }
    /// The user who made it, if a user did.
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.row.user_id else {
            return Ok(None);
        };
        let found = self
            .group
            .once(Slot::Reference("user"), || async {
                let ids: Vec<Uuid> = self
                    .group
                    .rows::<audit_entry::Model>()
                    .iter()
                    .filter_map(|e| e.user_id)
                    .collect();
                let found = users::by_ids(db(ctx), principal(ctx), ids).await?;
                let users = Group::new(found.values().cloned().collect());
                Ok((found, users))
            })
            .await?;
        Ok(found
            .0
            .get(&id)
            .cloned()
            .map(|row| User::in_group(row, found.1.clone())))
    }
    /// The partner token's name, or `command line`, when no user made it.
    async fn actor(&self) -> Option<&str> {
        self.row.actor.as_deref()
    }
    /// The mutation, such as `updateProposal`.
    async fn action(&self) -> &str {
        &self.row.action
    }
    /// The kind of record changed, such as `Proposal`.
    async fn record_type(&self) -> &str {
        &self.row.record_type
    }
    /// The global id of the record changed.
    async fn record_id(&self) -> Option<ID> {
        let node_type = match self.row.record_type.as_str() {
            "Organisation" => NodeType::Organisation,
            "Authority" => NodeType::Authority,
            "Dialogue" => NodeType::Dialogue,
            "Proposal" => NodeType::Proposal,
            "User" => NodeType::User,
            "ApiToken" => NodeType::ApiToken,
            _ => return self.row.record_id.map(|id| ID(id.to_string())),
        };
        self.row.record_id.map(|id| ids::encode(node_type, id))
    }
    /// The changed fields and their new values (secrets are never recorded).
    async fn changes(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.row.changes).unwrap_or_default())
    }
}

/// A partner token as seen by itself.
#[derive(SimpleObject)]
pub struct ViewerToken {
    /// The token's name.
    pub name: String,
    /// What it may read.
    pub scope: TokenScope,
}

/// The caller of this request.
pub struct Viewer(Principal);

#[Object]
impl Viewer {
    /// What kind of caller.
    async fn kind(&self) -> PrincipalKind {
        self.0.kind
    }
    /// The signed-in user.
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.user_id else {
            return Ok(None);
        };
        Ok(users::by_id(db(ctx), &self.0, id).await?.map(User::single))
    }
    /// The signed-in user's roles.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let Some(id) = self.0.user_id else {
            return Ok(vec![]);
        };
        let mut all = users::memberships_of(db(ctx), &[id]).await?;
        Ok(all
            .remove(&id)
            .unwrap_or_default()
            .into_iter()
            .map(Membership)
            .collect())
    }
    /// The partner token in use.
    async fn token(&self) -> Option<ViewerToken> {
        Some(ViewerToken {
            name: self.0.actor.clone()?,
            scope: self.0.scope?,
        })
    }
}

/// Reads about accounts.
#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// Who is calling: anonymous, a user (with memberships) or a partner token.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        Viewer(principal(ctx).clone())
    }

    /// All users, by email (admin only).
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Paged<User>> {
        let sort = Sort {
            column: "email",
            descending: false,
        };
        let page = PageArgs {
            first,
            after,
            last,
            before,
        }
        .page(sort)?;
        let (rows, total) = users::list(db(ctx), principal(ctx), &page).await?;
        Ok(connection::<User>(
            rows,
            sort,
            TotalCount::new(move || async move { Ok(total) }),
        ))
    }

    /// All partner tokens, newest first (admin only).
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn api_tokens(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Paged<ApiToken>> {
        let sort = Sort {
            column: "created_at",
            descending: true,
        };
        let page = PageArgs {
            first,
            after,
            last,
            before,
        }
        .page(sort)?;
        let (rows, total) = tokens::list(db(ctx), principal(ctx), &page).await?;
        Ok(connection::<ApiToken>(
            rows,
            sort,
            TotalCount::new(move || async move { Ok(total) }),
        ))
    }

    /// Every change, newest first (admin only).
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<AuditFilter>,
    ) -> Result<Paged<AuditEntry>> {
        let sort = Sort {
            column: "at",
            descending: true,
        };
        let page = PageArgs {
            first,
            after,
            last,
            before,
        }
        .page(sort)?;
        let (rows, total) =
            audit::list(db(ctx), principal(ctx), &filter.unwrap_or_default(), &page).await?;
        Ok(connection::<AuditEntry>(
            rows,
            sort,
            TotalCount::new(move || async move { Ok(total) }),
        ))
    }
}

/// Sign-in and the admin API.
#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Signs in with email and password.
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<Session> {
        Ok(session::login(db(ctx), ctx.data_unchecked::<Keys>(), input)
            .await?
            .into())
    }
    /// Exchanges a refresh token for new tokens; each refresh token works once.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        input: RefreshSessionInput,
    ) -> Result<Session> {
        Ok(
            session::refresh(db(ctx), ctx.data_unchecked::<Keys>(), input)
                .await?
                .into(),
        )
    }
    /// Ends the caller's session.
    async fn logout(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(session::logout(db(ctx), principal(ctx)).await?)
    }
    /// Creates a user (admin only).
    async fn create_user(&self, ctx: &Context<'_>, input: CreateUserInput) -> Result<User> {
        Ok(User::single(
            users::create(db(ctx), principal(ctx), input).await?,
        ))
    }
    /// Deactivates a user; their tokens stop working at once (admin only).
    async fn deactivate_user(&self, ctx: &Context<'_>, input: UserIdInput) -> Result<User> {
        Ok(User::single(
            users::deactivate(db(ctx), principal(ctx), input).await?,
        ))
    }
    /// Reactivates a user (admin only).
    async fn reactivate_user(&self, ctx: &Context<'_>, input: UserIdInput) -> Result<User> {
        Ok(User::single(
            users::reactivate(db(ctx), principal(ctx), input).await?,
        ))
    }
    /// Sets or clears a user's admin flag (admin only).
    async fn set_admin(&self, ctx: &Context<'_>, input: SetAdminInput) -> Result<User> {
        Ok(User::single(
            users::set_admin(db(ctx), principal(ctx), input).await?,
        ))
    }
    /// Grants a user a role in an organisation (admin only).
    async fn grant_membership(
        &self,
        ctx: &Context<'_>,
        input: GrantMembershipInput,
    ) -> Result<Membership> {
        Ok(Membership(
            users::grant(db(ctx), principal(ctx), input).await?,
        ))
    }
    /// Revokes a user's role in an organisation; returns it as it was (admin only).
    async fn revoke_membership(
        &self,
        ctx: &Context<'_>,
        input: RevokeMembershipInput,
    ) -> Result<Membership> {
        Ok(Membership(
            users::revoke(db(ctx), principal(ctx), input).await?,
        ))
    }
    /// Creates a partner token; the secret is in the answer and nowhere else (admin only).
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        input: CreateApiTokenInput,
    ) -> Result<CreatedApiToken> {
        let (token, record) = tokens::create(db(ctx), principal(ctx), input).await?;
        Ok(CreatedApiToken {
            token,
            api_token: ApiToken::single(record),
        })
    }
    /// Revokes a partner token; it stops working at once (admin only).
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        input: RevokeApiTokenInput,
    ) -> Result<ApiToken> {
        Ok(ApiToken::single(
            tokens::revoke(db(ctx), principal(ctx), input).await?,
        ))
    }
}
