//! The facts goals are measured from: for one kind of record, every record of a period
//! with what the measures ask of it (its day, kind, status, organisations, authorities,
//! themes) and whether the caller may see it. One statement per kind of record, whatever
//! the number of goals: the record and each of its link tables are one branch of a
//! `UNION ALL`, each row carrying the record's own columns and one linked id. Records the
//! caller may not see are read only when they are the network's shared record (NETWORK),
//! so that progress can say it is incomplete; records kept within their organisations are
//! never read for anyone outside them.

use crate::auth::Principal;
use crate::db::Connection;
use crate::error::AppResult;
use crate::paging::{ColumnRef, column};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    authority, cooperation, cooperation_organisation, cooperation_theme, dialogue,
    dialogue_authority, dialogue_organisation, dialogue_theme, evidence, evidence_organisation,
    evidence_theme, proposal, proposal_co_signer, proposal_status_change, proposal_theme,
};
use futures_util::StreamExt;
use sea_orm::sea_query::{
    Condition, DynIden, Expr, ExprTrait, IntoIden, JoinType, Query, SelectStatement, UnionType,
};
use sea_orm::{ActiveEnum, ColumnTrait, EntityName, StreamTrait, Value};
use std::collections::HashMap;
use uuid::Uuid;

/// An authority linked to a record.
#[derive(Debug, Clone)]
pub struct Place {
    /// Its id.
    pub id: Uuid,
    /// Its kind, as stored.
    pub kind: String,
    /// One of the metropolitan municipalities.
    pub metropolitan: bool,
}

/// One record as the measures see it.
#[derive(Debug, Clone, Default)]
pub struct Fact {
    /// The record's id.
    pub id: Uuid,
    /// Its day: held, established, published.
    pub day: Option<NaiveDate>,
    /// The day it ended (cooperations).
    pub until: Option<NaiveDate>,
    /// Its kind, as stored.
    pub kind: String,
    /// Its status (dialogues) or reach (evidence), as stored.
    pub status: String,
    /// The moves of a proposal: when, and to which status.
    pub moves: Vec<(DateTime<Utc>, String)>,
    /// Whether the caller may see it.
    pub visible: bool,
    /// Its organisations: taking part, credited, leading or co-signing.
    pub organisations: Vec<Uuid>,
    /// Its authorities: taking part, where it happens, issuing.
    pub authorities: Vec<Place>,
    /// Its themes.
    pub themes: Vec<Uuid>,
}

/// The kinds of records goals count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Dialogues held in the period.
    Dialogues,
    /// Cooperations active at some time in the period.
    Cooperations,
    /// Proposals that moved in the period.
    Proposals,
    /// Evidence published in the period.
    Evidence,
}

/// What the goals of one request need of a kind of record, so that only that is read: the
/// kinds and statuses their measures all narrow to, and which linked records they look at.
#[derive(Debug, Clone, Default)]
pub struct Needs {
    /// Only records of these kinds, as stored; `None` for any.
    pub kinds: Option<Vec<String>>,
    /// Only records in these statuses (dialogues) or reaches (evidence); `None` for any.
    pub statuses: Option<Vec<String>>,
    /// The linked organisations to read: `None` for none, `Some(None)` for all, else these.
    pub organisations: Option<Option<Vec<Uuid>>>,
    /// The linked authorities (of dialogues) to read, likewise.
    pub authorities: Option<Option<Vec<Uuid>>>,
    /// The linked themes to read, likewise.
    pub themes: Option<Option<Vec<Uuid>>>,
    /// The statuses a proposal's moves must reach to be read; `None` for any.
    pub moves: Option<Vec<String>>,
}

impl Needs {
    /// Which of the linked records on `side` to read.
    fn side(&self, side: Side) -> Option<Option<Vec<Uuid>>> {
        match side {
            Side::Organisation => self.organisations.clone(),
            Side::Authority => self.authorities.clone(),
            Side::Theme => self.themes.clone(),
            Side::Record | Side::Move => Some(None),
        }
    }
}

/// How a row of a branch names what it links.
#[derive(Clone, Copy)]
enum Side {
    Record,
    Organisation,
    Authority,
    Theme,
    Move,
}

impl Side {
    const ALL: [Side; 5] = [
        Self::Record,
        Self::Organisation,
        Self::Authority,
        Self::Theme,
        Self::Move,
    ];

