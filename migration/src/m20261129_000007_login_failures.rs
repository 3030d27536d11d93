//! Failed sign-ins are counted per account *and client address*, so that a stranger who
//! guesses wrong locks out only their own address, not the account's owner; the failures
//! of one address across all accounts are summed to stop spraying.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LoginFailures {
    Table,
    Email,
    Client,
    Attempts,
    WindowStart,
    LockedUntil,
    Lockouts,
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

fn counters<T: IntoIden>(
    table: &mut TableCreateStatement,
    [attempts, window_start, locked_until, lockouts]: [T; 4],
) {
    table
        .col(ColumnDef::new(attempts).integer().not_null())
        .col(
            ColumnDef::new(window_start)
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(ColumnDef::new(locked_until).timestamp_with_time_zone())
        .col(ColumnDef::new(lockouts).integer().not_null().default(0));
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(LoginFailures::Table)
            .col(
                ColumnDef::new(LoginFailures::Email)
                    .string_len(254)
                    .not_null(),
            )
            .col(
                ColumnDef::new(LoginFailures::Client)
                    .string_len(64)
                    .not_null(),
            )
            .primary_key(
                Index::create()
                    .col(LoginFailures::Email)
                    .col(LoginFailures::Client),
            );
        counters(
            &mut table,
            [
                LoginFailures::Attempts,
                LoginFailures::WindowStart,
                LoginFailures::LockedUntil,
                LoginFailures::Lockouts,
            ],
        );
        manager.create_table(table.to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_login_failures_client_window_start")
                    .table(LoginFailures::Table)
                    .col(LoginFailures::Client)
                    .col(LoginFailures::WindowStart)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(LoginThrottles::Table).to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LoginFailures::Table).to_owned())
            .await?;
        let mut table = Table::create();
        table.table(LoginThrottles::Table).col(
            ColumnDef::new(LoginThrottles::Email)
                .string_len(254)
                .not_null()
                .primary_key(),
        );
        counters(
            &mut table,
            [
                LoginThrottles::Attempts,
                LoginThrottles::WindowStart,
                LoginThrottles::LockedUntil,
                LoginThrottles::Lockouts,
            ],
        );
        manager.create_table(table.to_owned()).await
    }
}
