//! Users and their memberships, managed by admins.

use crate::audit;
use crate::auth::{Principal, password};
use crate::db::Connection;
use crate::error::{AppError, AppResult};
use crate::paging::{Page, Rows};
use crate::records;
use crate::sortable;
use entity::{AuditAction, MembershipRole, membership, organisation, session, user};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, IdenStatic,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

sortable! {
    /// The order of the user list.
    pub enum UserOrderField, UserKey for user {
        /// By sign-in address.
        Email(String) = email,
    }
}

/// A new user account.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Sign-in address; unique regardless of case.
    pub email: String,
    /// Display name.
    pub name: String,
    /// At least 12 characters.
    pub password: String,
    /// Make the user an admin.
    pub admin: bool,
}

/// Creates a user. Used by admins through GraphQL and by the operator on the command line.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for a bad or taken email, or a short password.
pub async fn create(
    db: &DatabaseConnection,
    principal: &Principal,
    input: NewUser,
) -> AppResult<user::Model> {
    super::may_manage(principal)?;
    let email = crate::validate::email("input.email", Some(&input.email))?
        .ok_or_else(|| AppError::bad_input("input.email", "input.email must not be empty"))?;
    let email = crate::validate::sign_in_address(&email);
    let name = crate::validate::text("input.name", &input.name, crate::validate::NAME_MAX)?;
    password::check("input.password", &input.password)?;
    let hash = password::hash(input.password).await?;
    let now = crate::validate::now();
    let row = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email),
        name: Set(name),
        password_hash: Set(hash),
        active: Set(true),
        admin: Set(input.admin),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let txn = crate::records::begin_write(db).await?;
    let changes = audit::changes(&row);
    let created = row.insert(&txn).await.map_err(records::on_unique(
        "input.email",
        "a user with this email already exists",
    ))?;
    audit::record(
        &txn,
        principal,
        AuditAction::CreateUser,
        Some(created.id),
        changes,
    )
    .await?;
    txn.commit().await?;
    Ok(created)
}

