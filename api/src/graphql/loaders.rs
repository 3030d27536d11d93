//! One DataLoader per kind of relation, made per request when a field first uses it (they
//! cache, and what they return depends on the caller). Every relation field goes through
//! one of these, so a nested query costs one statement per level, whatever the page sizes.

use crate::auth::Principal;
use crate::authority::AuthorityOrderField;
use crate::dialogue::DialogueOrderField;
use crate::error::AppError;
use crate::organisation::OrganisationOrderField;
use crate::paging::{self, Direction, IdMap, Page, Parent, Row, Rows, Sort, SortKey, Wanted};
use crate::proposal::{ProposalOrderField, StatusChangeOrderField};
use crate::theme::ThemeOrderField;
use crate::{dialogue, proposal};
use async_graphql::dataloader::{DataLoader, Loader};
use entity::{
    authority, cooperation_organisation, cooperation_theme, dialogue_authority,
    dialogue_organisation, dialogue_proposal, dialogue_theme, evidence_dialogue,
    evidence_organisation, evidence_proposal, evidence_theme, organisation, proposal_co_signer,
    proposal_status_change, proposal_target, proposal_theme, theme,
};
use sea_orm::sea_query::{Condition, DynIden, IntoIden};
use sea_orm::{ColumnTrait, DatabaseConnection, RelationDef, RelationTrait};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};
use uuid::Uuid;

/// Nested connections: a page of rows per parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PagedRelation {
    /// `Organisation.dialogues`.
    OrganisationDialogues,
    /// `Authority.dialogues`.
    AuthorityDialogues,
    /// `Proposal.dialogues`.
    ProposalDialogues,
    /// `Organisation.proposals` (the proposals it leads).
    OrganisationProposals,
    /// `Organisation.evidence` (the evidence crediting it).
    OrganisationEvidence,
    /// `Proposal.evidence`.
    ProposalEvidence,
    /// `Dialogue.evidence`.
    DialogueEvidence,
    /// `Organisation.cooperations`.
    OrganisationCooperations,
    /// `Authority.cooperations` (the cooperations happening there).
    AuthorityCooperations,
}

impl PagedRelation {
    /// How the rows hang off the parent, the table they come from, and the visibility rule.
    fn spec(self, principal: &Principal) -> (Parent, DynIden, Condition) {
        let dialogues = |to_row: RelationDef, to_parent: RelationDef, copy| {
            (
                Parent::link(to_row, to_parent)
                    .dated(copy, dialogue_model::Column::HeldOn.as_column_ref()),
                dialogue_model::Entity.into_iden(),
                dialogue::visible(principal),
            )
        };
        let evidence = |to_row: RelationDef, to_parent: RelationDef| {
            (
                Parent::link(to_row, to_parent),
                evidence_model::Entity.into_iden(),
                crate::evidence::visible(principal),
            )
        };
        match self {
            Self::OrganisationDialogues => dialogues(
                dialogue_organisation::Relation::Dialogue.def(),
                dialogue_organisation::Relation::Organisation.def(),
                dialogue_organisation::Column::HeldOn.as_column_ref(),
            ),
            Self::AuthorityDialogues => dialogues(
                dialogue_authority::Relation::Dialogue.def(),
                dialogue_authority::Relation::Authority.def(),
                dialogue_authority::Column::HeldOn.as_column_ref(),
            ),
            Self::ProposalDialogues => dialogues(
                dialogue_proposal::Relation::Dialogue.def(),
                dialogue_proposal::Relation::Proposal.def(),
                dialogue_proposal::Column::HeldOn.as_column_ref(),
            ),
            Self::OrganisationProposals => (
                Parent::owner(proposal_model::Relation::LeadOrganisation.def()),
                proposal_model::Entity.into_iden(),
                proposal::visible(principal),
            ),
            Self::OrganisationEvidence => evidence(
                evidence_organisation::Relation::Evidence.def(),
                evidence_organisation::Relation::Organisation.def(),
            ),
            Self::ProposalEvidence => evidence(
                evidence_proposal::Relation::Evidence.def(),
                evidence_proposal::Relation::Proposal.def(),
            ),
            Self::DialogueEvidence => evidence(
                evidence_dialogue::Relation::Evidence.def(),
                evidence_dialogue::Relation::Dialogue.def(),
            ),
            Self::OrganisationCooperations => (
                Parent::link(
                    cooperation_organisation::Relation::Cooperation.def(),
                    cooperation_organisation::Relation::Organisation.def(),
                ),
                cooperation_model::Entity.into_iden(),
                crate::cooperation::visible(principal),
            ),
            Self::AuthorityCooperations => (
                Parent::owner(cooperation_model::Relation::Authority.def()),
                cooperation_model::Entity.into_iden(),
                crate::cooperation::visible(principal),
            ),
        }
    }
}

