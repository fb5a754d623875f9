//! The producer's view of the cluster, plain data: brokers by id, and per topic the leader of
//! each partition. Filled from Metadata responses, patched by KIP-951 leader hints in Produce
//! responses (`Sender.java` L705-723).

use std::collections::{BTreeMap, BTreeSet};

use ktrial_protocol::ResponseError;
use ktrial_protocol::StrBytes;
use ktrial_protocol::messages::metadata_request::MetadataRequestTopic;
use ktrial_protocol::messages::produce_response::NodeEndpoint;
use ktrial_protocol::messages::{MetadataRequest, MetadataResponse, TopicName};
use tokio::time::Instant;

/// One topic as the cluster described it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicMetadata {
    /// The topic-level error, if the cluster reported one.
    pub error: Option<ResponseError>,
    /// Per partition: `(leader, leader epoch)`, `None` while it has no leader.
    pub partitions: Vec<Option<(i32, i32)>>,
}

/// Brokers and topics, as last heard.
#[derive(Debug, Default)]
pub struct ClusterMetadata {
    brokers: BTreeMap<i32, String>,
    topics: BTreeMap<String, TopicMetadata>,
    updated: Option<Instant>,
}

impl ClusterMetadata {
    /// When the last Metadata response arrived.
    pub fn updated(&self) -> Option<Instant> {
        self.updated
    }

    /// The address of a broker.
    pub fn broker(&self, id: i32) -> Option<&str> {
        self.brokers.get(&id).map(String::as_str)
    }

    /// Known broker ids.
    pub fn broker_ids(&self) -> impl Iterator<Item = i32> + '_ {
        self.brokers.keys().copied()
    }

    /// A topic's metadata.
    pub fn topic(&self, topic: &str) -> Option<&TopicMetadata> {
        self.topics.get(topic)
    }

    /// The leader of a partition.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        let index = usize::try_from(partition).ok()?;
        self.topics
            .get(topic)?
            .partitions
            .get(index)
            .copied()
            .flatten()
            .map(|(leader, _)| leader)
    }

    /// Forgets the brokers (KIP-899 rebootstrap): the next metadata comes from bootstrap servers.
    pub fn forget_brokers(&mut self) {
        self.brokers.clear();
    }

    /// A Metadata request for `topics`.
    pub fn request(topics: &BTreeSet<String>, allow_auto_create: bool) -> MetadataRequest {
        MetadataRequest::default()
            .with_topics(Some(
                topics
                    .iter()
                    .map(|t| {
                        MetadataRequestTopic::default()
                            .with_name(Some(TopicName(StrBytes::from_string(t.clone()))))
                    })
                    .collect(),
            ))
            .with_allow_auto_topic_creation(allow_auto_create)
    }

    /// Takes in a Metadata response.
    pub fn apply(&mut self, response: &MetadataResponse, now: Instant) {
        self.updated = Some(now);
        if !response.brokers.is_empty() {
            self.brokers = response
                .brokers
                .iter()
                .map(|b| (b.node_id.0, format!("{}:{}", b.host.as_str(), b.port)))
                .collect();
        }
        for topic in &response.topics {
            let Some(name) = &topic.name else { continue };
            let mut partitions = vec![None; topic.partitions.len()];
            for p in &topic.partitions {
                let Ok(index) = usize::try_from(p.partition_index) else {
                    continue;
                };
                if index >= partitions.len() {
                    partitions.resize(index + 1, None);
                }
                partitions[index] = (p.leader_id.0 >= 0).then_some((p.leader_id.0, p.leader_epoch));
            }
            self.topics.insert(
                name.0.to_string(),
                TopicMetadata {
                    error: ResponseError::try_from_code(topic.error_code),
                    partitions,
                },
            );
        }
    }

    /// Applies a KIP-951 `CurrentLeader` hint when it is newer than what is known; true if used.
    pub fn apply_leader_hint(
        &mut self,
        topic: &str,
        partition: i32,
        leader: i32,
        epoch: i32,
        endpoints: &[NodeEndpoint],
    ) -> bool {
        if leader < 0 {
            return false;
        }
        if let Some(endpoint) = endpoints.iter().find(|e| e.node_id.0 == leader) {
            self.brokers.insert(
                leader,
                format!("{}:{}", endpoint.host.as_str(), endpoint.port),
            );
        }
        if !self.brokers.contains_key(&leader) {
            return false;
        }
        let Some(slot) = usize::try_from(partition)
            .ok()
            .and_then(|i| self.topics.get_mut(topic)?.partitions.get_mut(i))
        else {
            return false;
        };
        if slot.is_some_and(|(_, known)| known >= epoch) {
            return false;
        }
        *slot = Some((leader, epoch));
        true
    }
}

#[cfg(test)]
mod tests {
    use ktrial_protocol::messages::BrokerId;
    use ktrial_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };

    use super::*;

    fn response() -> MetadataResponse {
        MetadataResponse::default()
            .with_brokers(vec![
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(1))
                    .with_host(StrBytes::from_static_str("h1"))
                    .with_port(9092),
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(2))
                    .with_host(StrBytes::from_static_str("h2"))
                    .with_port(9093),
            ])
            .with_topics(vec![
                MetadataResponseTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_static_str("t"))))
                    .with_partitions(vec![
                        MetadataResponsePartition::default()
                            .with_partition_index(0)
                            .with_leader_id(BrokerId(1))
                            .with_leader_epoch(3),
                        MetadataResponsePartition::default()
                            .with_partition_index(1)
                            .with_leader_id(BrokerId(-1)),
                    ]),
            ])
    }

    #[test]
    fn leaders_and_brokers_from_a_response() {
        let mut m = ClusterMetadata::default();
        m.apply(&response(), Instant::now());
        assert_eq!(m.leader("t", 0), Some(1));
        assert_eq!(m.leader("t", 1), None);
        assert_eq!(m.leader("t", 2), None);
        assert_eq!(m.broker(2), Some("h2:9093"));
        assert_eq!(m.topic("t").map(|t| t.partitions.len()), Some(2));
    }

    #[test]
    fn leader_hint_applies_only_when_newer() {
        let mut m = ClusterMetadata::default();
        m.apply(&response(), Instant::now());
        assert!(
            !m.apply_leader_hint("t", 0, 2, 3, &[]),
            "same epoch is not newer"
        );
        assert!(m.apply_leader_hint("t", 0, 2, 4, &[]));
        assert_eq!(m.leader("t", 0), Some(2));
        assert!(
            !m.apply_leader_hint("t", 0, 7, 9, &[]),
            "unknown broker without endpoint"
        );
    }
}
