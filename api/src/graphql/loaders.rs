//! One DataLoader per kind of relation, created per request (they cache, and what they
//! return depends on the caller). Every relation field goes through one of these, so a
//! nested query costs one statement per level, whatever the page sizes.

use crate::auth::Principal;
use crate::error::AppError;
use crate::paging::{self, Page, Parent, Row, Rows, Sort};
use crate::{dialogue, proposal};
use async_graphql::dataloader::{DataLoader, Loader};
use entity::{authority, organisation, proposal_status_change};
use sea_orm::DatabaseConnection;
use sea_orm::sea_query::Condition;
use std::collections::HashMap;
use std::marker::PhantomData;
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
}

impl PagedRelation {
    /// How the rows hang off the parent, the table they come from, and the visibility rule.
    fn spec(self, principal: &Principal) -> (Parent, &'static str, Condition) {
        match self {
            Self::OrganisationDialogues => (
                Parent::DatedLink(
                    "dialogue_organisations",
                    "dialogue_id",
                    "organisation_id",
                    "held_on",
                ),
                "dialogues",
                dialogue::visible(principal),
            ),
            Self::AuthorityDialogues => (
                Parent::DatedLink(
                    "dialogue_authorities",
                    "dialogue_id",
                    "authority_id",
                    "held_on",
                ),
                "dialogues",
                dialogue::visible(principal),
            ),
            Self::ProposalDialogues => (
                Parent::DatedLink(
                    "dialogue_proposals",
                    "dialogue_id",
                    "proposal_id",
                    "held_on",
                ),
                "dialogues",
                dialogue::visible(principal),
            ),
            Self::OrganisationProposals => (
                Parent::Column("lead_organisation_id"),
                "proposals",
                proposal::visible(principal),
            ),
        }
    }
}

/// Short lists: every row per parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListRelation {
    /// `Dialogue.organisations`.
    DialogueOrganisations,
    /// `Dialogue.authorities`.
    DialogueAuthorities,
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
}

impl ListRelation {
    fn spec(self, principal: &Principal) -> (Parent, Condition, Sort) {
        let by_name = Sort {
            column: "name",
            descending: false,
        };
        match self {
            Self::DialogueOrganisations => (
                Parent::Link("dialogue_organisations", "organisation_id", "dialogue_id"),
                Condition::all(),
                by_name,
            ),
            Self::DialogueAuthorities => (
                Parent::Link("dialogue_authorities", "authority_id", "dialogue_id"),
                Condition::all(),
                by_name,
            ),
            Self::DialogueProposals => (
                Parent::Link("dialogue_proposals", "proposal_id", "dialogue_id"),
                proposal::visible(principal),
                Sort {
                    column: "title",
                    descending: false,
                },
            ),
            Self::ProposalCoSigners => (
                Parent::Link("proposal_co_signers", "organisation_id", "proposal_id"),
                Condition::all(),
                by_name,
            ),
            Self::ProposalTargets => (
                Parent::Link("proposal_targets", "authority_id", "proposal_id"),
                Condition::all(),
                by_name,
            ),
            Self::AuthorityChildren => (Parent::Column("parent_id"), Condition::all(), by_name),
            Self::ProposalHistory => (
                Parent::Column("proposal_id"),
                Condition::all(),
                Sort {
                    column: "changed_at",
                    descending: false,
                },
            ),
        }
    }
}

/// Key of a nested page: the parent, the relation and the checked page arguments.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// The parent record.
    pub parent: Uuid,
    /// Which relation.
    pub relation: PagedRelation,
    /// Page arguments, shared by all parents of one field.
    pub page: Page,
}

/// Loads nested pages of `R`, grouping keys with the same arguments into one statement.
pub struct Pages<R> {
    db: DatabaseConnection,
    principal: Principal,
    rows: PhantomData<fn() -> R>,
}

impl<R: Row> Loader<PageKey> for Pages<R> {
    type Value = Rows<R>;
    type Error = AppError;

