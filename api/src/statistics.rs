//! Counts of the record for a period, inside the caller's visibility: what a network
//! reports to its funders. One statement per group.

use crate::auth::Principal;
use crate::db::Connection;
use crate::dialogue::DialogueFilter;
use crate::error::{AppError, AppResult};
use crate::evidence::EvidenceFilter;
use crate::kept::Kept;
use crate::paging::{column, linked};
use crate::records::ListFilter;
use chrono::{Datelike, NaiveDate};
use entity::{
    authority, cooperation, cooperation_organisation, cooperation_theme, dialogue,
    dialogue_authority, dialogue_organisation, evidence, organisation, proposal,
    proposal_co_signer, proposal_status_change, proposal_target, proposal_theme,
};
use sea_orm::ColumnTrait;
use sea_orm::sea_query::{
    Asterisk, Condition, Expr, ExprTrait, Func, JoinType, Query, SelectStatement,
};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Which records the statistics count.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct StatisticsFilter {
    /// From this day on.
    pub from: Option<NaiveDate>,
    /// Up to and including this day.
    pub to: Option<NaiveDate>,
    /// Only records this organisation takes part in (leads or co-signs, is credited by).
    pub organisation_id: Option<Uuid>,
    /// Only records involving this authority (participant, target, issuer, place).
    pub authority_id: Option<Uuid>,
    /// Only records tagged with the theme of this slug.
    pub theme: Option<String>,
}

/// How many records fall under each key (an enum name, a level, a month as YYYY-MM).
pub type Buckets = Vec<(String, i64)>;

/// The counts.
#[derive(Debug, Clone, Default)]
pub struct Statistics {
    /// Dialogues held in the period, by kind.
    pub dialogues_by_kind: Buckets,
    /// Dialogues held in the period, by status.
    pub dialogues_by_status: Buckets,
    /// Dialogues held in the period, by the level of the authorities taking part (a
    /// dialogue with authorities of two levels counts under both).
    pub dialogues_by_level: Buckets,
    /// Dialogues held in the period, by month.
    pub dialogues_by_month: Buckets,
    /// Proposals that moved in the period, by their status now.
    pub proposals_by_status: Buckets,
    /// Evidence published in the period, by kind.
    pub evidence_by_kind: Buckets,
    /// Evidence published in the period, by reach.
    pub evidence_by_reach: Buckets,
    /// Cooperations active at some time in the period, by kind.
    pub cooperations_by_kind: Buckets,
    /// Organisations that took part in a dialogue held in the period.
    pub active_organisations: i64,
}

/// One kind of record: its table, its id, and the link tables and columns the filter uses.
struct Table {
    id: crate::paging::ColumnRef,
    period: Condition,
    organisation: Option<Expr>,
    authority: Option<Expr>,
    theme: Option<(crate::paging::ColumnRef, crate::paging::ColumnRef)>,
    visible: Condition,
}

impl Table {
    fn condition(&self, filter: &StatisticsFilter) -> Condition {
        let mut condition = self.period.clone().add(self.visible.clone());
        if let Some(organisation) = &self.organisation {
            condition = condition.add(organisation.clone());
        }
        if let Some(authority) = &self.authority {
            condition = condition.add(authority.clone());
        }
        if let (Some(slug), Some(link)) = (&filter.theme, &self.theme) {
            condition = condition.add(crate::theme::tagged(link.clone(), self.id.clone(), slug));
        }
        condition
    }
}

/// What a bucket counts.
enum Counted {
    /// Rows: the statement reads one table, each record once.
    Rows,
    /// Distinct values of a record's id, which the statement's joins repeat.
    Distinct(crate::paging::ColumnRef),
}

