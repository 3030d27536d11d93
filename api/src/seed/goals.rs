//! The demo's themes, evidence, local cooperations and goals: the goals of the network's
//! plan (slides 6, 7, 11 and 12 of its project description), each with its measure as data,
//! and enough records that their progress is partial and plausible: some reached, some
//! not, some with records the public cannot see.

use super::{internal, noon};
use crate::db::Connection;
use crate::error::AppResult;
use crate::goal::measure::Measure;
use crate::records::{Link, write_lists};
use entity::{
    CooperationKind, DialogueKind, DialogueStatus, EvidenceKind, GoalCategory, GoalMeasureKind,
    MunicipalityScope, ProposalStatus, Reach, Visibility, cooperation, dialogue_theme, evidence,
    goal, goal_progress_entry, proposal_theme, theme,
};
use sea_orm::ActiveValue::Set;
use sea_orm::EntityTrait;
use std::collections::HashMap;
use uuid::Uuid;

/// The themes: the partnership's six, gender equality and the Equal experience.
const THEMES: &[(&str, &str, &str)] = &[
    (
        "kvalitet",
        "Kvalitet",
        "Kvalitet i verksamheten och i mötet med deltagarna.",
    ),
    (
        "kompetensutveckling",
        "Kompetensutveckling",
        "Kompetensutveckling för deltagare, personal och ideellt aktiva.",
    ),
    (
        "halsa",
        "Hälsa",
        "Hälsa som förutsättning för arbete och delaktighet.",
    ),
    (
        "integration-och-mobilisering",
        "Integration och mobilisering",
        "Integration och mobilisering av människor som står långt från arbetsmarknaden.",
    ),
    (
        "spridning",
        "Spridning",
        "Spridning av resultat och erfarenheter.",
    ),
    (
        "finansiering",
        "Finansiering",
        "Finansiering av de idéburna organisationernas arbete.",
    ),
    (
        "jamstalldhet",
        "Jämställdhet",
        "Jämställdhets- och genusperspektiv i verksamheten.",
    ),
    (
        "equal-erfarenheter",
        "Equalerfarenheter",
        "Resultat och erfarenheter från Equalprogrammet.",
    ),
];

/// Themes of demo dialogues, by the day they were held.
const DIALOGUE_THEMES: &[(&str, &[&str])] = &[
    ("2008-04-02", &["equal-erfarenheter"]),
    (
        "2008-05-14",
        &["equal-erfarenheter", "integration-och-mobilisering"],
    ),
    ("2008-06-03", &["integration-och-mobilisering"]),
    ("2008-10-07", &["halsa", "equal-erfarenheter"]),
    ("2008-10-21", &["equal-erfarenheter"]),
    (
        "2008-03-07",
        &["integration-och-mobilisering", "equal-erfarenheter"],
    ),
    ("2008-10-14", &["jamstalldhet", "halsa"]),
    ("2008-01-22", &["equal-erfarenheter"]),
    ("2016-04-06", &["kvalitet", "spridning"]),
    ("2016-04-13", &["kompetensutveckling", "finansiering"]),
];

/// Themes of demo proposals, by key.
const PROPOSAL_THEMES: &[(&str, &[&str])] = &[
    ("p-handlingsplan", &["equal-erfarenheter"]),
    ("p-bemotandekompetens", &["kompetensutveckling", "kvalitet"]),
    ("p-jamstalldhetsperspektiv", &["jamstalldhet"]),
    ("p-esf-regler", &["finansiering"]),
];

/// A demo piece of evidence.
struct EvidenceSeed {
    kind: EvidenceKind,
    title: &'static str,
    url: Option<&'static str>,
    publisher: &'static str,
    reach: Reach,
    published_on: &'static str,
    summary: &'static str,
    visibility: Visibility,
    authority: Option<&'static str>,
    organisations: &'static [&'static str],
    proposals: &'static [&'static str],
    themes: &'static [&'static str],
}

