//! DeleteTopics: by name (v1-5) or by name or id (v6); the topic and its logs go at once.

use ktrial_protocol::messages::delete_topics_response::DeletableTopicResult;
use ktrial_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse, ResponseKind};
use ktrial_protocol::{ResponseError, StrBytes};
use uuid::Uuid;

use super::topic_name;
use crate::shared::SharedCluster;

/// DeleteTopics v6 names topics by name or id instead of by name only.
const TOPIC_STATES_VERSION: i16 = 6;

/// Handles a DeleteTopics request.
pub fn handle(
    cluster: &SharedCluster,
    version: i16,
    request: &DeleteTopicsRequest,
) -> ResponseKind {
    let wanted: Vec<(Option<String>, Uuid)> = if version >= TOPIC_STATES_VERSION {
        request
            .topics
            .iter()
            .map(|t| (t.name.as_ref().map(|n| n.0.to_string()), t.topic_id))
            .collect()
    } else {
        request
            .topic_names
            .iter()
            .map(|n| (Some(n.0.to_string()), Uuid::nil()))
            .collect()
    };
    let responses = cluster.update(cluster.now(), |c| {
        wanted
            .into_iter()
            .map(|(name, id)| {
                let name = name.or_else(|| c.topic_by_id(id).map(|(name, _)| name.to_string()));
                let Some(name) = name else {
                    return failed(
                        DeletableTopicResult::default()
                            .with_name(None)
                            .with_topic_id(id),
                        ResponseError::UnknownTopicId,
                    );
                };
                let topic_id = c.topic(&name).map_or(id, |t| t.id());
                let result = DeletableTopicResult::default()
                    .with_name(Some(topic_name(&name)))
                    .with_topic_id(topic_id);
                match c.delete_topic(&name) {
                    Ok(()) => result,
                    Err(error) => failed(result, error),
                }
            })
            .collect()
    });
    ResponseKind::DeleteTopics(DeleteTopicsResponse::default().with_responses(responses))
}

/// A failed deletion carries the error's standard text, as Kafka's `ApiError(Errors)` does.
fn failed(result: DeletableTopicResult, error: ResponseError) -> DeletableTopicResult {
    result
        .with_error_code(error.code())
        .with_error_message(Some(StrBytes::from_string(error.to_string())))
}
