//! The link tables that join two records many-to-many: a theme to what it tags, evidence
//! to what it stems from, a cooperation to its organisations, a goal to what its measure
//! names. Each is a table of two keys, declared by [`link!`].

/// Declares a link table: its module, its table name, the owner's side (removed with the
/// owner) and the other side, each as (field, column, entity module, relation name).
macro_rules! link {
    (
        $(#[$meta:meta])*
        $module:ident, $table:tt,
        ($owner_field:ident, $owner_column:ident, $owner:ident, $owner_relation:ident),
        ($other_field:ident, $other_column:ident, $other:ident, $other_relation:ident)
    ) => {
        $(#[$meta])*
        pub mod $module {
            use sea_orm::entity::prelude::*;

            /// A row of the link table.
            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = $table)]
            pub struct Model {
                /// The owning record.
                #[sea_orm(primary_key, auto_increment = false)]
                pub $owner_field: Uuid,
                /// The linked record.
                #[sea_orm(primary_key, auto_increment = false)]
                pub $other_field: Uuid,
            }

            /// The two sides this link joins.
            #[derive(Copy, Clone, Debug, EnumIter)]
            pub enum Relation {
                /// The owning record.
                $owner_relation,
                /// The linked record.
                $other_relation,
            }

            impl RelationTrait for Relation {
                fn def(&self) -> RelationDef {
                    match self {
                        Self::$owner_relation => Entity::belongs_to(crate::$owner::Entity)
                            .from(Column::$owner_column)
                            .to(crate::$owner::Column::Id)
                            .into(),
                        Self::$other_relation => Entity::belongs_to(crate::$other::Entity)
                            .from(Column::$other_column)
                            .to(crate::$other::Column::Id)
                            .into(),
                    }
                }
            }

            impl ActiveModelBehavior for ActiveModel {}
        }
    };
}

link! {
    /// A theme of a dialogue.
    dialogue_theme, "dialogue_themes",
    (dialogue_id, DialogueId, dialogue, Dialogue),
    (theme_id, ThemeId, theme, Theme)
}

link! {
    /// A theme of a proposal.
    proposal_theme, "proposal_themes",
    (proposal_id, ProposalId, proposal, Proposal),
    (theme_id, ThemeId, theme, Theme)
}

link! {
    /// A theme of a piece of evidence.
    evidence_theme, "evidence_themes",
    (evidence_id, EvidenceId, evidence, Evidence),
    (theme_id, ThemeId, theme, Theme)
}

link! {
    /// A theme of a cooperation.
    cooperation_theme, "cooperation_themes",
    (cooperation_id, CooperationId, cooperation, Cooperation),
    (theme_id, ThemeId, theme, Theme)
}

link! {
    /// A proposal a piece of evidence stems from.
    evidence_proposal, "evidence_proposals",
    (evidence_id, EvidenceId, evidence, Evidence),
    (proposal_id, ProposalId, proposal, Proposal)
}

link! {
    /// A dialogue a piece of evidence stems from.
    evidence_dialogue, "evidence_dialogues",
    (evidence_id, EvidenceId, evidence, Evidence),
    (dialogue_id, DialogueId, dialogue, Dialogue)
}

link! {
    /// An organisation a piece of evidence credits.
    evidence_organisation, "evidence_organisations",
    (evidence_id, EvidenceId, evidence, Evidence),
    (organisation_id, OrganisationId, organisation, Organisation)
}

link! {
    /// A network organisation taking part in a cooperation.
    cooperation_organisation, "cooperation_organisations",
    (cooperation_id, CooperationId, cooperation, Cooperation),
    (organisation_id, OrganisationId, organisation, Organisation)
}

/// A record a goal's measure names (an authority, an organisation or a theme), kept so
/// that deleting it can name the goal. The record side has no foreign key, as it may be
/// any of those tables.
pub mod goal_reference {
    use sea_orm::entity::prelude::*;

    /// A row of `goal_references`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "goal_references")]
    pub struct Model {
        /// The goal.
        #[sea_orm(primary_key, auto_increment = false)]
        pub goal_id: Uuid,
        /// The record its measure names.
        #[sea_orm(primary_key, auto_increment = false)]
        pub record_id: Uuid,
    }

    /// The goal.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        /// The goal whose measure names the record.
        #[sea_orm(
            belongs_to = "crate::goal::Entity",
            from = "Column::GoalId",
            to = "crate::goal::Column::Id",
            on_delete = "Cascade"
        )]
        Goal,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
