//! Cluster events applied to the model — leader elections, brokers stopping and starting,
//! replication stalls, latency — now or at a scheduled time, and the replication tick that
//! honours them. What they cause (elections, truncations, ISR changes) is kept as [`Notice`]s for
//! the journal. The controller's choices follow Kafka: a new leader is the first live replica of
//! the ISR in assignment order (`PartitionLeaderElectionAlgorithms.offlinePartitionLeaderElection`),
//! an unclean one the first live replica; with no candidate the partition goes offline.

use core::time::Duration;
use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use tokio::time::Instant;

use super::cluster::{BrokerId, Cluster};
use super::partition::{Partition, Replication, Truncation};
use crate::faults::ClusterEvent;

/// Longest a notice list may grow between two reads (older notices are counted, not kept).
const MAX_PENDING_NOTICES: usize = 100_000;

/// Disruptions in force and events waiting for their time.
#[derive(Debug, Clone, Default)]
pub struct Disruptions {
    down: BTreeSet<BrokerId>,
    stalls: Vec<Stall>,
    latency: BTreeMap<BrokerId, Duration>,
    /// Sorted by time, then by the order they were scheduled.
    scheduled: Vec<(Instant, u64, ClusterEvent)>,
    next_sequence: u64,
    notices: Vec<Notice>,
}

#[derive(Debug, Clone)]
struct Stall {
    broker: BrokerId,
    topic: Option<String>,
    partition: Option<i32>,
    until: Instant,
}

/// Something the cluster did by itself or because of an event, for the journal.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// When.
    pub at: Instant,
    /// What.
    pub kind: NoticeKind,
}

/// What a [`Notice`] reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// An event was applied.
    Event(ClusterEvent),
    /// An event could not be applied.
    EventFailed {
        /// The event.
        event: ClusterEvent,
        /// Why.
        reason: String,
    },
    /// A partition got a new leader (or the same one at a new epoch).
    Election {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The new leader.
        leader: BrokerId,
        /// The new leader epoch.
        epoch: i32,
        /// From outside the ISR.
        unclean: bool,
    },
    /// A partition lost its leader with no live ISR member to replace it.
    Offline {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The new leader epoch.
        epoch: i32,
    },
    /// Records cut from a log by an election.
    Truncated {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// What was cut.
        #[serde(flatten)]
        truncation: Truncation,
    },
    /// A partition's ISR changed.
    IsrChanged {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The ISR now.
        isr: Vec<BrokerId>,
    },
}

/// Why an event could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// No such topic or partition.
    #[error("no partition {topic}-{partition}")]
    UnknownPartition {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
    },
    /// No such broker.
    #[error("no broker {0}")]
    UnknownBroker(BrokerId),
    /// The election has no eligible replica.
    #[error("no eligible leader for {topic}-{partition}: {reason}")]
    NoEligibleLeader {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// Why not.
        reason: String,
    },
}

impl Cluster {
    /// Whether a broker is running (not stopped by a `broker_down` event).
    pub fn is_broker_up(&self, broker: BrokerId) -> bool {
        !self.disruptions.down.contains(&broker) && self.brokers().iter().any(|b| b.id == broker)
    }

    /// The latency added to a broker's responses.
    pub fn latency(&self, broker: BrokerId) -> Duration {
        self.disruptions
            .latency
            .get(&broker)
            .copied()
            .unwrap_or_default()
    }

    /// Applies `event` at `now` after bringing replication up to it.
    pub fn apply_event(&mut self, event: &ClusterEvent, now: Instant) -> Result<(), EventError> {
        self.tick(now);
        self.apply_noting(event, now)
    }

    fn apply_noting(&mut self, event: &ClusterEvent, now: Instant) -> Result<(), EventError> {
        let result = self.apply(event, now);
        let kind = match &result {
            Ok(()) => NoticeKind::Event(event.clone()),
            Err(e) => NoticeKind::EventFailed {
                event: event.clone(),
                reason: e.to_string(),
            },
        };
        self.notice(now, kind);
        result
    }

