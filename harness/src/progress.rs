//! What a client has been told so far, record by record, and the cluster events that wait for a
//! number of acknowledged records: fired the moment that many acknowledgements are in, by the
//! simulation's workload as its producer completes deliveries and by a run against a real
//! client as its driver's reports arrive.

use std::sync::Arc;

use ktrial_mockbroker::{ClusterEvent, ScheduledEvent, SharedCluster};

use crate::check::{Outcome, Sent};

/// Bytes at the front of every value that carry the record's id (its send index).
pub const ID_BYTES: usize = 8;

/// The key of record `id`: `key-<id mod keys>`, or none with no key space.
pub fn key_of(id: u64, keys: u64) -> Option<Vec<u8>> {
    (keys > 0).then(|| format!("key-{}", id % keys).into_bytes())
}

/// Every record's outcome so far, and the events still waiting on acknowledgements.
pub(crate) struct Progress {
    outcomes: Vec<Outcome>,
    acked: u64,
    /// Events still waiting, sorted by the acknowledged count they wait for.
    triggers: Vec<(u64, ClusterEvent)>,
    cluster: Arc<SharedCluster>,
    trigger_errors: Vec<String>,
}

impl Progress {
    /// `records` records, none reported yet; `triggers` are (acknowledged count, event) pairs.
    pub(crate) fn new(
        records: u64,
        mut triggers: Vec<(u64, ClusterEvent)>,
        cluster: Arc<SharedCluster>,
    ) -> Self {
        triggers.sort_by_key(|(n, _)| *n);
        Self {
            outcomes: vec![Outcome::Unknown; records as usize],
            acked: 0,
            triggers,
            cluster,
            trigger_errors: Vec::new(),
        }
    }

    /// Whether record `id` was reported already.
    pub(crate) fn reported(&self, id: u64) -> bool {
        self.outcomes
            .get(id as usize)
            .is_some_and(|o| *o != Outcome::Unknown)
    }

    /// The first record at or after `id` that was reported, if any.
    pub(crate) fn reported_from(&self, id: u64) -> Option<u64> {
        (id..self.outcomes.len() as u64).find(|&i| self.reported(i))
    }

    /// Record `id` ended as `outcome`; fires every event whose count is now reached.
    pub(crate) fn record(&mut self, id: u64, outcome: Outcome) {
        if matches!(outcome, Outcome::Acked { .. }) {
            self.acked += 1;
        }
        if let Some(slot) = self.outcomes.get_mut(id as usize) {
            *slot = outcome;
        }
        while self.triggers.first().is_some_and(|(n, _)| *n <= self.acked) {
            let (n, event) = self.triggers.remove(0);
            if let Err(e) = self
                .cluster
                .apply_event(ScheduledEvent { at_ms: None, event })
            {
                self.trigger_errors
                    .push(format!("event after {n} acknowledged records: {e}"));
            }
        }
    }

    /// Every record with its key and outcome, in send order, and what went wrong firing events.
    pub(crate) fn finish(&mut self, keys: u64) -> (Vec<Sent>, Vec<String>) {
        let sent = std::mem::take(&mut self.outcomes)
            .into_iter()
            .enumerate()
            .map(|(id, outcome)| Sent {
                id: id as u64,
                key: key_of(id as u64, keys),
                outcome,
            })
            .collect();
        (sent, std::mem::take(&mut self.trigger_errors))
    }
}
