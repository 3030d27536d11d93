//! The closed vocabularies of the domain. Each is stored as its SCREAMING_CASE name in a
//! text column (portable across SQLite and PostgreSQL, readable in a dump) and exposed to
//! GraphQL under the same names, which partner sites rely on.

use sea_orm::entity::prelude::*;

/// What kind of body a network member organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum OrganisationKind {
    /// A non-profit association (ideell förening).
    #[sea_orm(string_value = "ASSOCIATION")]
    Association,
    /// A cooperative, such as a social work cooperative.
    #[sea_orm(string_value = "COOPERATIVE")]
    Cooperative,
    /// A foundation (stiftelse).
    #[sea_orm(string_value = "FOUNDATION")]
    Foundation,
    /// A church or other faith-based organisation.
    #[sea_orm(string_value = "FAITH_BASED")]
    FaithBased,
    /// An umbrella body of other organisations.
    #[sea_orm(string_value = "UMBRELLA")]
    Umbrella,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// The level of government an authority belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum AuthorityLevel {
    /// European Union bodies.
    #[sea_orm(string_value = "EU")]
    Eu,
    /// National bodies: government, Riksdag, agencies.
    #[sea_orm(string_value = "NATIONAL")]
    National,
    /// Regions and regional offices.
    #[sea_orm(string_value = "REGIONAL")]
    Regional,
    /// Municipalities and local offices.
    #[sea_orm(string_value = "LOCAL")]
    Local,
}

/// What kind of public body an authority is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum AuthorityKind {
    /// The government as a whole.
    #[sea_orm(string_value = "GOVERNMENT")]
    Government,
    /// A government ministry (departement).
    #[sea_orm(string_value = "MINISTRY")]
    Ministry,
    /// A parliament, such as the Riksdag.
    #[sea_orm(string_value = "PARLIAMENT")]
    Parliament,
    /// A parliamentary committee (utskott).
    #[sea_orm(string_value = "PARLIAMENTARY_COMMITTEE")]
    ParliamentaryCommittee,
    /// A government agency (myndighet).
    #[sea_orm(string_value = "AGENCY")]
    Agency,
    /// A region.
    #[sea_orm(string_value = "REGION")]
    Region,
    /// A municipality (kommun).
    #[sea_orm(string_value = "MUNICIPALITY")]
    Municipality,
    /// An association of authorities, such as SKL/SKR.
    #[sea_orm(string_value = "ASSOCIATION_OF_AUTHORITIES")]
    AssociationOfAuthorities,
    /// A political party or its parliamentary group.
    #[sea_orm(string_value = "POLITICAL_PARTY")]
    PoliticalParty,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// The form a dialogue took.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum DialogueKind {
    /// A meeting in person or online.
    #[sea_orm(string_value = "MEETING")]
    Meeting,
    /// A letter sent or received.
    #[sea_orm(string_value = "LETTER")]
    Letter,
    /// A response to a public consultation (remissvar).
    #[sea_orm(string_value = "CONSULTATION_RESPONSE")]
    ConsultationResponse,
    /// A seminar.
    #[sea_orm(string_value = "SEMINAR")]
    Seminar,
    /// A conference.
    #[sea_orm(string_value = "CONFERENCE")]
    Conference,
    /// A telephone or video call.
    #[sea_orm(string_value = "CALL")]
    Call,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Where a dialogue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum DialogueStatus {
    /// Agreed but not yet held.
    #[sea_orm(string_value = "PLANNED")]
    Planned,
    /// Held.
    #[sea_orm(string_value = "HELD")]
    Held,
    /// Held, with follow-up work outstanding.
    #[sea_orm(string_value = "FOLLOW_UP")]
    FollowUp,
    /// Finished.
    #[sea_orm(string_value = "CLOSED")]
    Closed,
    /// Called off.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// A proposal's place in its lifecycle; the allowed moves are in the API's proposal module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum ProposalStatus {
    /// Being written.
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    /// Open for comment within the network.
    #[sea_orm(string_value = "OPEN_FOR_COMMENT")]
    OpenForComment,
    /// Adopted by the network.
    #[sea_orm(string_value = "ADOPTED")]
    Adopted,
    /// Submitted to its target authorities.
    #[sea_orm(string_value = "SUBMITTED")]
    Submitted,
    /// Being considered by its target authorities.
    #[sea_orm(string_value = "UNDER_CONSIDERATION")]
    UnderConsideration,
    /// Accepted in full.
    #[sea_orm(string_value = "ACCEPTED")]
    Accepted,
    /// Accepted in part.
    #[sea_orm(string_value = "PARTIALLY_ACCEPTED")]
    PartiallyAccepted,
    /// Rejected.
    #[sea_orm(string_value = "REJECTED")]
    Rejected,
    /// Withdrawn by the network.
    #[sea_orm(string_value = "WITHDRAWN")]
    Withdrawn,
}

