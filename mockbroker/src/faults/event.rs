//! Cluster events: elections, brokers going down and up, replication stalls, latency — now or
//! at a scheduled cluster time.

use serde::{Deserialize, Serialize};

use super::rule::{InvalidRule, Topology};

/// Something that happens to the cluster as a whole, not to one request.
///
/// ```toml
/// [[events]]
/// at_ms = 500
/// event = { elect_leader = { topic = "orders", partition = 0, unclean = true } }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ClusterEvent {
    /// Elect a new leader for a partition. Clean: from the ISR. Unclean: any live replica,
    /// and the other replicas truncate to the new leader's log end (the lost records are reported).
    ElectLeader {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// Allow a replica outside the ISR.
        #[serde(default)]
        unclean: bool,
        /// The replica to elect; the controller's choice when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        leader: Option<i32>,
    },
    /// Stop a broker: its listener and connections close, its partitions elect new leaders
    /// (or go offline with no live ISR member).
    BrokerDown {
        /// The broker's node id.
        broker: i32,
    },
    /// Restart a stopped broker: it rejoins, catches up and returns to the ISR.
    BrokerUp {
        /// The broker's node id.
        broker: i32,
    },
    /// Stop a follower from replicating for a while: the high watermark stops, acks=all waits,
    /// and the follower leaves the ISR after `replica.lag.time.max.ms`.
    StallReplication {
        /// The follower's node id.
        broker: i32,
        /// Only this topic; all when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
        /// Only this partition (of `topic`); all when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partition: Option<i32>,
        /// Milliseconds of stall.
        ms: u64,
    },
    /// Add latency to every response of a broker from now on (0 removes it).
    Latency {
        /// The broker's node id.
        broker: i32,
        /// Milliseconds added.
        ms: u64,
    },
}

/// An event and when it happens: at a cluster time, or at once when no time is given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledEvent {
    /// Cluster time in milliseconds; at once when absent (or already past).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<u64>,
    /// The event.
    pub event: ClusterEvent,
}

impl ClusterEvent {
    /// Checks that the brokers, topics and partitions named exist.
    pub fn validate(&self, topology: &dyn Topology) -> Result<(), InvalidRule> {
        let broker_exists = |broker: i32| {
            if topology.has_broker(broker) {
                Ok(())
            } else {
                Err(InvalidRule {
                    field: "event.broker".into(),
                    reason: format!("no broker {broker} in the cluster"),
                })
            }
        };
        let partition_exists = |topic: &str, partition: i32| match topology.partition_count(topic) {
            None => Err(InvalidRule {
                field: "event.topic".into(),
                reason: format!("no topic {topic:?} in the cluster"),
            }),
            Some(count) if partition < 0 || partition >= count => Err(InvalidRule {
                field: "event.partition".into(),
                reason: format!("topic {topic:?} has partitions 0..{count}, not {partition}"),
            }),
            Some(_) => Ok(()),
        };
        match self {
            ClusterEvent::ElectLeader {
                topic,
                partition,
                leader,
                ..
            } => {
                partition_exists(topic, *partition)?;
                leader.map_or(Ok(()), broker_exists)
            }
            ClusterEvent::BrokerDown { broker }
            | ClusterEvent::BrokerUp { broker }
            | ClusterEvent::Latency { broker, .. } => broker_exists(*broker),
            ClusterEvent::StallReplication {
                broker,
                topic,
                partition,
                ..
            } => {
                broker_exists(*broker)?;
                match (topic, partition) {
                    // Every topic has a partition 0, so this checks the topic alone.
                    (Some(topic), p) => partition_exists(topic, p.unwrap_or(0)),
                    (None, Some(_)) => Err(InvalidRule {
                        field: "event.partition".into(),
                        reason: "a partition needs its topic".into(),
                    }),
                    (None, None) => Ok(()),
                }
            }
        }
    }
}
