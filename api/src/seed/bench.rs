//! The benchmark data set: a large, deterministic network on top of the demo data (whose
//! regions and municipalities it also uses): 2,000 organisations, 500 authorities, 10,000
//! proposals with co-signers, targets and histories, and 50,000 dialogues with 1-3
//! organisations and 1-2 authorities each. Everything is PUBLIC, so anonymous reads see it.
//! The demo network's goals are copied [`GOAL_COPIES`] times, so that a page of goals
//! measures its progress over the whole data set.

use crate::db::Connection;
use crate::error::AppResult;
use crate::goal::measure::Measure;
use crate::proposal::LIFECYCLE;
use crate::records::write_lists;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use entity::{
    AuthorityKind, AuthorityLevel, DialogueKind, DialogueStatus, OrganisationKind, ProposalStatus,
    Visibility, authority, dialogue, dialogue_authority, dialogue_organisation, dialogue_proposal,
    goal, organisation, proposal, proposal_co_signer, proposal_status_change, proposal_target,
};
use sea_orm::sea_query::{Query, SimpleExpr};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, IntoActiveModel,
    TransactionTrait, Value,
};
use uuid::Uuid;

/// How many of each record.
pub const ORGANISATIONS: usize = 2_000;
/// Authorities besides the real regions and municipalities.
pub const AUTHORITIES: usize = 500;
/// Proposals.
pub const PROPOSALS: usize = 10_000;
/// Dialogues.
pub const DIALOGUES: usize = 50_000;
/// Copies of each of the demo network's goals.
pub const GOAL_COPIES: usize = 3;

/// Copies the goals there are (the demo network's) [`GOAL_COPIES`] times, with the same
/// measures, targets and visibility; returns how many goals were written.
async fn copy_goals(
    txn: &impl Connection,
    rng: &mut Rng,
    epoch: DateTime<Utc>,
) -> AppResult<usize> {
    let originals = goal::Entity::find().all(txn).await?;
    let mut changes = serde_json::Map::new();
    for copy in 1..=GOAL_COPIES {
        for original in &originals {
            let id = rng.uuid(epoch);
            let row = goal::Model {
                id,
                slug: format!("bench-{copy}-{}", original.slug),
                title: format!("{} ({copy})", original.title),
                ..original.clone()
            };
            goal::Entity::insert(row.into_active_model())
                .exec(txn)
                .await?;
            let measure = Measure::from_json(original.measure_kind, &original.measure);
            let lists = [Some(measure.named())];
            write_lists(txn, id, &[crate::goal::references()], &lists, &mut changes).await?;
        }
    }
    Ok(originals.len() * GOAL_COPIES)
}

/// A small deterministic generator (xorshift64*), so every run makes the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// A UUIDv7 whose time and random bits come from this generator and `at`.
    fn uuid(&mut self, at: DateTime<Utc>) -> Uuid {
        let bytes = self.next().to_le_bytes();
        let more = self.next().to_le_bytes();
        let random = [
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            more[0], more[1],
        ];
        uuid::Builder::from_unix_timestamp_millis(
            u64::try_from(at.timestamp_millis()).unwrap_or(0),
            &random,
        )
        .into_uuid()
    }
}

/// Inserts rows (values in the order of `columns`) in statements of `chunk` rows.
async fn insert<C: ColumnTrait>(
    db: &impl Connection,
    columns: &[C],
    rows: Vec<Vec<Value>>,
    chunk: usize,
) -> AppResult<()> {
    let Some(table) = columns.first().map(ColumnTrait::entity_name) else {
        return Ok(());
    };
    for part in rows.chunks(chunk) {
        let mut insert = Query::insert();
        insert
            .into_table(table.clone())
            .columns(columns.iter().copied());
        for row in part {
            insert.values_panic(row.iter().cloned().map(SimpleExpr::from));
        }
        db.execute(&insert).await?;
    }
    Ok(())
}

fn text(value: impl Into<String>) -> Value {
    Value::String(Some(value.into()))
}

