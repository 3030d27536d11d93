//! Accounts in the schema: sign-in, the caller (`viewer`), and the admin API for users,
//! memberships, partner tokens and the audit log. Resolvers call `auth` and `audit`, which
//! hold the rules.

use super::connection::{
    Member, Paged, TotalCount, connection, db, group_once, load, member, principal,
};
use super::enums::{MembershipRole, PrincipalKind, TokenScope};
use super::group::Group;
use super::ids::{self, NodeType};
use super::organisation::Organisation;
use super::scalars::DateTime;
use crate::account;
use crate::account::session::{self, Credentials};
use crate::account::tokens::{self, ApiTokenOrderField, NewApiToken};
use crate::account::users::{self, NewUser, UserOrderField};
use crate::audit_log::{self, AuditFilter, AuditOrderField};
use crate::auth::Principal;
use crate::auth::jwt::Keys;
use crate::error::AppError;
use crate::paging::{Direction, Page, PageArgs, Sort};
use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use entity::{api_token, audit_entry, membership, user};
use sea_orm::ActiveEnum;
use uuid::Uuid;

member! {
    /// A user account.
    User(user::Model)
}

/// A person who signs in: an admin, or an editor or viewer in member organisations.
#[Object]
impl User {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
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
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
    }
    /// The user's roles in organisations.
    #[graphql(complexity = "crate::limits::list_cost(child_complexity)")]
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<Membership>> {
        let all = group_once(&self.group, "roles", || {
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

/// A user's role in one member organisation.
#[Object]
impl Membership {
    /// The organisation.
    async fn organisation(&self, ctx: &Context<'_>) -> Result<Option<Organisation>> {
        load::<Organisation>(ctx, self.0.organisation_id).await
    }
    /// The role.
    async fn role(&self) -> MembershipRole {
        self.0.role.into()
    }
    /// When it was granted.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

member! {
    /// A read-only partner token (never its secret).
    ApiToken(api_token::Model)
}

/// A read-only partner token for a partner's website or server (never its secret).
#[Object]
impl ApiToken {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
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
        self.row.scope.into()
    }
    /// Browser origins allowed to use it; empty means server-side only.
    async fn allowed_origins(&self) -> Vec<String> {
        tokens::origins(&self.row)
    }
    /// When it stops working, if ever.
    async fn expires_at(&self) -> Option<DateTime> {
        self.row.expires_at.map(Into::into)
    }
    /// When it was last used (to the minute).
    async fn last_used_at(&self) -> Option<DateTime> {
        self.row.last_used_at.map(Into::into)
    }
    /// When it was revoked.
    async fn revoked_at(&self) -> Option<DateTime> {
        self.row.revoked_at.map(Into::into)
    }
    /// When it was created.
    async fn created_at(&self) -> DateTime {
        self.row.created_at.into()
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
    pub expires_at: DateTime,
    /// The user.
    pub user: User,
}

impl From<session::Issued> for Session {
    fn from(issued: session::Issued) -> Self {
        Self {
            access_token: issued.access_token,
            refresh_token: issued.refresh_token,
            expires_at: issued.expires_at.into(),
            user: User::single(issued.user),
        }
    }
}

member! {
    /// One change to the record.
    AuditEntry(audit_entry::Model)
}

/// One change to the record or the accounts: who made it, when, and what changed.
#[Object]
impl AuditEntry {
    /// When.
    async fn at(&self) -> DateTime {
        self.row.at.into()
    }
    /// What kind of caller made the change.
    async fn principal_kind(&self) -> PrincipalKind {
        self.row.principal_kind.into()
    }
    /// The user who made it, if a user did.
    async fn user(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        let Some(id) = self.row.user_id else {
            return Ok(None);
        };
        let found = group_once(&self.group, "user", || async {
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
    async fn action(&self) -> String {
        self.row.action.to_value()
    }
    /// The kind of record changed, such as `Proposal`.
    async fn record_type(&self) -> String {
        self.row.record_type.to_value()
    }
    /// The global id of the record changed.
    async fn record_id(&self) -> Option<ID> {
        let Some(node_type) = NodeType::of(self.row.record_type) else {
            return self.row.record_id.map(|id| ID(id.to_string()));
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

/// Who is calling: anonymous, a signed-in user or a partner token.
#[Object]
impl Viewer {
    /// What kind of caller.
    async fn kind(&self) -> PrincipalKind {
        self.0.kind.into()
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
            scope: self.0.scope?.into(),
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
        #[graphql(
            desc = "How many items to return from the start (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (the `endCursor` of an earlier page)."
        )]
        after: Option<String>,
        #[graphql(desc = "How many items to return from the end (at most 100).")] last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor (the `startCursor` of an earlier page)."
        )]
        before: Option<String>,
    ) -> Result<Paged<User>> {
        let sort = Sort::new(UserOrderField::Email, Direction::Asc);
        let page = Page::new(PageArgs::new(first, after, last, before), sort)?;
        let (rows, total) = Box::pin(users::list(db(ctx), principal(ctx), &page)).await?;
        Ok(connection(rows, sort.field, TotalCount::Known(total)))
    }

    /// All partner tokens, newest first (admin only).
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn api_tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many items to return from the start (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (the `endCursor` of an earlier page)."
        )]
        after: Option<String>,
        #[graphql(desc = "How many items to return from the end (at most 100).")] last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor (the `startCursor` of an earlier page)."
        )]
        before: Option<String>,
    ) -> Result<Paged<ApiToken>> {
        let sort = Sort::new(ApiTokenOrderField::CreatedAt, Direction::Desc);
        let page = Page::new(PageArgs::new(first, after, last, before), sort)?;
        let (rows, total) = Box::pin(tokens::list(db(ctx), principal(ctx), &page)).await?;
        Ok(connection(rows, sort.field, TotalCount::Known(total)))
    }

    /// Every change, newest first (admin only).
    #[graphql(complexity = "crate::limits::page_cost(first, last, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "How many items to return from the start (at most 100; 20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "Return the items after this cursor (the `endCursor` of an earlier page)."
        )]
        after: Option<String>,
        #[graphql(desc = "How many items to return from the end (at most 100).")] last: Option<i32>,
        #[graphql(
            desc = "Return the items before this cursor (the `startCursor` of an earlier page)."
        )]
        before: Option<String>,
        #[graphql(desc = "Which items to return; all that the caller may see when omitted.")]
        filter: Option<AuditLogFilter>,
    ) -> Result<Paged<AuditEntry>> {
        account::may_manage(principal(ctx))?;
        let sort = Sort::new(AuditOrderField::At, Direction::Desc);
        let page = Page::new(PageArgs::new(first, after, last, before), sort)?;
        let filter = filter.map(AuditLogFilter::into_domain).transpose()?;
        let (rows, total) = Box::pin(audit_log::list(
            db(ctx),
            principal(ctx),
            &filter.unwrap_or_default(),
            &page,
        ))
        .await?;
        Ok(connection(rows, sort.field, TotalCount::Known(total)))
    }
}

