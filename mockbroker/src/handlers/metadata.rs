//! Metadata: brokers, controller, and each topic's partitions with leader, leader epoch,
//! replicas and ISR. Unknown topics are created when the cluster and the request allow it
//! (`allow_auto_topic_creation`, implied before v4).

use ktrial_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use ktrial_protocol::messages::{BrokerId, MetadataRequest, MetadataResponse, ResponseKind};
use ktrial_protocol::{ResponseError, StrBytes};
use tokio::time::Instant;

use super::{RequestContext, code, topic_name};
use crate::model::{Cluster, Topic};
use crate::shared::SharedCluster;

/// Answers a Metadata request.
pub fn handle(
    cluster: &SharedCluster,
    _ctx: &RequestContext,
    version: i16,
    request: &MetadataRequest,
) -> ResponseKind {
    let auto_create = version < 4 || request.allow_auto_topic_creation;
    let now = cluster.now();
    cluster.update(now, |c| {
        let all = match &request.topics {
            None => true,
            Some(topics) => version == 0 && topics.is_empty(),
        };
        let topics = if all {
            c.topics()
                .iter()
                .map(|(name, t)| describe(name, Ok(t)))
                .collect()
        } else {
            request
                .topics
                .iter()
                .flatten()
                .map(|t| {
                    requested_topic(
                        c,
                        t.name.as_ref().map(|n| n.0.as_str()),
                        t.topic_id,
                        auto_create,
                        now,
                    )
                })
                .collect()
        };
        // Only running brokers, as Kafka's metadata cache lists only live ones.
        let brokers = c
            .live_brokers()
            .map(|b| {
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(b.id))
                    .with_host(StrBytes::from_string(b.host.clone()))
                    .with_port(b.port)
            })
            .collect();
        ResponseKind::Metadata(
            MetadataResponse::default()
                .with_brokers(brokers)
                .with_cluster_id(Some(StrBytes::from_string(c.config().cluster_id.clone())))
                .with_controller_id(BrokerId(c.controller_id()))
                .with_topics(topics),
        )
    })
}

fn requested_topic(
    c: &mut Cluster,
    name: Option<&str>,
    id: uuid::Uuid,
    auto_create: bool,
    now: Instant,
) -> MetadataResponseTopic {
    let Some(name) = name else {
        return match c.topic_by_id(id) {
            Some((name, topic)) => describe(name, Ok(topic)),
            None => MetadataResponseTopic::default()
                .with_topic_id(id)
                .with_error_code(ResponseError::UnknownTopicId.code()),
        };
    };
    let topic = if auto_create {
        c.ensure_topic(name, now).map(|_| ())
    } else {
        Ok(())
    }
    .and_then(|()| c.topic(name).ok_or(ResponseError::UnknownTopicOrPartition));
    describe(name, topic)
}

fn describe(name: &str, topic: Result<&Topic, ResponseError>) -> MetadataResponseTopic {
    let response = MetadataResponseTopic::default().with_name(Some(topic_name(name)));
    let topic = match topic {
        Ok(topic) => topic,
        Err(error) => return response.with_error_code(code(Some(error))),
    };
    let partitions = topic
        .partitions()
        .iter()
        .map(|p| {
            // An offline partition (leader -1) is LEADER_NOT_AVAILABLE (`MetadataCache`).
            let error = (!p.is_online()).then_some(ResponseError::LeaderNotAvailable);
            MetadataResponsePartition::default()
                .with_error_code(code(error))
                .with_partition_index(p.index())
                .with_leader_id(BrokerId(p.leader()))
                .with_leader_epoch(p.leader_epoch())
                .with_replica_nodes(p.replicas().iter().map(|&id| BrokerId(id)).collect())
                .with_isr_nodes(p.isr().iter().map(|&id| BrokerId(id)).collect())
        })
        .collect();
    response
        .with_topic_id(topic.id())
        .with_partitions(partitions)
}
