//! Each dialogue link keeps a copy of the dialogue's date, indexed after the other side,
//! so that "the latest dialogues of these organisations" reads a few index entries per
//! organisation instead of every dialogue each of them ever took part in.

use super::index;
use super::m20261123_000004_dialogues::links;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Link {
    DialogueId,
    HeldOn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (link, other, _) in links() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(link))
                        .add_column(
                            ColumnDef::new(Link::HeldOn)
                                .date()
                                .not_null()
                                .default("1970-01-01"),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "UPDATE {link} SET held_on = \
                     (SELECT held_on FROM dialogues WHERE dialogues.id = {link}.dialogue_id)"
                ))
                .await?;
            // The new index leads with the other side too, so it serves the foreign-key
            // checks the old one served.
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("idx_{link}_{other}"))
                        .table(Alias::new(link))
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(index(
                    Alias::new(link),
                    &format!("idx_{link}_{other}_held_on"),
                    vec![
                        Alias::new(other).into_iden(),
                        Link::HeldOn.into_iden(),
                        Link::DialogueId.into_iden(),
                    ],
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (link, other, _) in links() {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("idx_{link}_{other}_held_on"))
                        .table(Alias::new(link))
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(index(
                    Alias::new(link),
                    &format!("idx_{link}_{other}"),
                    vec![Alias::new(other).into_iden(), Link::DialogueId.into_iden()],
                ))
                .await?;
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(link))
                        .drop_column(Link::HeldOn)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
