//! The replication model without sockets: acks=1, acks=all, the ISR and the high watermark.
#![allow(clippy::unwrap_used)]

mod common;

use core::time::Duration;

use common::{batch, produce_request};
use ktrial_mockbroker::model::{
    Cluster, ClusterConfig, PartitionProduce, ProduceOutcome, TopicConfig, WallClock,
};
use ktrial_protocol::ResponseError;
use ktrial_protocol::compression::Compression;
use ktrial_protocol::records::ProducerState;
use tokio::time::Instant;

const LEADER: i32 = 1;

/// Three brokers, topic `t` with one partition on all three (leader 1); followers 2 and 3 copy
/// after `delay`.
fn cluster(config: ClusterConfig, delay: Duration, now: Instant) -> Cluster {
    let mut cluster = Cluster::new(config, 3, WallClock::new(now, 1_700_000_000_000));
    cluster
        .create_topic("t", 1, 3, TopicConfig::default(), now)
        .unwrap();
    cluster.set_replication_delay(2, delay);
    cluster.set_replication_delay(3, delay);
    cluster
}

fn produce(cluster: &mut Cluster, acks: i16, records: usize, now: Instant) -> ProduceOutcome {
    let request = produce_request(
        acks,
        30_000,
        &[(
            "t",
            0,
            batch(Compression::None, records, ProducerState::NONE),
        )],
    );
    let mut outcome = cluster.produce(LEADER, 9, &request, now);
    cluster.complete_produce(LEADER, &mut outcome, false);
    outcome
}

fn answer(outcome: &ProduceOutcome) -> (Option<ResponseError>, i64) {
    match &outcome.partitions[0].state {
        PartitionProduce::Done(r) => (r.error, r.base_offset),
        other => panic!("not answered: {other:?}"),
    }
}

fn hw(cluster: &Cluster) -> i64 {
    cluster.partition("t", 0).unwrap().high_watermark()
}

#[test]
fn acks_1_is_answered_before_followers_copy() {
    let t0 = Instant::now();
    let mut cluster = cluster(ClusterConfig::default(), Duration::from_millis(100), t0);
    let outcome = produce(&mut cluster, 1, 3, t0);
    assert_eq!(answer(&outcome), (None, 0));
    let p = cluster.partition("t", 0).unwrap();
    assert_eq!(p.log().log_end_offset(), 3);
    assert_eq!(p.replica_log_end_offset(2), Some(0));
    assert_eq!(hw(&cluster), 0, "followers have not copied yet");
    assert_eq!(
        cluster.next_deadline(),
        Some(t0 + Duration::from_millis(100))
    );

    cluster.tick(t0 + Duration::from_millis(99));
    assert_eq!(hw(&cluster), 0);
    cluster.tick(t0 + Duration::from_millis(100));
    assert_eq!(hw(&cluster), 3);
    assert_eq!(cluster.partition("t", 0).unwrap().isr(), &[1, 2, 3]);
}

#[test]
fn acks_all_is_answered_only_once_the_high_watermark_passes_the_batch() {
    let t0 = Instant::now();
    let mut cluster = cluster(ClusterConfig::default(), Duration::from_millis(100), t0);
    let mut outcome = produce(&mut cluster, -1, 2, t0);
    assert!(!outcome.is_complete());

    cluster.tick(t0 + Duration::from_millis(99));
    cluster.complete_produce(LEADER, &mut outcome, false);
    assert!(!outcome.is_complete(), "HW is still below the batch");

    cluster.tick(t0 + Duration::from_millis(100));
    cluster.complete_produce(LEADER, &mut outcome, false);
    assert_eq!(answer(&outcome), (None, 0));
    assert_eq!(hw(&cluster), 2);
}

#[test]
fn acks_all_with_immediate_replication_is_answered_at_once() {
    let t0 = Instant::now();
    let mut cluster = cluster(ClusterConfig::default(), Duration::ZERO, t0);
    let outcome = produce(&mut cluster, -1, 5, t0);
    assert_eq!(answer(&outcome), (None, 0));
    assert_eq!(hw(&cluster), 5);
}

