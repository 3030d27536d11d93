//! Accounts in the schema: sign-in, the caller (`viewer`), and the admin API for users,
//! memberships, partner tokens and the audit log. Resolvers call `auth` and `audit`, which
//! hold the rules.

use super::types::{Organisation, PageArgs, TotalCount, load};
use crate::audit::{self, AuditFilter};
use crate::auth::jwt::Keys;
use crate::auth::session::{self, LoginInput, RefreshSessionInput};
use crate::auth::tokens::{self, CreateApiTokenInput, RevokeApiTokenInput};
use crate::auth::users::{
    self, CreateUserInput, GrantMembershipInput, RevokeMembershipInput, SetAdminInput, UserIdInput,
};
use crate::auth::{Principal, PrincipalKind};
use crate::ids::{self, NodeType};
use crate::paging::{self, Row, Rows, Sort};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Json, Object, OutputType, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{MembershipRole, TokenScope, api_token, audit_entry, membership, user};
use sea_orm::DatabaseConnection;

fn db<'a>(ctx: &Context<'a>) -> &'a DatabaseConnection {
    ctx.data_unchecked::<DatabaseConnection>()
}

fn principal<'a>(ctx: &Context<'a>) -> &'a Principal {
    ctx.data_unchecked::<Principal>()
}

/// A list of admin records as a connection; these lists are short and have no nested loads.
fn admin_connection<R: Row, N: OutputType>(
    rows: Rows<R>,
    total: i64,
    sort: Sort,
    node: fn(R) -> N,
) -> super::types::Paged<N> {
    let mut connection = Connection::with_additional_fields(
        rows.has_previous,
        rows.has_next,
        TotalCount::new(move || async move { Ok(total) }),
    );
    connection.edges.extend(
        rows.rows
            .into_iter()
            .map(|row| Edge::new(paging::cursor(&row, sort), node(row))),
    );
    connection
}

/// A user account.
pub struct User(pub user::Model);

#[Object]
impl User {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::User, self.0.id)
    }
    /// Sign-in address (lowercase).
    async fn email(&self) -> &str {
        &self.0.email
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Whether the user may sign in.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// Whether the user may do everything.
    async fn admin(&self) -> bool {
        self.0.admin
    }
    /// When the account was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// The user's roles in organisations.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        Ok(users::memberships(db(ctx), self.0.id)
            .await?
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
pub struct ApiToken(pub api_token::Model);

#[Object]
impl ApiToken {
    /// Opaque global id.
    async fn id(&self) -> ID {
        ids::encode(NodeType::ApiToken, self.0.id)
    }
    /// What it is for.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The first characters of the secret, to recognise it.
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    /// What it may read.
    async fn scope(&self) -> TokenScope {
        self.0.scope
    }
    /// Browser origins allowed to use it; empty means server-side only.
    async fn allowed_origins(&self) -> Vec<String> {
        tokens::origins(&self.0)
    }
    /// When it stops working, if ever.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    /// When it was last used (to the minute).
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    /// When it was revoked.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
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
            user: User(issued.user),
        }
    }
}

/// One change to the record.
pub struct AuditEntry(pub audit_entry::Model);

#[Object]
impl AuditEntry {
    /// When.
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// What kind of caller made the change.
    async fn principal_kind(&self) -> PrincipalKind {
        self.0.principal_kind
    }
    /// The user who made it, if a user did.
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.0.user_id else {
            return Ok(None);
        };
        Ok(users::by_id(db(ctx), principal(ctx), id).await?.map(User))
    }
    /// The partner token's name, or `command line`, when no user made it.
    async fn actor(&self) -> Option<&str> {
        self.0.actor.as_deref()
    }
    /// The mutation, such as `updateProposal`.
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// The kind of record changed, such as `Proposal`.
    async fn record_type(&self) -> &str {
        &self.0.record_type
    }
    /// The global id of the record changed.
    async fn record_id(&self) -> Option<ID> {
        let node_type = match self.0.record_type.as_str() {
            "Organisation" => NodeType::Organisation,
            "Authority" => NodeType::Authority,
            "Dialogue" => NodeType::Dialogue,
            "Proposal" => NodeType::Proposal,
            "User" => NodeType::User,
            "ApiToken" => NodeType::ApiToken,
            _ => return self.0.record_id.map(|id| ID(id.to_string())),
        };
        self.0.record_id.map(|id| ids::encode(node_type, id))
    }
    /// The changed fields and their new values (secrets are never recorded).
    async fn changes(&self) -> Json<serde_json::Value> {
        Json(serde_json::from_str(&self.0.changes).unwrap_or_default())
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
        Ok(users::by_id(db(ctx), &self.0, id).await?.map(User))
    }
    /// The signed-in user's roles.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let Some(id) = self.0.user_id else {
            return Ok(vec![]);
        };
        Ok(users::memberships(db(ctx), id)
            .await?
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
    ) -> Result<super::types::Paged<User>> {
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
        Ok(admin_connection(rows, total, sort, User))
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
    ) -> Result<super::types::Paged<ApiToken>> {
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
        Ok(admin_connection(rows, total, sort, ApiToken))
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
    ) -> Result<super::types::Paged<AuditEntry>> {
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
        Ok(admin_connection(rows, total, sort, AuditEntry))
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
        Ok(User(users::create(db(ctx), principal(ctx), input).await?))
    }
    /// Deactivates a user; their tokens stop working at once (admin only).
    async fn deactivate_user(&self, ctx: &Context<'_>, input: UserIdInput) -> Result<User> {
        Ok(User(
            users::deactivate(db(ctx), principal(ctx), input).await?,
        ))
    }
    /// Reactivates a user (admin only).
    async fn reactivate_user(&self, ctx: &Context<'_>, input: UserIdInput) -> Result<User> {
        Ok(User(
            users::reactivate(db(ctx), principal(ctx), input).await?,
        ))
    }
    /// Sets or clears a user's admin flag (admin only).
    async fn set_admin(&self, ctx: &Context<'_>, input: SetAdminInput) -> Result<User> {
        Ok(User(
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
            api_token: ApiToken(record),
        })
    }
    /// Revokes a partner token; it stops working at once (admin only).
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        input: RevokeApiTokenInput,
    ) -> Result<ApiToken> {
        Ok(ApiToken(
            tokens::revoke(db(ctx), principal(ctx), input).await?,
        ))
    }
}
