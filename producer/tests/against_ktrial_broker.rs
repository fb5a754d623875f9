//! The producer against the project's own mock broker: every record acknowledged, high
//! watermarks adding up, the log holding each record once in send order per partition, for each
//! codec; then, with idempotence on and 5 requests in flight, the same through injected errors,
//! lost responses, a leader election and a broker going down — order that librdkafka's mock
//! cannot prove, because it does not check sequences for idempotent producers.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::TestCluster;
use ktrial_mockbroker::{ApiKey, ClusterEvent, FaultRule, MockCluster, ResponseError};
use ktrial_producer::ProducerRecord;

/// One million records uncompressed (the log is read straight from the broker's model);
/// 20,000 for each codec, so the default test run stays fast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_arrive_once_and_in_order_for_every_codec() {
    let cluster = TestCluster::ktrial(MockCluster::builder(), 3).await;
    common::assert_every_codec_arrives_once_in_order(&cluster, 16, &common::every_codec()).await;
}

/// What happens to the cluster before one wave of records.
enum Disturbance {
    /// None: the first wave gives every partition acknowledged batches before any fault.
    Nothing,
    Fault(FaultRule),
    /// Every partition's leader moves to the next broker (a clean election).
    ElectNextLeaders,
    BrokerDown(i32),
    BrokerUp(i32),
}

/// With idempotence on and 5 requests in flight, a request that fails leaves later requests of
/// the same partition in flight; the broker refuses those with OUT_OF_ORDER_SEQUENCE_NUMBER and
/// the producer resends them after the failed one, so the log keeps send order. Records go in
/// waves, each after one disturbance and awaited before the next, so every disturbance meets
/// traffic: retriable errors, lost responses (silent, and with the connection closed), a leader
/// election, a broker going down and coming back.
///
/// The first wave meets no fault, so every partition has acknowledged batches before the first
/// fault. A retriable error on the *first* batch of a partition is another case: the broker
/// takes the next batch in flight as the producer's first (KIP-360), the failed one can never
/// be written under that epoch, and Java fails it at `delivery.timeout.ms`
/// (`first_batch_of_a_partition_failing_with_later_batches_in_flight_fails_alone` below).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_producer_with_five_in_flight_keeps_order_through_faults() {
    const TOPIC: &str = "faults";
    const PARTITIONS: i32 = 3;
    const WAVE: u64 = 1_500;
    let cluster = TestCluster::ktrial(MockCluster::builder(), 3).await;
    cluster.create_topic(TOPIC, PARTITIONS);
    let broker = cluster.ktrial_handle();
    let producer = common::builder(
        &cluster.bootstrap(),
        &[
            ("enable.idempotence", "true"),
            ("max.in.flight.requests.per.connection", "5"),
            ("linger.ms", "2"),
            ("batch.size", "1000"),
            ("retry.backoff.ms", "10"),
            ("retry.backoff.max.ms", "50"),
            // A lost response costs one request timeout.
            ("request.timeout.ms", "800"),
            ("delivery.timeout.ms", "120000"),
        ],
    )
    .build()
    .await
    .unwrap();
    let produce = || FaultRule::on(ApiKey::Produce);
    let disturbances = [
        Disturbance::Nothing,
        Disturbance::Fault(produce().error(ResponseError::NotLeaderOrFollower).times(3)),
        Disturbance::Fault(produce().error(ResponseError::NotEnoughReplicas).times(3)),
        Disturbance::Fault(produce().lose_response().times(1)),
        Disturbance::Fault(produce().lose_response_and_close().times(1)),
        Disturbance::ElectNextLeaders,
        Disturbance::BrokerDown(broker.leader(TOPIC, 0).unwrap()),
        Disturbance::BrokerUp(broker.leader(TOPIC, 0).unwrap()),
    ];
    let mut seq = 0;
    for (wave_index, disturbance) in disturbances.iter().enumerate() {
        match disturbance {
            Disturbance::Nothing => {}
            Disturbance::Fault(rule) => {
                broker.add_fault(rule.clone()).unwrap();
            }
            Disturbance::ElectNextLeaders => {
                for p in 0..PARTITIONS {
                    let leader = broker.leader(TOPIC, p).unwrap() % 3 + 1;
                    broker
                        .apply_event(ClusterEvent::ElectLeader {
                            topic: TOPIC.to_string(),
                            partition: p,
                            unclean: false,
                            leader: Some(leader),
                        })
                        .unwrap();
                }
            }
            Disturbance::BrokerDown(id) => broker.broker_down(*id).unwrap(),
            Disturbance::BrokerUp(id) => broker.broker_up(*id).unwrap(),
        }
        let mut wave = Vec::new();
        for _ in 0..WAVE {
            let key = (seq % 31).to_string();
            let v = common::value(seq, 32);
            let record = ProducerRecord::new(TOPIC).key(key.as_bytes()).value(&v);
            wave.push(producer.send(record).await.unwrap());
            seq += 1;
        }
        for delivery in wave {
            tokio::time::timeout(Duration::from_secs(30), delivery)
                .await
                .unwrap_or_else(|_| panic!("wave {wave_index}: {:?}", producer.statistics()))
                .unwrap();
        }
    }
    let count = seq;
    for rule in broker.faults() {
        assert!(rule.fired > 0, "the fault met traffic: {rule:?}");
    }
    let stats = producer.statistics();
    assert!(stats.records_retried > 0, "{stats:?}");
    assert_eq!(stats.records_acked, count, "{stats:?}");
    producer.close(Duration::from_secs(10)).await.unwrap();
    assert_eq!(cluster.high_watermarks(TOPIC, PARTITIONS), count as i64);
    let back = cluster.read_back(TOPIC, PARTITIONS, count as usize);
    common::assert_once_in_order(&back, count);
}