/// Sign-in and the admin API.
#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Signs in with email and password.
    async fn login(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: LoginInput,
    ) -> Result<Session> {
        let credentials = Credentials {
            email: input.email,
            password: input.password,
        };
        let client = ctx
            .data_opt::<ClientAddress>()
            .map_or_else(|| "unknown".to_owned(), |client| client.0.to_string());
        let keys = ctx.data_unchecked::<Keys>();
        Ok(session::login(db(ctx), keys, credentials, &client)
            .await?
            .into())
    }
    /// Exchanges a refresh token for new tokens; each refresh token works once.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: RefreshSessionInput,
    ) -> Result<Session> {
        Ok(
            session::refresh(db(ctx), ctx.data_unchecked::<Keys>(), &input.refresh_token)
                .await?
                .into(),
        )
    }
    /// Ends the caller's session.
    async fn logout(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(session::logout(db(ctx), principal(ctx)).await?)
    }
    /// Creates a user (admin only).
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: CreateUserInput,
    ) -> Result<User> {
        let input = NewUser {
            email: input.email,
            name: input.name,
            password: input.password,
            admin: input.admin,
        };
        Ok(User::single(
            users::create(db(ctx), principal(ctx), input).await?,
        ))
    }
    /// Deactivates a user; their tokens stop working at once (admin only).
    async fn deactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: UserIdInput,
    ) -> Result<User> {
        account::may_manage(principal(ctx))?;
        Ok(User::single(
            users::set_active(db(ctx), principal(ctx), input.user()?, false).await?,
        ))
    }
    /// Reactivates a user (admin only).
    async fn reactivate_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: UserIdInput,
    ) -> Result<User> {
        account::may_manage(principal(ctx))?;
        Ok(User::single(
            users::set_active(db(ctx), principal(ctx), input.user()?, true).await?,
        ))
    }
    /// Sets or clears a user's admin flag (admin only).
    async fn set_admin(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: SetAdminInput,
    ) -> Result<User> {
        account::may_manage(principal(ctx))?;
        Ok(User::single(
            users::set_admin(db(ctx), principal(ctx), input.user()?, input.admin).await?,
        ))
    }
    /// Forgets a user's failed sign-ins from every address, ending any lockout (admin only).
    async fn unlock_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: UserIdInput,
    ) -> Result<User> {
        account::may_manage(principal(ctx))?;
        Ok(User::single(
            users::unlock(db(ctx), principal(ctx), input.user()?).await?,
        ))
    }
    /// Grants a user a role in an organisation (admin only).
    async fn grant_membership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: GrantMembershipInput,
    ) -> Result<Membership> {
        account::may_manage(principal(ctx))?;
        Ok(Membership(
            users::grant(db(ctx), principal(ctx), input.ids()?, input.role.into()).await?,
        ))
    }
    /// Revokes a user's role in an organisation; returns it as it was (admin only).
    async fn revoke_membership(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: RevokeMembershipInput,
    ) -> Result<Membership> {
        account::may_manage(principal(ctx))?;
        Ok(Membership(
            users::revoke(db(ctx), principal(ctx), input.ids()?).await?,
        ))
    }
    /// Creates a partner token; the secret is in the answer and nowhere else (admin only).
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to create or change.")] input: CreateApiTokenInput,
    ) -> Result<CreatedApiToken> {
        let input = NewApiToken {
            name: input.name,
            scope: input.scope.into(),
            allowed_origins: input.allowed_origins,
            expires_at: input.expires_at.map(Into::into),
        };
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
        #[graphql(desc = "What to create or change.")] input: RevokeApiTokenInput,
    ) -> Result<ApiToken> {
        account::may_manage(principal(ctx))?;
        Ok(ApiToken::single(
            tokens::revoke(
                db(ctx),
                principal(ctx),
                input_id(&input.id, NodeType::ApiToken)?,
            )
            .await?,
        ))
    }
}