/// Short lists: every row per parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListRelation {
    /// `Dialogue.organisations`.
    DialogueOrganisations,
    /// `Dialogue.proposals`.
    DialogueProposals,
    /// `Proposal.coSigners`.
    ProposalCoSigners,
    /// `Proposal.targetAuthorities`.
    ProposalTargets,
    /// `Authority.children`.
    AuthorityChildren,
    /// `Proposal.history`.
    ProposalHistory,
    /// `Dialogue.themes`.
    DialogueThemes,
    /// `Proposal.themes`.
    ProposalThemes,
    /// `Evidence.themes`.
    EvidenceThemes,
    /// `Cooperation.themes`.
    CooperationThemes,
    /// `Evidence.organisations`.
    EvidenceOrganisations,
    /// `Evidence.proposals`.
    EvidenceProposals,
    /// `Evidence.dialogues`.
    EvidenceDialogues,
    /// `Cooperation.organisations`.
    CooperationOrganisations,
}

impl ListRelation {
    /// How the rows hang off the parent, and the visibility rule.
    fn spec(self, principal: &Principal) -> (Parent, Condition) {
        let everyone = Condition::all;
        match self {
            Self::DialogueOrganisations => (
                Parent::link(
                    dialogue_organisation::Relation::Organisation.def(),
                    dialogue_organisation::Relation::Dialogue.def(),
                ),
                everyone(),
            ),
            Self::DialogueProposals => (
                Parent::link(
                    dialogue_proposal::Relation::Proposal.def(),
                    dialogue_proposal::Relation::Dialogue.def(),
                ),
                proposal::visible(principal),
            ),
            Self::ProposalCoSigners => (
                Parent::link(
                    proposal_co_signer::Relation::Organisation.def(),
                    proposal_co_signer::Relation::Proposal.def(),
                ),
                everyone(),
            ),
            Self::ProposalTargets => (
                Parent::link(
                    proposal_target::Relation::Authority.def(),
                    proposal_target::Relation::Proposal.def(),
                ),
                everyone(),
            ),
            Self::AuthorityChildren => {
                (Parent::owner(authority::Relation::Parent.def()), everyone())
            }
            Self::ProposalHistory => (
                Parent::owner(proposal_status_change::Relation::Proposal.def()),
                everyone(),
            ),
            Self::DialogueThemes => (
                Parent::link(
                    dialogue_theme::Relation::Theme.def(),
                    dialogue_theme::Relation::Dialogue.def(),
                ),
                everyone(),
            ),
            Self::ProposalThemes => (
                Parent::link(
                    proposal_theme::Relation::Theme.def(),
                    proposal_theme::Relation::Proposal.def(),
                ),
                everyone(),
            ),
            Self::EvidenceThemes => (
                Parent::link(
                    evidence_theme::Relation::Theme.def(),
                    evidence_theme::Relation::Evidence.def(),
                ),
                everyone(),
            ),
            Self::CooperationThemes => (
                Parent::link(
                    cooperation_theme::Relation::Theme.def(),
                    cooperation_theme::Relation::Cooperation.def(),
                ),
                everyone(),
            ),
            Self::EvidenceOrganisations => (
                Parent::link(
                    evidence_organisation::Relation::Organisation.def(),
                    evidence_organisation::Relation::Evidence.def(),
                ),
                everyone(),
            ),
            Self::EvidenceProposals => (
                Parent::link(
                    evidence_proposal::Relation::Proposal.def(),
                    evidence_proposal::Relation::Evidence.def(),
                ),
                proposal::visible(principal),
            ),
            Self::EvidenceDialogues => (
                Parent::link(
                    evidence_dialogue::Relation::Dialogue.def(),
                    evidence_dialogue::Relation::Evidence.def(),
                ),
                dialogue::visible(principal),
            ),
            Self::CooperationOrganisations => (
                Parent::link(
                    cooperation_organisation::Relation::Organisation.def(),
                    cooperation_organisation::Relation::Cooperation.def(),
                ),
                everyone(),
            ),
        }
    }
}

