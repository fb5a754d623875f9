//! The client side of a simulation: the workload sends through a real [`Producer`], records
//! what the producer reports for every record, and fires the cluster events that wait for a
//! number of acknowledged records.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ktrial_mockbroker::SharedCluster;
use ktrial_mockbroker::faults::ClusterEvent;
use ktrial_producer::{Producer, ProducerError, ProducerRecord, RecordMetadata};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::deadlines::Deadlines;

use crate::check::{Outcome, Sent};
use crate::progress::{ID_BYTES, Progress, key_of};
use crate::scenario::{SendMode, Workload};

/// What the client saw, for the checkers.
#[derive(Debug, Default)]
pub struct ClientReport {
    /// Every record, in send order, with the producer's verdict.
    pub sent: Vec<Sent>,
    /// Events fired on acknowledgement counts, and what went wrong firing them.
    pub trigger_errors: Vec<String>,
}

fn record_result(
    progress: &Mutex<Progress>,
    id: u64,
    result: Result<RecordMetadata, ProducerError>,
) {
    let outcome = match result {
        Ok(meta) => Outcome::Acked {
            partition: meta.partition,
            offset: meta.offset,
        },
        Err(e) => Outcome::Failed(e.to_string()),
    };
    progress
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .record(id, outcome);
}

/// Runs the workload through `producer`; `triggers` are (acknowledged count, event) pairs; its
/// waits are registered in `deadlines`.
pub async fn run(
    producer: Producer,
    workload: &Workload,
    triggers: Vec<(u64, ClusterEvent)>,
    cluster: Arc<SharedCluster>,
    close_timeout: Duration,
    deadlines: &Deadlines,
) -> ClientReport {
    let progress = Arc::new(Mutex::new(Progress::new(
        workload.records,
        triggers,
        cluster,
    )));
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
    let (sent, trigger_errors) = progress
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .finish(workload.keys);
    ClientReport {
        sent,
        trigger_errors,
    }
}
