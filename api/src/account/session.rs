//! Signing in and out: `login` gives a short-lived access token and an opaque refresh token;
//! each refresh token works once and is replaced; presenting a used one again ends the whole
//! session (it was stolen, or the client is confused). Failed sign-ins are throttled per
//! account however they arrive.

use crate::audit;
use crate::auth::jwt::Keys;
use crate::auth::{Principal, password, secrets};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, TimeDelta, Utc};
use entity::{AuditAction, login_failure, refresh_token, session, user};
use sea_orm::sea_query::{CaseStatement, Expr, ExprTrait, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IdenStatic, QueryFilter, QuerySelect, TransactionSession,
};
use uuid::Uuid;

/// Every refresh token starts with this.
pub const REFRESH_PREFIX: &str = "svk_rt_";
/// How long a session lives without signing in again.
const SESSION_DAYS: i64 = 30;
/// Failed sign-ins allowed per account within [`WINDOW_MINUTES`].
pub const MAX_FAILURES: i32 = 5;
/// The window failures are counted in.
const WINDOW_MINUTES: i64 = 15;
/// The first cool-down; each further one doubles, up to [`MAX_COOL_DOWN_MINUTES`].
const FIRST_COOL_DOWN_MINUTES: i64 = 1;
const MAX_COOL_DOWN_MINUTES: i64 = 24 * 60;

/// What a sign-in gives.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Sign-in address.
    pub email: String,
    /// Password.
    pub password: String,
}

/// What `login` and `refreshSession` return.
pub struct Issued {
    /// The JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// The one-use token for `refreshSession`.
    pub refresh_token: String,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
    /// The user.
    pub user: user::Model,
}

/// Issues the tokens of a session and commits them with the audit entry of `action`.
async fn issue<T: ConnectionTrait + TransactionSession>(
    txn: T,
    keys: &Keys,
    user: user::Model,
    session: Uuid,
    action: AuditAction,
) -> AppResult<Issued> {
    let principal = Principal::user(&user, session, &[]);
    audit::record(&txn, &principal, action, Some(session), Default::default()).await?;
    let refresh = secrets::new_secret(REFRESH_PREFIX)?;
    refresh_token::ActiveModel {
        token_hash: Set(secrets::hash(&refresh)),
        session_id: Set(session),
        created_at: Set(crate::validate::now()),
        used_at: Set(None),
    }
    .insert(&txn)
    .await?;
    let (access_token, expires_at) = keys.issue(user.id, session)?;
    txn.commit().await?;
    Ok(Issued {
        access_token,
        refresh_token: refresh,
        expires_at,
        user,
    })
}

/// Failed sign-ins one client address may make across all accounts within
/// [`WINDOW_MINUTES`] before it is refused: guessing one password for many accounts.
pub const MAX_CLIENT_FAILURES: i64 = 30;