async fn change_user(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    action: AuditAction,
    change: impl FnOnce(&mut user::ActiveModel),
    end_sessions: bool,
) -> AppResult<user::Model> {
    super::may_manage(principal)?;
    let txn = crate::records::begin_write(db).await?;
    let current = user::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let mut row: user::ActiveModel = current.clone().into();
    change(&mut row);
    row.version = Set(current.version + 1);
    row.updated_at = Set(crate::validate::now());
    let changes = audit::changes(&row);
    let updated = row.update(&txn).await?;
    if end_sessions {
        session::Entity::update_many()
            .col_expr(
                session::Column::RevokedAt,
                Expr::val(crate::validate::now()),
            )
            .filter(session::Column::UserId.eq(id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(&txn)
            .await?;
    }
    audit::record(&txn, principal, action, Some(id), changes).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Deactivates a user (they cannot sign in, and their tokens stop working at once), or
/// reactivates them.
///
/// # Errors
/// FORBIDDEN unless admin; NOT_FOUND.
pub async fn set_active(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    active: bool,
) -> AppResult<user::Model> {
    let action = if active {
        AuditAction::ReactivateUser
    } else {
        AuditAction::DeactivateUser
    };
    // Deactivation ends every session, so reactivation starts fresh: old tokens stay dead.
    change_user(
        db,
        principal,
        id,
        action,
        |row| row.active = Set(active),
        !active,
    )
    .await
}

/// Sets or clears a user's admin flag; takes effect on their next request.
///
/// # Errors
/// FORBIDDEN unless admin; NOT_FOUND.
pub async fn set_admin(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
    admin: bool,
) -> AppResult<user::Model> {
    change_user(
        db,
        principal,
        id,
        AuditAction::SetAdmin,
        |row| row.admin = Set(admin),
        false,
    )
    .await
}

/// Forgets a user's failed sign-ins from every address, ending any lockout at once.
///
/// # Errors
/// FORBIDDEN unless admin; NOT_FOUND.
pub async fn unlock(
    db: &DatabaseConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<user::Model> {
    super::may_manage(principal)?;
    let user = user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    let txn = records::begin_write(db).await?;
    super::session::forget_failures(&txn, &user.email).await?;
    audit::record(
        &txn,
        principal,
        AuditAction::UnlockUser,
        Some(id),
        Default::default(),
    )
    .await?;
    txn.commit().await?;
    Ok(user)
}

/// Grants (or changes) a user's role in an organisation.
///
/// # Errors
/// FORBIDDEN unless admin; BAD_USER_INPUT for an unknown user or organisation.
pub async fn grant(
    db: &DatabaseConnection,
    principal: &Principal,
    (user_id, organisation_id): (Uuid, Uuid),
    role: MembershipRole,
) -> AppResult<membership::Model> {
    super::may_manage(principal)?;
    records::ensure_exist::<user::Model>(db, &[user_id], Condition::all(), "input.userId").await?;
    records::ensure_exist::<organisation::Model>(
        db,
        &[organisation_id],
        Condition::all(),
        "input.organisationId",
    )
    .await?;
    let txn = crate::records::begin_write(db).await?;
    membership::Entity::delete_many()
        .filter(membership::Column::UserId.eq(user_id))
        .filter(membership::Column::OrganisationId.eq(organisation_id))
        .exec(&txn)
        .await?;
    let row = membership::ActiveModel {
        user_id: Set(user_id),
        organisation_id: Set(organisation_id),
        role: Set(role),
        created_at: Set(crate::validate::now()),
    };
    let changes = audit::changes(&row);
    let granted = row.insert(&txn).await?;
    audit::record(
        &txn,
        principal,
        AuditAction::GrantMembership,
        Some(user_id),
        changes,
    )
    .await?;
    txn.commit().await?;
    Ok(granted)
}

/// Revokes a user's role in an organisation; takes effect on their next request.
///
/// # Errors
/// FORBIDDEN unless admin; NOT_FOUND when there is no such membership.
pub async fn revoke(
    db: &DatabaseConnection,
    principal: &Principal,
    (user_id, organisation_id): (Uuid, Uuid),
) -> AppResult<membership::Model> {
    super::may_manage(principal)?;
    let txn = crate::records::begin_write(db).await?;
    let current = membership::Entity::find_by_id((user_id, organisation_id))
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound("membership"))?;
    membership::Entity::delete_by_id((user_id, organisation_id))
        .exec(&txn)
        .await?;
    let mut changes = serde_json::Map::new();
    changes.insert(
        membership::Column::OrganisationId.as_str().to_owned(),
        organisation_id.to_string().into(),
    );
    changes.insert(
        membership::Column::Role.as_str().to_owned(),
        serde_json::Value::Null,
    );
    audit::record(
        &txn,
        principal,
        AuditAction::RevokeMembership,
        Some(user_id),
        changes,
    )
    .await?;
    txn.commit().await?;
    Ok(current)
}

/// Lists users by email.
///
/// # Errors
/// FORBIDDEN unless admin.
pub async fn list(
    db: &DatabaseConnection,
    principal: &Principal,
    page: &Page<UserKey>,
) -> AppResult<(Rows<user::Model>, i64)> {
    records::admin_list(db, principal, Condition::all(), page).await
}

/// A user by id, for admins and for the user themselves.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_id(
    db: &impl Connection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<Option<user::Model>> {
    Ok(by_ids(db, principal, vec![id]).await?.remove(&id))
}

/// The memberships of each of `users`, by organisation, in one query.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn memberships_of(
    db: &impl Connection,
    users: &[Uuid],
) -> AppResult<std::collections::HashMap<Uuid, Vec<membership::Model>>> {
    let rows = membership::Entity::find()
        .filter(membership::Column::UserId.is_in(users.iter().copied()))
        .order_by_asc(membership::Column::OrganisationId)
        .all(db)
        .await?;
    let mut by_user: std::collections::HashMap<Uuid, Vec<membership::Model>> =
        std::collections::HashMap::new();
    for row in rows {
        by_user.entry(row.user_id).or_default().push(row);
    }
    Ok(by_user)
}

/// Users by id, for admins (all of them) and for a user (only themselves).
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn by_ids(
    db: &impl Connection,
    principal: &Principal,
    ids: Vec<Uuid>,
) -> AppResult<std::collections::HashMap<Uuid, user::Model>> {
    let allowed: Vec<Uuid> = ids
        .into_iter()
        .filter(|id| principal.admin || principal.user_id == Some(*id))
        .collect();
    if allowed.is_empty() {
        return Ok(Default::default());
    }
    let rows = user::Entity::find()
        .filter(user::Column::Id.is_in(allowed))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|u| (u.id, u)).collect())
}
