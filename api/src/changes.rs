//! Changes to the record, as they are committed: the feed that live subscriptions read.
//!
//! Every write passes through [`crate::audit::record`], in the write's own transaction, so
//! the audit log is where changes are known.
//! - On PostgreSQL, the audit entry also sends `NOTIFY` on [`CHANNEL`] in that transaction:
//!   PostgreSQL delivers it when (and only if) the change commits, to every server process
//!   on the database, each of which listens ([`Changes::start`]).
//! - On SQLite, which has no notifications, the feed reads the audit entries written since
//!   the last read, every [`POLL`] (writers take turns, so entries arrive in the order of
//!   their ids). It runs from the server's start: kept answers, partner tokens' origins,
//!   webhooks and subscriptions all follow it.
//!
//! A change carries only the kind of record, its id and the action: each subscriber reloads
//! the record under its own visibility.

use entity::{AuditAction, RecordType, audit_entry};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "samverkan_changes";
/// How often SQLite's feed reads the audit log while anyone subscribes.
pub const POLL: Duration = Duration::from_millis(200);
/// Changes a slow subscriber may fall behind by before it misses some.
const BACKLOG: usize = 1024;

/// One committed change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// What kind of record.
    pub record_type: RecordType,
    /// Its id.
    pub id: Uuid,
    /// What happened to it.
    pub action: AuditAction,
}

impl Change {
    /// Whether the record is gone.
    pub fn deleted(&self) -> bool {
        matches!(
            self.action,
            AuditAction::DeleteOrganisation
                | AuditAction::DeleteAuthority
                | AuditAction::DeleteDialogue
                | AuditAction::DeleteProposal
                | AuditAction::DeleteTheme
                | AuditAction::DeleteEvidence
                | AuditAction::DeleteCooperation
                | AuditAction::DeleteGoal
        )
    }

    /// Whether the feed carries it: changes to the record and to partner tokens (whose
    /// origins every server process allows), not to users or sessions.
    fn travels(&self) -> bool {
        !matches!(self.record_type, RecordType::User | RecordType::Session)
    }

    /// The notification's payload: `type:id:action`.
    pub fn payload(&self) -> String {
        format!(
            "{}:{}:{}",
            self.record_type.to_value(),
            self.id,
            self.action.to_value()
        )
    }

    fn parse(payload: &str) -> Option<Self> {
        let mut parts = payload.splitn(3, ':');
        let record_type = RecordType::try_from_value(&parts.next()?.to_owned()).ok()?;
        let id = parts.next()?.parse().ok()?;
        let action = AuditAction::try_from_value(&parts.next()?.to_owned()).ok()?;
        Some(Self {
            record_type,
            id,
            action,
        })
    }
}

/// On PostgreSQL, announces `change` to every listening server process when the
/// transaction `db` belongs to commits; elsewhere nothing (SQLite's feed reads the log).
///
/// # Errors
/// A database failure.
pub async fn announce(db: &impl ConnectionTrait, change: Change) -> Result<(), sea_orm::DbErr> {
    if db.get_database_backend() != DatabaseBackend::Postgres || !change.travels() {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "SELECT pg_notify($1, $2)",
        [CHANNEL.into(), change.payload().into()],
    ))
    .await?;
    Ok(())
}

/// What the feed carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A committed change.
    Change(Change),
    /// Changes may have been missed (the feed's connection was lost and found again):
    /// whatever was kept from the record should be read again.
    Gap,
}

/// The feed of committed changes, shared by every subscriber of this process.
pub struct Changes {
    sender: broadcast::Sender<Event>,
}

impl Changes {
    /// Starts the feed over `db` (see the module's documentation).
    pub fn start(db: &DatabaseConnection) -> Arc<Self> {
        let (sender, _) = broadcast::channel(BACKLOG);
        let changes = Arc::new(Self { sender });
        match db.get_database_backend() {
            DatabaseBackend::Postgres => {
                tokio::spawn(listen(db.clone(), Arc::downgrade(&changes)));
            }
            DatabaseBackend::Sqlite => {
                // The feed's reads are not the requests' (a statement count of requests
                // does not see them).
                tokio::spawn(poll(crate::db::detached(db), Arc::downgrade(&changes)));
            }
            _ => {}
        }
        changes
    }