    fn code(self) -> &'static str {
        match self {
            Self::Record => "R",
            Self::Organisation => "O",
            Self::Authority => "A",
            Self::Theme => "T",
            Self::Move => "M",
        }
    }
}

/// The record's own columns a branch selects: day, until, kind and status.
struct Own {
    table: DynIden,
    id: ColumnRef,
    day: Expr,
    until: Expr,
    kind: Expr,
    status: Expr,
}

fn null_day() -> Expr {
    Expr::val(Value::ChronoDate(None))
}

fn null_text() -> Expr {
    Expr::val(Value::String(None))
}

/// One branch of the union: the record's columns, the side, the linked id, the linked
/// authority's kind and tag, the time of a move, and whether the caller may see it.
fn branch(
    own: &Own,
    side: Side,
    from: Option<(ColumnRef, ColumnRef)>,
    other: Expr,
    authority_id: Option<ColumnRef>,
    mv: Option<(ColumnRef, ColumnRef, ColumnRef)>,
    period: &Condition,
    visible: &Condition,
) -> SelectStatement {
    let mut select = Query::select();
    select
        .expr(Expr::col(own.id.clone()))
        .expr(Expr::val(side.code()))
        .expr(own.day.clone())
        .expr(own.until.clone())
        .expr(own.kind.clone())
        .expr(own.status.clone())
        .expr(other);
    match &authority_id {
        Some(_) => select
            .expr(column(authority::Column::Kind))
            .expr(column(authority::Column::IsMetropolitan)),
        None => select.expr(null_text()).expr(Expr::val(Value::Bool(None))),
    };
    match &mv {
        Some((_, at, to)) => select
            .expr(Expr::col(at.clone()))
            .expr(Expr::col(to.clone())),
        None => select
            .expr(Expr::val(Value::ChronoDateTimeUtc(None)))
            .expr(null_text()),
    };
    select.expr(Expr::case(visible.clone(), 1).finally(0));
    match from {
        Some((link_owner, _)) => {
            select.from(link_owner.0.clone()).join(
                JoinType::InnerJoin,
                own.table.clone(),
                Expr::col(link_owner).equals(own.id.clone()),
            );
        }
        None => {
            select.from(own.table.clone());
        }
    }
    if let Some((change_owner, ..)) = &mv {
        select.join(
            JoinType::InnerJoin,
            change_owner.0.clone(),
            Expr::col(change_owner.clone()).equals(own.id.clone()),
        );
    }
    if let Some(authority_id) = authority_id {
        select.join(
            JoinType::InnerJoin,
            authority::Entity.table_ref(),
            column(authority::Column::Id).equals(authority_id),
        );
    }
    select.cond_where(period.clone()).to_owned()
}

/// A source's tables: its own columns, its link tables by side, the column naming its
/// place (an authority), and the period condition.
struct Spec {
    own: Own,
    links: Vec<(Side, ColumnRef, ColumnRef)>,
    place: Option<ColumnRef>,
    moves: Option<(ColumnRef, ColumnRef, ColumnRef)>,
    period: Condition,
    visible: Condition,
    visibility: Expr,
}