/// The order of a short list of `Self`: names alphabetically, titles alphabetically,
/// history oldest first.
pub trait ListOrder: Row {
    /// The ordering.
    fn list_order() -> Sort<<Self::Key as SortKey>::Field>;
}

impl ListOrder for organisation::Model {
    fn list_order() -> Sort<OrganisationOrderField> {
        Sort::new(OrganisationOrderField::Name, Direction::Asc)
    }
}

impl ListOrder for authority::Model {
    fn list_order() -> Sort<AuthorityOrderField> {
        Sort::new(AuthorityOrderField::Name, Direction::Asc)
    }
}

impl ListOrder for theme::Model {
    fn list_order() -> Sort<ThemeOrderField> {
        Sort::new(ThemeOrderField::Name, Direction::Asc)
    }
}

impl ListOrder for dialogue_model::Model {
    fn list_order() -> Sort<DialogueOrderField> {
        Sort::new(DialogueOrderField::HeldOn, Direction::Desc)
    }
}

impl ListOrder for proposal_model::Model {
    fn list_order() -> Sort<ProposalOrderField> {
        Sort::new(ProposalOrderField::Title, Direction::Asc)
    }
}

impl ListOrder for proposal_status_change::Model {
    fn list_order() -> Sort<StatusChangeOrderField> {
        Sort::new(StatusChangeOrderField::ChangedAt, Direction::Asc)
    }
}

/// Key of a nested page: the parent, the relation and the checked page arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey<K: SortKey> {
    /// The parent record.
    pub parent: Uuid,
    /// Which relation.
    pub relation: PagedRelation,
    /// Page arguments, shared by all parents of one field.
    pub page: Page<K>,
}

/// Loads nested pages of `R`, grouping keys with the same arguments into one statement.
pub struct Pages<R> {
    db: DatabaseConnection,
    principal: Principal,
    rows: PhantomData<fn() -> R>,
}

impl<R: Row> Pages<R> {
    /// The pages of `parents` by `relation`, in one statement, by parent.
    ///
    /// # Errors
    /// INTERNAL on a database failure.
    pub async fn of(
        &self,
        relation: PagedRelation,
        page: &Page<R::Key>,
        parents: &[Uuid],
    ) -> Result<IdMap<Rows<R>>, AppError> {
        let (parent, _, condition) = relation.spec(&self.principal);
        paging::pages_by_parent::<R>(&self.db, &parent, parents, condition, page).await
    }
}

impl<R: Row> Loader<PageKey<R::Key>> for Pages<R> {
    type Value = Rows<R>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[PageKey<R::Key>],
    ) -> Result<HashMap<PageKey<R::Key>, Rows<R>>, AppError> {
        let mut groups: HashMap<(PagedRelation, &Page<R::Key>), Vec<Uuid>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.relation, &key.page))
                .or_default()
                .push(key.parent);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for ((relation, page), parents) in groups {
            for (id, rows) in self.of(relation, page, &parents).await? {
                loaded.insert(
                    PageKey {
                        parent: id,
                        relation,
                        page: page.clone(),
                    },
                    rows,
                );
            }
        }
        Ok(loaded)
    }
}

/// Loads `totalCount` of nested connections.
pub struct Counts {
    db: DatabaseConnection,
    principal: Principal,
}

impl Loader<(PagedRelation, Uuid)> for Counts {
    type Value = i64;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[(PagedRelation, Uuid)],
    ) -> Result<HashMap<(PagedRelation, Uuid), i64>, AppError> {
        let mut groups: HashMap<PagedRelation, Vec<Uuid>> = HashMap::new();
        for (relation, id) in keys {
            groups.entry(*relation).or_default().push(*id);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for (relation, parents) in groups {
            let (parent, table, condition) = relation.spec(&self.principal);
            let counts =
                paging::counts_by_parent(&self.db, table, &parent, &parents, condition).await?;
            for id in parents {
                loaded.insert((relation, id), counts.get(&id).copied().unwrap_or(0));
            }
        }
        Ok(loaded)
    }
}

