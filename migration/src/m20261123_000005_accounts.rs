//! Accounts: users, memberships, sessions and refresh tokens, partner tokens, the audit
//! log, server settings and sign-in throttling.

use super::m20261123_000001_organisations::Organisations;
use super::{Common, index};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Email,
    Name,
    PasswordHash,
    Active,
    Admin,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    UserId,
    OrganisationId,
    Role,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    UserId,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    TokenHash,
    SessionId,
    UsedAt,
}

#[derive(DeriveIden)]
enum ApiTokens {
    Table,
    Name,
    Prefix,
    TokenHash,
    Scope,
    AllowedOrigins,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum AuditEntries {
    Table,
    At,
    PrincipalKind,
    UserId,
    Actor,
    Action,
    RecordType,
    RecordId,
    Changes,
}

#[derive(DeriveIden)]
enum Settings {
    Table,
    Key,
    Value,
}

#[derive(DeriveIden)]
enum LoginThrottles {
    Table,
    Email,
    Attempts,
    WindowStart,
    LockedUntil,
    Lockouts,
}

fn timestamp(column: impl IntoIden) -> ColumnDef {
    ColumnDef::new(column)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

fn cascade(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
                    .col(
                        ColumnDef::new(Users::Email)
                            .string_len(254)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Users::Name).string_len(200).not_null())
                    .col(
                        ColumnDef::new(Users::PasswordHash)
                            .string_len(200)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Users::Active)
                            .boolean()
                            .not_null()
                            .default(true),
                    )
                    .col(
                        ColumnDef::new(Users::Admin)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Common::Version)
                            .integer()
                            .not_null()
                            .default(1),
                    )
                    .col(timestamp(Common::CreatedAt))
                    .col(timestamp(Common::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(ColumnDef::new(Memberships::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(Memberships::OrganisationId)
                            .uuid()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Memberships::Role).string_len(32).not_null())
                    .col(timestamp(Common::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Memberships::UserId)
                            .col(Memberships::OrganisationId),
                    )
                    .foreign_key(&mut cascade(
                        "fk_memberships_user",
                        (Memberships::Table, Memberships::UserId),
                        (Users::Table, Common::Id),
                    ))
                    .foreign_key(&mut cascade(
                        "fk_memberships_organisation",
                        (Memberships::Table, Memberships::OrganisationId),
                        (Organisations::Table, Common::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                Memberships::Table,
                "idx_memberships_organisation_id",
                vec![Memberships::OrganisationId.into_iden()],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Sessions::UserId).uuid().not_null())
                    .col(timestamp(Common::CreatedAt))
                    .col(timestamp(Sessions::ExpiresAt))
                    .col(ColumnDef::new(Sessions::RevokedAt).timestamp_with_time_zone())
                    .foreign_key(&mut cascade(
                        "fk_sessions_user",
                        (Sessions::Table, Sessions::UserId),
                        (Users::Table, Common::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                Sessions::Table,
                "idx_sessions_user_id",
                vec![Sessions::UserId.into_iden()],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(
                        ColumnDef::new(RefreshTokens::TokenHash)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(RefreshTokens::SessionId).uuid().not_null())
                    .col(timestamp(Common::CreatedAt))
                    .col(ColumnDef::new(RefreshTokens::UsedAt).timestamp_with_time_zone())
                    .foreign_key(&mut cascade(
                        "fk_refresh_tokens_session",
                        (RefreshTokens::Table, RefreshTokens::SessionId),
                        (Sessions::Table, Common::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                RefreshTokens::Table,
                "idx_refresh_tokens_session_id",
                vec![RefreshTokens::SessionId.into_iden()],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiTokens::Table)
                    .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(ApiTokens::Name).string_len(200).not_null())
                    .col(ColumnDef::new(ApiTokens::Prefix).string_len(32).not_null())
                    .col(
                        ColumnDef::new(ApiTokens::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(ApiTokens::Scope).string_len(32).not_null())
                    .col(ColumnDef::new(ApiTokens::AllowedOrigins).text().not_null())
                    .col(ColumnDef::new(ApiTokens::ExpiresAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(ApiTokens::LastUsedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(ApiTokens::RevokedAt).timestamp_with_time_zone())
                    .col(ColumnDef::new(ApiTokens::CreatedBy).uuid())
                    .col(timestamp(Common::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                ApiTokens::Table,
                "idx_api_tokens_created_at",
                vec![Common::CreatedAt.into_iden(), Common::Id.into_iden()],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEntries::Table)
                    .col(ColumnDef::new(Common::Id).uuid().not_null().primary_key())
                    .col(timestamp(AuditEntries::At))
                    .col(
                        ColumnDef::new(AuditEntries::PrincipalKind)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEntries::UserId).uuid())
                    .col(ColumnDef::new(AuditEntries::Actor).string_len(200))
                    .col(
                        ColumnDef::new(AuditEntries::Action)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(AuditEntries::RecordType)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(ColumnDef::new(AuditEntries::RecordId).uuid())
                    .col(ColumnDef::new(AuditEntries::Changes).text().not_null())
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_audit_entries_at", AuditEntries::At.into_iden()),
            (
                "idx_audit_entries_user_id",
                AuditEntries::UserId.into_iden(),
            ),
            (
                "idx_audit_entries_record_id",
                AuditEntries::RecordId.into_iden(),
            ),
        ] {
            manager
                .create_index(index(
                    AuditEntries::Table,
                    name,
                    vec![column, Common::Id.into_iden()],
                ))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Settings::Table)
                    .col(
                        ColumnDef::new(Settings::Key)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Settings::Value).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottles::Table)
                    .col(
                        ColumnDef::new(LoginThrottles::Email)
                            .string_len(254)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LoginThrottles::Attempts)
                            .integer()
                            .not_null(),
                    )
                    .col(timestamp(LoginThrottles::WindowStart))
                    .col(ColumnDef::new(LoginThrottles::LockedUntil).timestamp_with_time_zone())
                    .col(
                        ColumnDef::new(LoginThrottles::Lockouts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            LoginThrottles::Table.into_iden(),
            Settings::Table.into_iden(),
            AuditEntries::Table.into_iden(),
            ApiTokens::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            Memberships::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