/// A batch whose requests are all slower than `request.timeout.ms` expires in flight: its fate
/// is unknown (the broker applied it, the answer never came). The next batch waits until its
/// requests are through, then goes out under a bumped epoch (its sequence was never
/// acknowledged, Java's `maybeResolveSequences`); the expired batch is not re-stamped, so the
/// log holds it exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_expired_in_flight_is_not_resent_under_a_new_sequence() {
    const TOPIC: &str = "unresolved";
    let cluster = TestCluster::ktrial(MockCluster::builder(), 1).await;
    cluster.create_topic(TOPIC, 1);
    let broker = cluster.ktrial_handle();
    let producer = common::builder(
        &cluster.bootstrap(),
        &[
            ("enable.idempotence", "true"),
            ("max.in.flight.requests.per.connection", "5"),
            ("linger.ms", "0"),
            ("request.timeout.ms", "1000"),
            ("delivery.timeout.ms", "1500"),
            ("retry.backoff.ms", "20"),
        ],
    )
    .build()
    .await
    .unwrap();
    let send = |v: &'static [u8]| producer.send(ProducerRecord::new(TOPIC).value(v));
    send(b"warm").await.unwrap().await.unwrap();
    // Both attempts of the next batch are applied, and answered after the client gave up.
    let slow = broker
        .add_fault(FaultRule::on(ApiKey::Produce).delay_ms(2_500).times(2))
        .unwrap();
    let started = tokio::time::Instant::now();
    let err = send(b"expired").await.unwrap().await.unwrap_err();
    assert!(
        matches!(err, ktrial_producer::ProducerError::DeliveryTimeout(_)),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(2_400),
        "{:?}",
        started.elapsed()
    );
    assert!(broker.remove_fault(slow));
    let after = send(b"after").await.unwrap().await.unwrap();
    assert_eq!(
        after.offset, 2,
        "the expired batch was written once, before it"
    );
    let log = broker.records(TOPIC, 0).unwrap();
    let values: Vec<&[u8]> = log.iter().map(|r| r.value.as_deref().unwrap()).collect();
    assert_eq!(values, [&b"warm"[..], b"expired", b"after"]);
    assert_eq!(log[1].producer_epoch, log[0].producer_epoch);
    assert_eq!(log[1].sequence, 1);
    assert_eq!(
        (log[2].producer_epoch, log[2].sequence),
        (log[0].producer_epoch + 1, 0),
        "never acknowledged: the epoch is bumped and sequences restart"
    );
    assert_eq!(producer.statistics().epoch_bumps, 1);
    producer.close(Duration::from_secs(5)).await.unwrap();
}

