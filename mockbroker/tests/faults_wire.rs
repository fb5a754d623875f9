//! Fault actions and cluster events seen by a raw protocol client (the protocol crate's codec
//! over TCP), on tokio's paused clock: time moves only when every task waits, so "after 300 ms"
//! and "nothing within 30 s" are exact and cost no wall time.
#![allow(clippy::unwrap_used)]

mod common;

use bytes::Bytes;
use common::batch;
use ktrial_mockbroker::{
    Action, ClusterEvent, ErrorCode, FaultRule, Happening, MockCluster, NoticeKind, ResponseError,
    ScheduledEvent,
};
use ktrial_protocol::StrBytes;
use ktrial_protocol::codec::{decode_response, encode_request};
use ktrial_protocol::compression::Compression;
use ktrial_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use ktrial_protocol::messages::produce_response::PartitionProduceResponse;
use ktrial_protocol::messages::{
    ApiKey, MetadataRequest, ProduceRequest, RequestHeader, RequestKind, ResponseKind, TopicName,
};
use ktrial_protocol::records::ProducerState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Duration, Instant, timeout};

const TOPIC: &str = "orders";
const PRODUCE_VERSION: i16 = 9;
const METADATA_VERSION: i16 = 12;
/// Longer than any wait a test expects to end (cluster time: free under the paused clock).
const PATIENCE: Duration = Duration::from_secs(60);

/// A connection to broker 1 speaking the protocol crate's codec.
struct Client {
    stream: TcpStream,
    next_correlation: i32,
}

/// What a read saw.
#[derive(Debug)]
enum Read {
    Frame(Bytes),
    Closed,
    Silent,
}

impl Client {
    async fn connect(cluster: &MockCluster) -> Self {
        let first = cluster.bootstrap_servers().split(',').next().unwrap();
        Self {
            stream: TcpStream::connect(first).await.unwrap(),
            next_correlation: 1,
        }
    }

    /// Sends a request; its correlation id.
    async fn send(&mut self, api: ApiKey, version: i16, body: RequestKind) -> i32 {
        let correlation_id = self.next_correlation;
        self.next_correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(api as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str("faults-wire")));
        let frame = encode_request(&header, &body).unwrap();
        self.stream.write_all(&frame).await.unwrap();
        correlation_id
    }

    /// The next response frame (without its size), the end of the connection, or silence for
    /// `wait`.
    async fn read(&mut self, wait: Duration) -> Read {
        let Ok(size) = timeout(wait, self.stream.read_i32()).await else {
            return Read::Silent;
        };
        let Ok(size) = size else {
            return Read::Closed;
        };
        let mut body = vec![0; usize::try_from(size).unwrap()];
        match self.stream.read_exact(&mut body).await {
            Ok(_) => Read::Frame(Bytes::from(body)),
            Err(_) => Read::Closed,
        }
    }

    async fn answer(&mut self, api: ApiKey, version: i16) -> (i32, ResponseKind) {
        match self.read(PATIENCE).await {
            Read::Frame(frame) => {
                let (header, body) = decode_response(api, version, frame).unwrap();
                (header.correlation_id, body)
            }
            other => panic!("an answer expected, got {other:?}"),
        }
    }

    /// Produces `count` records to each partition with `acks`; the partition answers by index.
    async fn produce(
        &mut self,
        partitions: &[i32],
        count: usize,
        acks: i16,
    ) -> Vec<PartitionProduceResponse> {
        self.send_produce(partitions, count, acks).await;
        let (_, response) = self.answer(ApiKey::Produce, PRODUCE_VERSION).await;
        let ResponseKind::Produce(response) = response else {
            panic!("a Produce answer");
        };
        let mut answers: Vec<_> = response
            .responses
            .into_iter()
            .flat_map(|t| t.partition_responses)
            .collect();
        answers.sort_by_key(|p| p.index);
        answers
    }

    async fn send_produce(&mut self, partitions: &[i32], count: usize, acks: i16) -> i32 {
        let data = partitions
            .iter()
            .map(|index| {
                PartitionProduceData::default()
                    .with_index(*index)
                    .with_records(Some(batch(Compression::None, count, ProducerState::NONE)))
            })
            .collect();
        let request = ProduceRequest::default()
            .with_acks(acks)
            .with_timeout_ms(30_000)
            .with_topic_data(vec![
                TopicProduceData::default()
                    .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
                    .with_partition_data(data),
            ]);
        self.send(
            ApiKey::Produce,
            PRODUCE_VERSION,
            RequestKind::Produce(request),
        )
        .await
    }

    async fn send_metadata(&mut self) -> i32 {
        let request = MetadataRequest::default().with_topics(None);
        self.send(
            ApiKey::Metadata,
            METADATA_VERSION,
            RequestKind::Metadata(request),
        )
        .await
    }
}