/// Counts one sign-in attempt for `email` from `client` before the password is checked,
/// so that parallel attempts cannot slip past the limit. Attempts are counted per account
/// and client address: a stranger's guesses lock out the stranger, not the owner.
///
/// # Errors
/// RATE_LIMITED while this address is cooling down for the account, once its attempts run
/// out, or when it has failed too often across all accounts.
async fn reserve_attempt(db: &DatabaseConnection, email: &str, client: &str) -> AppResult<()> {
    use login_failure::Column;
    let now = crate::validate::now();
    let window_start = now - TimeDelta::minutes(WINDOW_MINUTES);
    let sprayed = login_failure::Entity::find()
        .select_only()
        .column_as(Expr::col(Column::Attempts).sum(), "failures")
        .filter(Column::Client.eq(client))
        .filter(Column::WindowStart.gte(window_start))
        .into_tuple::<Option<i64>>()
        .one(db)
        .await?
        .flatten()
        .unwrap_or(0);
    if sprayed >= MAX_CLIENT_FAILURES {
        return Err(AppError::RateLimited);
    }
    let table = login_failure::Entity;
    let stale = Expr::col((table, Column::WindowStart)).lt(window_start);
    let upsert = Query::insert()
        .into_table(table)
        .columns([
            Column::Email,
            Column::Client,
            Column::Attempts,
            Column::WindowStart,
            Column::Lockouts,
        ])
        .values_panic([email.into(), client.into(), 1.into(), now.into(), 0.into()])
        .on_conflict(
            OnConflict::columns([Column::Email, Column::Client])
                .value(
                    Column::Attempts,
                    CaseStatement::new()
                        .case(stale.clone(), Expr::val(1))
                        .finally(Expr::col((table, Column::Attempts)).add(1)),
                )
                .value(
                    Column::WindowStart,
                    CaseStatement::new()
                        .case(stale, Expr::val(now))
                        .finally(Expr::col((table, Column::WindowStart))),
                )
                .to_owned(),
        )
        .returning(Query::returning().columns([
            Column::Attempts,
            Column::LockedUntil,
            Column::Lockouts,
        ]))
        .to_owned();
    let row = db.query_one(&upsert).await?.ok_or(AppError::RateLimited)?;
    let attempts: i32 = row.try_get("", Column::Attempts.as_str())?;
    let locked_until: Option<DateTime<Utc>> = row.try_get("", Column::LockedUntil.as_str())?;
    let lockouts: i32 = row.try_get("", Column::Lockouts.as_str())?;
    if locked_until.is_some_and(|until| until > now) {
        return Err(AppError::RateLimited);
    }
    if attempts > MAX_FAILURES {
        let minutes = std::cmp::min(
            FIRST_COOL_DOWN_MINUTES << lockouts.clamp(0, 20),
            MAX_COOL_DOWN_MINUTES,
        );
        login_failure::Entity::update_many()
            .col_expr(
                Column::LockedUntil,
                Expr::val(now + TimeDelta::minutes(minutes)),
            )
            .col_expr(Column::Lockouts, Expr::val(lockouts + 1))
            .col_expr(Column::Attempts, Expr::val(0))
            .col_expr(Column::WindowStart, Expr::val(now))
            .filter(Column::Email.eq(email))
            .filter(Column::Client.eq(client))
            .exec(db)
            .await?;
        return Err(AppError::RateLimited);
    }
    Ok(())
}

/// Forgets the failed sign-ins of an account from every address: an admin's way to let
/// a locked-out owner in at once.
///
/// # Errors
/// INTERNAL on a database failure.
pub(crate) async fn forget_failures(db: &impl ConnectionTrait, email: &str) -> AppResult<()> {
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::Email.eq(email))
        .exec(db)
        .await?;
    Ok(())
}

/// Signs a user in.
///
/// # Errors
/// UNAUTHENTICATED for a wrong password, an unknown email or a deactivated user (the same
/// error, in about the same time); RATE_LIMITED after too many failures.
pub async fn login(
    db: &DatabaseConnection,
    keys: &Keys,
    input: Credentials,
    client: &str,
) -> AppResult<Issued> {
    let email = crate::validate::sign_in_address(&input.email);
    // Addresses stored before they were composed (NFC) are found as they were typed.
    let typed = input.email.trim().to_lowercase();
    if email.is_empty() || email.len() > 254 || input.password.len() > password::MAX_LENGTH * 4 {
        return Err(AppError::Unauthenticated);
    }
    // The turn to hash comes first: the attempt is counted (a write) only by the few
    // sign-ins that hold one, so a flood of sign-ins queues here, not on the write path.
    let turn = password::turn().await?;
    reserve_attempt(db, &email, client).await?;
    let outcome = check_and_open(db, keys, [&email, &typed], input.password, client, turn).await;
    if let Err(error) = &outcome
        && !matches!(error, AppError::Unauthenticated)
    {
        // Not a wrong guess: the service failed (a busy password hasher, a storage fault).
        release_attempt(db, &email, client).await;
    }
    outcome
}

