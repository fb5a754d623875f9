//! The fault plan and cluster events against rust-rdkafka (librdkafka), a producer not written
//! here: lost responses with and without idempotence, acks=1 loss through an unclean election
//! versus acks=all with min ISR 2, NOT_LEADER_OR_FOLLOWER, a broker going down and coming back,
//! and latency on one broker.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use ktrial_mockbroker::{
    ApiKey, ClusterEvent, FaultRule, Happening, MockCluster, NoticeKind, ResponseError,
};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};

const TOPIC: &str = "orders";

fn producer(cluster: &MockCluster, settings: &[(&str, &str)]) -> FutureProducer {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("linger.ms", "0")
        .set("request.timeout.ms", "1000")
        .set("socket.timeout.ms", "1000")
        .set("message.timeout.ms", "20000")
        .set("retry.backoff.ms", "50")
        .set("topic.metadata.refresh.interval.ms", "500");
    for (key, value) in settings {
        config.set(*key, *value);
    }
    config.create().unwrap()
}

/// Sends `count` records to `partition` one at a time; the (partition, offset) of each.
async fn send(producer: &FutureProducer, partition: i32, count: usize) -> Vec<(i32, i64)> {
    let mut delivered = Vec::new();
    for i in 0..count {
        let value = format!("value-{i}");
        let record = FutureRecord::<(), _>::to(TOPIC)
            .partition(partition)
            .payload(&value);
        let d = producer
            .send(record, Duration::from_secs(0))
            .await
            .map_err(|(e, _)| e)
            .unwrap();
        delivered.push((d.partition, d.offset));
    }
    delivered
}

fn values(cluster: &MockCluster, partition: i32) -> Vec<String> {
    cluster
        .records(TOPIC, partition)
        .unwrap()
        .iter()
        .map(|r| String::from_utf8(r.value.clone().unwrap().to_vec()).unwrap())
        .collect()
}