const EVIDENCE: &[EvidenceSeed] = &[
    EvidenceSeed {
        kind: EvidenceKind::MediaArticle,
        title: "Nätverk kräver att Equalerfarenheterna tas tillvara mot fattigdomen",
        url: Some("https://www.dn.se/debatt/"),
        publisher: "Dagens Nyheter",
        reach: Reach::National,
        published_on: "2008-04-10",
        summary: "Debattartikel av nätverkets organisationer inför arbetet med handlingsplanen.",
        visibility: Visibility::Public,
        authority: None,
        organisations: &["coompanion-stockholm", "eapn-sverige"],
        proposals: &["p-handlingsplan"],
        themes: &["equal-erfarenheter"],
    },
    EvidenceSeed {
        kind: EvidenceKind::Broadcast,
        title: "Fattigdom i välfärdslandet",
        url: Some("https://sverigesradio.se/ekot"),
        publisher: "Sveriges Radio, Ekot",
        reach: Reach::National,
        published_on: "2008-10-08",
        summary: "Inslag efter mötet med socialutskottet, med medverkan av HSO och RSMH.",
        visibility: Visibility::Public,
        authority: None,
        organisations: &["hso", "rsmh"],
        proposals: &[],
        themes: &["halsa"],
    },
    EvidenceSeed {
        kind: EvidenceKind::MediaArticle,
        title: "Sjukförsäkringen stänger ute dem som behöver den mest",
        url: None,
        publisher: "Svenska Dagbladet",
        reach: Reach::National,
        published_on: "2009-03-20",
        summary: "Artikel under arbete med tidningen; publiceras när den är klar.",
        visibility: Visibility::Network,
        authority: None,
        organisations: &["rsmh"],
        proposals: &["p-sjukforsakring-rehabilitering"],
        themes: &["halsa"],
    },
    EvidenceSeed {
        kind: EvidenceKind::MediaArticle,
        title: "Fontänhuset och RFHL bygger lokal samverkan i Uppsala",
        url: Some("https://unt.se/"),
        publisher: "Upsala Nya Tidning",
        reach: Reach::Local,
        published_on: "2008-05-22",
        summary: "Lokal artikel om samverkan mellan föreningarna och kommunen.",
        visibility: Visibility::Public,
        authority: None,
        organisations: &["rfhl", "sveriges-fontanhus"],
        proposals: &["p-lokal-samverkan"],
        themes: &[],
    },
    EvidenceSeed {
        kind: EvidenceKind::PolicyMention,
        title: "Strategirapporten nämner samverkan med idéburna organisationer",
        url: Some("https://www.regeringen.se/"),
        publisher: "Regeringskansliet",
        reach: Reach::National,
        published_on: "2008-09-30",
        summary: "Strategirapporten för social trygghet och social delaktighet 2008–2010 lyfter samverkan mellan myndigheter och idéburna organisationer, ett av Equalresultaten.",
        visibility: Visibility::Public,
        authority: Some("socialdepartementet"),
        organisations: &["coompanion-stockholm", "eapn-sverige"],
        proposals: &["p-handlingsplan"],
        themes: &["equal-erfarenheter"],
    },
    EvidenceSeed {
        kind: EvidenceKind::PolicyMention,
        title: "Strategirapporten nämner brukarmedverkan i handlingsplanens uppföljning",
        url: Some("https://www.regeringen.se/"),
        publisher: "Regeringskansliet",
        reach: Reach::National,
        published_on: "2008-09-30",
        summary: "Organisationer som företräder människor i fattigdom ska medverka i uppföljningen av handlingsplanen.",
        visibility: Visibility::Public,
        authority: Some("socialdepartementet"),
        organisations: &["eapn-sverige"],
        proposals: &["p-handlingsplan"],
        themes: &["equal-erfarenheter"],
    },
];

/// A demo cooperation.
struct CooperationSeed {
    kind: CooperationKind,
    title: &'static str,
    summary: &'static str,
    authority: &'static str,
    established_on: &'static str,
    ended_on: Option<&'static str>,
    visibility: Visibility,
    organisations: &'static [&'static str],
}

