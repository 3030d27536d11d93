//! Demo data loaded into an empty database: the network of the source documents, its
//! authorities, and all Swedish regions and municipalities (from Statistics Sweden's codes,
//! kept in `api/data/swedish_municipalities.csv`).

pub mod bench;
mod demo_data;
mod goals;

use crate::error::{AppError, AppResult};
use crate::paging;
use chrono::{DateTime, NaiveDate, Utc};
use entity::{AuthorityKind, AuthorityLevel, ProposalStatus};
use entity::{
    authority, dialogue, organisation, proposal, proposal_co_signer, proposal_status_change,
    proposal_target,
};
use sea_orm::ActiveValue::{NotSet, Set};
use sea_orm::sea_query::Condition;
use sea_orm::{ActiveEnum, DatabaseConnection, EntityTrait, TransactionTrait};
use std::collections::HashMap;
use uuid::Uuid;

/// An organisation of the demo network.
pub struct OrganisationSeed {
    /// Slug.
    pub slug: &'static str,
    /// Name.
    pub name: &'static str,
    /// `OrganisationKind` name.
    pub kind: &'static str,
    /// Description.
    pub description: &'static str,
    /// Website.
    pub website: Option<&'static str>,
    /// Contact address (placeholder domain).
    pub contact_email: Option<&'static str>,
    /// City.
    pub city: Option<&'static str>,
}

/// An authority of the demo network; parents come before their children.
pub struct AuthoritySeed {
    /// Slug.
    pub slug: &'static str,
    /// Name.
    pub name: &'static str,
    /// `AuthorityLevel` name.
    pub level: &'static str,
    /// `AuthorityKind` name.
    pub kind: &'static str,
    /// Slug of the parent.
    pub parent: Option<&'static str>,
    /// Website.
    pub website: Option<&'static str>,
}

/// One move in a demo proposal's history.
pub struct HistorySeed {
    /// `ProposalStatus` name moved to.
    pub to: &'static str,
    /// Day of the move.
    pub on: &'static str,
    /// Why.
    pub note: Option<&'static str>,
}

/// A demo proposal; its status is the last move's.
pub struct ProposalSeed {
    /// Key dialogues refer to it by.
    pub key: &'static str,
    /// Title.
    pub title: &'static str,
    /// Summary.
    pub summary: &'static str,
    /// Body.
    pub body: &'static str,
    /// `Visibility` name.
    pub visibility: &'static str,
    /// Slug of the lead organisation.
    pub lead: &'static str,
    /// Slugs of co-signers.
    pub co_signers: &'static [&'static str],
    /// Slugs of target authorities.
    pub targets: &'static [&'static str],
    /// Moves from DRAFT, oldest first.
    pub history: &'static [HistorySeed],
}

/// A demo dialogue.
pub struct DialogueSeed {
    /// Title.
    pub title: &'static str,
    /// `DialogueKind` name.
    pub kind: &'static str,
    /// `DialogueStatus` name.
    pub status: &'static str,
    /// Day, `YYYY-MM-DD`.
    pub held_on: &'static str,
    /// Summary.
    pub summary: &'static str,
    /// Outcome.
    pub outcome: Option<&'static str>,
    /// `Visibility` name.
    pub visibility: &'static str,
    /// Slugs of participating organisations.
    pub organisations: &'static [&'static str],
    /// Slugs of participating authorities.
    pub authorities: &'static [&'static str],
    /// Keys of proposals discussed.
    pub proposals: &'static [&'static str],
}

const MUNICIPALITIES_CSV: &str = include_str!("../../data/swedish_municipalities.csv");

