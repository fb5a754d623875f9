//! The accumulator on tokio's paused clock: when batches become sendable, how they are cut, and
//! how requests are bounded.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use ktrial_producer::accumulator::{
    Accumulator, AccumulatorConfig, AppendError, DrainPolicy, ProducerBatch, RecordRef,
};
use ktrial_protocol::compression::Compression;
use ktrial_protocol::records::{ProducerState, RecordBatch};
use tokio::time::{Instant, advance};

/// Every partition led by broker 1; no idempotence.
struct OneLeader;

impl DrainPolicy for OneLeader {
    fn leader(&self, _: &str, _: i32) -> Option<i32> {
        Some(1)
    }
    fn may_drain(&self, _: &ProducerBatch) -> bool {
        true
    }
    fn stamp(&mut self, _: &str, _: i32, _: i32) -> ProducerState {
        ProducerState::NONE
    }
}

fn config() -> AccumulatorConfig {
    AccumulatorConfig {
        batch_size: 1000,
        batch_num_messages: 10_000,
        linger: Duration::from_millis(5),
        compression: Compression::None,
        max_request_size: 1_048_576,
        buffer_memory: 1_048_576,
        delivery_timeout: Duration::from_secs(120),
    }
}

fn record(value: &[u8]) -> RecordRef<'_> {
    RecordRef {
        timestamp: 1_700_000_000_000,
        key: None,
        value: Some(value),
        headers: &[],
    }
}

/// Drains and seals, as the sender does.
fn drain(acc: &mut Accumulator) -> Vec<ProducerBatch> {
    let mut batches = acc.drain(1, Instant::now(), &mut OneLeader).unwrap();
    for batch in &mut batches {
        batch.seal().unwrap();
    }
    batches
}

#[tokio::test(start_paused = true)]
async fn a_lone_record_leaves_after_exactly_linger_ms() {
    let mut acc = Accumulator::new(AccumulatorConfig {
        linger: Duration::from_millis(20),
        ..config()
    });
    let start = Instant::now();
    acc.append("t", 0, record(b"v"), start).unwrap();
    assert_eq!(acc.next_deadline(), Some(start + Duration::from_millis(20)));
    advance(Duration::from_millis(19)).await;
    assert!(drain(&mut acc).is_empty(), "not before linger.ms");
    advance(Duration::from_millis(1)).await;
    let batches = drain(&mut acc);
    assert_eq!(batches.len(), 1);
    assert_eq!(Instant::now() - start, Duration::from_millis(20));
    assert_eq!(batches[0].record_count, 1);
}

#[tokio::test(start_paused = true)]
async fn a_batch_closes_at_batch_size_bytes() {
    let mut acc = Accumulator::new(config());
    let value = [7u8; 100];
    let now = Instant::now();
    let mut first_batch_records = 0;
    loop {
        let appended = acc.append("t", 0, record(&value), now).unwrap();
        if appended.offset_delta == 0 && first_batch_records > 0 {
            assert!(appended.batch_ready, "the full batch is reported ready");
            break;
        }
        first_batch_records += 1;
    }
    // The first batch is sendable at once, without waiting for linger; the second is not.
    let batches = drain(&mut acc);
    assert_eq!(batches.len(), 1);
    let batch = &batches[0];
    assert_eq!(batch.record_count, first_batch_records);
    assert!(batch.uncompressed_bytes <= 1000);
    let one_more = batch.uncompressed_bytes + 100 + 3;
    assert!(one_more > 1000, "another record would not have fit");
    assert!(drain(&mut acc).is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_batch_closes_at_batch_num_messages() {
    let mut acc = Accumulator::new(AccumulatorConfig {
        batch_num_messages: 3,
        ..config()
    });
    let now = Instant::now();
    for i in 0..3 {
        let appended = acc.append("t", 0, record(b"x"), now).unwrap();
        assert_eq!(appended.batch_ready, i == 2);
    }
    acc.append("t", 0, record(b"y"), now).unwrap();
    let batches = drain(&mut acc);
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].record_count, 3);
    let parsed = RecordBatch::parse(batches[0].bytes().unwrap()).unwrap();
    assert_eq!(parsed.header().records_count, 3);
}

#[tokio::test(start_paused = true)]
async fn requests_respect_max_request_size_one_batch_per_partition() {
    let mut acc = Accumulator::new(AccumulatorConfig {
        max_request_size: 2500,
        ..config()
    });
    let now = Instant::now();
    let value = [1u8; 800];
    for partition in 0..5 {
        acc.append("t", partition, record(&value), now).unwrap();
        acc.append("t", partition, record(&value), now).unwrap();
    }
    advance(Duration::from_millis(5)).await;
    let mut partitions_seen = Vec::new();
    let mut requests = 0;
    loop {
        let batches = drain(&mut acc);
        if batches.is_empty() {
            break;
        }
        requests += 1;
        let size: usize = batches.iter().map(ProducerBatch::wire_size).sum();
        assert!(size <= 2500, "request of {size} bytes");
        let mut ps: Vec<i32> = batches.iter().map(|b| b.partition).collect();
        let before = ps.len();
        ps.dedup();
        assert_eq!(ps.len(), before, "one batch per partition per request");
        partitions_seen.extend(ps);
    }
    assert_eq!(partitions_seen.len(), 10, "every batch drained");
    assert!(requests >= 4);
    // Rotation: the second request starts where the first stopped, so no partition starves.
    assert_ne!(partitions_seen[0], partitions_seen[3]);
}

