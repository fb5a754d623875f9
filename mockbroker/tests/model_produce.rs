//! The produce path of the model without sockets: idempotence (`ProducerAppendInfo`, KIP-360)
//! and batch validation (`ProduceRequest.validateRecords`), each answered with Kafka's error code.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::{Bytes, BytesMut};
use common::{batch, produce_request, producer};
use ktrial_mockbroker::model::{
    Cluster, ClusterConfig, PartitionProduce, TimestampType, TopicConfig, WallClock,
};
use ktrial_protocol::ResponseError;
use ktrial_protocol::compression::Compression;
use ktrial_protocol::records::{ProducerState, set_producer_state};
use tokio::time::Instant;

const WALL_MS: i64 = 1_700_000_000_000;

fn cluster(config: ClusterConfig, now: Instant) -> Cluster {
    let mut cluster = Cluster::new(config, 1, WallClock::new(now, WALL_MS));
    cluster
        .create_topic("t", 1, 1, TopicConfig::default(), now)
        .unwrap();
    cluster
}

/// Produces one batch to `t`-0 at `version`; the error and base offset it was answered with.
fn send(
    cluster: &mut Cluster,
    version: i16,
    acks: i16,
    records: Bytes,
) -> (Option<ResponseError>, i64) {
    let now = Instant::now();
    let mut outcome = cluster.produce(
        1,
        version,
        &produce_request(acks, 1000, &[("t", 0, records)]),
        now,
    );
    cluster.complete_produce(1, &mut outcome, false);
    match &outcome.partitions[0].state {
        PartitionProduce::Done(r) => (r.error, r.base_offset),
        other => panic!("not answered: {other:?}"),
    }
}

fn leo(cluster: &Cluster) -> i64 {
    cluster.partition("t", 0).unwrap().log().log_end_offset()
}

#[test]
fn a_retried_batch_gets_its_original_offsets_and_is_not_appended_again() {
    let mut c = cluster(ClusterConfig::default(), Instant::now());
    let (pid, epoch) = c.allocate_producer_id();
    let first = batch(Compression::Lz4, 3, producer(pid, epoch, 0));
    assert_eq!(send(&mut c, 9, -1, first.clone()), (None, 0));
    assert_eq!(
        send(
            &mut c,
            9,
            -1,
            batch(Compression::Lz4, 2, producer(pid, epoch, 3))
        ),
        (None, 3)
    );
    assert_eq!(
        send(&mut c, 9, -1, first),
        (None, 0),
        "duplicate answered with the first offset"
    );
    assert_eq!(leo(&c), 5);
    let records = c.records("t", 0).unwrap().unwrap();
    assert_eq!(records.len(), 5);
    assert_eq!(
        records.iter().map(|r| r.sequence).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4]
    );
    assert_eq!(records[3].batch.base_offset, 3);
    assert_eq!(records[3].producer_id, pid);
}

#[test]
fn sequence_gaps_stale_epochs_and_new_epochs() {
    let mut c = cluster(ClusterConfig::default(), Instant::now());
    let (pid, _) = c.allocate_producer_id();
    assert_eq!(
        send(
            &mut c,
            9,
            -1,
            batch(Compression::None, 2, producer(pid, 1, 0))
        ),
        (None, 0)
    );
    let gap = batch(Compression::None, 1, producer(pid, 1, 5));
    assert_eq!(
        send(&mut c, 9, -1, gap).0,
        Some(ResponseError::OutOfOrderSequenceNumber)
    );
    let stale = batch(Compression::None, 1, producer(pid, 0, 2));
    assert_eq!(
        send(&mut c, 9, -1, stale).0,
        Some(ResponseError::InvalidProducerEpoch)
    );
    let bumped_not_zero = batch(Compression::None, 1, producer(pid, 2, 2));
    assert_eq!(
        send(&mut c, 9, -1, bumped_not_zero).0,
        Some(ResponseError::OutOfOrderSequenceNumber)
    );
    assert_eq!(
        send(
            &mut c,
            9,
            -1,
            batch(Compression::None, 1, producer(pid, 2, 0))
        ),
        (None, 2)
    );
    assert_eq!(leo(&c), 3);
}

#[test]
fn an_unknown_producer_may_start_at_any_sequence() {
    let mut c = cluster(ClusterConfig::default(), Instant::now());
    assert_eq!(
        send(
            &mut c,
            9,
            1,
            batch(Compression::None, 1, producer(77, 0, 1234))
        ),
        (None, 0)
    );
    assert_eq!(
        send(
            &mut c,
            9,
            1,
            batch(Compression::None, 1, producer(77, 0, 1235))
        ),
        (None, 1)
    );
}