    /// A receiver of the changes committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    fn publish(&self, change: Change) {
        if change.travels() {
            // No receiver is not an error: nobody subscribes right now.
            let _ = self.sender.send(Event::Change(change));
        }
    }

    fn gap(&self) {
        let _ = self.sender.send(Event::Gap);
    }
}

/// PostgreSQL: listens on [`CHANNEL`]; on a lost connection, listens again after a second.
async fn listen(db: DatabaseConnection, changes: std::sync::Weak<Changes>) {
    let pool = db.get_postgres_connection_pool().clone();
    loop {
        let mut listener = match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for changes; trying again");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(error) = listener.listen(CHANNEL).await {
            tracing::warn!(%error, "cannot listen for changes; trying again");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // After a failure above, notifications may have been missed.
        if let Some(changes) = changes.upgrade() {
            changes.gap();
        }
        loop {
            // `try_recv` tells of a lost connection (`None`), which sqlx then opens again:
            // what was sent meanwhile is lost, so the feed says so.
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let Some(changes) = changes.upgrade() else {
                        return;
                    };
                    if let Some(change) = Change::parse(notification.payload()) {
                        changes.publish(change);
                    }
                }
                Ok(None) => {
                    tracing::warn!("the change feed's connection was lost; listening again");
                    let Some(changes) = changes.upgrade() else {
                        return;
                    };
                    changes.gap();
                }
                Err(error) => {
                    tracing::warn!(%error, "the change feed's connection failed; listening again");
                    break;
                }
            }
            if changes.strong_count() == 0 {
                return;
            }
        }
    }
}

/// SQLite: reads the audit entries written since the last read. While nobody subscribes
/// it only notes the newest entry (one indexed read), so that a new subscriber gets every
/// change from its subscription on.
async fn poll(db: DatabaseConnection, changes: std::sync::Weak<Changes>) {
    let mut last: Option<Uuid> = None;
    loop {
        let Some(feed) = changes.upgrade() else {
            return;
        };
        let listening = feed.sender.receiver_count() > 0;
        let columns = audit_entry::Entity::find()
            .select_only()
            .column(audit_entry::Column::Id)
            .column(audit_entry::Column::RecordType)
            .column(audit_entry::Column::RecordId)
            .column(audit_entry::Column::Action);
        let query = match last {
            Some(last) if listening => columns
                .filter(audit_entry::Column::Id.gt(last))
                .order_by_asc(audit_entry::Column::Id)
                .limit(500),
            _ => columns.order_by_desc(audit_entry::Column::Id).limit(1),
        };
        let rows: Vec<(Uuid, RecordType, Option<Uuid>, AuditAction)> =
            match query.into_tuple().all(&db).await {
                Ok(rows) => rows,
                Err(error) => {
                    // Read again next time from where it stood.
                    tracing::warn!(%error, "cannot read the changes");
                    drop(feed);
                    tokio::time::sleep(POLL).await;
                    continue;
                }
            };
        if last.is_some() && listening {
            for (id, record_type, record_id, action) in rows {
                last = Some(id);
                if let Some(record_id) = record_id {
                    feed.publish(Change {
                        record_type,
                        id: record_id,
                        action,
                    });
                }
            }
        } else {
            // The newest entry; an empty log starts from nothing.
            last = Some(rows.first().map_or(Uuid::nil(), |row| row.0));
        }
        drop(feed);
        tokio::time::sleep(POLL).await;
    }
}

/// The row `id` of `E` if `condition` keeps it: a changed record as one subscriber may see
/// it (`condition` holds the subscriber's visibility, and its filter if any).
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn row_if<E>(
    db: &DatabaseConnection,
    id: Uuid,
    condition: sea_orm::Condition,
) -> crate::error::AppResult<Option<E::Model>>
where
    E: EntityTrait,
    <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<Uuid>,
{
    Ok(E::find_by_id(id).filter(condition).one(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_travels_as_its_payload() {
        let change = Change {
            record_type: RecordType::Dialogue,
            id: Uuid::now_v7(),
            action: AuditAction::UpdateDialogue,
        };
        assert_eq!(Change::parse(&change.payload()), Some(change));
        assert!(!change.deleted());
        assert_eq!(Change::parse("Dialogue:not-a-uuid:UpdateDialogue"), None);
    }
}
