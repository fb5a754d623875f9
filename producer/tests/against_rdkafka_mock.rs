//! The producer against librdkafka's mock cluster, a broker implementation not written here:
//! every record acknowledged, high watermarks add up, records read back by a real consumer in
//! send order per partition; then bad clusters and injected errors.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{TestCluster, assert_once_in_order, builder, high_watermarks, read_back, value};
use ktrial_producer::{Producer, ProducerError, ProducerRecord};

/// One million records uncompressed; 20,000 for each codec (the default test run stays fast).
/// Sixteen partitions: librdkafka's mock keeps at most 5 MiB per partition
/// (`rdkafka_mock.c` L622), and every record must still be there to be read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_arrive_once_and_in_order_for_every_codec() {
    let cluster = TestCluster::rdkafka_mock(3);
    common::assert_every_codec_arrives_once_in_order(&cluster, 16, &common::every_codec()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_send_reports_partition_offset_and_timestamp() {
    let cluster = TestCluster::rdkafka_mock(1);
    let producer = cluster.producer("sync", 3, &[]).await;
    for expected_offset in 0..3 {
        let record = ProducerRecord::new("sync")
            .partition(2)
            .value(b"v")
            .timestamp(1_700_000_000_123);
        let meta = producer.send(record).await.unwrap().await.unwrap();
        assert_eq!(meta.partition, 2);
        assert_eq!(meta.offset, expected_offset);
        // librdkafka's mock answers LogAppendTimeMs = 1234 (rdkafka_mock_handlers.c L204);
        // like the Java client, a LogAppendTime in the response wins over the CreateTime.
        assert_eq!(meta.timestamp, 1234);
    }
    // Keys map as the Java producer maps them: murmur2("kafka") % 3.
    let meta = producer
        .send(ProducerRecord::new("sync").key(b"kafka").value(b"v"))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(meta.partition, ((0xd067_cf64_u32 & 0x7fff_ffff) % 3) as i32);
    let stats = producer.statistics();
    assert_eq!(stats.records_acked, 4);
    assert_eq!(stats.records_failed, 0);
    assert!(stats.request_latency_us.count >= 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_modes_callback_and_acks_zero() {
    let cluster = TestCluster::rdkafka_mock(1);
    let producer = cluster.producer("modes", 1, &[("acks", "0")]).await;
    let (tx, rx) = tokio::sync::oneshot::channel();
    producer
        .send(ProducerRecord::new("modes").value(b"a").timestamp(42))
        .await
        .unwrap()
        .on_complete(move |result| {
            let _ = tx.send(result);
        });
    let meta = rx.await.unwrap().unwrap();
    assert_eq!(meta.offset, -1, "acks=0 gives no offset");
    assert_eq!(meta.timestamp, 42, "no LogAppendTime: the CreateTime");
    let spawned = tokio::spawn(
        producer
            .send(ProducerRecord::new("modes").value(b"b"))
            .await
            .unwrap(),
    );
    assert_eq!(spawned.await.unwrap().unwrap().offset, -1);
    producer.close(Duration::from_secs(5)).await.unwrap();
    assert_eq!(high_watermarks(&cluster.bootstrap(), "modes", 1), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_sends_at_once_and_close_delivers_everything_buffered() {
    let cluster = TestCluster::rdkafka_mock(1);
    // A linger of an hour: only flush and close can make these batches leave.
    let producer = cluster
        .producer(
            "flush",
            2,
            &[("linger.ms", "3600000"), ("delivery.timeout.ms", "7200000")],
        )
        .await;
    let first = producer
        .send(ProducerRecord::new("flush").value(b"1"))
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), producer.flush())
        .await
        .unwrap();
    assert!(first.await.unwrap().offset >= 0);
    let mut later = Vec::new();
    for i in 0..100u32 {
        let v = i.to_be_bytes();
        later.push(
            producer
                .send(ProducerRecord::new("flush").value(&v))
                .await
                .unwrap(),
        );
    }
    producer.close(Duration::from_secs(10)).await.unwrap();
    for d in later {
        assert!(d.await.unwrap().offset >= 0);
    }
    assert_eq!(high_watermarks(&cluster.bootstrap(), "flush", 2), 101);
    let err = producer
        .send(ProducerRecord::new("flush").value(b"x"))
        .await
        .unwrap_err();
    assert!(matches!(err, ProducerError::Closed), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_record_fails_alone_with_a_clear_error() {
    let cluster = TestCluster::rdkafka_mock(1);
    let producer = cluster
        .producer("big", 1, &[("max.request.size", "10000")])
        .await;
    let ok = producer
        .send(ProducerRecord::new("big").value(b"small"))
        .await
        .unwrap();
    let big = vec![0u8; 20_000];
    let err = producer
        .send(ProducerRecord::new("big").value(&big))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProducerError::RecordTooLarge {
                limit: 10_000,
                limit_name: "max.request.size",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("max.request.size"));
    assert_eq!(ok.await.unwrap().offset, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_topic_without_auto_create_times_out_after_max_block() {
    let cluster = TestCluster::rdkafka_mock(1);
    let producer = builder(
        &cluster.bootstrap(),
        &[
            ("allow.auto.create.topics", "false"),
            ("max.block.ms", "700"),
        ],
    )
    .build()
    .await
    .unwrap();
    let started = std::time::Instant::now();
    let err = producer
        .send(ProducerRecord::new("nope").value(b"v"))
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(err, ProducerError::MetadataTimeout { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("nope"), "{err}");
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_secs(5),
        "{waited:?}"
    );
}

/// A producer on a 2-partition topic of a 2-broker cluster, one record delivered (metadata and
/// connections in place), then both brokers taken down.
async fn warm_up_then_take_every_broker_down(
    cluster: &TestCluster,
    topic: &str,
    properties: &[(&str, &str)],
) -> Producer {
    let producer = cluster.producer(topic, 2, properties).await;
    common::warm(&producer, topic).await;
    cluster.rdkafka().broker_down(1).unwrap();
    cluster.rdkafka().broker_down(2).unwrap();
    producer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_broker_down_fails_records_within_delivery_timeout() {
    let cluster = TestCluster::rdkafka_mock(2);
    let producer = warm_up_then_take_every_broker_down(
        &cluster,
        "down",
        &[
            ("delivery.timeout.ms", "1500"),
            ("request.timeout.ms", "1000"),
            ("retry.backoff.ms", "50"),
            ("retry.backoff.max.ms", "200"),
        ],
    )
    .await;
    let started = std::time::Instant::now();
    let deliveries: Vec<_> = futures::future::join_all(
        (0..10).map(|_| producer.send(ProducerRecord::new("down").value(b"lost"))),
    )
    .await;
    for d in deliveries {
        let err = d.unwrap().await.unwrap_err();
        assert!(
            matches!(
                err,
                ProducerError::DeliveryTimeout(_) | ProducerError::Broker { .. }
            ),
            "{err}"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(producer.statistics().records_failed, 10);
    tokio::time::timeout(
        Duration::from_secs(5),
        producer.close(Duration::from_secs(2)),
    )
    .await
    .unwrap()
    .unwrap();
}

/// Produces `count` records while injecting retriable errors into Produce requests and then
/// moving every partition's leader; returns the values read back per partition.
async fn produce_through_faults(
    cluster: &TestCluster,
    topic: &str,
    count: u64,
    in_flight: &str,
) -> Vec<Vec<Vec<u8>>> {
    use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

    cluster.create_topic(topic, 3);
    let bootstrap = cluster.bootstrap();
    let producer = builder(
        &bootstrap,
        &[
            ("enable.idempotence", "true"),
            ("max.in.flight.requests.per.connection", in_flight),
            ("linger.ms", "2"),
            ("batch.size", "2000"),
            ("retry.backoff.ms", "10"),
            ("retry.backoff.max.ms", "50"),
        ],
    )
    .build()
    .await
    .unwrap();
    let mut deliveries = Vec::new();
    for seq in 0..count {
        if seq == count / 6 {
            cluster.rdkafka().request_errors(
                RDKafkaApiKey::Produce,
                &[
                    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                    RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                    RDKafkaRespErr::RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                    RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                ],
            );
        }
        if seq == count / 3 {
            // The broker lost the producer's state: epoch bump, sequences restart at 0.
            cluster.rdkafka().request_errors(
                RDKafkaApiKey::Produce,
                &[
                    RDKafkaRespErr::RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                    RDKafkaRespErr::RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID,
                ],
            );
        }
        if seq == count / 2 {
            // A leader election: every partition moves to the next broker.
            for p in 0..3 {
                cluster
                    .rdkafka()
                    .partition_leader(topic, p, Some((p + 1) % 3 + 1))
                    .unwrap();
            }
        }
        let key = (seq % 31).to_string();
        let v = value(seq, 32);
        deliveries.push(
            producer
                .send(ProducerRecord::new(topic).key(key.as_bytes()).value(&v))
                .await
                .unwrap(),
        );
        if seq % 500 == 0 {
            tokio::task::yield_now().await;
        }
    }
    for d in deliveries {
        d.await.unwrap();
    }
    let stats = producer.statistics();
    assert!(
        stats.records_retried > 0,
        "the injected errors caused retries: {stats:?}"
    );
    assert!(
        stats.epoch_bumps > 0,
        "OUT_OF_ORDER_SEQUENCE_NUMBER / UNKNOWN_PRODUCER_ID bumped the epoch: {stats:?}"
    );
    producer.close(Duration::from_secs(10)).await.unwrap();
    assert_eq!(high_watermarks(&bootstrap, topic, 3), count as i64);
    read_back(&bootstrap, topic, 3, count as usize)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_producer_keeps_order_and_delivers_once_through_faults() {
    let cluster = TestCluster::rdkafka_mock(3);
    let back = produce_through_faults(&cluster, "faults-ordered", 6_000, "1").await;
    assert_once_in_order(&back, 6_000);
}

/// With 5 requests in flight, order after a failed request rests on the broker refusing the
/// later batches (OUT_OF_ORDER_SEQUENCE_NUMBER). librdkafka's mock checks sequences only for
/// transactional producers (`rd_kafka_mock_validate_records`), so here only "once" can hold;
/// the order case runs against the project's mock broker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_producer_with_five_in_flight_delivers_once_through_faults() {
    let cluster = TestCluster::rdkafka_mock(3);
    let back = produce_through_faults(&cluster, "faults-pipelined", 6_000, "5").await;
    common::assert_once(&back, 6_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_buffer_fails_try_send_at_once_and_send_after_max_block() {
    let cluster = TestCluster::rdkafka_mock(1);
    let producer = cluster
        .producer(
            "full",
            1,
            &[
                ("buffer.memory", "4000"),
                ("max.block.ms", "400"),
                ("delivery.timeout.ms", "60000"),
            ],
        )
        .await;
    common::warm(&producer, "full").await;
    // Nothing can leave while the only broker is down: the buffer fills.
    cluster.rdkafka().broker_down(1).unwrap();
    let value = [0u8; 500];
    let mut accepted = 0;
    let err = loop {
        match producer.try_send(ProducerRecord::new("full").value(&value)) {
            Ok(_) => accepted += 1,
            Err(e) => break e,
        }
        assert!(accepted < 100, "the buffer never filled");
    };
    assert!(
        matches!(err, ProducerError::BufferExhausted { .. }),
        "{err}"
    );
    assert!(accepted >= 5, "{accepted} records fit in 4000 bytes");
    let started = std::time::Instant::now();
    let err = producer
        .send(ProducerRecord::new("full").value(&value))
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(err, ProducerError::BufferExhausted { .. }),
        "{err}"
    );
    assert!(
        waited >= Duration::from_millis(400) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    let stats = producer.statistics();
    assert!(
        stats.buffer_used > 3000 && stats.buffer_used <= 4000,
        "{stats:?}"
    );
    // Back up: the buffered records go out and memory is free again.
    cluster.rdkafka().broker_up(1).unwrap();
    tokio::time::timeout(Duration::from_secs(20), producer.flush())
        .await
        .unwrap();
    assert_eq!(producer.statistics().buffer_used, 0);
    assert_eq!(
        high_watermarks(&cluster.bootstrap(), "full", 1),
        1 + accepted
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_refreshes_every_max_age_so_a_moved_leader_costs_no_retry() {
    let cluster = TestCluster::rdkafka_mock(2);
    cluster.create_topic("moves", 1);
    cluster
        .rdkafka()
        .partition_leader("moves", 0, Some(1))
        .unwrap();
    let producer = builder(&cluster.bootstrap(), &[("metadata.max.age.ms", "200")])
        .build()
        .await
        .unwrap();
    producer
        .send(ProducerRecord::new("moves").value(b"1"))
        .await
        .unwrap()
        .await
        .unwrap();
    cluster
        .rdkafka()
        .partition_leader("moves", 0, Some(2))
        .unwrap();
    // Longer than metadata.max.age.ms: the periodic refresh learns the new leader.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let meta = producer
        .send(ProducerRecord::new("moves").value(b"2"))
        .await
        .unwrap()
        .await
        .unwrap();
    assert_eq!(meta.offset, 1);
    assert_eq!(
        producer.statistics().records_retried,
        0,
        "sent to the new leader first time"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_slower_than_request_timeout_fails_records_within_delivery_timeout() {
    let cluster = TestCluster::rdkafka_mock(1);
    let producer = cluster
        .producer(
            "slow",
            1,
            &[
                ("request.timeout.ms", "1000"),
                ("delivery.timeout.ms", "1100"),
                ("retry.backoff.ms", "20"),
            ],
        )
        .await;
    common::warm(&producer, "slow").await;
    cluster
        .rdkafka()
        .broker_round_trip_time(1, Duration::from_secs(3))
        .unwrap();
    let started = std::time::Instant::now();
    let err = producer
        .send(ProducerRecord::new("slow").value(b"late"))
        .await
        .unwrap()
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(
            err,
            ProducerError::DeliveryTimeout(_) | ProducerError::Broker { .. }
        ),
        "{err}"
    );
    // The retry is still in flight when delivery.timeout.ms passes: it fails then, not when
    // its request times out at about 2 s.
    assert!(
        waited >= Duration::from_millis(1000) && waited < Duration::from_millis(1800),
        "{waited:?}"
    );
    assert!(matches!(err, ProducerError::DeliveryTimeout(_)), "{err}");
    cluster
        .rdkafka()
        .broker_round_trip_time(1, Duration::ZERO)
        .unwrap();
}

/// A transport that counts connections, wrapping TCP: the producer reaches brokers only
/// through the transport it is given (the harness plugs in a simulated network the same way).
struct CountingTransport(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl ktrial_producer::Transport for CountingTransport {
    fn connect<'a>(&'a self, addr: &'a str) -> ktrial_producer::ConnectFuture<'a> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ktrial_producer::TcpTransport.connect(addr)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_go_through_the_given_transport_one_per_broker() {
    let cluster = TestCluster::rdkafka_mock(3);
    cluster.create_topic("via", 6);
    let connects = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let producer = builder(&cluster.bootstrap(), &[])
        .transport(CountingTransport(connects.clone()))
        .build()
        .await
        .unwrap();
    for p in 0..6 {
        producer
            .send(ProducerRecord::new("via").partition(p).value(b"v"))
            .await
            .unwrap()
            .await
            .unwrap();
    }
    // One bootstrap connection, then one per broker leading a partition (at most 3).
    let n = connects.load(std::sync::atomic::Ordering::SeqCst);
    assert!((2..=4).contains(&n), "{n} connections");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_sent_while_every_broker_is_down_arrive_once_they_return() {
    let cluster = TestCluster::rdkafka_mock(2);
    let producer = warm_up_then_take_every_broker_down(
        &cluster,
        "outage",
        &[
            ("retry.backoff.ms", "20"),
            ("retry.backoff.max.ms", "100"),
            ("request.timeout.ms", "1000"),
            ("metadata.recovery.strategy", "rebootstrap"),
        ],
    )
    .await;
    let mut deliveries = Vec::new();
    for seq in 0..20 {
        let v = value(seq, 16);
        deliveries.push(
            producer
                .send(ProducerRecord::new("outage").value(&v))
                .await
                .unwrap(),
        );
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    cluster.rdkafka().broker_up(1).unwrap();
    cluster.rdkafka().broker_up(2).unwrap();
    for d in deliveries {
        tokio::time::timeout(Duration::from_secs(20), d)
            .await
            .unwrap()
            .unwrap();
    }
    producer.close(Duration::from_secs(5)).await.unwrap();
    assert_eq!(high_watermarks(&cluster.bootstrap(), "outage", 2), 21);
}