async fn cluster_with(brokers: i32, partitions: i32, rules: Vec<FaultRule>) -> MockCluster {
    let mut builder = MockCluster::builder().brokers(brokers).topic(
        TOPIC,
        partitions,
        i16::try_from(brokers).unwrap(),
    );
    for rule in rules {
        builder = builder.fault(rule);
    }
    builder.start().await.unwrap()
}

fn log_len(cluster: &MockCluster, partition: i32) -> usize {
    cluster.records(TOPIC, partition).unwrap().len()
}

/// The journal entries of one request (connection 1 of broker 1, by correlation id).
fn entries_of(cluster: &MockCluster, correlation_id: i32) -> Vec<Happening> {
    cluster
        .journal()
        .into_iter()
        .filter(|e| e.connection == Some(1) && e.correlation_id == Some(correlation_id))
        .map(|e| e.what)
        .collect()
}

fn is_response(what: &Happening) -> bool {
    matches!(what, Happening::Response { .. })
}

#[tokio::test(start_paused = true)]
async fn drop_never_applies_never_answers_and_silences_the_connection() {
    let cluster = cluster_with(
        1,
        1,
        vec![FaultRule::on(ApiKey::Produce).drop_request().once()],
    )
    .await;
    let mut client = Client::connect(&cluster).await;
    let dropped = client.send_produce(&[0], 3, 1).await;
    let metadata = client.send_metadata().await;
    let started = Instant::now();
    assert!(matches!(client.read(PATIENCE).await, Read::Silent));
    assert!(started.elapsed() >= PATIENCE, "silent, not closed");
    assert_eq!(log_len(&cluster, 0), 0, "never applied");
    let seen = entries_of(&cluster, dropped);
    assert!(seen.contains(&Happening::ResponseLost), "{seen:?}");
    assert!(!seen.iter().any(is_response), "{seen:?}");
    assert!(
        !entries_of(&cluster, metadata).iter().any(is_response),
        "later requests on the connection are not answered either"
    );
    // The rule is spent; a new connection is served.
    let mut fresh = Client::connect(&cluster).await;
    assert_eq!(fresh.produce(&[0], 3, 1).await[0].error_code, 0);
    assert_eq!(log_len(&cluster, 0), 3);
}