    /// Schedules `event` for `at`; [`Cluster::tick`] applies it once the clock gets there.
    pub fn schedule_event(&mut self, at: Instant, event: ClusterEvent) {
        let sequence = self.disruptions.next_sequence;
        self.disruptions.next_sequence += 1;
        let scheduled = &mut self.disruptions.scheduled;
        let index = scheduled.partition_point(|(t, s, _)| (*t, *s) <= (at, sequence));
        scheduled.insert(index, (at, sequence, event));
    }

    /// Events scheduled and not applied yet, in order.
    pub fn scheduled_events(&self) -> impl Iterator<Item = (Instant, &ClusterEvent)> {
        self.disruptions.scheduled.iter().map(|(t, _, e)| (*t, e))
    }

    /// Takes the notices gathered since the last call.
    pub fn take_notices(&mut self) -> Vec<Notice> {
        core::mem::take(&mut self.disruptions.notices)
    }

    fn notice(&mut self, at: Instant, kind: NoticeKind) {
        self.disruptions.notice(at, kind);
    }

    fn apply(&mut self, event: &ClusterEvent, now: Instant) -> Result<(), EventError> {
        match event {
            ClusterEvent::ElectLeader {
                topic,
                partition,
                unclean,
                leader,
            } => self.elect_leader(topic, *partition, *unclean, *leader, now),
            ClusterEvent::BrokerDown { broker } => self.broker_down(*broker, now),
            ClusterEvent::BrokerUp { broker } => self.broker_up(*broker, now),
            ClusterEvent::StallReplication {
                broker,
                topic,
                partition,
                ms,
            } => {
                self.known_broker(*broker)?;
                self.disruptions.stalls.push(Stall {
                    broker: *broker,
                    topic: topic.clone(),
                    partition: *partition,
                    until: now + Duration::from_millis(*ms),
                });
                Ok(())
            }
            ClusterEvent::Latency { broker, ms } => {
                self.known_broker(*broker)?;
                self.disruptions
                    .latency
                    .insert(*broker, Duration::from_millis(*ms));
                Ok(())
            }
        }
    }

    fn known_broker(&self, broker: BrokerId) -> Result<(), EventError> {
        if self.brokers().iter().any(|b| b.id == broker) {
            Ok(())
        } else {
            Err(EventError::UnknownBroker(broker))
        }
    }

    fn elect_leader(
        &mut self,
        topic: &str,
        index: i32,
        unclean: bool,
        chosen: Option<BrokerId>,
        now: Instant,
    ) -> Result<(), EventError> {
        let unknown = || EventError::UnknownPartition {
            topic: topic.to_string(),
            partition: index,
        };
        let p = self.partition(topic, index).ok_or_else(unknown)?;
        let no_leader = |reason: String| EventError::NoEligibleLeader {
            topic: topic.to_string(),
            partition: index,
            reason,
        };
        let eligible = |id: &BrokerId| {
            self.is_broker_up(*id) && (unclean || p.isr().contains(id)) && p.replicas().contains(id)
        };
        let leader = match chosen {
            Some(id) if eligible(&id) => id,
            Some(id) => {
                return Err(no_leader(format!(
                    "broker {id} is not a live replica{}",
                    if unclean { "" } else { " in the ISR" }
                )));
            }
            None => {
                // Move the leadership when possible; re-elect the leader only when alone.
                let mut candidates = p.replicas().iter().filter(|id| eligible(id));
                let first = candidates.clone().next().copied();
                candidates
                    .find(|id| **id != p.leader())
                    .copied()
                    .or(first)
                    .ok_or_else(|| no_leader("no live replica is eligible".into()))?
            }
        };
        self.elect(topic, index, leader, unclean, now);
        Ok(())
    }