/// Loads short lists of `R` per parent.
pub struct Lists<R> {
    db: DatabaseConnection,
    principal: Principal,
    rows: PhantomData<fn() -> R>,
}

/// Key of a short nested list: the relation, the columns its readers use, the parent.
pub type ListKey = (ListRelation, Wanted, Uuid);

impl<R: ListOrder> Loader<ListKey> for Lists<R> {
    type Value = Vec<R>;
    type Error = AppError;

    async fn load(&self, keys: &[ListKey]) -> Result<HashMap<ListKey, Vec<R>>, AppError> {
        let mut groups: HashMap<(ListRelation, Wanted), Vec<Uuid>> = HashMap::new();
        for (relation, wanted, id) in keys {
            groups.entry((*relation, *wanted)).or_default().push(*id);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for ((relation, wanted), parents) in groups {
            let (parent, condition) = relation.spec(&self.principal);
            let sort = R::list_order();
            let mut rows =
                paging::all_by_parent::<R>(&self.db, &parent, &parents, condition, sort, wanted)
                    .await?;
            for id in parents {
                loaded.insert((relation, wanted, id), rows.remove(&id).unwrap_or_default());
            }
        }
        Ok(loaded)
    }
}

/// Loads records of `R` by id, keeping only those the caller may see.
pub struct ById<R> {
    db: DatabaseConnection,
    visible: Condition,
    rows: PhantomData<fn() -> R>,
}

impl<R: Row> Loader<Uuid> for ById<R> {
    type Value = R;
    type Error = AppError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, R>, AppError> {
        paging::by_ids(&self.db, keys, self.visible.clone()).await
    }
}

/// Records by id with only the columns their readers use: rows read with fewer columns
/// stay keyed by that column set.
impl<R: Row> Loader<(Wanted, Uuid)> for ById<R> {
    type Value = R;
    type Error = AppError;

    async fn load(&self, keys: &[(Wanted, Uuid)]) -> Result<HashMap<(Wanted, Uuid), R>, AppError> {
        let mut groups: HashMap<Wanted, Vec<Uuid>> = HashMap::new();
        for (wanted, id) in keys {
            groups.entry(*wanted).or_default().push(*id);
        }
        let mut loaded = HashMap::with_capacity(keys.len());
        for (wanted, ids) in groups {
            let found = self.rows(wanted, &ids).await?;
            loaded.extend(found.into_iter().map(|row| ((wanted, row.id()), row)));
        }
        Ok(loaded)
    }
}

impl<R: Row> ById<R> {
    /// The records of `ids` that the caller may see, with only the `wanted` columns, in no
    /// particular order: for a sibling group, which keys them itself, without the loader's
    /// maps.
    ///
    /// # Errors
    /// INTERNAL on a database failure.
    pub async fn rows(&self, wanted: Wanted, ids: &[Uuid]) -> Result<Vec<R>, AppError> {
        paging::rows_by_ids(&self.db, ids, self.visible.clone(), wanted).await
    }
}

/// A goal as the key of its progress: the same goal whatever row version was read.
#[derive(Debug, Clone)]
pub struct GoalKey(pub entity::goal::Model);

impl PartialEq for GoalKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.id == other.0.id
    }
}

impl Eq for GoalKey {}

impl std::hash::Hash for GoalKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.id.hash(state);
    }
}

/// Computes the progress of goals: every goal asked for in one request (across aliases and
/// lookups) at once, so a request reads the records its measures count once.
pub struct GoalProgress {
    db: DatabaseConnection,
    principal: Principal,
}

impl Loader<GoalKey> for GoalProgress {
    type Value = crate::goal::progress::Progress;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[GoalKey],
    ) -> Result<HashMap<GoalKey, crate::goal::progress::Progress>, AppError> {
        let goals: Vec<entity::goal::Model> = keys.iter().map(|key| key.0.clone()).collect();
        let mut progress = crate::goal::progress::of_now(&self.db, &self.principal, &goals).await?;
        Ok(keys
            .iter()
            .filter_map(|key| progress.remove(&key.0.id).map(|p| (key.clone(), p)))
            .collect())
    }
}

/// A loader the request makes the first time one of its fields uses it.
pub trait Made: Send + Sync + 'static {
    /// The loader for `principal`'s request.
    fn make(db: &DatabaseConnection, principal: &Principal) -> Self;
}

