//! Opaque global ids: `base64url("<Type>:<uuid>")`. Clients treat them as opaque strings;
//! the type prefix lets `Query.node` find the record and catches an id of the wrong kind.

use crate::error::{AppError, AppResult};
use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

/// The record types that have global ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    /// An organisation.
    Organisation,
    /// An authority.
    Authority,
    /// A dialogue.
    Dialogue,
    /// A proposal.
    Proposal,
    /// A user account.
    User,
    /// A partner token.
    ApiToken,
    /// A theme.
    Theme,
    /// A piece of impact evidence.
    Evidence,
    /// A local cooperation.
    Cooperation,
    /// A goal.
    Goal,
    /// A webhook endpoint.
    Webhook,
    /// One change sent (or to be sent) to a webhook.
    WebhookDelivery,
}

impl NodeType {
    /// The node type of an audited kind of record; `None` for sessions, which have none.
    pub fn of(record: entity::RecordType) -> Option<Self> {
        use entity::RecordType;
        Some(match record {
            RecordType::Organisation => Self::Organisation,
            RecordType::Authority => Self::Authority,
            RecordType::Dialogue => Self::Dialogue,
            RecordType::Proposal => Self::Proposal,
            RecordType::User => Self::User,
            RecordType::ApiToken => Self::ApiToken,
            RecordType::Theme => Self::Theme,
            RecordType::Evidence => Self::Evidence,
            RecordType::Cooperation => Self::Cooperation,
            RecordType::Goal => Self::Goal,
            RecordType::Webhook => Self::Webhook,
            RecordType::Session => return None,
        })
    }

    const ALL: [NodeType; 12] = [
        Self::Organisation,
        Self::Authority,
        Self::Dialogue,
        Self::Proposal,
        Self::User,
        Self::ApiToken,
        Self::Theme,
        Self::Evidence,
        Self::Cooperation,
        Self::Goal,
        Self::Webhook,
        Self::WebhookDelivery,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::Organisation => "Organisation",
            Self::Authority => "Authority",
            Self::Dialogue => "Dialogue",
            Self::Proposal => "Proposal",
            Self::User => "User",
            Self::ApiToken => "ApiToken",
            Self::Theme => "Theme",
            Self::Evidence => "Evidence",
            Self::Cooperation => "Cooperation",
            Self::Goal => "Goal",
            Self::Webhook => "Webhook",
            Self::WebhookDelivery => "WebhookDelivery",
        }
    }
}

/// The global id of a record.
pub fn encode(node_type: NodeType, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{}:{id}", node_type.name())))
}

/// Splits a global id into its type and uuid; `None` when it is not one of ours.
pub fn decode_any(id: &str) -> Option<(NodeType, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (name, uuid) = text.split_once(':')?;
    let node_type = NodeType::ALL.into_iter().find(|t| t.name() == name)?;
    Some((node_type, Uuid::parse_str(uuid).ok()?))
}

/// The uuid of a global id that must be of `expected` type.
///
/// # Errors
/// BAD_USER_INPUT naming `field` when the id is malformed or of another type.
pub fn decode(expected: NodeType, id: &str, field: &str) -> AppResult<Uuid> {
    match decode_any(id) {
        Some((node_type, uuid)) if node_type == expected => Ok(uuid),
        _ => Err(AppError::bad_input(
            field,
            format!("not a valid {} id", expected.name()),
        )),
    }
}

/// The uuid of an optional global id of `expected` type.
///
/// # Errors
/// As [`decode`].
pub fn decode_optional(expected: NodeType, id: Option<ID>, field: &str) -> AppResult<Option<Uuid>> {
    id.map(|id| decode(expected, &id, field)).transpose()
}

/// The uuids of a list of global ids of `expected` type, at most 100.
///
/// # Errors
/// BAD_USER_INPUT naming `field` for a longer list or a bad id.
pub fn decode_list(expected: NodeType, ids: &[ID], field: &str) -> AppResult<Vec<Uuid>> {
    if ids.len() > MAX_LIST {
        return Err(AppError::bad_input(
            field,
            format!("{field} may name at most {MAX_LIST} records"),
        ));
    }
    ids.iter().map(|id| decode(expected, id, field)).collect()
}

/// The most records one list of an input may name.
pub const MAX_LIST: usize = 100;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_round_trips_and_names_its_type() {
        let uuid = Uuid::now_v7();
        for node_type in NodeType::ALL {
            let id = encode(node_type, uuid);
            assert_eq!(decode_any(&id), Some((node_type, uuid)));
            assert_eq!(decode(node_type, &id, "input.id").ok(), Some(uuid));
        }
    }

    #[test]
    fn an_id_of_another_type_or_malformed_is_bad_input_naming_the_field() {
        let dialogue = encode(NodeType::Dialogue, Uuid::now_v7());
        let not_ours = URL_SAFE_NO_PAD.encode("Meeting:00000000-0000-0000-0000-000000000000");
        let bad_uuid = URL_SAFE_NO_PAD.encode("Dialogue:not-a-uuid");
        for id in [&dialogue.0, "", "!!!", "RGlhbG9ndWU", &not_ours, &bad_uuid] {
            match decode(NodeType::Proposal, id, "input.proposalIds") {
                Err(AppError::BadUserInput { field, message }) => {
                    assert_eq!(field, "input.proposalIds");
                    assert_eq!(message, "not a valid Proposal id");
                }
                other => panic!("{id:?} gave {other:?}"),
            }
        }
        assert_eq!(decode_any(&not_ours), None);
        assert_eq!(decode_any(&bad_uuid), None);
    }

    #[test]
    fn lists_name_at_most_a_hundred_records() {
        let ids: Vec<ID> = (0..=MAX_LIST)
            .map(|_| encode(NodeType::Organisation, Uuid::now_v7()))
            .collect();
        assert_eq!(
            decode_list(NodeType::Organisation, &ids[..MAX_LIST], "f")
                .map(|l| l.len())
                .ok(),
            Some(MAX_LIST)
        );
        assert!(matches!(
            decode_list(NodeType::Organisation, &ids, "input.organisationIds"),
            Err(AppError::BadUserInput { field, .. }) if field == "input.organisationIds"
        ));
        assert_eq!(
            decode_optional(NodeType::Authority, None, "f").ok(),
            Some(None)
        );
    }
}
