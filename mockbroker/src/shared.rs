//! The state shared by every broker's connections: one lock around the cluster model, the fault
//! plan with its seeded RNG, and the journal — held only for synchronous work — plus the cluster
//! [`Clock`] and a change signal, so that waiters (acks=all produce, fetch long polls, brokers
//! watching for down/up, tests) wake on changes; deadlines (replication, scheduled events) wake
//! them through their own timers.
//!
//! Whatever the model reports after a change (elections, truncations, ISR changes) goes into the
//! journal under the same lock, so the journal's order is the order things happened.

use core::time::Duration;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::clock::Clock;
use crate::faults::{
    ActiveRule, ClusterEvent, FaultPlan, FaultRule, Firing, InvalidRule, RequestFacts, RuleId,
    ScheduledEvent, Topology,
};
use crate::intercept::Interceptor;
use crate::journal::{Happening, Journal, JournalEntry};
use crate::model::{BrokerId, Cluster, EventError};

/// The shortest sleep between two polls of a wait.
const MIN_SLEEP: Duration = Duration::from_millis(1);

/// Where a journal entry happened: broker, connection, correlation id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Place {
    /// The broker.
    pub broker: Option<BrokerId>,
    /// The connection on that broker.
    pub connection: Option<u64>,
    /// The request's correlation id.
    pub correlation_id: Option<i32>,
}

struct Inner {
    cluster: Cluster,
    plan: FaultPlan,
    rng: ChaCha8Rng,
    journal: Journal,
    connections: BTreeMap<BrokerId, u64>,
}

impl Inner {
    /// Brings the model to `now` and journals what that caused.
    fn tick(&mut self, clock: &Clock, now: Instant) -> bool {
        self.cluster.tick(now);
        self.drain_notices(clock)
    }

    fn drain_notices(&mut self, clock: &Clock) -> bool {
        let notices = self.cluster.take_notices();
        let any = !notices.is_empty();
        for notice in notices {
            self.journal.push(
                clock.ms_at(notice.at),
                None,
                None,
                None,
                Happening::Cluster {
                    notice: notice.kind,
                },
            );
        }
        any
    }
}

/// The cluster model, fault plan and journal behind a lock, with the clock and a change signal.
pub struct SharedCluster {
    inner: Mutex<Inner>,
    clock: Clock,
    interceptor: Option<Interceptor>,
    changed: watch::Sender<u64>,
}

impl fmt::Debug for SharedCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedCluster")
            .field("clock", &self.clock)
            .field("intercepting", &self.interceptor.is_some())
            .finish_non_exhaustive()
    }
}

/// Settings of a [`SharedCluster`] beyond its model.
#[derive(Clone, Default)]
pub(crate) struct SharedSettings {
    /// The cluster clock (default: tokio's, from now).
    pub clock: Clock,
    /// Seed of the fault plan's RNG.
    pub seed: u64,
    /// Journal capacity (default [`DEFAULT_CAPACITY`](crate::journal::DEFAULT_CAPACITY)).
    pub journal_capacity: Option<usize>,
    /// The escape hatch, if any.
    pub interceptor: Option<Interceptor>,
}

impl fmt::Debug for SharedSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedSettings")
            .field("seed", &self.seed)
            .field("journal_capacity", &self.journal_capacity)
            .field("intercepting", &self.interceptor.is_some())
            .finish_non_exhaustive()
    }
}