impl<R: Row> Made for Pages<R> {
    fn make(db: &DatabaseConnection, principal: &Principal) -> Self {
        Self {
            db: db.clone(),
            principal: principal.clone(),
            rows: PhantomData,
        }
    }
}

impl<R: ListOrder> Made for Lists<R> {
    fn make(db: &DatabaseConnection, principal: &Principal) -> Self {
        Self {
            db: db.clone(),
            principal: principal.clone(),
            rows: PhantomData,
        }
    }
}

impl Made for Counts {
    fn make(db: &DatabaseConnection, principal: &Principal) -> Self {
        Self {
            db: db.clone(),
            principal: principal.clone(),
        }
    }
}

impl Made for GoalProgress {
    fn make(db: &DatabaseConnection, principal: &Principal) -> Self {
        Self {
            db: db.clone(),
            principal: principal.clone(),
        }
    }
}

/// A record type with the rule for which of its records a caller may see.
pub trait Seen: Row {
    /// The records `principal` may see.
    fn visible(principal: &Principal) -> Condition;
}

impl<R: Seen> Made for ById<R> {
    fn make(db: &DatabaseConnection, principal: &Principal) -> Self {
        Self {
            db: db.clone(),
            visible: R::visible(principal),
            rows: PhantomData,
        }
    }
}

/// Which records of each type a lookup by id, or a reference read with its page, may
/// return: the one place that pairs a record type with its visibility rule for loaders.
macro_rules! by_id {
    ($($row:ty => $visible:expr),* $(,)?) => {$(
        impl Seen for $row {
            fn visible(principal: &Principal) -> Condition {
                let visible: fn(&Principal) -> Condition = $visible;
                visible(principal)
            }
        }
    )*};
}

by_id! {
    organisation::Model => |_| Condition::all(),
    authority::Model => |_| Condition::all(),
    theme::Model => |_| Condition::all(),
    dialogue_model::Model => dialogue::visible,
    proposal_model::Model => proposal::visible,
    evidence_model::Model => crate::evidence::visible,
    cooperation_model::Model => crate::cooperation::visible,
    entity::goal::Model => crate::goal::visible,
}

/// The request's loaders, each made when a field first uses it: a request uses few of the
/// twenty or so, and making them all cost about a tenth of a small query's work.
pub struct Loaders {
    db: DatabaseConnection,
    principal: Principal,
    made: Mutex<Vec<(TypeId, Arc<dyn Any + Send + Sync>)>>,
}

impl Loaders {
    /// The request's loader `L`, made now if no field has used it yet.
    pub fn get<L: Made>(&self) -> Arc<DataLoader<L>> {
        let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
        let found = made
            .iter()
            .find(|(kind, _)| *kind == TypeId::of::<L>())
            .and_then(|(_, loader)| loader.clone().downcast::<DataLoader<L>>().ok());
        found.unwrap_or_else(|| {
            let loader = Arc::new(DataLoader::new(
                L::make(&self.db, &self.principal),
                tokio::spawn,
            ));
            made.push((TypeId::of::<L>(), loader.clone()));
            loader
        })
    }
}

/// Adds the caller and a fresh set of loaders to a GraphQL request: the one place that
/// registers them, used by the HTTP layer.
pub fn attach(
    mut request: async_graphql::Request,
    db: &DatabaseConnection,
    keys: &crate::auth::jwt::Keys,
    principal: Principal,
) -> async_graphql::Request {
    attach_to(&mut request.data, db, keys, principal);
    request
}

/// Adds the caller and a fresh set of loaders to `data`: a request's, or a subscription
/// connection's (the loaders keep nothing between loads, so they serve every event).
pub fn attach_to(
    data: &mut async_graphql::Data,
    db: &DatabaseConnection,
    keys: &crate::auth::jwt::Keys,
    principal: Principal,
) {
    data.insert(Loaders {
        db: db.clone(),
        principal: principal.clone(),
        made: Mutex::new(Vec::new()),
    });
    data.insert(principal);
    data.insert(db.clone());
    data.insert(keys.clone());
}

use entity::cooperation as cooperation_model;
use entity::dialogue as dialogue_model;
use entity::evidence as evidence_model;
use entity::proposal as proposal_model;