#[tokio::test(start_paused = true)]
async fn delay_answers_after_the_delay() {
    let cluster = cluster_with(1, 1, vec![FaultRule::on(ApiKey::Produce).delay_ms(300)]).await;
    let mut client = Client::connect(&cluster).await;
    let started = Instant::now();
    let answers = client.produce(&[0], 2, 1).await;
    let took = started.elapsed();
    assert_eq!(answers[0].error_code, 0);
    assert!(
        took >= Duration::from_millis(300),
        "answered after {took:?}"
    );
    assert!(took < Duration::from_millis(400), "answered after {took:?}");
    assert_eq!(log_len(&cluster, 0), 2);
    // Metadata is not delayed.
    let started = Instant::now();
    client.send_metadata().await;
    client.answer(ApiKey::Metadata, METADATA_VERSION).await;
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test(start_paused = true)]
async fn close_before_does_not_apply_and_close_after_does() {
    for (action, landed) in [(Action::CloseBefore, 0), (Action::CloseAfter, 3)] {
        let cluster = cluster_with(
            1,
            1,
            vec![FaultRule::on(ApiKey::Produce).then(action.clone())],
        )
        .await;
        let mut client = Client::connect(&cluster).await;
        let correlation_id = client.send_produce(&[0], 3, 1).await;
        assert!(
            matches!(client.read(PATIENCE).await, Read::Closed),
            "{action:?} closes"
        );
        assert_eq!(log_len(&cluster, 0), landed, "{action:?}");
        let seen = entries_of(&cluster, correlation_id);
        assert!(
            seen.iter()
                .any(|w| matches!(w, Happening::Closed { reason } if reason.contains(if landed == 0 { "before" } else { "after" }))),
            "{action:?}: {seen:?}"
        );
        assert!(!seen.iter().any(is_response), "{action:?}: {seen:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn throttle_sets_throttle_time_and_holds_the_next_request() {
    let cluster = cluster_with(
        1,
        1,
        vec![FaultRule::on(ApiKey::Produce).throttle_ms(500).once()],
    )
    .await;
    let mut client = Client::connect(&cluster).await;
    client.send_produce(&[0], 1, 1).await;
    let (_, response) = client.answer(ApiKey::Produce, PRODUCE_VERSION).await;
    let ResponseKind::Produce(response) = response else {
        panic!("a Produce answer");
    };
    assert_eq!(response.throttle_time_ms, 500);
    assert_eq!(response.responses[0].partition_responses[0].error_code, 0);
    let answered = Instant::now();
    client.send_metadata().await;
    client.answer(ApiKey::Metadata, METADATA_VERSION).await;
    let held = answered.elapsed();
    assert!(held >= Duration::from_millis(500), "held for {held:?}");
    // The throttle was once: the request after that is not held.
    let started = Instant::now();
    client.send_metadata().await;
    client.answer(ApiKey::Metadata, METADATA_VERSION).await;
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[tokio::test(start_paused = true)]
async fn corrupt_responses_cannot_be_decoded() {
    let cluster = cluster_with(
        1,
        1,
        vec![
            FaultRule::on(ApiKey::Metadata).corrupt(),
            FaultRule::on(ApiKey::Produce).corrupt(),
        ],
    )
    .await;
    let mut client = Client::connect(&cluster).await;
    let correlation_id = client.send_metadata().await;
    let Read::Frame(frame) = client.read(PATIENCE).await else {
        panic!("a frame");
    };
    let decoded = decode_response(ApiKey::Metadata, METADATA_VERSION, frame.clone());
    assert!(decoded.is_err(), "{decoded:?}");
    assert_eq!(
        i32::from_be_bytes(frame[..4].try_into().unwrap()),
        correlation_id,
        "the header is intact, the body is not"
    );
    client.send_produce(&[0], 2, 1).await;
    let Read::Frame(frame) = client.read(PATIENCE).await else {
        panic!("a frame");
    };
    assert!(decode_response(ApiKey::Produce, PRODUCE_VERSION, frame).is_err());
    assert_eq!(log_len(&cluster, 0), 2, "applied before corrupting");
}

#[tokio::test(start_paused = true)]
async fn an_error_on_chosen_partitions_applies_the_others() {
    let cluster = cluster_with(
        1,
        3,
        vec![FaultRule::on(ApiKey::Produce).error_on(ResponseError::NotLeaderOrFollower, [1])],
    )
    .await;
    let mut client = Client::connect(&cluster).await;
    let answers = client.produce(&[0, 1, 2], 3, 1).await;
    let codes: Vec<(i32, i16, i64)> = answers
        .iter()
        .map(|p| (p.index, p.error_code, p.base_offset))
        .collect();
    assert_eq!(codes, [(0, 0, 0), (1, 6, -1), (2, 0, 0)]);
    assert_eq!(
        (0..3).map(|p| log_len(&cluster, p)).collect::<Vec<_>>(),
        [3, 0, 3]
    );
}

#[tokio::test(start_paused = true)]
async fn a_stalled_follower_holds_the_high_watermark_until_it_leaves_the_isr() {
    let lag_max = Duration::from_secs(10);
    let cluster = MockCluster::builder()
        .brokers(3)
        .topic(TOPIC, 1, 3)
        .replica_lag_time_max(lag_max)
        .start()
        .await
        .unwrap();
    cluster
        .apply_event(ClusterEvent::StallReplication {
            broker: 2,
            topic: Some(TOPIC.into()),
            partition: Some(0),
            ms: 60_000,
        })
        .unwrap();
    let mut client = Client::connect(&cluster).await;
    let started = Instant::now();
    client.send_produce(&[0], 4, -1).await;
    assert!(
        matches!(client.read(lag_max / 2).await, Read::Silent),
        "acks=all waits for the stalled follower"
    );
    assert_eq!(cluster.high_watermark(TOPIC, 0), Some(0), "HW stopped");
    assert_eq!(cluster.isr(TOPIC, 0), Some(vec![1, 2, 3]));
    let (_, response) = client.answer(ApiKey::Produce, PRODUCE_VERSION).await;
    let took = started.elapsed();
    let ResponseKind::Produce(response) = response else {
        panic!("a Produce answer");
    };
    assert_eq!(response.responses[0].partition_responses[0].error_code, 0);
    assert!(took >= lag_max, "answered after {took:?}");
    assert_eq!(cluster.isr(TOPIC, 0), Some(vec![1, 3]));
    assert_eq!(cluster.high_watermark(TOPIC, 0), Some(4));
    let shrunk = cluster
        .journal()
        .into_iter()
        .find(|e| {
            matches!(&e.what, Happening::Cluster { notice: NoticeKind::IsrChanged { isr, .. } } if isr == &[1, 3])
        })
        .expect("the ISR change is journaled");
    assert!(shrunk.at_ms >= 10_000, "{shrunk:?}");
    // The stall ends at 60 s: the follower copies and rejoins.
    tokio::time::sleep_until(started + Duration::from_secs(61)).await;
    assert_eq!(cluster.isr(TOPIC, 0), Some(vec![1, 2, 3]));
}

#[tokio::test(start_paused = true)]
async fn scheduled_events_happen_at_their_cluster_time() {
    let cluster = MockCluster::builder()
        .brokers(3)
        .topic(TOPIC, 3, 3)
        .event(ScheduledEvent {
            at_ms: Some(500),
            event: ClusterEvent::BrokerDown { broker: 2 },
        })
        .start()
        .await
        .unwrap();
    let started = cluster.model().clock().origin();
    assert_eq!(cluster.leader(TOPIC, 1), Some(2));
    tokio::time::sleep_until(started + Duration::from_millis(499)).await;
    let up = |c: &MockCluster| c.model().read(c.model().now(), |m| m.is_broker_up(2));
    assert!(up(&cluster));
    tokio::time::sleep_until(started + Duration::from_millis(500)).await;
    assert!(!up(&cluster));
    assert_eq!(cluster.leader(TOPIC, 1), Some(3), "next in the ISR leads");
    let journal = cluster.journal();
    let event = journal
        .iter()
        .find(|e| {
            matches!(
                &e.what,
                Happening::Cluster {
                    notice: NoticeKind::Event(ClusterEvent::BrokerDown { broker: 2 })
                }
            )
        })
        .expect("the event is journaled");
    assert_eq!(event.at_ms, 500);
    let election = journal
        .iter()
        .find(|e| {
            matches!(
                &e.what,
                Happening::Cluster {
                    notice: NoticeKind::Election {
                        partition: 1,
                        leader: 3,
                        ..
                    }
                }
            )
        })
        .expect("the election is journaled");
    assert_eq!(election.at_ms, 500);
    // The text timeline shows it too.
    assert!(
        cluster
            .timeline()
            .contains("cluster election orders-1 leader=3 epoch=1")
    );
}

#[tokio::test(start_paused = true)]
async fn an_error_on_an_acks_0_produce_closes_the_connection_as_kafka_does() {
    let cluster = cluster_with(
        1,
        2,
        vec![FaultRule::on(ApiKey::Produce).error_on(ErrorCode::from_code(6).unwrap(), [1])],
    )
    .await;
    let mut client = Client::connect(&cluster).await;
    client.send_produce(&[0, 1], 2, 0).await;
    assert!(
        matches!(client.read(PATIENCE).await, Read::Closed),
        "never answered, closed so that the client refreshes metadata"
    );
    assert_eq!((log_len(&cluster, 0), log_len(&cluster, 1)), (2, 0));
}