impl SharedCluster {
    /// Shares `cluster` with the given clock, seed, journal capacity and interceptor.
    pub(crate) fn with_settings(cluster: Cluster, settings: SharedSettings) -> Self {
        let journal = settings
            .journal_capacity
            .map_or_else(Journal::default, Journal::with_capacity);
        Self {
            inner: Mutex::new(Inner {
                cluster,
                plan: FaultPlan::default(),
                rng: ChaCha8Rng::seed_from_u64(settings.seed),
                journal,
                connections: BTreeMap::new(),
            }),
            clock: settings.clock,
            interceptor: settings.interceptor,
            changed: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn notify(&self) {
        self.changed
            .send_modify(|version| *version = version.wrapping_add(1));
    }

    /// The cluster clock.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The current instant on the cluster clock.
    pub fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The escape hatch, if one is installed.
    pub(crate) fn interceptor(&self) -> Option<&Interceptor> {
        self.interceptor.as_ref()
    }

    /// Runs `f` on the model brought up to `now`, then wakes every waiter.
    pub fn update<R>(&self, now: Instant, f: impl FnOnce(&mut Cluster) -> R) -> R {
        let result = {
            let mut inner = self.lock();
            inner.tick(&self.clock, now);
            let result = f(&mut inner.cluster);
            inner.drain_notices(&self.clock);
            result
        };
        self.notify();
        result
    }

    /// Runs `f` on the model brought up to `now`, waking waiters only if time changed the model.
    pub fn read<R>(&self, now: Instant, f: impl FnOnce(&Cluster) -> R) -> R {
        let (result, changed) = {
            let mut inner = self.lock();
            let changed = inner.tick(&self.clock, now);
            (f(&inner.cluster), changed)
        };
        if changed {
            self.notify();
        }
        result
    }

    /// Polls `poll` on the model, brought up to date, until it returns `Some`: after every change
    /// and at every deadline of the model. `None` once `deadline` passes without an answer (after
    /// a last poll at the deadline).
    pub async fn wait_until<R>(
        &self,
        deadline: Instant,
        mut poll: impl FnMut(&mut Cluster, Instant) -> Option<R>,
    ) -> Option<R> {
        let mut changes = self.changed.subscribe();
        loop {
            let now = self.now();
            let (result, next, changed) = {
                let mut inner = self.lock();
                let changed = inner.tick(&self.clock, now);
                let result = poll(&mut inner.cluster, now);
                (result, inner.cluster.next_deadline(), changed)
            };
            if changed {
                self.notify();
                changes.borrow_and_update();
            }
            if result.is_some() || now >= deadline {
                return result;
            }
            // Never sleep less than a tick: a deadline that is already due must not spin.
            let wake = next
                .map_or(deadline, |next| next.min(deadline))
                .max(now + MIN_SLEEP);
            tokio::select! {
                biased;
                _ = changes.changed() => {}
                () = self.clock.sleep_until(wake) => {}
            }
        }
    }

    /// Waits until `broker` is up (`true`) or down (`false`).
    pub(crate) async fn wait_for_broker(&self, broker: BrokerId, up: bool) {
        // A year of cluster time stands for "no deadline".
        let far = self.now() + Duration::from_secs(365 * 24 * 3600);
        while self
            .wait_until(far, |c, _| (c.is_broker_up(broker) == up).then_some(()))
            .await
            .is_none()
        {}
    }

    /// Numbers a new connection of `broker`: 1, 2, … in accept order, across restarts.
    pub(crate) fn next_connection(&self, broker: BrokerId) -> u64 {
        let mut inner = self.lock();
        let next = inner.connections.entry(broker).or_insert(0);
        *next += 1;
        *next
    }

    /// Adds an entry to the journal at the current cluster time.
    pub(crate) fn journal(&self, place: Place, what: Happening) {
        let at = self.clock.elapsed_ms();
        self.lock().journal.push(
            at,
            place.broker,
            place.connection,
            place.correlation_id,
            what,
        );
    }

    /// The journal entries with `seq >= since`, oldest first.
    pub fn journal_since(&self, since: u64) -> Vec<JournalEntry> {
        self.lock().journal.since(since)
    }

    /// The journal as a text timeline, one line per entry.
    pub fn timeline(&self) -> String {
        self.lock().journal.timeline()
    }

    /// Decides with the seeded RNG what the fault plan does to a request; a firing is journaled.
    pub(crate) fn decide(&self, place: Place, facts: &RequestFacts<'_>) -> Option<Firing> {
        let mut inner = self.lock();
        if inner.plan.is_empty() {
            return None;
        }
        let Inner { plan, rng, .. } = &mut *inner;
        let firing = plan.decide(facts, rng)?;
        let at = self.clock.elapsed_ms();
        inner.journal.push(
            at,
            place.broker,
            place.connection,
            place.correlation_id,
            Happening::Fault {
                rule: firing.rule,
                action: firing.action.clone(),
            },
        );
        Some(firing)
    }

    /// Adds a fault rule after checking it against the cluster; its id.
    pub fn add_fault(&self, rule: FaultRule) -> Result<RuleId, InvalidRule> {
        let mut inner = self.lock();
        let Inner { plan, cluster, .. } = &mut *inner;
        plan.add(rule, cluster)
    }

    /// Adds several rules, all or none (the error names the rule's index).
    pub(crate) fn add_faults(&self, rules: Vec<FaultRule>) -> Result<Vec<RuleId>, InvalidRule> {
        let mut inner = self.lock();
        let Inner { plan, cluster, .. } = &mut *inner;
        plan.add_all(rules, cluster)
    }

    /// Removes a rule; false if there was none with that id.
    pub fn remove_fault(&self, id: RuleId) -> bool {
        self.lock().plan.remove(id)
    }

    /// Removes every rule.
    pub fn clear_faults(&self) {
        self.lock().plan.clear();
    }

    /// The rules in force, with their counters.
    pub fn faults(&self) -> Vec<ActiveRule> {
        self.lock().plan.rules().to_vec()
    }

    /// Checks an event against the cluster without applying it.
    pub(crate) fn validate_event(&self, event: &ClusterEvent) -> Result<(), InvalidRule> {
        event.validate(&self.lock().cluster)
    }

    /// Applies an event now, or schedules it when `at_ms` is in the future.
    pub fn apply_event(&self, event: ScheduledEvent) -> Result<(), EventError> {
        let now = self.now();
        let result = {
            let mut inner = self.lock();
            inner.tick(&self.clock, now);
            let due = event
                .at_ms
                .map(|ms| self.clock.origin() + Duration::from_millis(ms))
                .filter(|at| *at > now);
            let result = match due {
                Some(at) => {
                    inner.cluster.schedule_event(at, event.event);
                    Ok(())
                }
                None => inner.cluster.apply_event(&event.event, now),
            };
            inner.drain_notices(&self.clock);
            result
        };
        self.notify();
        result
    }
}

impl Topology for Cluster {
    fn has_broker(&self, broker: i32) -> bool {
        self.brokers().iter().any(|b| b.id == broker)
    }

    fn partition_count(&self, topic: &str) -> Option<i32> {
        self.topic(topic)
            .and_then(|t| i32::try_from(t.partitions().len()).ok())
    }
}
