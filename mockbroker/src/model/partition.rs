//! One partition: replica assignment, leader and leader epoch, the ISR, the leader's log, each
//! follower's log end offset, and the high watermark. Followers copy the leader after their
//! broker's replication delay; the ISR shrinks and grows as `Partition.maybeShrinkIsr` /
//! `maybeExpandIsr` do (apache/kafka `core/.../cluster/Partition.scala`). Elections move the
//! leadership: the log is cut to the new leader's end (what it had not copied is lost), and the
//! leader epoch goes up; a partition whose leader died with no live ISR member goes offline.

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
    /// False while the partition has no leader (the last one died with no live ISR member);
    /// `leader` then names the replica whose log the partition keeps.
    online: bool,
    pub(crate) log: PartitionLog,
    pub(crate) producers: ProducerStates,
}

/// How followers copy: each broker's replication delay, `replica.lag.time.max.ms`, and the
/// followers that cannot copy (a broker down: `None`; a stalled one: until when).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Replication<'a> {
    pub(crate) delays: &'a BTreeMap<BrokerId, Duration>,
    pub(crate) lag_max: Duration,
    pub(crate) frozen: &'a BTreeMap<BrokerId, Option<Instant>>,
}

impl Replication<'_> {
    fn is_frozen(&self, broker: BrokerId, now: Instant) -> bool {
        self.frozen
            .get(&broker)
            .is_some_and(|until| until.is_none_or(|until| until > now))
    }
}

/// Records cut from a log when a replica that lacked them became leader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Truncation {
    /// First offset lost (the new leader's log end).
    pub from_offset: i64,
    /// One past the last offset lost (the old leader's log end).
    pub to_offset: i64,
    /// How many records were lost.
    pub records: i64,
    /// Whether any of them was below the high watermark (committed, as acks=all saw it).
    pub committed: bool,
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
            online: true,
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

    /// The current leader, -1 while the partition is offline.
    pub fn leader(&self) -> BrokerId {
        if self.online { self.leader } else { -1 }
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
    pub(crate) fn tick(&mut self, topic: &str, now: Instant, replication: Replication<'_>) {
        if !self.online {
            return;
        }
        let lag_max = replication.lag_max;
        let leader_end = self.log.log_end_offset();
        for (id, follower) in &mut self.followers {
            if replication.is_frozen(*id, now) {
                continue;
            }
            let delay = replication.delays.get(id).copied().unwrap_or_default();
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
            .filter(|(id, f)| {
                !self.isr.contains(id)
                    && f.log_end_offset >= self.high_watermark
                    && !replication.is_frozen(**id, now)
            })
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
    pub(crate) fn next_deadline(&self, replication: Replication<'_>) -> Option<Instant> {
        if !self.online {
            return None;
        }
        let lag_max = replication.lag_max;
        let leader_end = self.log.log_end_offset();
        self.followers
            .iter()
            .filter(|(_, f)| f.log_end_offset < leader_end)
            .flat_map(|(id, f)| {
                let delay = replication.delays.get(id).copied().unwrap_or_default();
                let copy = self
                    .log
                    .appended_at(f.log_end_offset)
                    .and_then(|t| t.checked_add(delay));
                // A stalled follower copies when its stall ends; a stopped one not at all.
                let copy = match replication.frozen.get(id) {
                    None => copy,
                    Some(None) => None,
                    Some(Some(until)) => copy.map(|t| t.max(*until)),
                };
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

impl Partition {
    /// Whether the partition has a leader.
    pub fn is_online(&self) -> bool {
        self.online
    }

    /// Makes `leader` the leader (a replica), bumping the leader epoch. Its log end becomes the
    /// partition's: the records it had not copied are cut and reported, the others' log ends
    /// are capped there. `unclean` leaves it alone in the ISR (`Partition.makeLeader`).
    pub(crate) fn elect(
        &mut self,
        leader: BrokerId,
        unclean: bool,
        now: Instant,
    ) -> Option<Truncation> {
        let old_end = self.log.log_end_offset();
        let new_end = self.replica_log_end_offset(leader).unwrap_or(old_end);
        let truncation = (new_end < old_end).then(|| {
            self.log.truncate_to(new_end);
            self.producers = ProducerStates::rebuild(&self.log);
            Truncation {
                from_offset: new_end,
                to_offset: old_end,
                records: old_end - new_end,
                committed: new_end < self.high_watermark,
            }
        });
        if leader != self.leader {
            self.followers.remove(&leader);
            self.followers.insert(
                self.leader,
                FollowerState {
                    log_end_offset: new_end,
                    last_caught_up: now,
                },
            );
        }
        for follower in self.followers.values_mut() {
            follower.log_end_offset = follower.log_end_offset.min(new_end);
        }
        self.leader = leader;
        self.leader_epoch += 1;
        self.online = true;
        if unclean {
            self.isr = vec![leader];
        }
        self.high_watermark = self.high_watermark.min(new_end);
        self.advance_high_watermark();
        truncation
    }

    /// No leader any more: the last one died and no other ISR member lives. The ISR keeps it,
    /// so that it leads again when it returns (Kafka keeps the last ISR member).
    pub(crate) fn go_offline(&mut self) {
        self.online = false;
        self.leader_epoch += 1;
    }

    /// Removes a follower from the ISR (its broker stopped); the leader stays.
    pub(crate) fn remove_from_isr(&mut self, broker: BrokerId) {
        if broker != self.leader || !self.online {
            self.isr.retain(|id| *id != broker);
            self.advance_high_watermark();
        }
    }
}