/// The first batch of a partition fails with a retriable error while later batches are in
/// flight. The broker knows no state for the producer on that partition, so it takes the next
/// batch as the first (KIP-360) and the failed batch, retried, can only get
/// OUT_OF_ORDER_SEQUENCE_NUMBER. As in Java (`TransactionManager.canRetry`,
/// `Sender.completeBatch`): it is retried as is until `delivery.timeout.ms`, then fails with an
/// error; the partition's other records are not held behind it, and the producer goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_batch_of_a_partition_failing_with_later_batches_in_flight_fails_alone() {
    use futures::FutureExt;
    use ktrial_producer::ProducerError;
    use ktrial_protocol::ResponseError;

    const TOPIC: &str = "first";
    const RECORDS: usize = 8;
    let cluster = TestCluster::ktrial(MockCluster::builder(), 1).await;
    cluster.create_topic(TOPIC, 2);
    let broker = cluster.ktrial_handle();
    let producer = common::builder(
        &cluster.bootstrap(),
        &[
            ("enable.idempotence", "true"),
            ("max.in.flight.requests.per.connection", "5"),
            ("linger.ms", "0"),
            ("batch.num.messages", "1"),
            ("retry.backoff.ms", "10"),
            ("retry.backoff.max.ms", "50"),
            ("request.timeout.ms", "1000"),
            ("delivery.timeout.ms", "1500"),
        ],
    )
    .build()
    .await
    .unwrap();
    let send = |partition: i32, value: Vec<u8>| send_to(&producer, TOPIC, partition, value);
    // Partition 0 gets the producer id and the metadata; partition 1 stays untouched.
    send(0, b"warm".to_vec()).await.await.unwrap();
    let partition = |partition: i32| {
        FaultRule::on(ApiKey::Produce)
            .topic(TOPIC)
            .partition(partition)
    };
    // The answer to the next Produce of partition 0 holds the connection for 500 ms, so the
    // requests of partition 1 queue up behind it; the first of them is refused.
    broker
        .add_fault(partition(0).throttle_ms(500).once())
        .unwrap();
    broker
        .add_fault(
            partition(1)
                .error(ResponseError::NotLeaderOrFollower)
                .once(),
        )
        .unwrap();
    send(0, b"hold".to_vec()).await.await.unwrap();
    let mut in_flight = Vec::new();
    for i in 0..5 {
        in_flight.push(send(1, common::value(i, 16)).await);
    }
    let mut first = in_flight.remove(0);
    let mut offsets = Vec::new();
    for delivery in in_flight {
        offsets.push(delivery.await.unwrap().offset);
    }
    assert_eq!(
        offsets,
        [0, 1, 2, 3],
        "the broker took the second batch as the first"
    );
    // The first batch is being retried and refused: once its second retry is out, the first
    // retry's OUT_OF_ORDER_SEQUENCE_NUMBER has come back. Records sent now must not wait
    // behind it.
    while producer.statistics().records_retried < 2 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut later = Vec::new();
    for i in 5..RECORDS as u64 {
        later.push(send(1, common::value(i, 16)).await);
    }
    for delivery in later {
        offsets.push(delivery.await.unwrap().offset);
    }
    assert_eq!(offsets, (0..RECORDS as i64 - 1).collect::<Vec<_>>());
    assert!(
        (&mut first).now_or_never().is_none(),
        "the later records were not held behind the failed first batch"
    );
    let err = first.await.unwrap_err();
    assert!(
        matches!(
            err,
            ProducerError::DeliveryTimeout(_)
                | ProducerError::Broker {
                    error: Some(ResponseError::OutOfOrderSequenceNumber),
                    ..
                }
        ),
        "{err}"
    );
    for rule in broker.faults() {
        assert_eq!(rule.fired, 1, "{rule:?}");
    }
    let after = send(1, b"after".to_vec()).await.await.unwrap();
    assert_eq!(after.offset, RECORDS as i64 - 1);
    let log = broker.records(TOPIC, 1).unwrap();
    let values: Vec<&[u8]> = log.iter().map(|r| r.value.as_deref().unwrap()).collect();
    let mut expected: Vec<Vec<u8>> = (1..RECORDS).map(|i| common::value(i as u64, 16)).collect();
    expected.push(b"after".to_vec());
    assert_eq!(
        values, expected,
        "each record once, in send order; the failed one never"
    );
    let stats = producer.statistics();
    assert_eq!(stats.records_failed, 1, "{stats:?}");
    producer.close(Duration::from_secs(5)).await.unwrap();
}