const COOPERATIONS: &[CooperationSeed] = &[
    CooperationSeed {
        kind: CooperationKind::LocalNetwork,
        title: "Lokalt nätverk mot fattigdom i Stockholm",
        summary: "Föreningar i Stockholm samordnar sitt arbete för handlingsplanen och för bättre bemötande.",
        authority: "stockholm-kommun",
        established_on: "2008-09-01",
        ended_on: None,
        visibility: Visibility::Public,
        organisations: &[
            "coompanion-stockholm",
            "visir-i-stockholm",
            "fralsningsarmen",
        ],
    },
    CooperationSeed {
        kind: CooperationKind::IdeaBasedPublicPartnership,
        title: "IOP om stöd till människor i hemlöshet i Malmö",
        summary: "Idéburet offentligt partnerskap mellan föreningarna och Malmö stad.",
        authority: "malmo-kommun",
        established_on: "2009-03-15",
        ended_on: None,
        visibility: Visibility::Public,
        organisations: &["sios", "svenska-roda-korset"],
    },
    CooperationSeed {
        kind: CooperationKind::Agreement,
        title: "Överenskommelse om arbetsintegration i Uppsala",
        summary: "Överenskommelse mellan kommunen och föreningarna om vägar till arbete.",
        authority: "uppsala-kommun",
        established_on: "2008-06-10",
        ended_on: None,
        visibility: Visibility::Public,
        organisations: &["rfhl", "sveriges-fontanhus"],
    },
    CooperationSeed {
        kind: CooperationKind::LocalNetwork,
        title: "Samverkansgruppen i Örebro",
        summary: "Verdandi och KRIS samlar de lokala föreningarna kring bemötandefrågor.",
        authority: "orebro-kommun",
        established_on: "2008-10-01",
        ended_on: None,
        visibility: Visibility::Network,
        organisations: &["verdandi", "kris"],
    },
    CooperationSeed {
        kind: CooperationKind::LocalNetwork,
        title: "Botkyrkanätverket",
        summary: "Ett års samverkan mellan föreningar i Botkyrka kring unga vuxna.",
        authority: "botkyrka-kommun",
        established_on: "2009-05-01",
        ended_on: Some("2009-12-31"),
        visibility: Visibility::Public,
        organisations: &["foreningen-urkraft"],
    },
    CooperationSeed {
        kind: CooperationKind::IdeaBasedPublicPartnership,
        title: "Partnerskap för arbetsintegrerande socialt företagande i Göteborg",
        summary: "PIACS och Göteborgs stad om vägar till arbete genom sociala företag.",
        authority: "goteborg-kommun",
        established_on: "2016-05-01",
        ended_on: None,
        visibility: Visibility::Network,
        organisations: &["piacs", "forum-for-frivilligt-socialt-arbete"],
    },
];

/// A demo goal: its fields, and its measure from the names of the records it counts.
struct GoalSeed {
    slug: &'static str,
    title: &'static str,
    description: &'static str,
    category: GoalCategory,
    period: (&'static str, &'static str),
    target: i32,
    visibility: Visibility,
    owner: Option<&'static str>,
    measure: fn(&Names) -> Measure,
    entries: &'static [(i32, &'static str, &'static str)],
}

/// Finds seeded records by slug, for the measures.
struct Names<'a> {
    authority: &'a dyn Fn(&str) -> AppResult<Uuid>,
    organisation: &'a dyn Fn(&str) -> AppResult<Uuid>,
    themes: &'a HashMap<&'static str, Uuid>,
}

impl Names<'_> {
    fn authorities(&self, slugs: &[&str]) -> Vec<Uuid> {
        slugs
            .iter()
            .filter_map(|s| (self.authority)(s).ok())
            .collect()
    }
    fn organisations(&self, slugs: &[&str]) -> Vec<Uuid> {
        slugs
            .iter()
            .filter_map(|s| (self.organisation)(s).ok())
            .collect()
    }
    fn themes(&self, slugs: &[&str]) -> Vec<Uuid> {
        slugs
            .iter()
            .filter_map(|s| self.themes.get(s).copied())
            .collect()
    }
}

