//! Statistics in the schema: counts of the record for a period, as a funder report needs.

use super::connection::{Input, db, principal};
use super::ids::{self, NodeType};
use super::scalars::Date;
use crate::error::AppError;
use crate::statistics::{self as domain, Buckets};
use async_graphql::{Context, ID, InputObject, SimpleObject};

/// Which records the statistics count; every record the caller may see when empty.
#[derive(Debug, Clone, Default, InputObject)]
pub struct StatisticsFilter {
    /// From this day on.
    pub from: Option<Date>,
    /// Up to and including this day.
    pub to: Option<Date>,
    /// Only records this organisation takes part in, leads, co-signs or is credited by.
    pub organisation: Option<ID>,
    /// Only records involving this authority: as participant, target, issuer or place.
    pub authority: Option<ID>,
    /// Only records tagged with the theme of this slug.
    pub theme: Option<String>,
}

impl Input for StatisticsFilter {
    type Domain = domain::StatisticsFilter;

    fn into_domain(self) -> Result<Self::Domain, AppError> {
        Ok(domain::StatisticsFilter {
            from: self.from.map(Into::into),
            to: self.to.map(Into::into),
            organisation_id: ids::decode_optional(
                NodeType::Organisation,
                self.organisation,
                "filter.organisation",
            )?,
            authority_id: ids::decode_optional(
                NodeType::Authority,
                self.authority,
                "filter.authority",
            )?,
            theme: self.theme,
        })
    }
}

/// How many records fall under one key.
#[derive(Debug, Clone, SimpleObject)]
pub struct StatisticsBucket {
    /// The key: an enum value's name (such as `MEETING` or `NATIONAL`) or a month as YYYY-MM.
    pub key: String,
    /// How many records.
    pub count: i64,
}

fn buckets(buckets: Buckets) -> Vec<StatisticsBucket> {
    buckets
        .into_iter()
        .map(|(key, count)| StatisticsBucket { key, count })
        .collect()
}

/// Counts of the record for a period, inside the caller's visibility.
#[derive(Debug, Clone, SimpleObject)]
pub struct Statistics {
    /// Dialogues held in the period, by kind.
    pub dialogues_by_kind: Vec<StatisticsBucket>,
    /// Dialogues held in the period, by status.
    pub dialogues_by_status: Vec<StatisticsBucket>,
    /// Dialogues held in the period, by the level of the authorities taking part (a
    /// dialogue with authorities of two levels counts under both).
    pub dialogues_by_authority_level: Vec<StatisticsBucket>,
    /// Dialogues held in the period, by month (YYYY-MM); months without any are left out.
    pub dialogues_by_month: Vec<StatisticsBucket>,
    /// Proposals that moved in the period, by their status now.
    pub proposals_by_status: Vec<StatisticsBucket>,
    /// Evidence published in the period, by kind.
    pub evidence_by_kind: Vec<StatisticsBucket>,
    /// Evidence published in the period, by reach.
    pub evidence_by_reach: Vec<StatisticsBucket>,
    /// Cooperations active at some time in the period, by kind.
    pub cooperations_by_kind: Vec<StatisticsBucket>,
    /// Organisations that took part in a dialogue held in the period.
    pub active_organisations: i64,
}

/// The statistics `filter` selects, as the caller may see them.
///
/// # Errors
/// BAD_USER_INPUT for a bad filter; INTERNAL on a database failure.
pub async fn statistics(
    ctx: &Context<'_>,
    filter: Option<StatisticsFilter>,
) -> async_graphql::Result<Statistics> {
    let filter = filter.into_domain()?;
    let found = domain::of_now(db(ctx), principal(ctx), &filter).await?;
    Ok(Statistics {
        dialogues_by_kind: buckets(found.dialogues_by_kind),
        dialogues_by_status: buckets(found.dialogues_by_status),
        dialogues_by_authority_level: buckets(found.dialogues_by_level),
        dialogues_by_month: buckets(found.dialogues_by_month),
        proposals_by_status: buckets(found.proposals_by_status),
        evidence_by_kind: buckets(found.evidence_by_kind),
        evidence_by_reach: buckets(found.evidence_by_reach),
        cooperations_by_kind: buckets(found.cooperations_by_kind),
        active_organisations: found.active_organisations,
    })
}