    /// Elects `leader` for a partition and reports the election and what it cut.
    fn elect(&mut self, topic: &str, index: i32, leader: BrokerId, unclean: bool, now: Instant) {
        let Some(p) = self.partition_mut(topic, index) else {
            return;
        };
        let isr_before = p.isr().to_vec();
        let truncation = p.elect(leader, unclean, now);
        let (epoch, isr) = (p.leader_epoch(), p.isr().to_vec());
        let (topic, partition) = (topic.to_string(), index);
        if let Some(truncation) = truncation {
            tracing::warn!(
                topic,
                partition,
                ?truncation,
                "log truncated by an election"
            );
            self.notice(
                now,
                NoticeKind::Truncated {
                    topic: topic.clone(),
                    partition,
                    truncation,
                },
            );
        }
        self.notice(
            now,
            NoticeKind::Election {
                topic: topic.clone(),
                partition,
                leader,
                epoch,
                unclean,
            },
        );
        if isr != isr_before {
            self.notice(
                now,
                NoticeKind::IsrChanged {
                    topic,
                    partition,
                    isr,
                },
            );
        }
    }

    /// Stops a broker: it leaves every ISR it is in (the leader's stays when it is the last),
    /// and the partitions it led elect a live ISR member or go offline.
    fn broker_down(&mut self, broker: BrokerId, now: Instant) -> Result<(), EventError> {
        self.known_broker(broker)?;
        if !self.disruptions.down.insert(broker) {
            return Ok(());
        }
        for (topic, index) in self.partition_ids() {
            let Some(p) = self.partition(&topic, index) else {
                continue;
            };
            let led = p.leader() == broker;
            let successor = p
                .replicas()
                .iter()
                .find(|id| **id != broker && p.isr().contains(id) && self.is_broker_up(**id))
                .copied();
            let in_isr = p.isr().contains(&broker);
            match (led, successor) {
                (true, Some(leader)) => {
                    self.elect(&topic, index, leader, false, now);
                    self.shrink_isr(&topic, index, broker, now);
                }
                (true, None) => {
                    if let Some(p) = self.partition_mut(&topic, index) {
                        p.go_offline();
                        let epoch = p.leader_epoch();
                        self.notice(
                            now,
                            NoticeKind::Offline {
                                topic,
                                partition: index,
                                epoch,
                            },
                        );
                    }
                }
                (false, _) if in_isr => self.shrink_isr(&topic, index, broker, now),
                (false, _) => {}
            }
        }
        Ok(())
    }

    fn shrink_isr(&mut self, topic: &str, index: i32, broker: BrokerId, now: Instant) {
        let Some(p) = self.partition_mut(topic, index) else {
            return;
        };
        p.remove_from_isr(broker);
        let isr = p.isr().to_vec();
        self.notice(
            now,
            NoticeKind::IsrChanged {
                topic: topic.to_string(),
                partition: index,
                isr,
            },
        );
    }

    /// Starts a stopped broker: it leads again the offline partitions whose ISR it is in, and
    /// follows the others, rejoining their ISR once it has caught up (on the next ticks).
    fn broker_up(&mut self, broker: BrokerId, now: Instant) -> Result<(), EventError> {
        self.known_broker(broker)?;
        if !self.disruptions.down.remove(&broker) {
            return Ok(());
        }
        for (topic, index) in self.partition_ids() {
            let returns_as_leader = self
                .partition(&topic, index)
                .is_some_and(|p| !p.is_online() && p.isr().contains(&broker));
            if returns_as_leader {
                self.elect(&topic, index, broker, false, now);
            }
        }
        Ok(())
    }

    fn partition_ids(&self) -> Vec<(String, i32)> {
        self.topics()
            .iter()
            .flat_map(|(name, t)| t.partitions().iter().map(|p| (name.clone(), p.index())))
            .collect()
    }

    fn partition_mut(&mut self, topic: &str, index: i32) -> Option<&mut Partition> {
        self.topics.get_mut(topic)?.partition_mut(index)
    }