/// `SELECT key, COUNT(...) ... GROUP BY key`, read into buckets.
async fn grouped(
    db: &impl Connection,
    mut select: SelectStatement,
    key: Expr,
    counted: Counted,
) -> AppResult<Vec<(String, i64)>> {
    // COUNT(DISTINCT) keeps every id seen in a temporary index: only where joins need it.
    let count = match counted {
        Counted::Rows => Func::count(Expr::col(Asterisk)),
        Counted::Distinct(id) => Func::count_distinct(Expr::col(id)),
    };
    select.expr(key.clone()).expr(count).add_group_by([key]);
    let mut buckets = vec![];
    for row in db.query_all(&select).await? {
        let key: Option<String> = row.try_get_by_index(0)?;
        buckets.push((key.unwrap_or_default(), row.try_get_by_index::<i64>(1)?));
    }
    buckets.sort();
    Ok(buckets)
}

/// How many statements [`of`] runs: what it costs is priced by them.
pub const STATEMENTS: usize = 9;

/// What statistics depend on: the filter, what the caller may see, the state of the record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Seen {
    filter: StatisticsFilter,
    sight: crate::auth::Sight,
    record: Uuid,
}

/// Statistics already counted: a report or a partner page asking again before the record
/// changes reads one audit entry instead of every table of the period (1.6 billion
/// instructions on SQLite for the benchmark's whole period). Those who ask the same
/// together after a write wait for one count; four counts at most run at once.
static COUNTED: Kept<Seen, Statistics> =
    Kept::new(std::num::NonZeroUsize::new(64).expect("not zero"), 4);

/// [`of`], counted only when the record, the filter or what the caller may see changed
/// since last asked; one statement more, to read the record's state.
///
/// # Errors
/// As [`of`].
pub async fn of_now(
    db: &impl Connection,
    principal: &Principal,
    filter: &StatisticsFilter,
) -> AppResult<Statistics> {
    check(filter)?;
    // Without an audit entry (a record only `seed` wrote), nothing names the record's
    // state, or tells one database from another in a process that serves two.
    let Some(record) = crate::kept::record_state(db).await? else {
        return of(db, principal, filter).await;
    };
    let seen = Seen {
        filter: filter.clone(),
        sight: principal.sight(),
        record,
    };
    COUNTED
        .get_or_compute(seen, of(db, principal, filter))
        .await
}

/// Refuses a filter whose period ends before it starts, with a day out of range, or whose
/// theme is no slug.
fn check(filter: &StatisticsFilter) -> AppResult<()> {
    if let Some(from) = filter.from {
        crate::validate::date("filter.from", from)?;
    }
    if let Some(to) = filter.to {
        crate::validate::date("filter.to", to)?;
    }
    if let Some(theme) = &filter.theme {
        crate::validate::slug("filter.theme", theme)?;
    }
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && to < from
    {
        return Err(AppError::bad_input(
            "filter.to",
            "filter.to must not be before filter.from",
        ));
    }
    Ok(())
}