/// A slug from a Swedish name: lowercase ASCII, å/ä→a, ö→o, other marks dropped.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.to_lowercase().chars() {
        let c = match c {
            'å' | 'ä' | 'á' | 'à' => 'a',
            'ö' | 'ø' | 'ó' => 'o',
            'é' | 'è' | 'ë' => 'e',
            'ü' => 'u',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

fn parse<T: ActiveEnum<Value = String>>(name: &str) -> AppResult<T> {
    T::try_from_value(&name.to_owned()).map_err(AppError::from)
}

fn noon(day: &str) -> AppResult<DateTime<Utc>> {
    let day: NaiveDate = day
        .parse()
        .map_err(|e| AppError::Internal(std::sync::Arc::new(e)))?;
    Ok(day.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc())
}

fn internal(message: String) -> AppError {
    AppError::Internal(std::sync::Arc::new(std::io::Error::other(message)))
}

/// Whether the database holds no organisations and no authorities yet.
///
/// # Errors
/// INTERNAL on a database failure.
pub async fn is_empty(db: &DatabaseConnection) -> AppResult<bool> {
    Ok(
        paging::count(db, organisation::Entity, Condition::all()).await? == 0
            && paging::count(db, authority::Entity, Condition::all()).await? == 0,
    )
}

fn new_authority(
    id: Uuid,
    slug: String,
    name: String,
    level: AuthorityLevel,
    kind: AuthorityKind,
    parent: Option<Uuid>,
    code: Option<String>,
) -> authority::ActiveModel {
    let now = crate::validate::now();
    let is_metropolitan = kind == AuthorityKind::Municipality
        && code
            .as_deref()
            .is_some_and(|code| crate::authority::METROPOLITAN_CODES.contains(&code));
    authority::ActiveModel {
        id: Set(id),
        is_metropolitan: Set(is_metropolitan),
        slug: Set(slug),
        name: Set(name),
        level: Set(level),
        kind: Set(kind),
        parent_id: Set(parent),
        website: Set(None),
        code: Set(code),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// Loads the demo network in one transaction.
///
/// # Errors
/// INTERNAL when the demo data is inconsistent or the database fails.
pub async fn demo(db: &DatabaseConnection) -> AppResult<()> {
    let txn = db.begin().await?;
    let now = crate::validate::now();
    let mut authorities: HashMap<String, Uuid> = HashMap::new();

    // Regions and municipalities.
    let mut regions: HashMap<&str, Uuid> = HashMap::new();
    let mut rows = Vec::new();
    for line in MUNICIPALITIES_CSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.trim().split(',').collect();
        let [code, name, county_code, county] = fields[..] else {
            return Err(internal(format!("bad municipality line {line:?}")));
        };
        if !regions.contains_key(county_code) {
            let region = county.trim_end_matches(" län");
            let region = format!("Region {}", region.strip_suffix('s').unwrap_or(region));
            let (id, slug) = (Uuid::now_v7(), slugify(&region));
            regions.insert(county_code, id);
            authorities.insert(slug.clone(), id);
            rows.push(new_authority(
                id,
                slug,
                region,
                AuthorityLevel::Regional,
                AuthorityKind::Region,
                None,
                Some(county_code.to_owned()),
            ));
        }
        let parent = regions.get(county_code).copied();
        let mut slug = format!("{}-kommun", slugify(name));
        if authorities.contains_key(&slug) {
            // Håbo and Habo both transliterate to "habo": the later one keeps its code.
            slug = format!("{slug}-{code}");
        }
        let id = Uuid::now_v7();
        authorities.insert(slug.clone(), id);
        rows.push(new_authority(
            id,
            slug,
            name.to_owned(),
            AuthorityLevel::Local,
            AuthorityKind::Municipality,
            parent,
            Some(code.to_owned()),
        ));
    }
    for chunk in rows.chunks(200) {
        authority::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }

    for seed in demo_data::AUTHORITIES {
        let parent = match seed.parent {
            Some(slug) => Some(
                *authorities
                    .get(slug)
                    .ok_or_else(|| internal(format!("unknown parent {slug}")))?,
            ),
            None => None,
        };
        let id = Uuid::now_v7();
        let mut row = new_authority(
            id,
            seed.slug.to_owned(),
            seed.name.to_owned(),
            parse(seed.level)?,
            parse(seed.kind)?,
            parent,
            None,
        );
        row.website = Set(seed.website.map(str::to_owned));
        authorities.insert(seed.slug.to_owned(), id);
        authority::Entity::insert(row).exec(&txn).await?;
    }

    let mut organisations: HashMap<&str, Uuid> = HashMap::new();
    for seed in demo_data::ORGANISATIONS {
        let id = Uuid::now_v7();
        organisations.insert(seed.slug, id);
        organisation::Entity::insert(organisation::ActiveModel {
            id: Set(id),
            slug: Set(seed.slug.to_owned()),
            name: Set(seed.name.to_owned()),
            kind: Set(parse(seed.kind)?),
            description: Set(seed.description.to_owned()),
            website: Set(seed.website.map(str::to_owned)),
            contact_email: Set(seed.contact_email.map(str::to_owned)),
            city: Set(seed.city.map(str::to_owned)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec(&txn)
        .await?;
    }
    let organisation = |slug: &str| {
        organisations
            .get(slug)
            .copied()
            .ok_or_else(|| internal(format!("unknown organisation {slug}")))
    };
    let authority = |slug: &str| {
        authorities
            .get(slug)
            .copied()
            .ok_or_else(|| internal(format!("unknown authority {slug}")))
    };

    let mut proposals: HashMap<&str, Uuid> = HashMap::new();
    for seed in demo_data::PROPOSALS {
        let id = Uuid::now_v7();
        proposals.insert(seed.key, id);
        let created = noon(seed.history.first().map_or("2008-01-15", |h| h.on))?;
        let updated = noon(seed.history.last().map_or("2008-01-15", |h| h.on))?;
        let status: ProposalStatus = seed
            .history
            .last()
            .map_or(Ok(ProposalStatus::Draft), |h| parse(h.to))?;
        proposal::Entity::insert(proposal::ActiveModel {
            id: Set(id),
            title: Set(seed.title.to_owned()),
            summary: Set(seed.summary.to_owned()),
            body: Set(seed.body.to_owned()),
            status: Set(status),
            visibility: Set(parse(seed.visibility)?),
            lead_organisation_id: Set(organisation(seed.lead)?),
            version: Set(1),
            created_at: Set(created),
            updated_at: Set(updated),
        })
        .exec(&txn)
        .await?;
        let co_signers = seed
            .co_signers
            .iter()
            .map(|s| organisation(s))
            .collect::<AppResult<Vec<_>>>()?;
        crate::records::replace_links(
            &txn,
            proposal_co_signer::Column::ProposalId,
            proposal_co_signer::Column::OrganisationId,
            id,
            &co_signers,
        )
        .await?;
        let targets = seed
            .targets
            .iter()
            .map(|s| authority(s))
            .collect::<AppResult<Vec<_>>>()?;
        crate::records::replace_links(
            &txn,
            proposal_target::Column::ProposalId,
            proposal_target::Column::AuthorityId,
            id,
            &targets,
        )
        .await?;
        let mut from = None;
        let mut moves = vec![(ProposalStatus::Draft, created, None)];
        for step in seed.history {
            moves.push((parse(step.to)?, noon(step.on)?, step.note));
        }
        for (to, at, note) in moves {
            if let Some(previous) = from
                && !crate::proposal::allowed_moves(previous).contains(&to)
            {
                return Err(internal(format!(
                    "proposal {} moves {previous:?} -> {to:?}",
                    seed.key
                )));
            }
            proposal_status_change::Entity::insert(proposal_status_change::ActiveModel {
                id: Set(Uuid::now_v7()),
                proposal_id: Set(id),
                from_status: Set(from),
                to_status: Set(to),
                changed_at: Set(at),
                note: Set(note.map(str::to_owned)),
            })
            .exec(&txn)
            .await?;
            from = Some(to);
        }
    }

    let mut dialogues: HashMap<&str, Uuid> = HashMap::new();
    for seed in demo_data::DIALOGUES {
        let id = Uuid::now_v7();
        dialogues.insert(seed.held_on, id);
        dialogue::Entity::insert(dialogue::ActiveModel {
            id: Set(id),
            title: Set(seed.title.to_owned()),
            kind: Set(parse(seed.kind)?),
            status: Set(parse(seed.status)?),
            held_on: Set(seed
                .held_on
                .parse()
                .map_err(|e| AppError::Internal(std::sync::Arc::new(e)))?),
            summary: Set(seed.summary.to_owned()),
            outcome: Set(seed.outcome.map(str::to_owned)),
            visibility: Set(parse(seed.visibility)?),
            // Written by the database with the links, below.
            authority_ids: NotSet,
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec(&txn)
        .await?;
        let orgs = seed
            .organisations
            .iter()
            .map(|s| organisation(s))
            .collect::<AppResult<Vec<_>>>()?;
        let auths = seed
            .authorities
            .iter()
            .map(|s| authority(s))
            .collect::<AppResult<Vec<_>>>()?;
        let props = seed
            .proposals
            .iter()
            .map(|k| {
                proposals
                    .get(k)
                    .copied()
                    .ok_or_else(|| internal(format!("unknown proposal {k}")))
            })
            .collect::<AppResult<Vec<_>>>()?;
        crate::dialogue::write_participants(
            &txn,
            id,
            &[Some(orgs), Some(auths), Some(props)],
            true,
        )
        .await?;
    }
    goals::load(&txn, &authority, &organisation, &proposals, &dialogues).await?;
    txn.commit().await?;
    Ok(())
}

/// Loads the demo network if the database is empty; returns whether it did.
///
/// # Errors
/// As [`demo`].
pub async fn demo_if_empty(db: &DatabaseConnection) -> AppResult<bool> {
    if is_empty(db).await? {
        demo(db).await?;
        Ok(true)
    } else {
        Ok(false)
    }
}