/// Loads the benchmark data set (and the demo network first, if the database is empty).
/// `progress` is told what is being written.
///
/// # Errors
/// INTERNAL on a database failure; nothing of the benchmark set is kept then.
pub async fn load(db: &DatabaseConnection, progress: impl Fn(&str)) -> AppResult<()> {
    if super::demo_if_empty(db).await? {
        progress("demo network, regions and municipalities loaded");
    }
    let mut rng = Rng(0x5a4d_7e2b_2026_1123);
    let epoch = NaiveDate::from_ymd_opt(2020, 1, 1)
        .unwrap_or_default()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let txn = db.begin().await?;
    let now = crate::validate::now();

    let authority_kinds = [
        AuthorityKind::Agency,
        AuthorityKind::Ministry,
        AuthorityKind::Municipality,
        AuthorityKind::Region,
        AuthorityKind::Other,
    ];
    let levels = [
        AuthorityLevel::National,
        AuthorityLevel::National,
        AuthorityLevel::Local,
        AuthorityLevel::Regional,
        AuthorityLevel::Eu,
    ];
    let mut authorities = Vec::with_capacity(AUTHORITIES);
    let mut rows = Vec::new();
    for i in 0..AUTHORITIES {
        let id = rng.uuid(epoch);
        authorities.push(id);
        let k = i % authority_kinds.len();
        rows.push(vec![
            id.into(),
            text(format!("bench-authority-{i:04}")),
            text(format!("Myndighet {i:04}")),
            text(levels[k].to_value()),
            text(authority_kinds[k].to_value()),
            Value::Uuid(None),
            Value::String(None),
            Value::String(None),
            1.into(),
            now.into(),
            now.into(),
        ]);
    }
    let columns = [
        authority::Column::Id,
        authority::Column::Slug,
        authority::Column::Name,
        authority::Column::Level,
        authority::Column::Kind,
        authority::Column::ParentId,
        authority::Column::Website,
        authority::Column::Code,
        authority::Column::Version,
        authority::Column::CreatedAt,
        authority::Column::UpdatedAt,
    ];
    insert(&txn, &columns, rows, 2_000).await?;
    progress(&format!("{AUTHORITIES} authorities"));

    let kinds = [
        OrganisationKind::Association,
        OrganisationKind::Cooperative,
        OrganisationKind::Foundation,
        OrganisationKind::FaithBased,
        OrganisationKind::Umbrella,
    ];
    let cities = [
        "Stockholm",
        "Göteborg",
        "Malmö",
        "Uppsala",
        "Umeå",
        "Örebro",
        "Luleå",
        "Växjö",
    ];
    let mut organisations = Vec::with_capacity(ORGANISATIONS);
    let mut rows = Vec::new();
    for i in 0..ORGANISATIONS {
        let id = rng.uuid(epoch);
        organisations.push(id);
        rows.push(vec![
            id.into(),
            text(format!("bench-org-{i:04}")),
            text(format!("Organisation {i:04}")),
            text(kinds[i % kinds.len()].to_value()),
            text(format!("Medlemsorganisation nummer {i} i nätverket.")),
            text(format!("https://org{i:04}.example.org")),
            text(format!("kontakt@org{i:04}.example")),
            text(cities[i % cities.len()]),
            1.into(),
            now.into(),
            now.into(),
        ]);
    }
    let columns = [
        organisation::Column::Id,
        organisation::Column::Slug,
        organisation::Column::Name,
        organisation::Column::Kind,
        organisation::Column::Description,
        organisation::Column::Website,
        organisation::Column::ContactEmail,
        organisation::Column::City,
        organisation::Column::Version,
        organisation::Column::CreatedAt,
        organisation::Column::UpdatedAt,
    ];
    insert(&txn, &columns, rows, 2_000).await?;
    progress(&format!("{ORGANISATIONS} organisations"));

    // Every status with equal weight, each reached by a legal path from DRAFT.
    let paths: Vec<Vec<ProposalStatus>> = LIFECYCLE
        .iter()
        .map(|(status, _)| path_to(*status))
        .collect();
    let (mut proposals, mut rows, mut co_signers, mut targets, mut history) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..PROPOSALS {
        let created = epoch + TimeDelta::minutes(rng.below(60 * 24 * 365 * 6) as i64);
        let path = &paths[rng.below(paths.len())];
        let updated = created + TimeDelta::hours(24 * path.len() as i64);
        let id = rng.uuid(created);
        proposals.push(id);
        let lead = organisations[rng.below(ORGANISATIONS)];
        rows.push(vec![
            id.into(),
            text(format!("Förslag {i:05}")),
            text(format!("Sammanfattning av förslag {i}.")),
            text(format!("Nätverkets förslag nummer {i}: konkreta åtgärder mot fattigdom och social utestängning.")),
            text(path.last().copied().unwrap_or(ProposalStatus::Draft).to_value()),
            text(Visibility::Public.to_value()),
            lead.into(),
            1.into(),
            created.into(),
            updated.into(),
        ]);
        let mut chosen = vec![lead];
        for _ in 0..rng.below(4) {
            let org = organisations[rng.below(ORGANISATIONS)];
            if !chosen.contains(&org) {
                chosen.push(org);
                co_signers.push(vec![id.into(), org.into()]);
            }
        }
        let first = authorities[rng.below(AUTHORITIES)];
        targets.push(vec![id.into(), first.into()]);
        let second = authorities[rng.below(AUTHORITIES)];
        if second != first && rng.below(2) == 0 {
            targets.push(vec![id.into(), second.into()]);
        }
        let mut from: Option<ProposalStatus> = None;
        for (step, to) in path.iter().enumerate() {
            let at = created + TimeDelta::hours(24 * step as i64);
            history.push(vec![
                rng.uuid(at).into(),
                id.into(),
                from.map(|f| f.to_value()).into(),
                text(to.to_value()),
                at.into(),
                Value::String(None),
            ]);
            from = Some(*to);
        }
    }
    let columns = [
        proposal::Column::Id,
        proposal::Column::Title,
        proposal::Column::Summary,
        proposal::Column::Body,
        proposal::Column::Status,
        proposal::Column::Visibility,
        proposal::Column::LeadOrganisationId,
        proposal::Column::Version,
        proposal::Column::CreatedAt,
        proposal::Column::UpdatedAt,
    ];
    insert(&txn, &columns, rows, 2_000).await?;
    insert(
        &txn,
        &[
            proposal_co_signer::Column::ProposalId,
            proposal_co_signer::Column::OrganisationId,
        ],
        co_signers,
        5_000,
    )
    .await?;
    insert(
        &txn,
        &[
            proposal_target::Column::ProposalId,
            proposal_target::Column::AuthorityId,
        ],
        targets,
        5_000,
    )
    .await?;
    insert(
        &txn,
        &[
            proposal_status_change::Column::Id,
            proposal_status_change::Column::ProposalId,
            proposal_status_change::Column::FromStatus,
            proposal_status_change::Column::ToStatus,
            proposal_status_change::Column::ChangedAt,
            proposal_status_change::Column::Note,
        ],
        history,
        5_000,
    )
    .await?;
    progress(&format!(
        "{PROPOSALS} proposals with co-signers, targets and histories"
    ));

    let dialogue_kinds = [
        DialogueKind::Meeting,
        DialogueKind::Letter,
        DialogueKind::ConsultationResponse,
        DialogueKind::Seminar,
        DialogueKind::Conference,
        DialogueKind::Call,
    ];
    let statuses = [
        DialogueStatus::Held,
        DialogueStatus::Closed,
        DialogueStatus::FollowUp,
        DialogueStatus::Planned,
    ];
    let first_day = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap_or_default();
    let (mut rows, mut with_orgs, mut with_authorities, mut with_proposals) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..DIALOGUES {
        let held_on = first_day + TimeDelta::days(rng.below(365 * 12) as i64);
        let id = rng.uuid(held_on.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc());
        rows.push(vec![
            id.into(),
            text(format!("Dialog {i:05}")),
            text(dialogue_kinds[i % dialogue_kinds.len()].to_value()),
            text(statuses[i % statuses.len()].to_value()),
            held_on.into(),
            text(format!("Vad som sades i dialog {i}.")),
            Value::String(None),
            text(Visibility::Public.to_value()),
            1.into(),
            now.into(),
            now.into(),
        ]);
        let mut orgs: Vec<Uuid> = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let org = organisations[rng.below(ORGANISATIONS)];
            if !orgs.contains(&org) {
                orgs.push(org);
                with_orgs.push(vec![id.into(), org.into()]);
            }
        }
        let mut auths: Vec<Uuid> = Vec::new();
        for _ in 0..1 + rng.below(2) {
            let authority = authorities[rng.below(AUTHORITIES)];
            if !auths.contains(&authority) {
                auths.push(authority);
                with_authorities.push(vec![id.into(), authority.into()]);
            }
        }
        if rng.below(4) == 0 {
            with_proposals.push(vec![id.into(), proposals[rng.below(PROPOSALS)].into()]);
        }
        if (i + 1) % 10_000 == 0 {
            progress(&format!("dialogues {}/{DIALOGUES} generated", i + 1));
        }
    }
    let columns = [
        dialogue::Column::Id,
        dialogue::Column::Title,
        dialogue::Column::Kind,
        dialogue::Column::Status,
        dialogue::Column::HeldOn,
        dialogue::Column::Summary,
        dialogue::Column::Outcome,
        dialogue::Column::Visibility,
        dialogue::Column::Version,
        dialogue::Column::CreatedAt,
        dialogue::Column::UpdatedAt,
    ];
    insert(&txn, &columns, rows, 2_000).await?;
    insert(
        &txn,
        &[
            dialogue_organisation::Column::DialogueId,
            dialogue_organisation::Column::OrganisationId,
        ],
        with_orgs,
        5_000,
    )
    .await?;
    insert(
        &txn,
        &[
            dialogue_authority::Column::DialogueId,
            dialogue_authority::Column::AuthorityId,
        ],
        with_authorities,
        5_000,
    )
    .await?;
    insert(
        &txn,
        &[
            dialogue_proposal::Column::DialogueId,
            dialogue_proposal::Column::ProposalId,
        ],
        with_proposals,
        5_000,
    )
    .await?;
    crate::dialogue::date_links(&txn, None).await?;
    progress(&format!("{DIALOGUES} dialogues with their participants"));
    let goals = copy_goals(&txn, &mut rng, epoch).await?;
    progress(&format!("{goals} goals"));
    txn.commit().await?;
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        // The tables compacted, as records written one at a time over the years would
        // leave them: here every dialogue row is written again when its authority links
        // arrive (migration 13's trigger), after all rows are in and the pages full, so
        // each new version moves to another page with a new entry in every index. That
        // left the dialogues 2.3 times their size (2,935 pages, 1,278 compacted) and their
        // id index a level deeper (423 pages, 194), where a dialogue created through the
        // API is mostly written again on the page it was just written to.
        db.execute_unprepared("VACUUM FULL").await?;
        // As after any bulk load: statistics for the planner, and the visibility map that
        // lets index-only scans skip the table (a W2 page finds its dialogues so, in
        // dialogue_organisations; its authorities, read so before the dialogues named them:
        // 4.9 -> 2.2 ms). VACUUM FULL sets no visibility map of its own.
        db.execute_unprepared("VACUUM ANALYZE").await?;
    }
    Ok(())
}

/// The statuses from DRAFT to `target`, by the first legal route.
fn path_to(target: ProposalStatus) -> Vec<ProposalStatus> {
    let mut paths = vec![vec![ProposalStatus::Draft]];
    while let Some(path) = paths.first().cloned() {
        paths.remove(0);
        let last = *path.last().unwrap_or(&ProposalStatus::Draft);
        if last == target {
            return path;
        }
        for next in crate::proposal::allowed_moves(last) {
            if !path.contains(next) {
                paths.push([path.clone(), vec![*next]].concat());
            }
        }
    }
    vec![ProposalStatus::Draft]
}