const HELD: [DialogueStatus; 3] = [
    DialogueStatus::Held,
    DialogueStatus::FollowUp,
    DialogueStatus::Closed,
];

const PLAN: (&str, &str) = ("2008-01-01", "2009-12-31");

const GOALS: &[GoalSeed] = &[
    GoalSeed {
        slug: "rikstackande-media",
        title: "Tre inslag i rikstäckande media",
        description: "Nätverkets förslag får tre artiklar eller andra inslag publicerade i rikstäckande media.",
        category: GoalCategory::Media,
        period: PLAN,
        target: 3,
        visibility: Visibility::Public,
        owner: None,
        measure: |_| Measure {
            evidence_kinds: vec![EvidenceKind::MediaArticle, EvidenceKind::Broadcast],
            minimum_reach: Some(Reach::National),
            ..Measure::new(GoalMeasureKind::EvidenceCount)
        },
        entries: &[],
    },
    GoalSeed {
        slug: "dialog-departement",
        title: "Dialog med arbetsmarknads-, integrations- och socialdepartementet",
        description: "Dialog etableras med arbetsmarknadsdepartementet och integrationsdepartementet förutom socialdepartementet.",
        category: GoalCategory::NationalInfluence,
        period: PLAN,
        target: 3,
        visibility: Visibility::Public,
        owner: None,
        measure: |n| Measure {
            dialogue_statuses: HELD.to_vec(),
            authorities: n.authorities(&[
                "arbetsmarknadsdepartementet",
                "integrationsdepartementet",
                "socialdepartementet",
            ]),
            ..Measure::new(GoalMeasureKind::AuthoritiesReached)
        },
        entries: &[],
    },
    GoalSeed {
        slug: "dialog-utskott",
        title: "Dialog med riksdagens berörda utskott och EU-nämnden",
        description: "Dialog om handlingsplanen med arbetsmarknads-, närings-, social- och socialförsäkringsutskottet samt EU-nämnden.",
        category: GoalCategory::NationalInfluence,
        period: PLAN,
        target: 5,
        visibility: Visibility::Public,
        owner: None,
        measure: |n| Measure {
            dialogue_statuses: HELD.to_vec(),
            authorities: n.authorities(&[
                "arbetsmarknadsutskottet",
                "naringsutskottet",
                "socialutskottet",
                "socialforsakringsutskottet",
                "eu-namnden",
            ]),
            ..Measure::new(GoalMeasureKind::AuthoritiesReached)
        },
        entries: &[],
    },
    GoalSeed {
        slug: "dialog-riksdagsgrupper",
        title: "Dialog med de politiska partierna och riksdagsgrupperna",
        description: "Dialog etableras med riksdagsgrupperna om handlingsplanen.",
        category: GoalCategory::NationalInfluence,
        period: PLAN,
        target: 8,
        visibility: Visibility::Public,
        owner: None,
        measure: |n| Measure {
            dialogue_statuses: HELD.to_vec(),
            authorities: n.authorities(&[
                "riksdagsgruppen-s",
                "riksdagsgruppen-m",
                "riksdagsgruppen-sd",
                "riksdagsgruppen-c",
                "riksdagsgruppen-v",
                "riksdagsgruppen-kd",
                "riksdagsgruppen-l",
                "riksdagsgruppen-mp",
            ]),
            ..Measure::new(GoalMeasureKind::AuthoritiesReached)
        },
        entries: &[],
    },
    GoalSeed {
        slug: "forslag-till-skl-och-myndigheter",
        title: "Förslagen kommunicerade till SKL, AMS, Försäkringskassan och Socialstyrelsen",
        description: "Nätverkets förslag kommuniceras till Sveriges Kommuner och landsting och till AMS, Försäkringskassan och Socialstyrelsen.",
        category: GoalCategory::NationalInfluence,
        period: PLAN,
        target: 4,
        visibility: Visibility::Public,
        owner: None,
        measure: |n| Measure {
            dialogue_statuses: HELD.to_vec(),
            authorities: n.authorities(&[
                "skl",
                "arbetsmarknadsstyrelsen",
                "forsakringskassan",
                "socialstyrelsen",
            ]),
            ..Measure::new(GoalMeasureKind::AuthoritiesReached)
        },
        entries: &[],
    },
    GoalSeed {
        slug: "lokal-samverkan-storstader",
        title: "Lokal samverkan i minst hälften av storstadskommunerna",
        description: "Lokal samverkan mellan frivilligorganisationer etableras i minst två av Stockholm, Göteborg och Malmö.",
        category: GoalCategory::LocalInfluence,
        period: PLAN,
        target: 2,
        visibility: Visibility::Public,
        owner: None,
        measure: |n| Measure {
            municipalities: Some(MunicipalityScope::Metropolitan),
            authorities: n.authorities(&["stockholm-kommun", "goteborg-kommun", "malmo-kommun"]),
            ..Measure::new(GoalMeasureKind::MunicipalitiesCovered)
        },
        entries: &[],
    },
    GoalSeed {
        slug: "lokal-samverkan-andra-kommuner",
        title: "Lokal samverkan i fem andra kommuner",
        description: "Lokal samverkan mellan frivilligorganisationer etableras i fem kommuner utanför storstäderna.",
        category: GoalCategory::LocalInfluence,
        period: PLAN,
        target: 5,
        visibility: Visibility::Public,
        owner: None,
        measure: |_| Measure {
            municipalities: Some(MunicipalityScope::OutsideMetropolitan),
            ..Measure::new(GoalMeasureKind::MunicipalitiesCovered)
        },
        entries: &[],
    },
    GoalSeed {
        slug: "trettio-konferenser",
        title: "Verksamheten presenterad vid 30 konferenser och seminarier",
        description: "Projektets verksamhet presenteras vid 30 konferenser, seminarier och andra sammankomster.",
        category: GoalCategory::Network,
        period: PLAN,
        target: 30,
        visibility: Visibility::Public,
        owner: None,
        measure: |_| Measure {
            dialogue_kinds: vec![DialogueKind::Seminar, DialogueKind::Conference],
            dialogue_statuses: HELD.to_vec(),
            ..Measure::new(GoalMeasureKind::DialogueCount)
        },
        entries: &[],
    },
    GoalSeed {
        slug: "jamstalldhetskonferenser",
        title: "Två konferenser med fokus på jämställdhet",
        description: "Två konferenser eller seminarier genomförs med speciellt fokus på jämställdhets- och genusfrågor.",
        category: GoalCategory::Network,
        period: PLAN,
        target: 2,
        visibility: Visibility::Public,
        owner: None,
        measure: |n| Measure {
            dialogue_kinds: vec![DialogueKind::Seminar, DialogueKind::Conference],
            themes: n.themes(&["jamstalldhet"]),
            ..Measure::new(GoalMeasureKind::DialogueCount)
        },
        entries: &[],
    },
    GoalSeed {
        slug: "resultat-i-handlingsplanen",
        title: "Minst tre Equalresultat nämnda i handlingsplanen",
        description: "Minst tre resultat och erfarenheter från Equalprojekten nämns i den nationella handlingsplanen.",
        category: GoalCategory::ActionPlan,
        period: PLAN,
        target: 3,
        visibility: Visibility::Public,
        owner: None,
        measure: |n| Measure {
            evidence_kinds: vec![EvidenceKind::PolicyMention],
            themes: n.themes(&["equal-erfarenheter"]),
            ..Measure::new(GoalMeasureKind::EvidenceCount)
        },
        entries: &[],
    },
    GoalSeed {
        slug: "forslag-antagna",
        title: "Förslag som fått genomslag",
        description: "Nätverkets förslag antas helt eller delvis av de myndigheter de riktas till.",
        category: GoalCategory::NationalInfluence,
        period: PLAN,
        target: 3,
        visibility: Visibility::Public,
        owner: None,
        measure: |_| Measure {
            proposal_statuses: vec![ProposalStatus::Accepted, ProposalStatus::PartiallyAccepted],
            ..Measure::new(GoalMeasureKind::ProposalCount)
        },
        entries: &[],
    },
    GoalSeed {
        slug: "equal-erfarenheter-i-alla-organisationer",
        title: "Alla organisationer känner till Equalprogrammets erfarenheter",
        description: "Varje organisation i nätverket har deltagit i en dialog om Equalerfarenheterna.",
        category: GoalCategory::Network,
        period: PLAN,
        target: 19,
        visibility: Visibility::Network,
        owner: None,
        measure: |n| Measure {
            themes: n.themes(&["equal-erfarenheter"]),
            ..Measure::new(GoalMeasureKind::OrganisationCoverage)
        },
        entries: &[],
    },
    GoalSeed {
        slug: "interaktiv-dialog-pa-internet",
        title: "Förslagen i en interaktiv dialog på internet",
        description: "Nätverkets förslag presenteras på internet i en interaktiv dialog mellan organisationerna; räknas per genomförd dialogomgång.",
        category: GoalCategory::Media,
        period: PLAN,
        target: 4,
        visibility: Visibility::Public,
        owner: None,
        measure: |_| Measure::new(GoalMeasureKind::Manual),
        entries: &[
            (
                1,
                "2008-06-16",
                "Första omgången: förslaget om handlingsplanen.",
            ),
            (1, "2008-11-03", "Andra omgången: bemötandekompetens."),
        ],
    },
    GoalSeed {
        slug: "piacs-dialog-esf-radet",
        title: "Fem samtal med ESF-rådet under 2016",
        description: "PIACS för en löpande dialog med ESF-rådet om förenklade regler för ideella organisationer.",
        category: GoalCategory::NationalInfluence,
        period: ("2016-01-01", "2016-12-31"),
        target: 5,
        visibility: Visibility::Public,
        owner: Some("piacs"),
        measure: |n| Measure {
            authorities: n.authorities(&["esf-radet"]),
            organisations: n.organisations(&["piacs"]),
            ..Measure::new(GoalMeasureKind::DialogueCount)
        },
        entries: &[],
    },
];