/// The address a request came from (the TCP peer), attached by the GraphQL endpoint:
/// failed sign-ins are counted per account and address.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub std::net::IpAddr);

/// Input of `login`.
#[derive(Debug, Clone, InputObject)]
pub struct LoginInput {
    /// Sign-in address.
    pub email: String,
    /// Password.
    #[graphql(secret)]
    pub password: String,
}

/// Input of `refreshSession`.
#[derive(Debug, Clone, InputObject)]
pub struct RefreshSessionInput {
    /// The refresh token from `login` or the last `refreshSession`.
    #[graphql(secret)]
    pub refresh_token: String,
}

/// Input of `createUser`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateUserInput {
    /// Sign-in address; unique regardless of case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// At least 12 characters.
    #[graphql(secret)]
    pub password: String,
    /// Make the user an admin.
    #[graphql(default)]
    pub admin: bool,
}

/// The record an input's `id` names, of `node_type`.
fn input_id(id: &ID, node_type: NodeType) -> Result<Uuid, AppError> {
    ids::decode(node_type, id, "input.id")
}

/// Input of `deactivateUser`, `reactivateUser` and `unlockUser`.
#[derive(Debug, Clone, InputObject)]
pub struct UserIdInput {
    /// The user's id.
    pub id: ID,
}