    async fn load(&self, keys: &[PageKey]) -> Result<HashMap<PageKey, Rows<R>>, AppError> {
        let mut groups: HashMap<(PagedRelation, &Page), Vec<Uuid>> = HashMap::new();
        for key in keys {
            groups
                .entry((key.relation, &key.page))
                .or_default()
                .push(key.parent);
        }
        let mut loaded = HashMap::new();
        for ((relation, page), parents) in groups {
            let (parent, _, condition) = relation.spec(&self.principal);
            for (id, rows) in
                paging::pages_by_parent::<R>(&self.db, parent, &parents, condition, page).await?
            {
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
        let mut loaded = HashMap::new();
        for (relation, parents) in groups {
            let (parent, table, condition) = relation.spec(&self.principal);
            let counts =
                paging::counts_by_parent(&self.db, table, parent, &parents, condition).await?;
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

impl<R: Row> Loader<(ListRelation, Uuid)> for Lists<R> {
    type Value = Vec<R>;
    type Error = AppError;

    async fn load(
        &self,
        keys: &[(ListRelation, Uuid)],
    ) -> Result<HashMap<(ListRelation, Uuid), Vec<R>>, AppError> {
        let mut groups: HashMap<ListRelation, Vec<Uuid>> = HashMap::new();
        for (relation, id) in keys {
            groups.entry(*relation).or_default().push(*id);
        }
        let mut loaded = HashMap::new();
        for (relation, parents) in groups {
            let (parent, condition, sort) = relation.spec(&self.principal);
            let mut rows =
                paging::all_by_parent::<R>(&self.db, parent, &parents, condition, sort).await?;
            for id in parents {
                loaded.insert((relation, id), rows.remove(&id).unwrap_or_default());
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

fn pages<R: Row>(db: &DatabaseConnection, principal: &Principal) -> DataLoader<Pages<R>> {
    DataLoader::new(
        Pages {
            db: db.clone(),
            principal: principal.clone(),
            rows: PhantomData,
        },
        tokio::spawn,
    )
}

fn lists<R: Row>(db: &DatabaseConnection, principal: &Principal) -> DataLoader<Lists<R>> {
    DataLoader::new(
        Lists {
            db: db.clone(),
            principal: principal.clone(),
            rows: PhantomData,
        },
        tokio::spawn,
    )
}

fn by_id<R: Row>(db: &DatabaseConnection, visible: Condition) -> DataLoader<ById<R>> {
    DataLoader::new(
        ById {
            db: db.clone(),
            visible,
            rows: PhantomData,
        },
        tokio::spawn,
    )
}

/// Adds the caller and a fresh set of loaders to a GraphQL request: the one place that
/// registers them, used by the HTTP layer.
pub fn attach(
    request: async_graphql::Request,
    db: &DatabaseConnection,
    keys: &crate::auth::jwt::Keys,
    principal: Principal,
) -> async_graphql::Request {
    request
        .data(pages::<dialogue_model::Model>(db, &principal))
        .data(pages::<proposal_model::Model>(db, &principal))
        .data(DataLoader::new(
            Counts {
                db: db.clone(),
                principal: principal.clone(),
            },
            tokio::spawn,
        ))
        .data(lists::<organisation::Model>(db, &principal))
        .data(lists::<authority::Model>(db, &principal))
        .data(lists::<proposal_model::Model>(db, &principal))
        .data(lists::<proposal_status_change::Model>(db, &principal))
        .data(by_id::<organisation::Model>(db, Condition::all()))
        .data(by_id::<authority::Model>(db, Condition::all()))
        .data(by_id::<dialogue_model::Model>(
            db,
            dialogue::visible(&principal),
        ))
        .data(by_id::<proposal_model::Model>(
            db,
            proposal::visible(&principal),
        ))
        .data(principal)
        .data(db.clone())
        .data(keys.clone())
}

use entity::dialogue as dialogue_model;
use entity::proposal as proposal_model;