/// The statistics of the records `principal` may see that `filter` selects.
///
/// # Errors
/// BAD_USER_INPUT for a period that ends before it starts, a day out of range or a theme
/// that is no slug; INTERNAL on a database failure.
pub async fn of(
    db: &impl Connection,
    principal: &Principal,
    filter: &StatisticsFilter,
) -> AppResult<Statistics> {
    check(filter)?;
    // The same conditions as the lists of dialogues and evidence: one rule for each.
    let dialogues = DialogueFilter {
        held_from: filter.from,
        held_to: filter.to,
        organisation_id: filter.organisation_id,
        authority_id: filter.authority_id,
        theme: filter.theme.clone(),
        ..DialogueFilter::default()
    }
    .condition(principal)?;
    let from_dialogues = || {
        Query::select()
            .from(dialogue::Entity)
            .cond_where(dialogues.clone())
            .take()
    };
    let id = || dialogue::Column::Id.as_column_ref();
    let mut statistics = Statistics {
        dialogues_by_kind: grouped(
            db,
            from_dialogues(),
            column(dialogue::Column::Kind),
            Counted::Rows,
        )
        .await?,
        dialogues_by_status: grouped(
            db,
            from_dialogues(),
            column(dialogue::Column::Status),
            Counted::Rows,
        )
        .await?,
        ..Statistics::default()
    };
    let mut by_level = from_dialogues();
    by_level
        .join(
            JoinType::InnerJoin,
            dialogue_authority::Entity,
            column(dialogue_authority::Column::DialogueId).equals(id()),
        )
        .join(
            JoinType::InnerJoin,
            authority::Entity,
            column(authority::Column::Id)
                .equals(dialogue_authority::Column::AuthorityId.as_column_ref()),
        );
    statistics.dialogues_by_level = grouped(
        db,
        by_level,
        column(authority::Column::Level),
        Counted::Distinct(id()),
    )
    .await?;
    // By day, summed into months here: the engines name months differently.
    let mut months: BTreeMap<String, i64> = BTreeMap::new();
    let mut by_day = from_dialogues();
    by_day
        .expr(column(dialogue::Column::HeldOn))
        .expr(Func::count(Expr::col(id())))
        .add_group_by([column(dialogue::Column::HeldOn)]);
    for row in db.query_all(&by_day).await? {
        let day: NaiveDate = row.try_get_by_index(0)?;
        let key = format!("{:04}-{:02}", day.year(), day.month());
        *months.entry(key).or_default() += row.try_get_by_index::<i64>(1)?;
    }
    statistics.dialogues_by_month = months.into_iter().collect();
    statistics.active_organisations = active_organisations(db, from_dialogues(), filter).await?;

    // Proposals that moved in the period, by their status now.
    let moved = Query::select()
        .expr(Expr::val(1))
        .from(proposal_status_change::Entity)
        .and_where(
            column(proposal_status_change::Column::ProposalId)
                .equals(proposal::Column::Id.as_column_ref()),
        )
        .cond_where(day_range(
            proposal_status_change::Column::ChangedAt.as_column_ref(),
            filter,
        ))
        .take();
    let proposals = Table {
        id: proposal::Column::Id.as_column_ref(),
        period: Condition::all().add(Expr::exists(moved)),
        organisation: filter.organisation_id.map(|id| {
            column(proposal::Column::LeadOrganisationId)
                .eq(id)
                .or(linked(
                    proposal_co_signer::Column::ProposalId.as_column_ref(),
                    proposal::Column::Id.as_column_ref(),
                    column(proposal_co_signer::Column::OrganisationId).eq(id),
                ))
        }),
        authority: filter.authority_id.map(|id| {
            linked(
                proposal_target::Column::ProposalId.as_column_ref(),
                proposal::Column::Id.as_column_ref(),
                column(proposal_target::Column::AuthorityId).eq(id),
            )
        }),
        theme: Some((
            proposal_theme::Column::ProposalId.as_column_ref(),
            proposal_theme::Column::ThemeId.as_column_ref(),
        )),
        visible: crate::proposal::visible(principal),
    };
    let select = Query::select()
        .from(proposal::Entity)
        .cond_where(proposals.condition(filter))
        .to_owned();
    statistics.proposals_by_status =
        grouped(db, select, column(proposal::Column::Status), Counted::Rows).await?;

    let evidence_condition = EvidenceFilter {
        published_from: filter.from,
        published_to: filter.to,
        organisation_id: filter.organisation_id,
        authority_id: filter.authority_id,
        theme: filter.theme.clone(),
        ..EvidenceFilter::default()
    }
    .condition(principal)?;
    let from_evidence = || {
        Query::select()
            .from(evidence::Entity)
            .cond_where(evidence_condition.clone())
            .to_owned()
    };
    statistics.evidence_by_kind = grouped(
        db,
        from_evidence(),
        column(evidence::Column::Kind),
        Counted::Rows,
    )
    .await?;
    statistics.evidence_by_reach = grouped(
        db,
        from_evidence(),
        column(evidence::Column::Reach),
        Counted::Rows,
    )
    .await?;

    let mut active_in_period = Condition::all();
    if let Some(to) = filter.to {
        active_in_period = active_in_period.add(column(cooperation::Column::EstablishedOn).lte(to));
    }
    if let Some(from) = filter.from {
        active_in_period = active_in_period.add(
            Condition::any()
                .add(column(cooperation::Column::EndedOn).is_null())
                .add(column(cooperation::Column::EndedOn).gte(from)),
        );
    }
    let cooperations = Table {
        id: cooperation::Column::Id.as_column_ref(),
        period: active_in_period,
        organisation: filter.organisation_id.map(|id| {
            linked(
                cooperation_organisation::Column::CooperationId.as_column_ref(),
                cooperation::Column::Id.as_column_ref(),
                column(cooperation_organisation::Column::OrganisationId).eq(id),
            )
        }),
        authority: filter
            .authority_id
            .map(|id| column(cooperation::Column::AuthorityId).eq(id)),
        theme: Some((
            cooperation_theme::Column::CooperationId.as_column_ref(),
            cooperation_theme::Column::ThemeId.as_column_ref(),
        )),
        visible: crate::cooperation::visible(principal),
    };
    let select = Query::select()
        .from(cooperation::Entity)
        .cond_where(cooperations.condition(filter))
        .to_owned();
    statistics.cooperations_by_kind =
        grouped(db, select, column(cooperation::Column::Kind), Counted::Rows).await?;
    Ok(statistics)
}