/// Who may read a record: everyone, the network, or the organisations involved in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Visibility {
    /// Anyone, including anonymous visitors and partner websites.
    #[sea_orm(string_value = "PUBLIC")]
    Public,
    /// Members of any network organisation.
    #[sea_orm(string_value = "NETWORK")]
    Network,
    /// Members of the organisations involved in the record.
    #[sea_orm(string_value = "ORGANISATION")]
    Organisation,
}

/// What kind of proof of impact a piece of evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum EvidenceKind {
    /// An article in a newspaper or magazine.
    #[sea_orm(string_value = "MEDIA_ARTICLE")]
    MediaArticle,
    /// A radio or television feature.
    #[sea_orm(string_value = "BROADCAST")]
    Broadcast,
    /// A mention in a policy document, such as the national action plan.
    #[sea_orm(string_value = "POLICY_MENTION")]
    PolicyMention,
    /// A decision of an authority.
    #[sea_orm(string_value = "DECISION")]
    Decision,
    /// A motion in parliament.
    #[sea_orm(string_value = "PARLIAMENTARY_MOTION")]
    ParliamentaryMotion,
    /// A report.
    #[sea_orm(string_value = "REPORT")]
    Report,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// How far a piece of evidence reaches, from local to international; in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum Reach {
    /// A municipality or town.
    #[sea_orm(string_value = "LOCAL")]
    Local,
    /// A region.
    #[sea_orm(string_value = "REGIONAL")]
    Regional,
    /// The whole country.
    #[sea_orm(string_value = "NATIONAL")]
    National,
    /// Beyond the country.
    #[sea_orm(string_value = "INTERNATIONAL")]
    International,
}

/// What form a local cooperation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum CooperationKind {
    /// A local network of voluntary organisations.
    #[sea_orm(string_value = "LOCAL_NETWORK")]
    LocalNetwork,
    /// An idea-based public partnership (idéburet offentligt partnerskap, IOP).
    #[sea_orm(string_value = "IDEA_BASED_PUBLIC_PARTNERSHIP")]
    IdeaBasedPublicPartnership,
    /// A written agreement (överenskommelse) with the municipality or region.
    #[sea_orm(string_value = "AGREEMENT")]
    Agreement,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// What area of the network's work a goal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum GoalCategory {
    /// Visibility in the media.
    #[sea_orm(string_value = "MEDIA")]
    Media,
    /// Dialogue with and influence on national bodies.
    #[sea_orm(string_value = "NATIONAL_INFLUENCE")]
    NationalInfluence,
    /// Cooperation and influence in municipalities and regions.
    #[sea_orm(string_value = "LOCAL_INFLUENCE")]
    LocalInfluence,
    /// Results in the national action plan.
    #[sea_orm(string_value = "ACTION_PLAN")]
    ActionPlan,
    /// The network itself: its organisations, conferences, shared knowledge.
    #[sea_orm(string_value = "NETWORK")]
    Network,
    /// Anything else.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// Which records a goal counts; the criteria are data of the goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum GoalMeasureKind {
    /// Dialogues matching the criteria, held inside the period.
    #[sea_orm(string_value = "DIALOGUE_COUNT")]
    DialogueCount,
    /// Of the target authorities, those with a matching dialogue in the period.
    #[sea_orm(string_value = "AUTHORITIES_REACHED")]
    AuthoritiesReached,
    /// Distinct municipalities with a cooperation active in the period.
    #[sea_orm(string_value = "MUNICIPALITIES_COVERED")]
    MunicipalitiesCovered,
    /// Proposals that reached one of the statuses in the period.
    #[sea_orm(string_value = "PROPOSAL_COUNT")]
    ProposalCount,
    /// Evidence of the kinds and reach, published in the period.
    #[sea_orm(string_value = "EVIDENCE_COUNT")]
    EvidenceCount,
    /// Network organisations that took part in a matching dialogue in the period.
    #[sea_orm(string_value = "ORGANISATION_COVERAGE")]
    OrganisationCoverage,
    /// The sum of the progress recorded by hand.
    #[sea_orm(string_value = "MANUAL")]
    Manual,
}