fn spec(source: Source, principal: &Principal, (from, to): (NaiveDate, NaiveDate)) -> Spec {
    match source {
        Source::Dialogues => Spec {
            own: Own {
                table: dialogue::Entity.into_iden(),
                id: dialogue::Column::Id.as_column_ref(),
                day: column(dialogue::Column::HeldOn),
                until: null_day(),
                kind: column(dialogue::Column::Kind),
                status: column(dialogue::Column::Status),
            },
            links: vec![
                (
                    Side::Organisation,
                    dialogue_organisation::Column::DialogueId.as_column_ref(),
                    dialogue_organisation::Column::OrganisationId.as_column_ref(),
                ),
                (
                    Side::Authority,
                    dialogue_authority::Column::DialogueId.as_column_ref(),
                    dialogue_authority::Column::AuthorityId.as_column_ref(),
                ),
                (
                    Side::Theme,
                    dialogue_theme::Column::DialogueId.as_column_ref(),
                    dialogue_theme::Column::ThemeId.as_column_ref(),
                ),
            ],
            place: None,
            moves: None,
            period: Condition::all()
                .add(column(dialogue::Column::HeldOn).gte(from))
                .add(column(dialogue::Column::HeldOn).lte(to)),
            visible: crate::dialogue::visible(principal),
            visibility: column(dialogue::Column::Visibility),
        },
        Source::Cooperations => Spec {
            own: Own {
                table: cooperation::Entity.into_iden(),
                id: cooperation::Column::Id.as_column_ref(),
                day: column(cooperation::Column::EstablishedOn),
                until: column(cooperation::Column::EndedOn),
                kind: column(cooperation::Column::Kind),
                status: column(cooperation::Column::Kind),
            },
            links: vec![
                (
                    Side::Organisation,
                    cooperation_organisation::Column::CooperationId.as_column_ref(),
                    cooperation_organisation::Column::OrganisationId.as_column_ref(),
                ),
                (
                    Side::Theme,
                    cooperation_theme::Column::CooperationId.as_column_ref(),
                    cooperation_theme::Column::ThemeId.as_column_ref(),
                ),
            ],
            place: Some(cooperation::Column::AuthorityId.as_column_ref()),
            moves: None,
            period: Condition::all()
                .add(column(cooperation::Column::EstablishedOn).lte(to))
                .add(
                    Condition::any()
                        .add(column(cooperation::Column::EndedOn).is_null())
                        .add(column(cooperation::Column::EndedOn).gte(from)),
                ),
            visible: crate::cooperation::visible(principal),
            visibility: column(cooperation::Column::Visibility),
        },
        Source::Evidence => Spec {
            own: Own {
                table: evidence::Entity.into_iden(),
                id: evidence::Column::Id.as_column_ref(),
                day: column(evidence::Column::PublishedOn),
                until: null_day(),
                kind: column(evidence::Column::Kind),
                status: column(evidence::Column::Reach),
            },
            links: vec![
                (
                    Side::Organisation,
                    evidence_organisation::Column::EvidenceId.as_column_ref(),
                    evidence_organisation::Column::OrganisationId.as_column_ref(),
                ),
                (
                    Side::Theme,
                    evidence_theme::Column::EvidenceId.as_column_ref(),
                    evidence_theme::Column::ThemeId.as_column_ref(),
                ),
            ],
            place: Some(evidence::Column::AuthorityId.as_column_ref()),
            moves: None,
            period: Condition::all()
                .add(column(evidence::Column::PublishedOn).gte(from))
                .add(column(evidence::Column::PublishedOn).lte(to)),
            visible: crate::evidence::visible(principal),
            visibility: column(evidence::Column::Visibility),
        },
        Source::Proposals => {
            let start = from.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
            let end = (to + chrono::Days::new(1))
                .and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                .and_utc();
            let moved = Query::select()
                .expr(Expr::val(1))
                .from(proposal_status_change::Entity)
                .and_where(
                    column(proposal_status_change::Column::ProposalId)
                        .equals(proposal::Column::Id.as_column_ref()),
                )
                .and_where(column(proposal_status_change::Column::ChangedAt).gte(start))
                .and_where(column(proposal_status_change::Column::ChangedAt).lt(end))
                .take();
            Spec {
                own: Own {
                    table: proposal::Entity.into_iden(),
                    id: proposal::Column::Id.as_column_ref(),
                    day: null_day(),
                    until: null_day(),
                    kind: null_text(),
                    status: column(proposal::Column::Status),
                },
                links: vec![
                    (
                        Side::Organisation,
                        proposal_co_signer::Column::ProposalId.as_column_ref(),
                        proposal_co_signer::Column::OrganisationId.as_column_ref(),
                    ),
                    (
                        Side::Theme,
                        proposal_theme::Column::ProposalId.as_column_ref(),
                        proposal_theme::Column::ThemeId.as_column_ref(),
                    ),
                ],
                place: None,
                moves: Some((
                    proposal_status_change::Column::ProposalId.as_column_ref(),
                    proposal_status_change::Column::ChangedAt.as_column_ref(),
                    proposal_status_change::Column::ToStatus.as_column_ref(),
                )),
                period: Condition::all().add(Expr::exists(moved)),
                visible: crate::proposal::visible(principal),
                visibility: column(proposal::Column::Visibility),
            }
        }
    }
}