/// How many organisations took part in a dialogue of `dialogues` (the dialogues in view
/// that `filter` selects).
///
/// Without an organisation, authority or theme, most organisations took part in one: each
/// is asked whether one of its links, in the period, leads to such a dialogue, and the
/// first ends its search (about 10 ms on SQLite for the whole benchmark data set, against
/// 107 ms to count distinct organisations over every link). A filter that names a record
/// leaves few dialogues and few organisations, which the count over their links finds at
/// once, where asking each organisation would read every organisation's links.
async fn active_organisations(
    db: &impl Connection,
    mut dialogues: SelectStatement,
    filter: &StatisticsFilter,
) -> AppResult<i64> {
    let dialogue_id = dialogue::Column::Id.as_column_ref();
    let linked_on = column(dialogue_organisation::Column::DialogueId).equals(dialogue_id);
    let organisation_id = column(dialogue_organisation::Column::OrganisationId);
    let narrowed =
        filter.organisation_id.is_some() || filter.authority_id.is_some() || filter.theme.is_some();
    let count = if narrowed {
        dialogues.expr(Func::count_distinct(organisation_id)).join(
            JoinType::InnerJoin,
            dialogue_organisation::Entity,
            linked_on,
        );
        dialogues
    } else {
        // The link's copy of the day, so that the index (organisation, day) reads only the
        // period's links of each organisation.
        let held_on = || column(dialogue_organisation::Column::HeldOn);
        let mut period = Condition::all();
        if let Some(from) = filter.from {
            period = period.add(held_on().gte(from));
        }
        if let Some(to) = filter.to {
            period = period.add(held_on().lte(to));
        }
        dialogues
            .expr(Expr::val(1))
            .join(
                JoinType::InnerJoin,
                dialogue_organisation::Entity,
                linked_on,
            )
            .and_where(organisation_id.equals(organisation::Column::Id.as_column_ref()))
            .cond_where(period);
        Query::select()
            .expr(Func::count(Expr::col(Asterisk)))
            .from(organisation::Entity)
            .and_where(Expr::exists(dialogues))
            .take()
    };
    Ok(match db.query_one(&count).await? {
        Some(row) => row.try_get_by_index::<i64>(0)?,
        None => 0,
    })
}

/// A timestamp column within the days of the filter's period (UTC).
fn day_range(at: crate::paging::ColumnRef, filter: &StatisticsFilter) -> Condition {
    let midnight = |day: NaiveDate| day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let mut condition = Condition::all();
    if let Some(from) = filter.from {
        condition = condition.add(Expr::col(at.clone()).gte(midnight(from)));
    }
    if let Some(to) = filter.to {
        condition = condition.add(Expr::col(at).lt(midnight(to + chrono::Days::new(1))));
    }
    condition
}