/// Which municipalities a MUNICIPALITIES_COVERED goal counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum MunicipalityScope {
    /// Every municipality.
    #[sea_orm(string_value = "ALL")]
    All,
    /// Only Stockholm, Göteborg and Malmö.
    #[sea_orm(string_value = "METROPOLITAN")]
    Metropolitan,
    /// Only those outside the metropolitan set.
    #[sea_orm(string_value = "OUTSIDE_METROPOLITAN")]
    OutsideMetropolitan,
}

/// A user's role in an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum MembershipRole {
    /// Records dialogues and drafts proposals for the organisation.
    #[sea_orm(string_value = "EDITOR")]
    Editor,
    /// Reads the network's internal material.
    #[sea_orm(string_value = "MEMBER")]
    Member,
}

/// What a partner token may read. Partner tokens never write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum TokenScope {
    /// PUBLIC records, like an anonymous visitor.
    #[sea_orm(string_value = "READ_PUBLIC")]
    ReadPublic,
    /// PUBLIC and NETWORK records.
    #[sea_orm(string_value = "READ_NETWORK")]
    ReadNetwork,
}

/// Who made a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum PrincipalKind {
    /// Nobody signed in.
    #[sea_orm(string_value = "ANONYMOUS")]
    Anonymous,
    /// A signed-in user.
    #[sea_orm(string_value = "USER")]
    User,
    /// A partner website's read-only token.
    #[sea_orm(string_value = "PARTNER_TOKEN")]
    PartnerToken,
    /// The operator, through the command line.
    #[sea_orm(string_value = "SYSTEM")]
    System,
}

/// What a change in the audit log did: the mutation that made it, stored under its
/// GraphQL name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum AuditAction {
    /// An organisation was added.
    #[sea_orm(string_value = "createOrganisation")]
    CreateOrganisation,
    /// An organisation was changed.
    #[sea_orm(string_value = "updateOrganisation")]
    UpdateOrganisation,
    /// An organisation was removed.
    #[sea_orm(string_value = "deleteOrganisation")]
    DeleteOrganisation,
    /// An authority was added.
    #[sea_orm(string_value = "createAuthority")]
    CreateAuthority,
    /// An authority was changed.
    #[sea_orm(string_value = "updateAuthority")]
    UpdateAuthority,
    /// An authority was removed.
    #[sea_orm(string_value = "deleteAuthority")]
    DeleteAuthority,
    /// A dialogue was recorded.
    #[sea_orm(string_value = "createDialogue")]
    CreateDialogue,
    /// A dialogue was changed.
    #[sea_orm(string_value = "updateDialogue")]
    UpdateDialogue,
    /// A dialogue was removed.
    #[sea_orm(string_value = "deleteDialogue")]
    DeleteDialogue,
    /// A proposal was drafted.
    #[sea_orm(string_value = "createProposal")]
    CreateProposal,
    /// A proposal was changed.
    #[sea_orm(string_value = "updateProposal")]
    UpdateProposal,
    /// A proposal moved along its lifecycle.
    #[sea_orm(string_value = "transitionProposal")]
    TransitionProposal,
    /// A proposal was removed.
    #[sea_orm(string_value = "deleteProposal")]
    DeleteProposal,
    /// A theme was added.
    #[sea_orm(string_value = "createTheme")]
    CreateTheme,
    /// A theme was changed.
    #[sea_orm(string_value = "updateTheme")]
    UpdateTheme,
    /// A theme was removed.
    #[sea_orm(string_value = "deleteTheme")]
    DeleteTheme,
    /// Evidence was recorded.
    #[sea_orm(string_value = "createEvidence")]
    CreateEvidence,
    /// Evidence was changed.
    #[sea_orm(string_value = "updateEvidence")]
    UpdateEvidence,
    /// Evidence was removed.
    #[sea_orm(string_value = "deleteEvidence")]
    DeleteEvidence,
    /// A cooperation was recorded.
    #[sea_orm(string_value = "createCooperation")]
    CreateCooperation,
    /// A cooperation was changed.
    #[sea_orm(string_value = "updateCooperation")]
    UpdateCooperation,
    /// A cooperation was removed.
    #[sea_orm(string_value = "deleteCooperation")]
    DeleteCooperation,
    /// A goal was set.
    #[sea_orm(string_value = "createGoal")]
    CreateGoal,
    /// A goal was changed.
    #[sea_orm(string_value = "updateGoal")]
    UpdateGoal,
    /// A goal was removed.
    #[sea_orm(string_value = "deleteGoal")]
    DeleteGoal,
    /// Progress was recorded by hand on a MANUAL goal.
    #[sea_orm(string_value = "recordGoalProgress")]
    RecordGoalProgress,
    /// A user account was created.
    #[sea_orm(string_value = "createUser")]
    CreateUser,
    /// A user account was deactivated.
    #[sea_orm(string_value = "deactivateUser")]
    DeactivateUser,
    /// A user account was reactivated.
    #[sea_orm(string_value = "reactivateUser")]
    ReactivateUser,
    /// A user's admin right was granted or taken.
    #[sea_orm(string_value = "setAdmin")]
    SetAdmin,
    /// A user's failed sign-ins were forgotten, ending every lockout.
    #[sea_orm(string_value = "unlockUser")]
    UnlockUser,
    /// A user got a role in an organisation.
    #[sea_orm(string_value = "grantMembership")]
    GrantMembership,
    /// A user's role in an organisation was taken.
    #[sea_orm(string_value = "revokeMembership")]
    RevokeMembership,
    /// A partner token was issued.
    #[sea_orm(string_value = "createApiToken")]
    CreateApiToken,
    /// A partner token was revoked.
    #[sea_orm(string_value = "revokeApiToken")]
    RevokeApiToken,
    /// A webhook was registered.
    #[sea_orm(string_value = "createWebhook")]
    CreateWebhook,
    /// A webhook was removed.
    #[sea_orm(string_value = "deleteWebhook")]
    DeleteWebhook,
    /// A webhook delivery was queued to be sent again.
    #[sea_orm(string_value = "redeliverWebhook")]
    RedeliverWebhook,
    /// A user signed in.
    #[sea_orm(string_value = "login")]
    Login,
    /// A session was renewed.
    #[sea_orm(string_value = "refreshSession")]
    RefreshSession,
    /// A user signed out.
    #[sea_orm(string_value = "logout")]
    Logout,
}