#[test]
fn acks_all_times_out_with_the_batch_left_in_the_log() {
    let t0 = Instant::now();
    let mut cluster = cluster(ClusterConfig::default(), Duration::from_secs(10), t0);
    let mut outcome = produce(&mut cluster, -1, 1, t0);
    cluster.tick(t0 + Duration::from_secs(1));
    cluster.complete_produce(LEADER, &mut outcome, true);
    assert_eq!(answer(&outcome).0, Some(ResponseError::RequestTimedOut));
    assert_eq!(cluster.partition("t", 0).unwrap().log().log_end_offset(), 1);
}

#[test]
fn not_enough_replicas_when_the_isr_is_below_min_and_nothing_is_written() {
    let t0 = Instant::now();
    let config = ClusterConfig {
        min_insync_replicas: 2,
        replica_lag_time_max: Duration::from_secs(1),
        ..ClusterConfig::default()
    };
    let mut cluster = cluster(config, Duration::from_secs(60), t0);
    assert_eq!(answer(&produce(&mut cluster, 1, 1, t0)), (None, 0));

    cluster.tick(t0 + Duration::from_millis(1000));
    assert_eq!(
        cluster.partition("t", 0).unwrap().isr(),
        &[1, 2, 3],
        "not yet past the lag limit"
    );
    let shrink_at = cluster.next_deadline().unwrap();
    assert_eq!(shrink_at, t0 + Duration::from_millis(1001));
    cluster.tick(shrink_at);
    assert_eq!(cluster.partition("t", 0).unwrap().isr(), &[1]);
    assert_eq!(hw(&cluster), 1, "HW follows the shrunk ISR");

    let t1 = shrink_at + Duration::from_millis(1);
    let outcome = produce(&mut cluster, -1, 1, t1);
    assert_eq!(answer(&outcome).0, Some(ResponseError::NotEnoughReplicas));
    assert_eq!(cluster.partition("t", 0).unwrap().log().log_end_offset(), 1);
    // acks=1 still goes through.
    assert_eq!(answer(&produce(&mut cluster, 1, 1, t1)), (None, 1));
}

#[test]
fn isr_shrinking_after_append_gives_not_enough_replicas_after_append_then_followers_rejoin() {
    let t0 = Instant::now();
    let config = ClusterConfig {
        min_insync_replicas: 2,
        replica_lag_time_max: Duration::from_secs(1),
        ..ClusterConfig::default()
    };
    let mut cluster = cluster(config, Duration::from_secs(5), t0);
    let mut outcome = produce(&mut cluster, -1, 4, t0);
    assert!(!outcome.is_complete());

    cluster.tick(t0 + Duration::from_millis(1001));
    cluster.complete_produce(LEADER, &mut outcome, false);
    assert_eq!(
        answer(&outcome).0,
        Some(ResponseError::NotEnoughReplicasAfterAppend)
    );
    assert_eq!(
        cluster.partition("t", 0).unwrap().log().log_end_offset(),
        4,
        "the write stays"
    );

    cluster.tick(t0 + Duration::from_secs(5));
    let p = cluster.partition("t", 0).unwrap();
    assert_eq!(p.isr(), &[1, 2, 3], "caught-up followers rejoin");
    assert_eq!(p.replica_log_end_offset(3), Some(4));
}

#[test]
fn one_slow_follower_leaves_the_isr_and_the_high_watermark_moves_on() {
    let t0 = Instant::now();
    let config = ClusterConfig {
        replica_lag_time_max: Duration::from_secs(1),
        ..ClusterConfig::default()
    };
    let mut cluster = cluster(config, Duration::ZERO, t0);
    cluster.set_replication_delay(3, Duration::from_secs(3));
    let mut outcome = produce(&mut cluster, -1, 1, t0);
    assert!(!outcome.is_complete(), "broker 3 has not copied");
    cluster.tick(t0 + Duration::from_millis(1001));
    assert_eq!(cluster.partition("t", 0).unwrap().isr(), &[1, 2]);
    cluster.complete_produce(LEADER, &mut outcome, false);
    assert_eq!(
        answer(&outcome),
        (None, 0),
        "min.insync.replicas=1 is still met"
    );
}