#[test]
fn sequences_wrap_from_i32_max_to_zero() {
    let mut c = cluster(ClusterConfig::default(), Instant::now());
    let near_max = batch(Compression::None, 2, producer(5, 0, i32::MAX - 1));
    assert_eq!(send(&mut c, 9, -1, near_max), (None, 0));
    assert_eq!(
        send(
            &mut c,
            9,
            -1,
            batch(Compression::None, 1, producer(5, 0, 0))
        ),
        (None, 2)
    );
    let wrapping = batch(Compression::None, 3, producer(6, 0, i32::MAX - 1));
    assert_eq!(send(&mut c, 9, -1, wrapping.clone()), (None, 3));
    assert_eq!(
        send(&mut c, 9, -1, wrapping),
        (None, 3),
        "duplicate of a wrapping batch"
    );
    assert_eq!(
        send(
            &mut c,
            9,
            -1,
            batch(Compression::None, 1, producer(6, 0, 1))
        ),
        (None, 6)
    );
    let records = c.records("t", 0).unwrap().unwrap();
    assert_eq!(
        records[5].sequence, 0,
        "the third record of the wrapping batch"
    );
}

#[test]
fn only_the_last_five_batches_are_remembered() {
    let mut c = cluster(ClusterConfig::default(), Instant::now());
    let batches: Vec<Bytes> = (0..6)
        .map(|i| batch(Compression::None, 1, producer(9, 0, i)))
        .collect();
    for (i, b) in batches.iter().enumerate() {
        assert_eq!(send(&mut c, 9, -1, b.clone()), (None, i as i64));
    }
    assert_eq!(
        send(&mut c, 9, -1, batches[1].clone()),
        (None, 1),
        "fifth newest: cached"
    );
    assert_eq!(
        send(&mut c, 9, -1, batches[0].clone()).0,
        Some(ResponseError::OutOfOrderSequenceNumber),
        "sixth newest: evicted, so out of order"
    );
    assert_eq!(leo(&c), 6);
}

#[test]
fn corrupt_and_malformed_batches_get_kafka_error_codes() {
    let mut c = cluster(ClusterConfig::default(), Instant::now());
    let good = batch(Compression::None, 2, ProducerState::NONE);

    let mut bad_crc = BytesMut::from(&good[..]);
    let last = bad_crc.len() - 1;
    bad_crc[last] ^= 0xff;
    assert_eq!(
        send(&mut c, 9, 1, bad_crc.freeze()).0,
        Some(ResponseError::CorruptMessage)
    );

    let mut two = BytesMut::from(&good[..]);
    two.extend_from_slice(&good);
    assert_eq!(
        send(&mut c, 9, 1, two.freeze()).0,
        Some(ResponseError::InvalidRecord)
    );

    let mut overcounted = BytesMut::from(&good[..]);
    overcounted[57..61].copy_from_slice(&1000i32.to_be_bytes());
    set_producer_state(&mut overcounted, ProducerState::NONE).unwrap();
    assert_eq!(
        send(&mut c, 9, 1, overcounted.freeze()).0,
        Some(ResponseError::InvalidRecord)
    );

    let mut magic1 = BytesMut::from(&good[..]);
    magic1[16] = 1;
    assert_eq!(
        send(&mut c, 9, 1, magic1.freeze()).0,
        Some(ResponseError::InvalidRecord)
    );

    assert_eq!(
        send(&mut c, 9, 1, good.slice(..30)).0,
        Some(ResponseError::InvalidRecord)
    );
    assert_eq!(
        send(&mut c, 9, 1, Bytes::new()).0,
        Some(ResponseError::InvalidRecord)
    );
    assert_eq!(
        send(&mut c, 9, 2, good.clone()).0,
        Some(ResponseError::InvalidRequiredAcks)
    );
    assert_eq!(leo(&c), 0, "nothing was appended");
    assert_eq!(send(&mut c, 9, 1, good), (None, 0));
}

#[test]
fn size_limit_zstd_version_and_log_append_time() {
    let config = ClusterConfig {
        message_max_bytes: 200,
        ..ClusterConfig::default()
    };
    let t0 = Instant::now();
    let mut c = cluster(config, t0);
    let big = batch(Compression::None, 20, ProducerState::NONE);
    assert!(big.len() > 200);
    assert_eq!(
        send(&mut c, 9, 1, big).0,
        Some(ResponseError::MessageTooLarge)
    );

    let zstd = batch(Compression::Zstd, 2, ProducerState::NONE);
    assert_eq!(
        send(&mut c, 6, 1, zstd.clone()).0,
        Some(ResponseError::UnsupportedCompressionType)
    );
    assert_eq!(send(&mut c, 7, 1, zstd), (None, 0));

    let log_append = TopicConfig {
        timestamp_type: TimestampType::LogAppendTime,
        ..TopicConfig::default()
    };
    c.create_topic("lat", 1, 1, log_append, t0).unwrap();
    let request = produce_request(
        1,
        1000,
        &[("lat", 0, batch(Compression::Gzip, 2, ProducerState::NONE))],
    );
    let outcome = c.produce(1, 9, &request, t0);
    let PartitionProduce::Done(response) = &outcome.partitions[0].state else {
        panic!("acks=1 is answered at once");
    };
    assert_eq!(response.log_append_time, WALL_MS);
    let records = c.records("lat", 0).unwrap().unwrap();
    assert!(
        records
            .iter()
            .all(|r| r.log_append_time && r.timestamp == WALL_MS)
    );
}

