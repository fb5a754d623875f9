//! One partition: replica assignment, leader and leader epoch, the ISR, the leader's log, each
//! follower's log end offset, and the high watermark. Followers copy the leader after their
//! broker's replication delay; the ISR shrinks and grows as `Partition.maybeShrinkIsr` /
//! `maybeExpandIsr` do (apache/kafka `core/.../cluster/Partition.scala`).

use core::time::Duration;
use std::collections::BTreeMap;

use tokio::time::Instant;
use tracing::info;

use super::BrokerId;
use super::log::PartitionLog;
use super::producer_state::ProducerStates;

/// A follower as the leader sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowerState {
    /// Offsets the follower has copied up to (exclusive).
    pub log_end_offset: i64,
    /// The last time its log held everything the leader had then (`lastCaughtUpTimeMs`).
    pub last_caught_up: Instant,
}

/// One partition of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    index: i32,
    replicas: Vec<BrokerId>,
    leader: BrokerId,
    leader_epoch: i32,
    isr: Vec<BrokerId>,
    followers: BTreeMap<BrokerId, FollowerState>,
    high_watermark: i64,
    pub(crate) log: PartitionLog,
    pub(crate) producers: ProducerStates,
}

impl Partition {
    /// A new, empty partition led by its first replica, every replica in sync.
    pub(crate) fn new(index: i32, replicas: Vec<BrokerId>, now: Instant) -> Self {
        let followers = replicas[1..]
            .iter()
            .map(|&id| {
                let state = FollowerState {
                    log_end_offset: 0,
                    last_caught_up: now,
                };
                (id, state)
            })
            .collect();
        Self {
            index,
            leader: replicas[0],
            leader_epoch: 0,
            isr: replicas.clone(),
            replicas,
            followers,
            high_watermark: 0,
            log: PartitionLog::default(),
            producers: ProducerStates::default(),
        }
    }

    /// The partition number.
    pub fn index(&self) -> i32 {
        self.index
    }

    /// Assigned replicas, preferred leader first.
    pub fn replicas(&self) -> &[BrokerId] {
        &self.replicas
    }

    /// The current leader.
    pub fn leader(&self) -> BrokerId {
        self.leader
    }

    /// The current leader epoch.
    pub fn leader_epoch(&self) -> i32 {
        self.leader_epoch
    }

    /// In-sync replicas, in assignment order.
    pub fn isr(&self) -> &[BrokerId] {
        &self.isr
    }

    /// The high watermark: offsets below it are on every ISR member.
    pub fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    /// The leader's log.
    pub fn log(&self) -> &PartitionLog {
        &self.log
    }

    /// The leader's view of a follower, `None` for the leader or a non-replica.
    pub fn follower(&self, broker: BrokerId) -> Option<&FollowerState> {
        self.followers.get(&broker)
    }

    /// The log end offset of a replica.
    pub fn replica_log_end_offset(&self, broker: BrokerId) -> Option<i64> {
        if broker == self.leader {
            return Some(self.log.log_end_offset());
        }
        self.followers.get(&broker).map(|f| f.log_end_offset)
    }

    /// Brings followers, ISR and high watermark to `now`. `delays` holds each broker's
    /// replication delay (none means it copies at once).
    pub(crate) fn tick(
        &mut self,
        topic: &str,
        now: Instant,
        delays: &BTreeMap<BrokerId, Duration>,
        lag_max: Duration,
    ) {
        let leader_end = self.log.log_end_offset();
        for (id, follower) in &mut self.followers {
            let delay = delays.get(id).copied().unwrap_or_default();
            if let Some(copied_as_of) = now.checked_sub(delay) {
                let end = self.log.end_offset_at(copied_as_of);
                follower.log_end_offset = follower.log_end_offset.max(end);
                follower.last_caught_up = follower.last_caught_up.max(copied_as_of);
            }
            if follower.log_end_offset == leader_end {
                follower.last_caught_up = now;
            }
        }
        let (leader, followers) = (self.leader, &self.followers);
        self.isr.retain(|id| {
            let Some(f) = followers.get(id).filter(|_| *id != leader) else {
                return true;
            };
            let in_sync = f.log_end_offset >= leader_end
                || now.saturating_duration_since(f.last_caught_up) <= lag_max;
            if !in_sync {
                info!(
                    topic,
                    partition = self.index,
                    broker = id,
                    "follower leaves the ISR"
                );
            }
            in_sync
        });
        self.advance_high_watermark();
        let rejoining: Vec<BrokerId> = self
            .followers
            .iter()
            .filter(|(id, f)| !self.isr.contains(id) && f.log_end_offset >= self.high_watermark)
            .map(|(id, _)| *id)
            .collect();
        if !rejoining.is_empty() {
            for id in &rejoining {
                info!(
                    topic,
                    partition = self.index,
                    broker = id,
                    "follower rejoins the ISR"
                );
            }
            let isr = &self.isr;
            self.isr = self
                .replicas
                .iter()
                .copied()
                .filter(|id| isr.contains(id) || rejoining.contains(id))
                .collect();
            self.advance_high_watermark();
        }
    }

    /// HW = the smallest log end offset in the ISR; it never moves back.
    fn advance_high_watermark(&mut self) {
        let lowest = self
            .isr
            .iter()
            .filter_map(|&id| self.replica_log_end_offset(id))
            .min()
            .unwrap_or(self.high_watermark);
        self.high_watermark = self.high_watermark.max(lowest);
    }

    /// The next instant at which [`Partition::tick`] would change something on its own: a
    /// follower copying a batch, or a lagging follower overstaying `lag_max`.
    pub(crate) fn next_deadline(
        &self,
        delays: &BTreeMap<BrokerId, Duration>,
        lag_max: Duration,
    ) -> Option<Instant> {
        let leader_end = self.log.log_end_offset();
        self.followers
            .iter()
            .filter(|(_, f)| f.log_end_offset < leader_end)
            .flat_map(|(id, f)| {
                let delay = delays.get(id).copied().unwrap_or_default();
                let copy = self
                    .log
                    .appended_at(f.log_end_offset)
                    .and_then(|t| t.checked_add(delay));
                let shrink = self
                    .isr
                    .contains(id)
                    .then(|| {
                        f.last_caught_up
                            .checked_add(lag_max + Duration::from_millis(1))
                    })
                    .flatten();
                [copy, shrink]
            })
            .flatten()
            .min()
    }
}