#[tokio::test(start_paused = true)]
async fn flush_makes_everything_sendable_at_once() {
    let mut acc = Accumulator::new(AccumulatorConfig {
        linger: Duration::from_secs(3600),
        ..config()
    });
    let now = Instant::now();
    acc.append("t", 0, record(b"a"), now).unwrap();
    acc.append("t", 1, record(b"b"), now).unwrap();
    assert!(drain(&mut acc).is_empty());
    assert_eq!(acc.flush_now(), 2);
    assert_eq!(drain(&mut acc).len(), 2);
    // A record appended after the flush waits for its own linger again.
    acc.append("t", 2, record(b"c"), now).unwrap();
    assert!(drain(&mut acc).is_empty());
}

#[tokio::test(start_paused = true)]
async fn close_makes_everything_sendable() {
    let mut acc = Accumulator::new(AccumulatorConfig {
        linger: Duration::from_secs(3600),
        ..config()
    });
    let now = Instant::now();
    for p in 0..3 {
        acc.append("t", p, record(b"a"), now).unwrap();
    }
    acc.close();
    assert_eq!(drain(&mut acc).len(), 3);
    assert!(acc.is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_oversized_record_fails_alone() {
    let mut acc = Accumulator::new(AccumulatorConfig {
        max_request_size: 500,
        ..config()
    });
    let now = Instant::now();
    acc.append("t", 0, record(b"small"), now).unwrap();
    let err = acc.append("t", 0, record(&[0u8; 600]), now).unwrap_err();
    assert!(
        matches!(
            err,
            AppendError::TooLarge {
                limit: 500,
                limit_name: "max.request.size",
                ..
            }
        ),
        "{err:?}"
    );
    acc.append("t", 0, record(b"after"), now).unwrap();
    advance(Duration::from_millis(5)).await;
    let batches = drain(&mut acc);
    assert_eq!(batches[0].record_count, 2, "the neighbours are unaffected");
}

#[tokio::test(start_paused = true)]
async fn buffer_memory_bounds_appends_and_release_frees_it() {
    let mut acc = Accumulator::new(AccumulatorConfig {
        buffer_memory: 2000,
        batch_size: 500,
        ..config()
    });
    let now = Instant::now();
    let value = [0u8; 300];
    let mut appended = 0;
    let err = loop {
        match acc.append("t", appended % 4, record(&value), now) {
            Ok(_) => appended += 1,
            Err(e) => break e,
        }
    };
    assert!(
        matches!(err, AppendError::BufferFull { limit: 2000, .. }),
        "{err:?}"
    );
    assert!(acc.used_bytes() <= 2000);
    // Waiting callers make batches sendable at once; sending and releasing frees memory.
    acc.add_memory_waiter(1);
    let batches = drain(&mut acc);
    assert!(!batches.is_empty());
    for b in &batches {
        acc.release(b);
    }
    acc.append("t", 0, record(&value), now).unwrap();
}

#[tokio::test(start_paused = true)]
async fn retries_wait_for_backoff_and_keep_creation_order() {
    let mut acc = Accumulator::new(AccumulatorConfig {
        batch_num_messages: 1,
        ..config()
    });
    let now = Instant::now();
    for v in [b"0", b"1", b"2"] {
        acc.append("t", 0, record(v), now).unwrap();
    }
    let first = drain(&mut acc).remove(0);
    let second = drain(&mut acc).remove(0);
    let retry_at = Instant::now() + Duration::from_millis(100);
    acc.reenqueue(second, retry_at);
    acc.reenqueue(first, retry_at);
    advance(Duration::from_millis(99)).await;
    assert!(
        drain(&mut acc).is_empty(),
        "a batch backing off is never sent early"
    );
    advance(Duration::from_millis(1)).await;
    let ids: Vec<u64> = (0..3).map(|_| drain(&mut acc).remove(0).id).collect();
    assert_eq!(ids, vec![0, 1, 2]);
}

#[tokio::test(start_paused = true)]
async fn queued_batches_expire_after_delivery_timeout() {
    let mut acc = Accumulator::new(AccumulatorConfig {
        delivery_timeout: Duration::from_millis(300),
        ..config()
    });
    acc.append("t", 0, record(b"a"), Instant::now()).unwrap();
    advance(Duration::from_millis(299)).await;
    assert!(acc.expire(Instant::now()).is_empty());
    advance(Duration::from_millis(1)).await;
    assert_eq!(acc.expire(Instant::now()).len(), 1);
}