/// The facts of `source` in the period `from..=to`, seen by `principal`, by record id.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn load(
    db: &(impl Connection + StreamTrait),
    principal: &Principal,
    source: Source,
    period: (NaiveDate, NaiveDate),
    needs: &Needs,
) -> AppResult<HashMap<Uuid, Fact>> {
    let mut spec = spec(source, principal, period);
    if let Some(kinds) = &needs.kinds {
        spec.period = spec.period.add(spec.own.kind.clone().is_in(kinds.clone()));
    }
    if let Some(statuses) = &needs.statuses {
        spec.period = spec
            .period
            .add(spec.own.status.clone().is_in(statuses.clone()));
    }
    // Records kept within their organisations (ORGANISATION) are read only when the caller
    // may see them: the rest of the network learns nothing of them, not even that they
    // exist (`complete`), however narrow a measure it writes. What the caller cannot see
    // and is still read is the network's shared record (NETWORK).
    spec.period = spec.period.add(
        Condition::any()
            .add(
                spec.visibility
                    .clone()
                    .ne(entity::Visibility::Organisation.to_value()),
            )
            .add(spec.visible.clone()),
    );
    let own = &spec.own;
    let id = Expr::col(own.id.clone());
    let mut union = branch(
        own,
        Side::Record,
        None,
        match source {
            // A proposal's lead is its organisation; the record branch names it.
            Source::Proposals => column(proposal::Column::LeadOrganisationId),
            _ => id.clone(),
        },
        None,
        None,
        &spec.period,
        &spec.visible,
    );
    for (side, owner, other) in &spec.links {
        let Some(only) = needs.side(*side) else {
            continue;
        };
        let mut period = spec.period.clone();
        if let Some(ids) = only {
            period = period.add(Expr::col(other.clone()).is_in(ids));
        }
        union.union(
            UnionType::All,
            branch(
                own,
                *side,
                Some((owner.clone(), other.clone())),
                Expr::col(other.clone()),
                matches!(side, Side::Authority).then(|| other.clone()),
                None,
                &period,
                &spec.visible,
            ),
        );
    }
    if let Some(place) = &spec.place {
        union.union(
            UnionType::All,
            branch(
                own,
                Side::Authority,
                None,
                Expr::col(place.clone()),
                Some(place.clone()),
                None,
                &spec.period,
                &spec.visible,
            ),
        );
    }
    if let Some(moves) = &spec.moves {
        let mut period = spec.period.clone();
        if let Some(statuses) = &needs.moves {
            period = period.add(Expr::col(moves.2.clone()).is_in(statuses.clone()));
        }
        union.union(
            UnionType::All,
            branch(
                own,
                Side::Move,
                None,
                id,
                None,
                Some(moves.clone()),
                &period,
                &spec.visible,
            ),
        );
    }
    let mut facts: HashMap<Uuid, Fact> = HashMap::new();
    // Read as a stream: the rows are folded into facts as they come, never all held at once.
    let mut rows = std::pin::pin!(db.stream(&union).await?);
    while let Some(row) = rows.next().await {
        let row = row?;
        let id: Uuid = row.try_get_by_index(0)?;
        let code: String = row.try_get_by_index(1)?;
        let fact = facts.entry(id).or_insert_with(|| Fact {
            id,
            ..Fact::default()
        });
        let other: Option<Uuid> = row.try_get_by_index(6)?;
        let Some(side) = Side::ALL.into_iter().find(|side| side.code() == code) else {
            continue;
        };
        match side {
            Side::Record => {
                fact.day = row.try_get_by_index(2)?;
                fact.until = row.try_get_by_index(3)?;
                fact.kind = row
                    .try_get_by_index::<Option<String>>(4)?
                    .unwrap_or_default();
                fact.status = row
                    .try_get_by_index::<Option<String>>(5)?
                    .unwrap_or_default();
                fact.visible = row.try_get_by_index::<i32>(11)? == 1;
                if source == Source::Proposals {
                    fact.organisations.extend(other);
                }
            }
            Side::Organisation => fact.organisations.extend(other),
            Side::Theme => fact.themes.extend(other),
            Side::Authority => {
                if let Some(id) = other {
                    fact.authorities.push(Place {
                        id,
                        kind: row
                            .try_get_by_index::<Option<String>>(7)?
                            .unwrap_or_default(),
                        metropolitan: row.try_get_by_index::<Option<bool>>(8)?.unwrap_or(false),
                    });
                }
            }
            Side::Move => {
                let at: Option<DateTime<Utc>> = row.try_get_by_index(9)?;
                let to: Option<String> = row.try_get_by_index(10)?;
                if let (Some(at), Some(to)) = (at, to) {
                    fact.moves.push((at, to));
                }
            }
        }
    }
    Ok(facts)
}
