//! The write side of the schema: `verbNoun(input: VerbNounInput!)` returning the record.
//! Each resolver is one call of a domain function, which holds the rules.

use super::types::{Authority, Dialogue, Member, Organisation, Proposal};
use crate::auth::Principal;
use crate::authority::{CreateAuthorityInput, DeleteAuthorityInput, UpdateAuthorityInput};
use crate::dialogue::{CreateDialogueInput, DeleteDialogueInput, UpdateDialogueInput};
use crate::organisation::{
    CreateOrganisationInput, DeleteOrganisationInput, UpdateOrganisationInput,
};
use crate::proposal::{
    CreateProposalInput, DeleteProposalInput, TransitionProposalInput, UpdateProposalInput,
};
use crate::{authority, dialogue, organisation, proposal};
use async_graphql::{Context, Object, Result};
use sea_orm::DatabaseConnection;

fn caller<'a>(ctx: &Context<'a>) -> (&'a DatabaseConnection, &'a Principal) {
    (
        ctx.data_unchecked::<DatabaseConnection>(),
        ctx.data_unchecked::<Principal>(),
    )
}

/// Changes to the network's record.
#[derive(Default)]
pub struct RecordMutation;

#[Object]
impl RecordMutation {
    /// Adds a member organisation (admin only).
    async fn create_organisation(
        &self,
        ctx: &Context<'_>,
        input: CreateOrganisationInput,
    ) -> Result<Organisation> {
        let (db, principal) = caller(ctx);
        Ok(Organisation::single(
            organisation::create(db, principal, input).await?,
        ))
    }
    /// Changes an organisation (admin only).
    async fn update_organisation(
        &self,
        ctx: &Context<'_>,
        input: UpdateOrganisationInput,
    ) -> Result<Organisation> {
        let (db, principal) = caller(ctx);
        Ok(Organisation::single(
            organisation::update(db, principal, input).await?,
        ))
    }
    /// Removes an organisation nothing refers to (admin only); returns it as it was.
    async fn delete_organisation(
        &self,
        ctx: &Context<'_>,
        input: DeleteOrganisationInput,
    ) -> Result<Organisation> {
        let (db, principal) = caller(ctx);
        Ok(Organisation::single(
            organisation::delete(db, principal, input).await?,
        ))
    }
    /// Adds an authority (admin only).
    async fn create_authority(
        &self,
        ctx: &Context<'_>,
        input: CreateAuthorityInput,
    ) -> Result<Authority> {
        let (db, principal) = caller(ctx);
        Ok(Authority::single(
            authority::create(db, principal, input).await?,
        ))
    }
    /// Changes an authority (admin only).
    async fn update_authority(
        &self,
        ctx: &Context<'_>,
        input: UpdateAuthorityInput,
    ) -> Result<Authority> {
        let (db, principal) = caller(ctx);
        Ok(Authority::single(
            authority::update(db, principal, input).await?,
        ))
    }
    /// Removes an authority nothing refers to (admin only); returns it as it was.
    async fn delete_authority(
        &self,
        ctx: &Context<'_>,
        input: DeleteAuthorityInput,
    ) -> Result<Authority> {
        let (db, principal) = caller(ctx);
        Ok(Authority::single(
            authority::delete(db, principal, input).await?,
        ))
    }
    /// Records a dialogue.
    async fn create_dialogue(
        &self,
        ctx: &Context<'_>,
        input: CreateDialogueInput,
    ) -> Result<Dialogue> {
        let (db, principal) = caller(ctx);
        Ok(Dialogue::single(
            dialogue::create(db, principal, input).await?,
        ))
    }
    /// Changes a dialogue.
    async fn update_dialogue(
        &self,
        ctx: &Context<'_>,
        input: UpdateDialogueInput,
    ) -> Result<Dialogue> {
        let (db, principal) = caller(ctx);
        Ok(Dialogue::single(
            dialogue::update(db, principal, input).await?,
        ))
    }
    /// Removes a dialogue; returns it as it was.
    async fn delete_dialogue(
        &self,
        ctx: &Context<'_>,
        input: DeleteDialogueInput,
    ) -> Result<Dialogue> {
        let (db, principal) = caller(ctx);
        Ok(Dialogue::single(
            dialogue::delete(db, principal, input).await?,
        ))
    }
    /// Drafts a proposal.
    async fn create_proposal(
        &self,
        ctx: &Context<'_>,
        input: CreateProposalInput,
    ) -> Result<Proposal> {
        let (db, principal) = caller(ctx);
        Ok(Proposal::single(
            proposal::create(db, principal, input).await?,
        ))
    }
    /// Changes a proposal's text, visibility, co-signers or targets.
    async fn update_proposal(
        &self,
        ctx: &Context<'_>,
        input: UpdateProposalInput,
    ) -> Result<Proposal> {
        let (db, principal) = caller(ctx);
        Ok(Proposal::single(
            proposal::update(db, principal, input).await?,
        ))
    }
    /// Moves a proposal along its lifecycle.
    async fn transition_proposal(
        &self,
        ctx: &Context<'_>,
        input: TransitionProposalInput,
    ) -> Result<Proposal> {
        let (db, principal) = caller(ctx);
        Ok(Proposal::single(
            proposal::transition(db, principal, input).await?,
        ))
    }
    /// Removes a proposal no dialogue refers to; returns it as it was.
    async fn delete_proposal(
        &self,
        ctx: &Context<'_>,
        input: DeleteProposalInput,
    ) -> Result<Proposal> {
        let (db, principal) = caller(ctx);
        Ok(Proposal::single(
            proposal::delete(db, principal, input).await?,
        ))
    }
}