    /// Applies the scheduled events due by `now`, each at its own time.
    pub(crate) fn run_due_events(&mut self, now: Instant) {
        while let Some((at, _, _)) = self.disruptions.scheduled.first()
            && *at <= now
        {
            let (at, _, event) = self.disruptions.scheduled.remove(0);
            self.tick_replication(at);
            // A failure is in the notices; a scheduled event has no caller to tell.
            let _ = self.apply_noting(&event, at);
        }
        self.disruptions.stalls.retain(|s| s.until > now);
    }

    /// Brings every partition's followers, ISR and high watermark up to `now`.
    pub(crate) fn tick_replication(&mut self, now: Instant) {
        let lag_max = self.config.replica_lag_time_max;
        let delays = &self.replication_delays;
        let disruptions = &mut self.disruptions;
        for (name, topic) in &mut self.topics {
            for p in &mut topic.partitions {
                disruptions.tick_partition(name, p, now, delays, lag_max);
            }
        }
    }

    /// Brings one partition up to `now` (after an append, without walking every topic).
    pub(crate) fn tick_one(&mut self, topic: &str, index: i32, now: Instant) {
        let lag_max = self.config.replica_lag_time_max;
        let delays = &self.replication_delays;
        if let Some(p) = self
            .topics
            .get_mut(topic)
            .and_then(|t| t.partition_mut(index))
        {
            self.disruptions
                .tick_partition(topic, p, now, delays, lag_max);
        }
    }

    /// When replication or a scheduled event next changes something by itself.
    pub(crate) fn replication_deadline(&self) -> Option<Instant> {
        let lag_max = self.config.replica_lag_time_max;
        let partitions = self.topics.iter().flat_map(|(name, t)| {
            t.partitions().iter().filter_map(move |p| {
                let frozen = self.disruptions.frozen_followers(name, p.index());
                p.next_deadline(Replication {
                    delays: &self.replication_delays,
                    lag_max,
                    frozen: &frozen,
                })
            })
        });
        partitions
            .chain(self.disruptions.scheduled.first().map(|(t, _, _)| *t))
            .chain(self.disruptions.stalls.iter().map(|s| s.until))
            .min()
    }
}

impl Disruptions {
    fn notice(&mut self, at: Instant, kind: NoticeKind) {
        if self.notices.len() >= MAX_PENDING_NOTICES {
            self.notices.remove(0);
        }
        self.notices.push(Notice { at, kind });
    }

    fn tick_partition(
        &mut self,
        topic: &str,
        p: &mut Partition,
        now: Instant,
        delays: &BTreeMap<BrokerId, Duration>,
        lag_max: Duration,
    ) {
        let frozen = self.frozen_followers(topic, p.index());
        let isr_before = p.isr().to_vec();
        p.tick(
            topic,
            now,
            Replication {
                delays,
                lag_max,
                frozen: &frozen,
            },
        );
        if p.isr() != isr_before {
            let isr = p.isr().to_vec();
            self.notice(
                now,
                NoticeKind::IsrChanged {
                    topic: topic.to_string(),
                    partition: p.index(),
                    isr,
                },
            );
        }
    }

    /// Followers of a partition that cannot copy: stopped brokers (`None`) and stalled ones
    /// (until when). Empty, without allocating, in the usual case.
    fn frozen_followers(&self, topic: &str, index: i32) -> BTreeMap<BrokerId, Option<Instant>> {
        let mut frozen: BTreeMap<BrokerId, Option<Instant>> =
            self.down.iter().map(|b| (*b, None)).collect();
        for stall in &self.stalls {
            let applies = stall.topic.as_deref().is_none_or(|t| t == topic)
                && stall.partition.is_none_or(|p| p == index);
            if applies {
                let until = frozen.entry(stall.broker).or_insert(Some(stall.until));
                if let Some(until) = until {
                    *until = (*until).max(stall.until);
                }
            }
        }
        frozen
    }
}
