//! CreateTopics: partitions and replication factor (-1 for the cluster defaults) or an explicit
//! assignment, topic configs, `validate_only`; errors per topic as Kafka names them.

use ktrial_protocol::messages::create_topics_request::CreatableTopic;
use ktrial_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use ktrial_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse, ResponseKind};
use ktrial_protocol::{ResponseError, StrBytes};
use tokio::time::Instant;

use super::code;
use crate::model::{Cluster, TopicConfig};
use crate::shared::SharedCluster;

/// Handles a CreateTopics request.
pub fn handle(
    cluster: &SharedCluster,
    _version: i16,
    request: &CreateTopicsRequest,
) -> ResponseKind {
    let now = cluster.now();
    let topics = cluster.update(now, |c| {
        request
            .topics
            .iter()
            .map(|topic| {
                let result = CreatableTopicResult::default().with_name(topic.name.clone());
                match create(c, topic, request.validate_only, now) {
                    Ok(()) => describe(c, result, &topic.name.0),
                    Err((error, message)) => result
                        .with_error_code(code(Some(error)))
                        .with_error_message(Some(StrBytes::from_string(message))),
                }
            })
            .collect()
    });
    ResponseKind::CreateTopics(CreateTopicsResponse::default().with_topics(topics))
}

fn create(
    c: &mut Cluster,
    topic: &CreatableTopic,
    validate_only: bool,
    now: Instant,
) -> Result<(), (ResponseError, String)> {
    let name = topic.name.0.as_str();
    let mut config = TopicConfig::default();
    for entry in &topic.configs {
        let value = entry.value.as_deref().unwrap_or_default();
        config
            .set(&entry.name, value)
            .map_err(|e| (ResponseError::InvalidConfig, e.to_string()))?;
    }
    let mut scratch;
    let target = if validate_only {
        scratch = c.clone();
        &mut scratch
    } else {
        c
    };
    let created = if topic.assignments.is_empty() {
        let defaults = target.config();
        let partitions = if topic.num_partitions == -1 {
            defaults.default_partitions
        } else {
            topic.num_partitions
        };
        let replication = if topic.replication_factor == -1 {
            defaults.default_replication_factor
        } else {
            topic.replication_factor
        };
        target.create_topic(name, partitions, replication, config, now)
    } else if topic.num_partitions != -1 || topic.replication_factor != -1 {
        Err(ResponseError::InvalidRequest)
    } else {
        let mut assignments: Vec<_> = topic.assignments.iter().collect();
        assignments.sort_by_key(|a| a.partition_index);
        let contiguous = assignments
            .iter()
            .zip(0..)
            .all(|(a, i)| a.partition_index == i);
        if !contiguous {
            return Err((
                ResponseError::InvalidReplicaAssignment,
                "partitions must be 0..n".into(),
            ));
        }
        let replicas = assignments
            .iter()
            .map(|a| a.broker_ids.iter().map(|b| b.0).collect())
            .collect();
        target.create_topic_with_assignment(name, replicas, config, now)
    };
    created
        .map(|_| ())
        .map_err(|e| (e, format!("cannot create topic {name}: {e}")))
}

fn describe(c: &Cluster, result: CreatableTopicResult, name: &str) -> CreatableTopicResult {
    let Some(topic) = c.topic(name) else {
        // validate_only: report what would have been created.
        return result;
    };
    let configs = topic
        .config()
        .entries(c.config())
        .into_iter()
        .map(|e| {
            CreatableTopicConfigs::default()
                .with_name(StrBytes::from_static_str(e.name))
                .with_value(Some(StrBytes::from_string(e.value)))
                .with_config_source(if e.overridden {
                    super::describe_configs::TOPIC_CONFIG
                } else {
                    super::describe_configs::DEFAULT_CONFIG
                })
        })
        .collect();
    let replication = topic.partitions().first().map_or(0, |p| p.replicas().len());
    result
        .with_topic_id(topic.id())
        .with_num_partitions(i32::try_from(topic.partitions().len()).unwrap_or(i32::MAX))
        .with_replication_factor(i16::try_from(replication).unwrap_or(i16::MAX))
        .with_configs(Some(configs))
}
