//! rust-rdkafka's `StreamConsumer` in a consumer group against the in-process cluster: one
//! consumer reads everything and commits, a second one joins and the partitions are shared,
//! and what follows is read once across the two. librdkafka finds the coordinator, joins,
//! leads, assigns, syncs, heart-beats and commits over the wire.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use ktrial_mockbroker::MockCluster;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Message};
use tokio::time::{Duration, Instant, sleep};

const TOPIC: &str = "events";
const GROUP: &str = "billing";
const PARTITIONS: i32 = 4;
/// How long any one step may take before the test fails (not a performance goal).
const STEP: Duration = Duration::from_secs(60);

async fn produce(bootstrap: &str, values: Range<usize>) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "1")
        .create()
        .unwrap();
    for i in values {
        let value = format!("v{i}");
        let partition = (i % PARTITIONS as usize) as i32;
        producer
            .send(
                FutureRecord::<(), _>::to(TOPIC)
                    .partition(partition)
                    .payload(&value),
                Duration::from_secs(10),
            )
            .await
            .map_err(|(e, _)| e)
            .unwrap();
    }
}

fn consumer(bootstrap: &str, client_id: &str) -> StreamConsumer {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", GROUP)
        .set("client.id", client_id)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "100")
        .create()
        .unwrap();
    consumer.subscribe(&[TOPIC]).unwrap();
    consumer
}

/// The record's value as text.
fn value(m: &BorrowedMessage<'_>) -> String {
    String::from_utf8(m.payload().unwrap().to_vec()).unwrap()
}

fn assigned(c: &StreamConsumer) -> BTreeSet<i32> {
    c.assignment()
        .unwrap()
        .elements()
        .iter()
        .map(|e| e.partition())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_consumers_consume_commit_and_rebalance() {
    let cluster = MockCluster::builder()
        .brokers(3)
        .topic(TOPIC, PARTITIONS, 1)
        .initial_rebalance_delay(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let bootstrap = cluster.bootstrap_servers().to_string();
    produce(&bootstrap, 0..100).await;

    // One consumer: all partitions, every record once.
    let first = consumer(&bootstrap, "first");
    let mut seen = BTreeSet::new();
    let deadline = Instant::now() + STEP;
    while seen.len() < 100 {
        assert!(Instant::now() < deadline, "read {} of 100", seen.len());
        let m = tokio::time::timeout(STEP, first.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(seen.insert(value(&m)), "{} read twice", value(&m));
    }
    assert_eq!(assigned(&first), (0..PARTITIONS).collect());
    tokio::task::block_in_place(|| first.commit_consumer_state(CommitMode::Sync)).unwrap();
    let committed = cluster.committed_offsets(GROUP);
    for p in 0..PARTITIONS {
        assert_eq!(
            committed.get(&(TOPIC.to_string(), p)).map(|o| o.offset),
            Some(25),
            "partition {p} committed at its end"
        );
    }

    // A second consumer joins: a rebalance shares the partitions between the two.
    let second = consumer(&bootstrap, "second");
    let deadline = Instant::now() + STEP;
    loop {
        let (a, b) = (assigned(&first), assigned(&second));
        if a.len() == 2 && b.len() == 2 {
            assert!(a.is_disjoint(&b));
            break;
        }
        assert!(Instant::now() < deadline, "no rebalance: {a:?} / {b:?}");
        tokio::select! {
            biased;
            m = first.recv() => panic!("nothing new to read, got {:?}", m.map(|m| value(&m))),
            m = second.recv() => panic!("committed records read again: {:?}", m.map(|m| value(&m))),
            () = sleep(Duration::from_millis(50)) => {}
        }
    }
    let group = cluster.describe_group(GROUP).unwrap();
    assert_eq!(group.state, "Stable");
    assert_eq!(group.members.len(), 2);
    assert!(group.generation_id >= 2);

    // What follows is read once across the two, each from its own partitions; the second
    // starts from the committed offsets, not from the beginning.
    produce(&bootstrap, 100..140).await;
    let mut by_consumer: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let deadline = Instant::now() + STEP;
    while by_consumer.values().map(BTreeSet::len).sum::<usize>() < 40 {
        assert!(Instant::now() < deadline, "read {by_consumer:?}");
        let (who, m) = tokio::select! {
            biased;
            m = first.recv() => ("first", m.unwrap()),
            m = second.recv() => ("second", m.unwrap()),
        };
        let v = value(&m);
        assert!(
            by_consumer.values().all(|s| !s.contains(&v)),
            "{v} read twice"
        );
        by_consumer.entry(who).or_default().insert(v);
    }
    let all: BTreeSet<String> = by_consumer.values().flatten().cloned().collect();
    let expected: BTreeSet<String> = (100..140).map(|i| format!("v{i}")).collect();
    assert_eq!(all, expected);
    assert_eq!(by_consumer["first"].len(), 20);
    assert_eq!(by_consumer["second"].len(), 20);
    tokio::task::block_in_place(|| {
        first.commit_consumer_state(CommitMode::Sync).unwrap();
        second.commit_consumer_state(CommitMode::Sync).unwrap();
    });
    let committed = cluster.committed_offsets(GROUP);
    assert!((0..PARTITIONS).all(|p| committed[&(TOPIC.to_string(), p)].offset == 35));
    drop((first, second));
    cluster.shutdown().await;
}