/// The kind of record an audit entry is about, stored under its GraphQL type name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum RecordType {
    /// An organisation.
    #[sea_orm(string_value = "Organisation")]
    Organisation,
    /// An authority.
    #[sea_orm(string_value = "Authority")]
    Authority,
    /// A dialogue.
    #[sea_orm(string_value = "Dialogue")]
    Dialogue,
    /// A proposal.
    #[sea_orm(string_value = "Proposal")]
    Proposal,
    /// A theme.
    #[sea_orm(string_value = "Theme")]
    Theme,
    /// A piece of impact evidence.
    #[sea_orm(string_value = "Evidence")]
    Evidence,
    /// A local cooperation.
    #[sea_orm(string_value = "Cooperation")]
    Cooperation,
    /// A goal.
    #[sea_orm(string_value = "Goal")]
    Goal,
    /// A user account.
    #[sea_orm(string_value = "User")]
    User,
    /// A partner token.
    #[sea_orm(string_value = "ApiToken")]
    ApiToken,
    /// A webhook endpoint.
    #[sea_orm(string_value = "Webhook")]
    Webhook,
    /// A session of a signed-in user.
    #[sea_orm(string_value = "Session")]
    Session,
}

/// Which records a webhook is sent: like a partner token's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum WebhookScope {
    /// Changes to PUBLIC records only.
    #[sea_orm(string_value = "PUBLIC")]
    Public,
    /// Changes to PUBLIC and NETWORK records.
    #[sea_orm(string_value = "NETWORK")]
    Network,
}

/// Where a webhook delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum DeliveryStatus {
    /// Not yet accepted by the endpoint: waiting for its first or next attempt.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// The endpoint answered 2xx.
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    /// Every attempt failed; only a redelivery sends it again.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