/// Sends `value` to `topic`/`partition`; the delivery, not awaited.
async fn send_to(
    producer: &ktrial_producer::Producer,
    topic: &str,
    partition: i32,
    value: Vec<u8>,
) -> ktrial_producer::DeliveryFuture {
    let record = ProducerRecord::new(topic)
        .partition(partition)
        .value(&value);
    producer.send(record).await.unwrap()
}

/// A broker whose `message.max.bytes` is far below `batch.size` refuses the batches with
/// MESSAGE_TOO_LARGE. As Java does, the producer splits a batch of several records and sends
/// the parts in its place, sequences kept; only a single record too large fails, alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_too_large_for_the_broker_are_split_and_a_lone_record_fails_alone() {
    use ktrial_mockbroker::ClusterConfig;
    use ktrial_producer::ProducerError;

    const TOPIC: &str = "split";
    const SMALL: usize = 200;
    let config = ClusterConfig {
        message_max_bytes: 2_048,
        ..ClusterConfig::default()
    };
    let cluster = TestCluster::ktrial(MockCluster::builder().config(config), 1).await;
    cluster.create_topic(TOPIC, 1);
    let broker = cluster.ktrial_handle();
    let producer = common::builder(
        &cluster.bootstrap(),
        &[
            ("enable.idempotence", "true"),
            ("batch.size", "1000000"),
            ("linger.ms", "100"),
        ],
    )
    .build()
    .await
    .unwrap();
    // Small records around one too large for the broker on its own, in one batch.
    let large = SMALL / 2;
    let mut deliveries = Vec::new();
    for i in 0..=SMALL {
        let value = common::value(i as u64, if i == large { 4_000 } else { 100 });
        let record = ProducerRecord::new(TOPIC).partition(0).value(&value);
        deliveries.push(producer.send(record).await.unwrap());
    }
    let mut offsets = Vec::new();
    for (i, delivery) in deliveries.into_iter().enumerate() {
        let result = delivery.await;
        if i == large {
            let err = result.unwrap_err();
            assert!(
                matches!(
                    err,
                    ProducerError::Broker {
                        error: Some(ResponseError::MessageTooLarge),
                        ..
                    }
                ),
                "{err}"
            );
        } else {
            offsets.push(result.unwrap().offset);
        }
    }
    assert_eq!(offsets, (0..SMALL as i64).collect::<Vec<_>>());
    let stats = producer.statistics();
    assert!(stats.batches_split > 1, "{stats:?}");
    assert_eq!(
        (stats.records_acked, stats.records_failed),
        (SMALL as u64, 1),
        "{stats:?}"
    );
    let log = broker.records(TOPIC, 0).unwrap();
    let values: Vec<Vec<u8>> = log
        .iter()
        .map(|r| r.value.clone().unwrap().to_vec())
        .collect();
    let expected: Vec<Vec<u8>> = (0..=SMALL)
        .filter(|&i| i != large)
        .map(|i| common::value(i as u64, 100))
        .collect();
    assert_eq!(values, expected, "each small record once, in send order");
    producer.close(Duration::from_secs(5)).await.unwrap();
}