impl UserIdInput {
    fn user(&self) -> Result<Uuid, AppError> {
        input_id(&self.id, NodeType::User)
    }
}

/// Input of `setAdmin`.
#[derive(Debug, Clone, InputObject)]
pub struct SetAdminInput {
    /// The user's id.
    pub id: ID,
    /// Whether the user is an admin.
    pub admin: bool,
}

impl SetAdminInput {
    fn user(&self) -> Result<Uuid, AppError> {
        input_id(&self.id, NodeType::User)
    }
}

/// The user and organisation of a membership input.
fn membership_ids(user: &ID, organisation: &ID) -> Result<(Uuid, Uuid), AppError> {
    Ok((
        ids::decode(NodeType::User, user, "input.userId")?,
        ids::decode(NodeType::Organisation, organisation, "input.organisationId")?,
    ))
}

/// Input of `grantMembership`.
#[derive(Debug, Clone, InputObject)]
pub struct GrantMembershipInput {
    /// The user's id.
    pub user_id: ID,
    /// The organisation's id.
    pub organisation_id: ID,
    /// The role; replaces an earlier role in the same organisation.
    pub role: MembershipRole,
}

impl GrantMembershipInput {
    fn ids(&self) -> Result<(Uuid, Uuid), AppError> {
        membership_ids(&self.user_id, &self.organisation_id)
    }
}

/// Input of `revokeMembership`.
#[derive(Debug, Clone, InputObject)]
pub struct RevokeMembershipInput {
    /// The user's id.
    pub user_id: ID,
    /// The organisation's id.
    pub organisation_id: ID,
}

impl RevokeMembershipInput {
    fn ids(&self) -> Result<(Uuid, Uuid), AppError> {
        membership_ids(&self.user_id, &self.organisation_id)
    }
}

/// Input of `createApiToken`.
#[derive(Debug, Clone, InputObject)]
pub struct CreateApiTokenInput {
    /// What it is for, such as the partner website's name.
    pub name: String,
    /// What it may read.
    pub scope: TokenScope,
    /// Browser origins (`https://example.org`) allowed to use it; none means server-side only.
    #[graphql(default)]
    pub allowed_origins: Vec<String>,
    /// When it stops working; never when absent.
    pub expires_at: Option<DateTime>,
}

/// Input of `revokeApiToken`.
#[derive(Debug, Clone, InputObject)]
pub struct RevokeApiTokenInput {
    /// The token's id.
    pub id: ID,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default, InputObject)]
#[graphql(name = "AuditFilter")]
pub struct AuditLogFilter {
    /// Only changes by this user.
    pub user_id: Option<ID>,
    /// Only changes to this record (any kind of id).
    pub record_id: Option<ID>,
    /// Only this mutation, such as `updateProposal`.
    pub action: Option<String>,
}

impl AuditLogFilter {
    fn into_domain(self) -> Result<AuditFilter, AppError> {
        Ok(AuditFilter {
            user_id: ids::decode_optional(NodeType::User, self.user_id, "filter.userId")?,
            record_id: self
                .record_id
                .map(|id| {
                    ids::decode_any(&id)
                        .map(|(_, id)| id)
                        .ok_or_else(|| AppError::bad_input("filter.recordId", "not a valid id"))
                })
                .transpose()?,
            action: self.action,
        })
    }
}