fn lost_responses(cluster: &MockCluster) -> usize {
    cluster
        .journal()
        .iter()
        .filter(|e| e.what == Happening::ResponseLost)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_response_duplicates_without_idempotence_and_not_with_it() {
    for idempotent in [false, true] {
        let cluster = MockCluster::builder()
            .topic(TOPIC, 1, 1)
            .fault(FaultRule::on(ApiKey::Produce).lose_response().once())
            .start()
            .await
            .unwrap();
        let producer = producer(
            &cluster,
            &[
                (
                    "enable.idempotence",
                    if idempotent { "true" } else { "false" },
                ),
                ("retries", "5"),
                ("max.in.flight", "1"),
            ],
        );
        let record = FutureRecord::<(), _>::to(TOPIC)
            .partition(0)
            .payload("value-0");
        let delivered = match producer.send(record, Duration::from_secs(0)).await {
            Ok(d) => vec![(d.partition, d.offset)],
            Err((e, _)) => panic!("idempotent={idempotent}: {e}\n{}", cluster.timeline()),
        };
        let log = values(&cluster, 0);
        assert_eq!(lost_responses(&cluster), 1, "{}", cluster.timeline());
        let timeline = cluster.timeline();
        assert!(
            timeline.contains("fault rule=1 \"lose_response\""),
            "{timeline}"
        );
        if idempotent {
            assert_eq!(log, ["value-0"], "{timeline}");
            assert_eq!(
                delivered,
                [(0, 0)],
                "the retry answered with the original offset"
            );
        } else {
            assert_eq!(
                log,
                ["value-0", "value-0"],
                "the retry appended again: {timeline}"
            );
            assert_eq!(delivered, [(0, 1)], "the retry's own offset");
        }
        cluster.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_1_loses_records_in_an_unclean_election_and_acks_all_with_min_isr_2_does_not() {
    // Unclean: followers copy only after 60 s, so the acks=1 records are on the leader alone.
    let cluster = MockCluster::builder()
        .brokers(3)
        .topic(TOPIC, 1, 3)
        .replication_delay(2, Duration::from_secs(60))
        .replication_delay(3, Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let acks_1 = producer(&cluster, &[("acks", "1"), ("enable.idempotence", "false")]);
    let delivered = send(&acks_1, 0, 5).await;
    assert_eq!(delivered.len(), 5);
    assert_eq!(values(&cluster, 0).len(), 5);
    cluster
        .apply_event(ClusterEvent::ElectLeader {
            topic: TOPIC.into(),
            partition: 0,
            unclean: true,
            leader: Some(2),
        })
        .unwrap();
    assert_eq!(cluster.leader(TOPIC, 0), Some(2));
    assert!(
        values(&cluster, 0).is_empty(),
        "acknowledged records are gone"
    );
    let truncated: Vec<_> = cluster
        .journal()
        .into_iter()
        .filter_map(|e| match e.what {
            Happening::Cluster {
                notice: NoticeKind::Truncated { truncation, .. },
            } => Some(truncation),
            _ => None,
        })
        .collect();
    assert_eq!(truncated.len(), 1, "{}", cluster.timeline());
    assert_eq!(
        (
            truncated[0].from_offset,
            truncated[0].to_offset,
            truncated[0].records
        ),
        (0, 5, 5)
    );
    cluster.shutdown().await;

    // acks=all with min.insync.replicas=2: an acknowledgement means the ISR has it.
    let cluster = MockCluster::builder()
        .brokers(3)
        .topic(TOPIC, 1, 3)
        .min_insync_replicas(2)
        .replication_delay(2, Duration::from_millis(20))
        .replication_delay(3, Duration::from_millis(40))
        .start()
        .await
        .unwrap();
    let acks_all = producer(&cluster, &[("acks", "all")]);
    let delivered = send(&acks_all, 0, 5).await;
    cluster
        .apply_event(ClusterEvent::ElectLeader {
            topic: TOPIC.into(),
            partition: 0,
            unclean: false,
            leader: None,
        })
        .unwrap();
    assert_ne!(cluster.leader(TOPIC, 0), Some(1));
    let log = values(&cluster, 0);
    for (_, offset) in &delivered {
        assert!(
            (*offset as usize) < log.len(),
            "acknowledged offset {offset} survived: {}",
            cluster.timeline()
        );
    }
    assert_eq!(log.len(), 5);
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_leader_on_produce_makes_the_client_refresh_and_deliver_everything() {
    let cluster = MockCluster::builder()
        .brokers(2)
        .topic(TOPIC, 2, 2)
        .fault(
            FaultRule::on(ApiKey::Produce)
                .error(ResponseError::NotLeaderOrFollower)
                .times(3),
        )
        .start()
        .await
        .unwrap();
    let producer = producer(&cluster, &[("enable.idempotence", "true")]);
    let mut delivered = send(&producer, 0, 10).await;
    delivered.extend(send(&producer, 1, 10).await);
    assert_eq!(delivered.len(), 20);
    assert_eq!(values(&cluster, 0).len() + values(&cluster, 1).len(), 20);
    assert_eq!(cluster.faults()[0].fired, 3);
    let metadata_requests = cluster
        .journal()
        .iter()
        .filter(|e| matches!(&e.what, Happening::Request { api, .. } if api == "Metadata"))
        .count();
    assert!(metadata_requests >= 2, "the client refreshed metadata");
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_down_moves_leadership_and_broker_up_rejoins_the_isr() {
    let cluster = MockCluster::builder()
        .brokers(3)
        .topic(TOPIC, 3, 3)
        .start()
        .await
        .unwrap();
    let producer = producer(&cluster, &[("enable.idempotence", "true")]);
    for p in 0..3 {
        send(&producer, p, 5).await;
    }
    let led_by_1: Vec<i32> = (0..3)
        .filter(|p| cluster.leader(TOPIC, *p) == Some(1))
        .collect();
    assert!(!led_by_1.is_empty());
    cluster.broker_down(1).unwrap();
    for p in 0..3 {
        assert_ne!(cluster.leader(TOPIC, p), Some(1));
        assert!(!cluster.isr(TOPIC, p).unwrap().contains(&1));
    }
    for p in 0..3 {
        send(&producer, p, 5).await;
    }
    for p in 0..3 {
        assert_eq!(values(&cluster, p).len(), 10, "partition {p}");
    }
    cluster.broker_up(1).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while (0..3).any(|p| !cluster.isr(TOPIC, p).unwrap().contains(&1)) {
        assert!(Instant::now() < deadline, "{}", cluster.timeline());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    send(&producer, 0, 1).await;
    let timeline = cluster.timeline();
    assert!(
        timeline.contains("event {\"broker_down\":{\"broker\":1}}"),
        "{timeline}"
    );
    assert!(
        timeline.contains("cluster isr orders-0 [1, 2, 3]")
            || timeline.contains("cluster isr orders-0 [2, 3, 1]")
            || timeline.contains("cluster isr orders-0 [3, 1, 2]"),
        "{timeline}"
    );
    cluster.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_on_one_broker_delays_its_partitions_only() {
    let cluster = MockCluster::builder()
        .brokers(2)
        .topic(TOPIC, 2, 1)
        .start()
        .await
        .unwrap();
    let producer = producer(&cluster, &[]);
    send(&producer, 0, 1).await;
    send(&producer, 1, 1).await;
    cluster
        .apply_event(ClusterEvent::Latency { broker: 1, ms: 200 })
        .unwrap();
    let slow = (0..2)
        .find(|p| cluster.leader(TOPIC, *p) == Some(1))
        .unwrap();
    let fast = 1 - slow;
    let timed = |partition| {
        let producer = &producer;
        async move {
            let start = Instant::now();
            send(producer, partition, 3).await;
            start.elapsed() / 3
        }
    };
    let slow_latency = timed(slow).await;
    let fast_latency = timed(fast).await;
    assert!(
        slow_latency >= Duration::from_millis(200),
        "{slow_latency:?}"
    );
    assert!(
        fast_latency < Duration::from_millis(200),
        "{fast_latency:?}"
    );
    cluster.shutdown().await;
}
