//! The producer against real Apache Kafka 4.3.1 (issue 8, part 3), started by
//! `scripts/real-kafka.sh` (or, for one broker, `KTRIAL_REAL_KAFKA_BOOTSTRAP`);
//! `KTRIAL_NO_REAL_KAFKA=1` skips it with a message.
//!
//! - One broker: the end-to-end check of every codec with idempotence on, read back by a real
//!   consumer (rust-rdkafka) once each and in send order per partition; and sending right after
//!   CreateTopics, when leaders may still refuse the first batches.
//! - Three brokers (ignored by default, `.ci/run` runs it with `--ignored three_broker`): acks=all
//!   with idempotence while the leader of a partition is killed mid-run; nothing acknowledged is
//!   lost or duplicated.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::real_kafka::{RealKafka, skipped};
use common::{TestCluster, assert_once_in_order, builder, high_watermarks, read_back, value};
use ktrial_producer::{ProducerConfig, ProducerError, ProducerRecord, RecordMetadata};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

/// [`common::every_codec`] (one million records uncompressed, 20,000 per codec, unless
/// `KTRIAL_RECORDS_PER_CODEC` says otherwise) to 16 partitions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_arrive_once_and_in_order_for_every_codec() {
    if skipped("records_arrive_once_and_in_order_for_every_codec") {
        return;
    }
    // The helper sets neither acks nor enable.idempotence: the Java defaults, acks=all with
    // idempotence, are what runs.
    let defaults = ProducerConfig::default();
    assert!(defaults.enable_idempotence);
    let cluster = TestCluster::real_kafka(1);
    common::assert_every_codec_arrives_once_in_order(&cluster, 16, &common::every_codec()).await;
}

/// Sending as soon as CreateTopics has answered, before every leader has applied the new
/// metadata. The first batch of a partition may be answered NOT_LEADER_OR_FOLLOWER while a
/// later batch in flight reaches the leader once it is ready and is appended first (Kafka takes
/// any first sequence from a producer it has no state for, KIP-360); the retried first batch is
/// then answered OUT_OF_ORDER_SEQUENCE_NUMBER. The producer retries it until
/// `delivery.timeout.ms` and its records fail (1,887 to 9,877 of 300,000 in three of six runs
/// here), as Java's does: `TransactionManager.canRetry` retries a batch that is not the next
/// expected sequence as it is, and `handleFailedBatch` bumps the epoch when it fails. So
/// neither delivery nor send order is asserted here.
/// What must hold either way: every acknowledged record is in the log once, where it was
/// acknowledged, and nothing else is in the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn right_after_topic_creation_only_acknowledged_records_are_in_the_log() {
    if skipped("right_after_topic_creation_only_acknowledged_records_are_in_the_log") {
        return;
    }
    const RECORDS: u64 = 300_000;
    const PARTITIONS: i32 = 16;
    let kafka = RealKafka::start(1);
    let topic = kafka.topic_name("fresh");
    kafka.create_topic_unready(&topic, PARTITIONS);
    let results = common::produce_all(
        kafka.bootstrap(),
        &topic,
        RECORDS,
        &[
            ("batch.size", "262144"),
            ("linger.ms", "20"),
            // A lost first batch fails in seconds rather than after the default two minutes.
            ("request.timeout.ms", "10000"),
            ("delivery.timeout.ms", "20000"),
        ],
    )
    .await;
    let in_log = high_watermarks(kafka.bootstrap(), &topic, PARTITIONS);
    let back = read_back(kafka.bootstrap(), &topic, PARTITIONS, in_log as usize);
    let acked = assert_acknowledged_in_place(&results, &back);
    println!(
        "fresh topic: {acked} of {RECORDS} acknowledged; first failure: {:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(
        in_log, acked as i64,
        "the log holds only acknowledged records"
    );
}

/// Records sent by the failover test, in chunks with a pause between them so that the run
/// lasts long enough for the kill to land mid-stream.
const FAILOVER_RECORDS: u64 = 200_000;
const FAILOVER_CHUNK: u64 = 2_000;
const FAILOVER_PAUSE: Duration = Duration::from_millis(20);
/// The leader is killed once this many records were sent.
const KILL_AFTER: u64 = 60_000;
const FAILOVER_PARTITIONS: i32 = 6;