fn day(text: &str) -> AppResult<chrono::NaiveDate> {
    text.parse()
        .map_err(|e| crate::error::AppError::Internal(std::sync::Arc::new(e)))
}

/// Loads the demo's themes, evidence, cooperations and goals, given the records already
/// seeded: authorities and organisations by slug, proposals by key, dialogues by day.
pub(super) async fn load(
    txn: &impl Connection,
    authority: &dyn Fn(&str) -> AppResult<Uuid>,
    organisation: &dyn Fn(&str) -> AppResult<Uuid>,
    proposals: &HashMap<&str, Uuid>,
    dialogues: &HashMap<&str, Uuid>,
) -> AppResult<()> {
    let now = crate::validate::now();
    let mut themes: HashMap<&'static str, Uuid> = HashMap::new();
    for (slug, name, description) in THEMES {
        let id = Uuid::now_v7();
        themes.insert(slug, id);
        theme::Entity::insert(theme::ActiveModel {
            id: Set(id),
            slug: Set((*slug).to_owned()),
            name: Set((*name).to_owned()),
            description: Set((*description).to_owned()),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec(txn)
        .await?;
    }
    let theme_ids = |slugs: &[&str]| -> AppResult<Vec<Uuid>> {
        slugs
            .iter()
            .map(|s| {
                themes
                    .get(s)
                    .copied()
                    .ok_or_else(|| internal(format!("unknown theme {s}")))
            })
            .collect()
    };
    let mut changes = serde_json::Map::new();
    for (held_on, slugs) in DIALOGUE_THEMES {
        let id = *dialogues
            .get(held_on)
            .ok_or_else(|| internal(format!("no dialogue on {held_on}")))?;
        let links = [Link::new(
            dialogue_theme::Column::DialogueId,
            dialogue_theme::Column::ThemeId,
            "",
        )];
        write_lists(txn, id, &links, &[Some(theme_ids(slugs)?)], &mut changes).await?;
    }
    for (key, slugs) in PROPOSAL_THEMES {
        let id = *proposals
            .get(key)
            .ok_or_else(|| internal(format!("unknown proposal {key}")))?;
        let links = [Link::new(
            proposal_theme::Column::ProposalId,
            proposal_theme::Column::ThemeId,
            "",
        )];
        write_lists(txn, id, &links, &[Some(theme_ids(slugs)?)], &mut changes).await?;
    }
    let each = |slugs: &[&str], find: &dyn Fn(&str) -> AppResult<Uuid>| {
        slugs.iter().map(|s| find(s)).collect::<AppResult<Vec<_>>>()
    };
    let proposal = |key: &str| {
        proposals
            .get(key)
            .copied()
            .ok_or_else(|| internal(format!("unknown proposal {key}")))
    };
    for seed in EVIDENCE {
        let id = Uuid::now_v7();
        evidence::Entity::insert(evidence::ActiveModel {
            id: Set(id),
            kind: Set(seed.kind),
            title: Set(seed.title.to_owned()),
            url: Set(seed.url.map(str::to_owned)),
            publisher: Set(seed.publisher.to_owned()),
            reach: Set(seed.reach),
            published_on: Set(day(seed.published_on)?),
            summary: Set(Some(seed.summary.to_owned())),
            visibility: Set(seed.visibility),
            authority_id: Set(seed.authority.map(authority).transpose()?),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec(txn)
        .await?;
        let lists = [
            Some(each(seed.organisations, organisation)?),
            Some(each(seed.proposals, &proposal)?),
            Some(vec![]),
            Some(theme_ids(seed.themes)?),
        ];
        write_lists(txn, id, &crate::evidence::links(), &lists, &mut changes).await?;
    }
    for seed in COOPERATIONS {
        let id = Uuid::now_v7();
        cooperation::Entity::insert(cooperation::ActiveModel {
            id: Set(id),
            kind: Set(seed.kind),
            title: Set(seed.title.to_owned()),
            summary: Set(seed.summary.to_owned()),
            authority_id: Set(authority(seed.authority)?),
            established_on: Set(day(seed.established_on)?),
            ended_on: Set(seed.ended_on.map(day).transpose()?),
            visibility: Set(seed.visibility),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec(txn)
        .await?;
        let lists = [Some(each(seed.organisations, organisation)?), Some(vec![])];
        write_lists(txn, id, &crate::cooperation::links(), &lists, &mut changes).await?;
    }
    let names = Names {
        authority,
        organisation,
        themes: &themes,
    };
    for seed in GOALS {
        let id = Uuid::now_v7();
        let measure = (seed.measure)(&names);
        goal::Entity::insert(goal::ActiveModel {
            id: Set(id),
            slug: Set(seed.slug.to_owned()),
            title: Set(seed.title.to_owned()),
            description: Set(seed.description.to_owned()),
            category: Set(seed.category),
            period_start: Set(day(seed.period.0)?),
            period_end: Set(day(seed.period.1)?),
            target: Set(seed.target),
            measure_kind: Set(measure.kind),
            measure: Set(measure.to_json()),
            visibility: Set(seed.visibility),
            owner_id: Set(seed.owner.map(organisation).transpose()?),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        })
        .exec(txn)
        .await?;
        write_lists(
            txn,
            id,
            &[crate::goal::references()],
            &[Some(measure.named())],
            &mut changes,
        )
        .await?;
        for (amount, on, note) in seed.entries {
            goal_progress_entry::Entity::insert(goal_progress_entry::ActiveModel {
                id: Set(Uuid::now_v7()),
                goal_id: Set(id),
                amount: Set(*amount),
                recorded_on: Set(day(on)?),
                note: Set(Some((*note).to_owned())),
                created_at: Set(noon(on)?),
            })
            .exec(txn)
            .await?;
        }
    }
    Ok(())
}
