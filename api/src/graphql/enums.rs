//! The GraphQL enums: the domain's vocabularies under the names partner sites rely on.
//! Each mirrors its domain enum (`remote`), so a variant added there fails to compile here
//! until the schema says how to show it.

use async_graphql::Enum;

/// What kind of body a network member organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::OrganisationKind")]
pub enum OrganisationKind {
    /// A non-profit association (ideell förening).
    Association,
    /// A cooperative, such as a social work cooperative.
    Cooperative,
    /// A foundation (stiftelse).
    Foundation,
    /// A church or other faith-based organisation.
    FaithBased,
    /// An umbrella body of other organisations.
    Umbrella,
    /// Anything else.
    Other,
}

/// The level of government an authority belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::AuthorityLevel")]
pub enum AuthorityLevel {
    /// European Union bodies.
    Eu,
    /// National bodies: government, Riksdag, agencies.
    National,
    /// Regions and regional offices.
    Regional,
    /// Municipalities and local offices.
    Local,
}

/// What kind of public body an authority is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::AuthorityKind")]
pub enum AuthorityKind {
    /// The government as a whole.
    Government,
    /// A government ministry (departement).
    Ministry,
    /// A parliament, such as the Riksdag.
    Parliament,
    /// A parliamentary committee (utskott).
    ParliamentaryCommittee,
    /// A government agency (myndighet).
    Agency,
    /// A region.
    Region,
    /// A municipality (kommun).
    Municipality,
    /// An association of authorities, such as SKL/SKR.
    AssociationOfAuthorities,
    /// A political party or its parliamentary group.
    PoliticalParty,
    /// Anything else.
    Other,
}

/// The form a dialogue took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::DialogueKind")]
pub enum DialogueKind {
    /// A meeting in person or online.
    Meeting,
    /// A letter sent or received.
    Letter,
    /// A response to a public consultation (remissvar).
    ConsultationResponse,
    /// A seminar.
    Seminar,
    /// A conference.
    Conference,
    /// A telephone or video call.
    Call,
    /// Anything else.
    Other,
}

/// Where a dialogue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::DialogueStatus")]
pub enum DialogueStatus {
    /// Agreed but not yet held.
    Planned,
    /// Held.
    Held,
    /// Held, with follow-up work outstanding.
    FollowUp,
    /// Finished.
    Closed,
    /// Called off.
    Cancelled,
}

/// A proposal's place in its lifecycle; the allowed moves are in the API's proposal module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::ProposalStatus")]
pub enum ProposalStatus {
    /// Being written.
    Draft,
    /// Open for comment within the network.
    OpenForComment,
    /// Adopted by the network.
    Adopted,
    /// Submitted to its target authorities.
    Submitted,
    /// Being considered by its target authorities.
    UnderConsideration,
    /// Accepted in full.
    Accepted,
    /// Accepted in part.
    PartiallyAccepted,
    /// Rejected.
    Rejected,
    /// Withdrawn by the network.
    Withdrawn,
}

/// Who may read a record: everyone, the network, or the organisations involved in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::Visibility")]
pub enum Visibility {
    /// Anyone, including anonymous visitors and partner websites.
    Public,
    /// Members of any network organisation.
    Network,
    /// Members of the organisations involved in the record.
    Organisation,
}

/// A user's role in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::MembershipRole")]
pub enum MembershipRole {
    /// Records dialogues and drafts proposals for the organisation.
    Editor,
    /// Reads the network's internal material.
    Member,
}

/// What a partner token may read. Partner tokens never write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::TokenScope")]
pub enum TokenScope {
    /// PUBLIC records, like an anonymous visitor.
    ReadPublic,
    /// PUBLIC and NETWORK records.
    ReadNetwork,
}