/// Three brokers, a topic with replication 3 and `min.insync.replicas=2`, acks=all with
/// idempotence. The leader of partition 0 is killed (SIGKILL) a third of the way through;
/// Kafka fences it after `broker.session.timeout.ms` and elects new leaders from the ISR.
/// Every acknowledged record must be in the log at the offset it was acknowledged with, the
/// log must hold each record once, in send order per partition, and every record must end up
/// acknowledged (two of three replicas remain, which satisfies min.insync.replicas).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "starts 3 Kafka brokers and waits out a failover (~1 min); .ci/run runs it with --ignored three_broker"]
async fn three_broker_leader_killed_mid_run_loses_no_acknowledged_record() {
    if skipped("three_broker_leader_killed_mid_run_loses_no_acknowledged_record") {
        return;
    }
    let kafka = RealKafka::start(3);
    let topic = kafka.topic_name("failover");
    kafka.create_topic(&topic, FAILOVER_PARTITIONS);
    let victim = leader_of(kafka.bootstrap(), &topic, 0);
    let producer = builder(
        kafka.bootstrap(),
        &[("acks", "all"), ("enable.idempotence", "true")],
    )
    .build()
    .await
    .unwrap();

    let mut deliveries = Vec::with_capacity(FAILOVER_RECORDS as usize);
    let mut at_kill = None;
    for seq in 0..FAILOVER_RECORDS {
        if seq == KILL_AFTER {
            at_kill = Some((
                producer.statistics().records_acked,
                std::time::Instant::now(),
            ));
            // The producer's sender task keeps its requests going on the other worker meanwhile.
            tokio::task::block_in_place(|| kafka.kill_broker(victim));
        }
        let key = (seq % 97).to_string();
        let v = value(seq, 24);
        let record = ProducerRecord::new(&topic).key(key.as_bytes()).value(&v);
        deliveries.push(producer.send(record).await.unwrap());
        if seq % FAILOVER_CHUNK == FAILOVER_CHUNK - 1 {
            tokio::time::sleep(FAILOVER_PAUSE).await;
        }
    }
    producer.flush().await;
    let (acked_before_kill, killed_at) = at_kill.unwrap();
    let kill_to_flushed = killed_at.elapsed();
    let mut results = Vec::with_capacity(deliveries.len());
    for d in deliveries {
        results.push(d.await);
    }
    producer.close(Duration::from_secs(30)).await.unwrap();
    let acked = results.iter().filter(|r| r.is_ok()).count() as u64;
    println!(
        "failover: broker {victim} (leader of partition 0) killed after {KILL_AFTER} records sent, \
         {acked_before_kill} acknowledged; {acked} of {FAILOVER_RECORDS} acknowledged in the end, \
         {kill_to_flushed:.1?} after the kill"
    );
    assert!(
        acked_before_kill < KILL_AFTER,
        "the kill must land while records are in flight"
    );
    let live = kafka.live_bootstrap();
    assert_ne!(
        leader_of(&live, &topic, 0),
        victim,
        "partition 0 has a new leader"
    );

    let in_log = high_watermarks(&live, &topic, FAILOVER_PARTITIONS);
    let back = read_back(&live, &topic, FAILOVER_PARTITIONS, in_log as usize);
    assert_eq!(assert_acknowledged_in_place(&results, &back), acked);
    assert_eq!(
        acked,
        FAILOVER_RECORDS,
        "every record acknowledged; first failure: {:?}",
        results.iter().find(|r| r.is_err())
    );
    assert_eq!(in_log, FAILOVER_RECORDS as i64, "high watermarks");
    assert_once_in_order(&back, FAILOVER_RECORDS);
}

/// Asserts that every acknowledged record of `results` (in send order, values made by
/// [`value`]) is in `log` at the partition and offset it was acknowledged with; returns how
/// many records were acknowledged.
fn assert_acknowledged_in_place(
    results: &[Result<RecordMetadata, ProducerError>],
    log: &[Vec<Vec<u8>>],
) -> u64 {
    let mut acked = 0;
    for (seq, result) in results.iter().enumerate() {
        let Ok(meta) = result else { continue };
        let at = log[meta.partition as usize].get(meta.offset as usize);
        assert_eq!(
            at.map(|v| common::seq_of(v)),
            Some(seq as u64),
            "record {seq} acknowledged at {}-{}",
            meta.partition,
            meta.offset
        );
        acked += 1;
    }
    acked
}

/// The node id of the leader of `topic`-`partition`, from a real client's Metadata.
fn leader_of(bootstrap: &str, topic: &str, partition: i32) -> i32 {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    metadata.topics()[0]
        .partitions()
        .iter()
        .find(|p| p.id() == partition)
        .map(|p| p.leader())
        .unwrap()
}