/// The part of [`login`] after the attempt is counted: the password check, then the session.
async fn check_and_open(
    db: &DatabaseConnection,
    keys: &Keys,
    [email, typed]: [&str; 2],
    password: String,
    client: &str,
    turn: password::Turn,
) -> AppResult<Issued> {
    let find = |address: &str| {
        user::Entity::find()
            .filter(user::Column::Email.eq(address))
            .one(db)
    };
    let user = match find(email).await? {
        None if typed != email => find(typed).await?,
        found => found,
    };
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matches = password::verify(turn, password, stored).await?;
    let Some(user) = user.filter(|u| matches && u.active) else {
        return Err(AppError::Unauthenticated);
    };
    login_failure::Entity::delete_many()
        .filter(login_failure::Column::Email.eq(email))
        .filter(login_failure::Column::Client.eq(client))
        .exec(db)
        .await?;
    open(db, keys, user).await
}

/// Gives back an attempt [`reserve_attempt`] counted, when the sign-in failed for a reason
/// other than the credentials. Best effort: when the database cannot take this write
/// either, the attempt stays counted and the failure is logged.
async fn release_attempt(db: &DatabaseConnection, email: &str, client: &str) {
    use login_failure::Column;
    let released = login_failure::Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).sub(1))
        .filter(Column::Email.eq(email))
        .filter(Column::Client.eq(client))
        .filter(Column::Attempts.gt(0))
        .exec(db)
        .await;
    if let Err(error) = released {
        tracing::warn!(%error, "could not give back a sign-in attempt that failed for an internal reason");
    }
}

/// Opens a session for an active user whose identity is already established (by
/// [`login`]'s password check, or by the operator): the session, its audit entry and its
/// tokens.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn open(db: &DatabaseConnection, keys: &Keys, user: user::Model) -> AppResult<Issued> {
    if !user.active {
        return Err(AppError::Unauthenticated);
    }
    let txn = crate::records::begin_write(db).await?;
    let now = crate::validate::now();
    let session = session::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        created_at: Set(now),
        expires_at: Set(now + TimeDelta::days(SESSION_DAYS)),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    issue(txn, keys, user, session.id, AuditAction::Login).await
}

async fn revoke_session(db: &impl ConnectionTrait, session: Uuid) -> AppResult<()> {
    session::Entity::update_many()
        .col_expr(
            session::Column::RevokedAt,
            Expr::val(crate::validate::now()),
        )
        .filter(session::Column::Id.eq(session))
        .filter(session::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Exchanges a refresh token for a new access token and a new refresh token.
///
/// # Errors
/// UNAUTHENTICATED for an unknown token, an ended session or a deactivated user; a token
/// that was already used ends its session.
pub async fn refresh(
    db: &DatabaseConnection,
    keys: &Keys,
    refresh_token: &str,
) -> AppResult<Issued> {
    let hash = secrets::hash(refresh_token.trim());
    let token = refresh_token::Entity::find_by_id(hash.clone())
        .one(db)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let txn = crate::records::begin_write(db).await?;
    let claimed = refresh_token::Entity::update_many()
        .col_expr(
            refresh_token::Column::UsedAt,
            Expr::val(crate::validate::now()),
        )
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        // Reuse: whoever holds the newer token, the session can no longer be trusted.
        revoke_session(&txn, token.session_id).await?;
        txn.commit().await?;
        return Err(AppError::Unauthenticated);
    }
    let now = Utc::now();
    let session = session::Entity::find_by_id(token.session_id)
        .one(&txn)
        .await?
        .filter(|s| s.revoked_at.is_none() && s.expires_at > now)
        .ok_or(AppError::Unauthenticated)?;
    let user = user::Entity::find_by_id(session.user_id)
        .one(&txn)
        .await?
        .filter(|u| u.active)
        .ok_or(AppError::Unauthenticated)?;
    issue(txn, keys, user, session.id, AuditAction::RefreshSession).await
}

/// Ends the caller's session: its refresh tokens and access tokens stop working.
///
/// # Errors
/// UNAUTHENTICATED unless a user is signed in.
pub async fn logout(db: &DatabaseConnection, principal: &Principal) -> AppResult<bool> {
    crate::auth::require_user(principal)?;
    let session = principal.session_id.ok_or(AppError::Unauthenticated)?;
    let txn = crate::records::begin_write(db).await?;
    revoke_session(&txn, session).await?;
    audit::record(
        &txn,
        principal,
        AuditAction::Logout,
        Some(session),
        Default::default(),
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}