#[test]
fn unknown_topics_leaders_and_partitions() {
    let now = Instant::now();
    let mut c = Cluster::new(
        ClusterConfig {
            auto_create_topics: false,
            ..ClusterConfig::default()
        },
        2,
        WallClock::new(now, WALL_MS),
    );
    c.create_topic("t", 2, 1, TopicConfig::default(), now)
        .unwrap();
    let records = batch(Compression::None, 1, ProducerState::NONE);
    let request = produce_request(
        1,
        1000,
        &[
            ("t", 0, records.clone()),
            ("t", 1, records.clone()),
            ("t", 7, records.clone()),
            ("nope", 0, records),
        ],
    );
    let outcome = c.produce(1, 9, &request, now);
    let errors: Vec<_> = outcome
        .partitions
        .iter()
        .map(|p| match &p.state {
            PartitionProduce::Done(r) => r.error,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(c.partition("t", 0).unwrap().leader(), 1);
    assert_eq!(
        errors,
        [
            None,
            Some(ResponseError::NotLeaderOrFollower),
            Some(ResponseError::UnknownTopicOrPartition),
            Some(ResponseError::UnknownTopicOrPartition)
        ]
    );
    assert!(outcome.has_error());
    assert!(c.topic("nope").is_none(), "auto-creation is off");
}

#[test]
fn produce_never_auto_creates_topics_but_metadata_does() {
    let now = Instant::now();
    let config = ClusterConfig {
        default_partitions: 3,
        ..ClusterConfig::default()
    };
    let mut c = Cluster::new(config, 1, WallClock::new(now, WALL_MS));
    let request = produce_request(
        1,
        1000,
        &[(
            "fresh",
            2,
            batch(Compression::Snappy, 1, ProducerState::NONE),
        )],
    );
    let outcome = c.produce(1, 9, &request, now);
    match &outcome.partitions[0].state {
        PartitionProduce::Done(r) => {
            assert_eq!(r.error, Some(ResponseError::UnknownTopicOrPartition));
            assert_eq!(r.base_offset, -1);
        }
        other => panic!("{other:?}"),
    }
    assert!(c.topic("fresh").is_none());
    // Metadata's path still creates it with the cluster defaults.
    assert_eq!(c.ensure_topic("fresh", now).unwrap().partitions().len(), 3);
    let outcome = c.produce(1, 9, &request, now);
    assert!(outcome.is_complete() && !outcome.has_error());
}

#[test]
fn list_offsets_special_timestamps() {
    let now = Instant::now();
    let mut c = Cluster::new(ClusterConfig::default(), 1, WallClock::new(now, WALL_MS));
    c.create_topic("t", 1, 1, TopicConfig::default(), now)
        .unwrap();
    // An empty log has no record with a largest timestamp.
    assert_eq!(c.list_offset(1, "t", 0, -1, -3), Ok((-1, -1, -1)));
    // Offsets 0-2 at T, T+1, T+2, then 3-4 at T, T+1: the largest timestamp is at offset 2.
    for count in [3, 2] {
        let request = produce_request(
            1,
            1000,
            &[("t", 0, batch(Compression::Lz4, count, ProducerState::NONE))],
        );
        assert!(!c.produce(1, 9, &request, now).has_error());
    }
    assert_eq!(
        c.list_offset(1, "t", 0, -1, -3),
        Ok((2, 1_700_000_000_002, 0))
    );
    assert_eq!(c.list_offset(1, "t", 0, -1, -4), Ok((0, -1, 0)));
    assert_eq!(c.list_offset(1, "t", 0, -1, -5), Ok((-1, -1, -1)));
    assert_eq!(c.list_offset(1, "t", 0, -1, -1), Ok((5, -1, 0)));
    assert_eq!(
        c.list_offset(1, "t", 0, -1, 1_700_000_000_001),
        Ok((1, 1_700_000_000_001, 0))
    );
    assert_eq!(
        c.list_offset(1, "t", 0, -1, 1_800_000_000_000),
        Ok((-1, -1, -1))
    );
    assert_eq!(
        c.list_offset(1, "t", 0, -1, -6),
        Err(ResponseError::InvalidRequest)
    );
}
