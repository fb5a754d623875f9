//! The client side of a simulation: the workload sends through a real [`Producer`], records
//! what the producer reports for every record, and fires the cluster events that wait for a
//! number of acknowledged records.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ktrial_mockbroker::SharedCluster;
use ktrial_mockbroker::faults::{ClusterEvent, ScheduledEvent};
use ktrial_producer::{Producer, ProducerError, ProducerRecord, RecordMetadata};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::deadlines::Deadlines;

use crate::check::{Outcome, Sent};
use crate::scenario::{SendMode, Workload};

/// Bytes at the front of every value that carry the record's id (its send index).
pub const ID_BYTES: usize = 8;

/// What the client saw, for the checkers.
#[derive(Debug, Default)]
pub struct ClientReport {
    /// Every record, in send order, with the producer's verdict.
    pub sent: Vec<Sent>,
    /// Events fired on acknowledgement counts, and what went wrong firing them.
    pub trigger_errors: Vec<String>,
}

/// Progress shared by the send loop and the delivery tasks.
struct Progress {
    outcomes: Vec<Outcome>,
    acked: u64,
    /// Events still waiting, sorted by the acknowledged count they wait for.
    triggers: Vec<(u64, ClusterEvent)>,
    cluster: Arc<SharedCluster>,
    trigger_errors: Vec<String>,
}

impl Progress {
    fn record(&mut self, id: u64, result: Result<RecordMetadata, ProducerError>) {
        self.outcomes[id as usize] = match result {
            Ok(meta) => {
                self.acked += 1;
                Outcome::Acked {
                    partition: meta.partition,
                    offset: meta.offset,
                }
            }
            Err(e) => Outcome::Failed(e.to_string()),
        };
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
}

fn record_result(
    progress: &Mutex<Progress>,
    id: u64,
    result: Result<RecordMetadata, ProducerError>,
) {
    progress
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .record(id, result);
}

/// The key of record `id`: `key-<id mod keys>`, or none with no key space.
pub fn key_of(id: u64, keys: u64) -> Option<Vec<u8>> {
    (keys > 0).then(|| format!("key-{}", id % keys).into_bytes())
}

/// Runs the workload through `producer`; `triggers` are (acknowledged count, event) pairs; its
/// waits are registered in `deadlines`.
pub async fn run(
    producer: Producer,
    workload: &Workload,
    mut triggers: Vec<(u64, ClusterEvent)>,
    cluster: Arc<SharedCluster>,
    close_timeout: Duration,
    deadlines: &Deadlines,
) -> ClientReport {
    triggers.sort_by_key(|(n, _)| *n);
    let progress = Arc::new(Mutex::new(Progress {
        outcomes: vec![Outcome::Unknown; workload.records as usize],
        acked: 0,
        triggers,
        cluster,
        trigger_errors: Vec::new(),
    }));
    let mut deliveries = JoinSet::new();
    let mut value = vec![b'.'; workload.value_size.max(ID_BYTES)];
    let start = Instant::now();
    for id in 0..workload.records {
        if let Some(rate) = workload.rate {
            deadlines
                .sleep_until(start + Duration::from_secs_f64(id as f64 / rate))
                .await;
        }
        value[..ID_BYTES].copy_from_slice(&id.to_be_bytes());
        let key = key_of(id, workload.keys);
        let mut record = ProducerRecord::new(&workload.topic).value(&value);
        if let Some(key) = &key {
            record = record.key(key);
        }
        match producer.send(record).await {
            Err(e) => record_result(&progress, id, Err(e)),
            Ok(delivery) => match workload.mode {
                SendMode::Sync => record_result(&progress, id, delivery.await),
                SendMode::Async => {
                    let progress = Arc::clone(&progress);
                    deliveries.spawn(async move { record_result(&progress, id, delivery.await) });
                }
                SendMode::FireAndForget => drop(delivery),
            },
        }
        if workload.flush_every.is_some_and(|n| (id + 1) % n == 0) {
            producer.flush().await;
        }
    }
    producer.flush().await;
    // A close that runs out of time fails what is still pending; the outcomes say so.
    let _ = producer.close(close_timeout).await;
    while deliveries.join_next().await.is_some() {}
    let mut progress = progress.lock().unwrap_or_else(PoisonError::into_inner);
    let outcomes = std::mem::take(&mut progress.outcomes);
    ClientReport {
        sent: outcomes
            .into_iter()
            .enumerate()
            .map(|(id, outcome)| Sent {
                id: id as u64,
                key: key_of(id as u64, workload.keys),
                outcome,
            })
            .collect(),
        trigger_errors: std::mem::take(&mut progress.trigger_errors),
    }
}