/// Who made a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::PrincipalKind")]
pub enum PrincipalKind {
    /// Nobody signed in.
    Anonymous,
    /// A signed-in user.
    User,
    /// A partner website's read-only token.
    PartnerToken,
    /// The operator, through the command line.
    System,
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::paging::Direction")]
pub enum OrderDirection {
    /// Smallest first.
    Asc,
    /// Largest first.
    Desc,
}

/// What kind of proof of impact a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::EvidenceKind")]
pub enum EvidenceKind {
    /// An article in a newspaper or magazine.
    MediaArticle,
    /// A radio or television feature.
    Broadcast,
    /// A mention in a policy document, such as the national action plan.
    PolicyMention,
    /// A decision of an authority.
    Decision,
    /// A motion in parliament.
    ParliamentaryMotion,
    /// A report.
    Report,
    /// Anything else.
    Other,
}

/// How far a piece of evidence reaches, from local to international.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::Reach")]
pub enum Reach {
    /// A municipality or town.
    Local,
    /// A region.
    Regional,
    /// The whole country.
    National,
    /// Beyond the country.
    International,
}

/// What form a local cooperation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::CooperationKind")]
pub enum CooperationKind {
    /// A local network of voluntary organisations.
    LocalNetwork,
    /// An idea-based public partnership (idéburet offentligt partnerskap, IOP).
    IdeaBasedPublicPartnership,
    /// A written agreement (överenskommelse) with the municipality or region.
    Agreement,
    /// Anything else.
    Other,
}

/// What area of the network's work a goal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::GoalCategory")]
pub enum GoalCategory {
    /// Visibility in the media.
    Media,
    /// Dialogue with and influence on national bodies.
    NationalInfluence,
    /// Cooperation and influence in municipalities and regions.
    LocalInfluence,
    /// Results in the national action plan.
    ActionPlan,
    /// The network itself: its organisations, conferences, shared knowledge.
    Network,
    /// Anything else.
    Other,
}

/// Which records a goal counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::GoalMeasureKind")]
pub enum GoalMeasureKind {
    /// Dialogues matching the criteria, held inside the period.
    DialogueCount,
    /// Of the target authorities (`authorities`), those with a matching dialogue in the period.
    AuthoritiesReached,
    /// Distinct municipalities with a cooperation active in the period (of `authorities`, when given).
    MunicipalitiesCovered,
    /// Proposals that reached one of `proposalStatuses` in the period, from their history.
    ProposalCount,
    /// Evidence of the kinds and reach, published in the period.
    EvidenceCount,
    /// Organisations (of `organisations`, or all of the network) that took part in a matching dialogue in the period.
    OrganisationCoverage,
    /// The sum of the progress recorded by hand (`recordGoalProgress`).
    Manual,
}

/// Which municipalities a MUNICIPALITIES_COVERED goal counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::MunicipalityScope")]
pub enum MunicipalityScope {
    /// Every municipality.
    All,
    /// Only the metropolitan ones: Stockholm, Göteborg, Malmö.
    Metropolitan,
    /// Only those outside the metropolitan set.
    OutsideMetropolitan,
}

/// Which records' changes a webhook is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::WebhookScope")]
pub enum WebhookScope {
    /// PUBLIC records only, as an anonymous visitor sees them.
    Public,
    /// PUBLIC and NETWORK records, as a READ_NETWORK partner token sees them.
    Network,
}

/// Where a webhook delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::DeliveryStatus")]
pub enum WebhookDeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Every attempt failed; `redeliverWebhook` sends it again.
    Failed,
}

/// What a webhook can be told; a delivery's body names it in `type` in dotted form, such
/// as `dialogue.updated` for DIALOGUE_UPDATED.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::WebhookEvent")]
pub enum WebhookEventType {
    /// An organisation was added (`organisation.created`).
    OrganisationCreated,
    /// An organisation was changed (`organisation.updated`).
    OrganisationUpdated,
    /// An organisation was removed (`organisation.deleted`).
    OrganisationDeleted,
    /// An authority was added (`authority.created`).
    AuthorityCreated,
    /// An authority was changed (`authority.updated`).
    AuthorityUpdated,
    /// An authority was removed (`authority.deleted`).
    AuthorityDeleted,
    /// A dialogue was recorded (`dialogue.created`).
    DialogueCreated,
    /// A dialogue was changed (`dialogue.updated`).
    DialogueUpdated,
    /// A dialogue was removed (`dialogue.deleted`).
    DialogueDeleted,
    /// A proposal was drafted (`proposal.created`).
    ProposalCreated,
    /// A proposal was changed (`proposal.updated`).
    ProposalUpdated,
    /// A proposal moved along its lifecycle (`proposal.transitioned`).
    ProposalTransitioned,
    /// A proposal was removed (`proposal.deleted`).
    ProposalDeleted,
    /// A theme was added (`theme.created`).
    ThemeCreated,
    /// A theme was changed (`theme.updated`).
    ThemeUpdated,
    /// A theme was removed (`theme.deleted`).
    ThemeDeleted,
    /// Impact evidence was recorded (`evidence.created`).
    EvidenceCreated,
    /// Impact evidence was changed (`evidence.updated`).
    EvidenceUpdated,
    /// Impact evidence was removed (`evidence.deleted`).
    EvidenceDeleted,
    /// A local cooperation was recorded (`cooperation.created`).
    CooperationCreated,
    /// A local cooperation was changed (`cooperation.updated`).
    CooperationUpdated,
    /// A local cooperation was removed (`cooperation.deleted`).
    CooperationDeleted,
    /// A goal was set (`goal.created`).
    GoalCreated,
    /// A goal was changed (`goal.updated`).
    GoalUpdated,
    /// Progress toward a goal was recorded by hand (`goal.progress_recorded`).
    GoalProgressRecorded,
    /// A goal was removed (`goal.deleted`).
    GoalDeleted,
}

/// The kinds of record full-text search finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "entity::SearchType")]
pub enum SearchType {
    /// Member organisations.
    Organisation,
    /// Authorities.
    Authority,
    /// Dialogues.
    Dialogue,
    /// Proposals.
    Proposal,
    /// Goals.
    Goal,
    /// Impact evidence.
    Evidence,
    /// Local cooperations.
    Cooperation,
    /// Themes.
    Theme,
}
