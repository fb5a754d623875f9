//! A scenario's mock cluster, the same for both runners: its brokers, topics, settings and fault
//! plan (rules, and the events at a time) as a [`MockClusterBuilder`] that the simulation gives
//! its clock and simulated hosts and a run against a real client gives loopback listeners; and
//! the final logs read back for the checkers.

use std::collections::BTreeMap;
use std::time::Duration;

use ktrial_mockbroker::{
    ClusterConfig, ClusterEvent, MockCluster, MockClusterBuilder, ScheduledEvent, SharedCluster,
};

use crate::check::Stored;
use crate::progress::ID_BYTES;
use crate::scenario::Scenario;

/// The cluster of `scenario`, seeded with `seed`, with its rules and its timed events.
pub(crate) fn scenario_cluster(scenario: &Scenario, seed: u64) -> MockClusterBuilder {
    let spec = &scenario.cluster;
    let config = ClusterConfig {
        message_max_bytes: spec.message_max_bytes as usize,
        ..ClusterConfig::default()
    };
    let mut builder = MockCluster::builder()
        .config(config)
        .brokers(spec.brokers as i32)
        .seed(seed)
        .auto_create_topics(spec.auto_create_topics)
        .min_insync_replicas(spec.min_insync_replicas as usize)
        .replica_lag_time_max(Duration::from_millis(spec.replica_lag_time_max_ms));
    for topic in &spec.topics {
        builder = builder.topic(
            &topic.name,
            topic.partitions as i32,
            topic.replication as i16,
        );
    }
    for rule in &scenario.faults.rules {
        builder = builder.fault(rule.clone());
    }
    for event in scenario
        .faults
        .events
        .iter()
        .filter(|e| e.after_acked.is_none())
    {
        builder = builder.event(ScheduledEvent {
            at_ms: event.at_ms,
            event: event.event.clone(),
        });
    }
    builder
}

/// The events of `scenario` that wait for a number of acknowledged records.
pub(crate) fn ack_triggers(scenario: &Scenario) -> Vec<(u64, ClusterEvent)> {
    scenario
        .faults
        .events
        .iter()
        .filter_map(|e| e.after_acked.map(|n| (n, e.event.clone())))
        .collect()
}

/// Every record of every partition of `topic`, by partition; ids read from the values.
pub(crate) fn final_logs(cluster: &SharedCluster, topic: &str) -> BTreeMap<i32, Vec<Stored>> {
    cluster.read(cluster.now(), |model| {
        let partitions = model
            .topic(topic)
            .map_or(0, |t| t.partitions().len() as i32);
        (0..partitions)
            .map(|p| {
                let records = model
                    .records(topic, p)
                    .and_then(Result::ok)
                    .unwrap_or_default();
                let stored = records
                    .into_iter()
                    .filter_map(|r| {
                        let id = r.value.as_deref()?.first_chunk::<ID_BYTES>()?;
                        Some(Stored {
                            offset: r.offset,
                            id: u64::from_be_bytes(*id),
                            key: r.key.map(|k| k.to_vec()),
                        })
                    })
                    .collect();
                (p, stored)
            })
            .collect()
    })
}