/// What a webhook can be told: a kind of record and what happened to it, stored and sent
/// under its dotted name (the `type` of a delivery's body).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(64))")]
pub enum WebhookEvent {
    /// An organisation was added.
    #[sea_orm(string_value = "organisation.created")]
    OrganisationCreated,
    /// An organisation was changed.
    #[sea_orm(string_value = "organisation.updated")]
    OrganisationUpdated,
    /// An organisation was removed.
    #[sea_orm(string_value = "organisation.deleted")]
    OrganisationDeleted,
    /// An authority was added.
    #[sea_orm(string_value = "authority.created")]
    AuthorityCreated,
    /// An authority was changed.
    #[sea_orm(string_value = "authority.updated")]
    AuthorityUpdated,
    /// An authority was removed.
    #[sea_orm(string_value = "authority.deleted")]
    AuthorityDeleted,
    /// A dialogue was recorded.
    #[sea_orm(string_value = "dialogue.created")]
    DialogueCreated,
    /// A dialogue was changed.
    #[sea_orm(string_value = "dialogue.updated")]
    DialogueUpdated,
    /// A dialogue was removed.
    #[sea_orm(string_value = "dialogue.deleted")]
    DialogueDeleted,
    /// A proposal was drafted.
    #[sea_orm(string_value = "proposal.created")]
    ProposalCreated,
    /// A proposal was changed.
    #[sea_orm(string_value = "proposal.updated")]
    ProposalUpdated,
    /// A proposal moved along its lifecycle.
    #[sea_orm(string_value = "proposal.transitioned")]
    ProposalTransitioned,
    /// A proposal was removed.
    #[sea_orm(string_value = "proposal.deleted")]
    ProposalDeleted,
    /// A theme was added.
    #[sea_orm(string_value = "theme.created")]
    ThemeCreated,
    /// A theme was changed.
    #[sea_orm(string_value = "theme.updated")]
    ThemeUpdated,
    /// A theme was removed.
    #[sea_orm(string_value = "theme.deleted")]
    ThemeDeleted,
    /// Impact evidence was recorded.
    #[sea_orm(string_value = "evidence.created")]
    EvidenceCreated,
    /// Impact evidence was changed.
    #[sea_orm(string_value = "evidence.updated")]
    EvidenceUpdated,
    /// Impact evidence was removed.
    #[sea_orm(string_value = "evidence.deleted")]
    EvidenceDeleted,
    /// A local cooperation was recorded.
    #[sea_orm(string_value = "cooperation.created")]
    CooperationCreated,
    /// A local cooperation was changed.
    #[sea_orm(string_value = "cooperation.updated")]
    CooperationUpdated,
    /// A local cooperation was removed.
    #[sea_orm(string_value = "cooperation.deleted")]
    CooperationDeleted,
    /// A goal was set.
    #[sea_orm(string_value = "goal.created")]
    GoalCreated,
    /// A goal was changed.
    #[sea_orm(string_value = "goal.updated")]
    GoalUpdated,
    /// Progress toward a goal was recorded by hand.
    #[sea_orm(string_value = "goal.progress_recorded")]
    GoalProgressRecorded,
    /// A goal was removed.
    #[sea_orm(string_value = "goal.deleted")]
    GoalDeleted,
}

/// The kinds of record full-text search finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum SearchType {
    /// Member organisations.
    #[sea_orm(string_value = "ORGANISATION")]
    Organisation,
    /// Authorities.
    #[sea_orm(string_value = "AUTHORITY")]
    Authority,
    /// Dialogues.
    #[sea_orm(string_value = "DIALOGUE")]
    Dialogue,
    /// Proposals.
    #[sea_orm(string_value = "PROPOSAL")]
    Proposal,
    /// Goals.
    #[sea_orm(string_value = "GOAL")]
    Goal,
    /// Impact evidence.
    #[sea_orm(string_value = "EVIDENCE")]
    Evidence,
    /// Local cooperations.
    #[sea_orm(string_value = "COOPERATION")]
    Cooperation,
    /// Themes.
    #[sea_orm(string_value = "THEME")]
    Theme,
}

// The kinds, levels and statuses only describe a record (nothing but their own fields reads
// them): a page that does not ask for them leaves their columns out, as it does text.
crate::columns::stored_as_text!(
    OrganisationKind = || OrganisationKind::Association,
    AuthorityLevel = || AuthorityLevel::Eu,
    AuthorityKind = || AuthorityKind::Government,
    DialogueKind = || DialogueKind::Meeting,
    DialogueStatus = || DialogueStatus::Planned,
    ProposalStatus = || ProposalStatus::Draft,
    Visibility,
    EvidenceKind,
    Reach,
    CooperationKind,
    GoalCategory,
    GoalMeasureKind,
    MunicipalityScope,
    MembershipRole,
    TokenScope,
    PrincipalKind,
    AuditAction,
    RecordType,
    WebhookScope,
    DeliveryStatus,
    WebhookEvent,
    SearchType,
);
