//! The request sequences sent to every broker, each with the answers real Kafka documents for it
//! (error codes from Kafka's `Errors.java`; each names the Kafka source it follows). Each scenario
//! uses its own topics and its own connection, so one broker's quirk does not cascade.

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use ktrial_protocol::StrBytes;
use ktrial_protocol::codec::encode_request;
use ktrial_protocol::compression::Compression;
use ktrial_protocol::messages::{
    ApiKey, ApiVersionsRequest, CreateTopicsRequest, DeleteTopicsRequest, FetchRequest,
    InitProducerIdRequest, ListOffsetsRequest, RequestKind, ResponseKind,
    create_topics_request::CreatableTopic,
    delete_topics_request::DeleteTopicState,
    fetch_request::{FetchPartition, FetchTopic},
    list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic},
};
use ktrial_protocol::records::ProducerState;

use crate::client::Answered;
use crate::normalise::Outcome;
use crate::session::*;

/// A named request sequence.
pub struct Scenario {
    /// Shown in the report.
    pub name: &'static str,
    /// Sends the requests and states the expectations.
    pub run: fn(&mut Session<'_>) -> Result<(), String>,
}

/// Every scenario, in report order.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "ApiVersions",
        run: api_versions,
    },
    Scenario {
        name: "unknown API key",
        run: unknown_api_key,
    },
    Scenario {
        name: "CreateTopics / DeleteTopics",
        run: create_delete_topics,
    },
    Scenario {
        name: "Metadata",
        run: metadata,
    },
    Scenario {
        name: "Produce acks and codecs",
        run: produce_acks_and_codecs,
    },
    Scenario {
        name: "Produce invalid batches",
        run: produce_invalid,
    },
    Scenario {
        name: "idempotent sequences",
        run: idempotence,
    },
    Scenario {
        name: "sequence wrap",
        run: sequence_wrap,
    },
    Scenario {
        name: "ListOffsets",
        run: list_offsets,
    },
    Scenario {
        name: "Fetch",
        run: fetch,
    },
];

// Kafka error codes (`Errors.java`), named as Kafka names them.
const NONE: &str = "0";
const OFFSET_OUT_OF_RANGE: &str = "1";
const CORRUPT_MESSAGE: &str = "2";
const UNKNOWN_TOPIC_OR_PARTITION: &str = "3";
const MESSAGE_TOO_LARGE: &str = "10";
const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
const INVALID_TOPIC_EXCEPTION: &str = "17";
const INVALID_REQUIRED_ACKS: &str = "21";
const UNSUPPORTED_VERSION: &str = "35";
const TOPIC_ALREADY_EXISTS: &str = "36";
const INVALID_PARTITIONS: &str = "37";
const INVALID_REPLICATION_FACTOR: &str = "38";
const OUT_OF_ORDER_SEQUENCE_NUMBER: &str = "45";
const INVALID_PRODUCER_EPOCH: &str = "47";
const UNKNOWN_TOPIC_ID: &str = "100";

const PARTITION_ERROR: &str = "partition_responses[0].error_code";
const PARTITION_OFFSET: &str = "partition_responses[0].base_offset";

fn api_versions(s: &mut Session<'_>) -> Result<(), String> {
    let max = ApiKey::ApiVersions.valid_versions().max;
    for version in 0..=max {
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("ktrial-differential"))
            .with_client_software_version(StrBytes::from_static_str("0.1.0"));
        s.exchange(
            format!("ApiVersions v{version}"),
            version,
            RequestKind::ApiVersions(request),
        );
        s.expect("error_code", NONE);
    }
    // A version beyond any the broker knows: the body is not parsed and the answer is v0 with
    // UNSUPPORTED_VERSION and ApiVersions' own range (KIP-511, ApiVersionsRequest.getErrorResponse).
    for version in [5, 127] {
        let correlation_id = send_patched_api_versions(s, version)?;
        let answered = s
            .connection()
            .receive_for(ApiKey::ApiVersions, version, correlation_id);
        s.record(format!("ApiVersions v{version} (unsupported)"), answered);
        s.expect("error_code", UNSUPPORTED_VERSION);
        s.expect("api_keys[0].api_key", "18");
        s.expect("api_keys[0].max_version", &max.to_string());
    }
    Ok(())
}

/// ApiVersions encoded at its highest version, then relabelled `version` (the encoder refuses
/// versions it does not know, which is the point of the request).
fn send_patched_api_versions(s: &mut Session<'_>, version: i16) -> Result<i32, String> {
    let max = ApiKey::ApiVersions.valid_versions().max;
    let header = s.connection().header(ApiKey::ApiVersions, max);
    let frame = encode_request(
        &header,
        &RequestKind::ApiVersions(ApiVersionsRequest::default()),
    )
    .map_err(|e| e.to_string())?;
    let mut frame = BytesMut::from(&frame[..]);
    frame[6..8].copy_from_slice(&version.to_be_bytes());
    s.connection().send_frame(&frame)?;
    Ok(header.correlation_id)
}

fn unknown_api_key(s: &mut Session<'_>) -> Result<(), String> {
    // Header v1 by hand: api key, version, correlation id, client id; no body. Kafka fails to
    // parse the header (SocketServer.parseRequestHeader) and closes the connection.
    let mut frame = BytesMut::new();
    let client_id = b"ktrial-differential";
    frame.put_i32((2 + 2 + 4 + 2 + client_id.len()) as i32);
    frame.put_i16(9_999);
    frame.put_i16(0);
    frame.put_i32(1);
    frame.put_i16(client_id.len() as i16);
    frame.put_slice(client_id);
    s.connection().send_frame(&frame)?;
    let answered = s.connection().receive_for(ApiKey::ApiVersions, 0, 1);
    s.record("API key 9999", answered);
    s.expect_outcome(&Outcome::Closed);
    // A known API at a version the broker does not support: also closed.
    s.reconnect()?;
    let correlation_id = {
        let header = s.connection().header(ApiKey::Metadata, 0);
        let frame = encode_request(
            &header,
            // v0 has no allow_auto_topic_creation field: it must keep its default, true.
            &RequestKind::Metadata(metadata_request(&[], true)),
        )
        .map_err(|e| e.to_string())?;
        let mut frame = BytesMut::from(&frame[..]);
        frame[6..8].copy_from_slice(&99i16.to_be_bytes());
        s.connection().send_frame(&frame)?;
        header.correlation_id
    };
    let answered = s
        .connection()
        .receive_for(ApiKey::Metadata, 0, correlation_id);
    s.record("Metadata v99", answered);
    s.expect_outcome(&Outcome::Closed);
    Ok(())
}

fn creatable(name: &str, partitions: i32, replication_factor: i16) -> CreatableTopic {
    CreatableTopic::default()
        .with_name(topic_name(name))
        .with_num_partitions(partitions)
        .with_replication_factor(replication_factor)
}

fn create_topics(s: &mut Session<'_>, what: &str, topic: CreatableTopic, validate_only: bool) {
    let request = CreateTopicsRequest::default()
        .with_topics(vec![topic])
        .with_timeout_ms(10_000)
        .with_validate_only(validate_only);
    s.exchange(what, CREATE_TOPICS_V, RequestKind::CreateTopics(request));
}

/// Creates `name` with `partitions` partitions (recorded) and waits for its leaders (not recorded).
fn create_topic(s: &mut Session<'_>, name: &str, partitions: i32) -> Result<(), String> {
    create_topics(
        s,
        &format!("CreateTopics {name}"),
        creatable(&s.topic(name), partitions, 1),
        false,
    );
    s.expect("topics[0].error_code", NONE);
    let topic = s.topic(name);
    if s.await_leaders(&topic) {
        Ok(())
    } else {
        Err(format!("{topic} has no leader"))
    }
}

fn delete_topics(s: &mut Session<'_>, what: &str, topic: DeleteTopicState) -> Option<ResponseKind> {
    let request = DeleteTopicsRequest::default()
        .with_topics(vec![topic])
        .with_timeout_ms(10_000);
    s.exchange(what, DELETE_TOPICS_V, RequestKind::DeleteTopics(request))
}

fn create_delete_topics(s: &mut Session<'_>) -> Result<(), String> {
    let topic = s.topic("created");
    create_topics(
        s,
        "CreateTopics validate_only",
        creatable(&topic, 3, 1),
        true,
    );
    s.expect("topics[0].error_code", NONE);
    create_topics(
        s,
        "CreateTopics 3 partitions",
        creatable(&topic, 3, 1),
        false,
    );
    s.expect("topics[0].error_code", NONE);
    s.expect("topics[0].num_partitions", "3");
    create_topics(s, "CreateTopics again", creatable(&topic, 3, 1), false);
    s.expect("topics[0].error_code", TOPIC_ALREADY_EXISTS);
    let invalid = [
        ("name with '/'", "bad/name", 1, 1, INVALID_TOPIC_EXCEPTION),
        ("0 partitions", "zero-p", 0, 1, INVALID_PARTITIONS),
        (
            "replication factor 0",
            "zero-rf",
            1,
            0,
            INVALID_REPLICATION_FACTOR,
        ),
        (
            "replication factor 9",
            "rf9",
            1,
            9,
            INVALID_REPLICATION_FACTOR,
        ),
    ];
    for (what, name, partitions, replication_factor, error) in invalid {
        let topic = creatable(&s.topic(name), partitions, replication_factor);
        create_topics(s, &format!("CreateTopics {what}"), topic, false);
        s.expect("topics[0].error_code", error);
    }

    s.await_leaders(&topic);
    let deleted = delete_topics(
        s,
        "DeleteTopics existing",
        DeleteTopicState::default().with_name(Some(topic_name(&topic))),
    );
    s.expect("responses[0].error_code", NONE);
    let deleted_id = match deleted {
        Some(ResponseKind::DeleteTopics(r)) => r.responses.first().map(|t| t.topic_id),
        _ => None,
    };
    delete_topics(
        s,
        "DeleteTopics missing name",
        DeleteTopicState::default().with_name(Some(topic_name(&s.topic("never-created")))),
    );
    s.expect("responses[0].error_code", UNKNOWN_TOPIC_OR_PARTITION);
    if let Some(id) = deleted_id {
        delete_topics(
            s,
            "DeleteTopics by the id of a deleted topic",
            DeleteTopicState::default().with_topic_id(id),
        );
        s.expect("responses[0].error_code", UNKNOWN_TOPIC_ID);
    }
    Ok(())
}

fn metadata(s: &mut Session<'_>) -> Result<(), String> {
    create_topic(s, "meta", 2)?;
    let existing = s.topic("meta");
    s.exchange(
        "Metadata existing topic",
        METADATA_V,
        RequestKind::Metadata(metadata_request(&[&existing], false)),
    );
    s.expect("topics[0].error_code", NONE);
    s.expect("topics[0].partitions[1].partition_index", "1");
    let missing = s.topic("missing");
    s.exchange(
        "Metadata missing topic, no auto-create",
        METADATA_V,
        RequestKind::Metadata(metadata_request(&[&missing], false)),
    );
    s.expect("topics[0].error_code", UNKNOWN_TOPIC_OR_PARTITION);
    let auto = s.topic("auto");
    // The first answer creates the topic and reports it not ready yet (LEADER_NOT_AVAILABLE, 5)
    // or already ready: timing, so only the eventual answer is asserted.
    s.exchange(
        "Metadata missing topic, auto-create",
        METADATA_V,
        RequestKind::Metadata(metadata_request(&[&auto], true)),
    );
    s.await_leaders(&auto);
    s.exchange(
        "Metadata auto-created topic, later",
        METADATA_V,
        RequestKind::Metadata(metadata_request(&[&auto], false)),
    );
    s.expect("topics[0].error_code", NONE);
    s.expect("topics[0].partitions[0].error_code", NONE);
    s.exchange(
        "Metadata invalid topic name",
        METADATA_V,
        RequestKind::Metadata(metadata_request(&[&s.topic("bad/name")], true)),
    );
    s.expect("topics[0].error_code", INVALID_TOPIC_EXCEPTION);
    Ok(())
}

fn produce_acks_and_codecs(s: &mut Session<'_>) -> Result<(), String> {
    create_topic(s, "acks", 1)?;
    let topic = s.topic("acks");
    let t0 = s.timestamp(0);
    let plain = || batch(Compression::None, ProducerState::NONE, "acks", 2, t0);
    s.exchange(
        "Produce acks=1",
        PRODUCE_V,
        produce_request(&topic, 0, 1, plain()),
    );
    s.expect(PARTITION_ERROR, NONE);
    s.expect(PARTITION_OFFSET, "0");
    s.exchange(
        "Produce acks=-1",
        PRODUCE_V,
        produce_request(&topic, 0, -1, plain()),
    );
    s.expect(PARTITION_ERROR, NONE);
    s.expect(PARTITION_OFFSET, "2");
    s.exchange(
        "Produce acks=2",
        PRODUCE_V,
        produce_request(&topic, 0, 2, plain()),
    );
    s.expect(PARTITION_ERROR, INVALID_REQUIRED_ACKS);
    // acks=0: no response; the next request's answer comes first.
    let answered = s
        .connection()
        .call_expecting_silence(PRODUCE_V, produce_request(&topic, 0, 0, plain()));
    s.record("Produce acks=0", answered);
    s.expect_outcome(&Outcome::NoAnswer);
    s.exchange(
        "Produce acks=1 after acks=0",
        PRODUCE_V,
        produce_request(&topic, 0, 1, plain()),
    );
    s.expect(PARTITION_OFFSET, "6");
    // acks=0 to a partition that does not exist: Kafka closes the connection (KafkaApis L709-727).
    let answered = s
        .connection()
        .call_expecting_silence(PRODUCE_V, produce_request(&topic, 7, 0, plain()));
    s.record("Produce acks=0 to a missing partition", answered);
    s.expect_outcome(&Outcome::Closed);
    s.reconnect()?;

    for (i, codec) in Compression::ALL.into_iter().enumerate() {
        let records = batch(
            codec,
            ProducerState::NONE,
            codec.name(),
            3,
            s.timestamp(100 * i as i64),
        );
        s.exchange(
            format!("Produce {} batch", codec.name()),
            PRODUCE_V,
            produce_request(&topic, 0, 1, records),
        );
        s.expect(PARTITION_ERROR, NONE);
        s.expect(PARTITION_OFFSET, &(8 + 3 * i).to_string());
    }
    s.exchange(
        "Produce to a missing topic",
        PRODUCE_V,
        produce_request(&s.topic("no-such-topic"), 0, 1, plain()),
    );
    s.expect(PARTITION_ERROR, UNKNOWN_TOPIC_OR_PARTITION);
    s.exchange(
        "Produce to partition 7 of 1",
        PRODUCE_V,
        produce_request(&topic, 7, 1, plain()),
    );
    s.expect(PARTITION_ERROR, UNKNOWN_TOPIC_OR_PARTITION);
    // Read back every codec's batch: Kafka stores the producer's batches as they are.
    fetch_from(s, "Fetch the codec batches", &topic, 8, 1 << 20);
    s.expect("partitions[0].error_code", NONE);
    for (i, codec) in Compression::ALL.into_iter().enumerate() {
        s.expect(
            &format!("batches[{i}].compression"),
            &format!("{:?}", codec.name()),
        );
    }
    Ok(())
}

fn produce_invalid(s: &mut Session<'_>) -> Result<(), String> {
    create_topic(s, "invalid", 1)?;
    let topic = s.topic("invalid");
    let mut corrupt = BytesMut::from(
        &batch(
            Compression::None,
            ProducerState::NONE,
            "crc",
            2,
            s.timestamp(0),
        )[..],
    );
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff;
    s.exchange(
        "Produce batch with a bad CRC",
        PRODUCE_V,
        produce_request(&topic, 0, 1, corrupt.freeze()),
    );
    s.expect(PARTITION_ERROR, CORRUPT_MESSAGE);
    // One record over message.max.bytes (1 MiB + 12 by default); incompressible on purpose.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let big: Vec<u8> = (0..1_100_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut builder = ktrial_protocol::records::RecordBatchBuilder::new(Compression::None);
    builder
        .append(s.timestamp(0), None, Some(&big), &[])
        .map_err(|e| e.to_string())?;
    let oversized = builder.finish().map_err(|e| e.to_string())?;
    s.exchange(
        "Produce batch over message.max.bytes",
        PRODUCE_V,
        produce_request(&topic, 0, 1, oversized),
    );
    s.expect(PARTITION_ERROR, MESSAGE_TOO_LARGE);
    s.exchange(
        "Produce after the rejected batches",
        PRODUCE_V,
        produce_request(
            &topic,
            0,
            1,
            batch(
                Compression::None,
                ProducerState::NONE,
                "ok",
                1,
                s.timestamp(0),
            ),
        ),
    );
    s.expect(PARTITION_ERROR, NONE);
    s.expect(PARTITION_OFFSET, "0");
    Ok(())
}

/// InitProducerId for an idempotent (non-transactional) producer: the producer id and epoch.
/// A fresh Kafka answers COORDINATOR_LOAD_IN_PROGRESS (14) until its producer id block arrives
/// from the controller; those retries are timing and are not recorded.
fn init_producer_id(s: &mut Session<'_>) -> Result<(i64, i16), String> {
    let request = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(i32::MAX)
        .with_producer_id(ktrial_protocol::messages::ProducerId(-1))
        .with_producer_epoch(-1);
    let mut answered = s.connection().call(
        INIT_PRODUCER_ID_V,
        RequestKind::InitProducerId(request.clone()),
    )?;
    for _ in 0..100 {
        let Answered::Body(body) = &answered else {
            break;
        };
        if !matches!(&**body, ResponseKind::InitProducerId(r) if r.error_code == COORDINATOR_LOAD_IN_PROGRESS)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        answered = s.connection().call(
            INIT_PRODUCER_ID_V,
            RequestKind::InitProducerId(request.clone()),
        )?;
    }
    let answer = s.record("InitProducerId (idempotent)", answered);
    s.expect("error_code", NONE);
    match answer {
        Some(ResponseKind::InitProducerId(r)) if r.error_code == 0 => {
            Ok((r.producer_id.0, r.producer_epoch))
        }
        _ => Err("InitProducerId gave no producer id".into()),
    }
}

fn idempotent(producer_id: i64, producer_epoch: i16, base_sequence: i32) -> ProducerState {
    ProducerState {
        producer_id,
        producer_epoch,
        base_sequence,
    }
}

fn idempotence(s: &mut Session<'_>) -> Result<(), String> {
    create_topic(s, "idem", 1)?;
    let topic = s.topic("idem");
    let (pid, epoch) = init_producer_id(s)?;
    s.expect("producer_epoch", "0");
    let t0 = s.timestamp(0);
    let send = |s: &mut Session<'_>, what: String, epoch: i16, seq: i32| {
        let records = batch(
            Compression::None,
            idempotent(pid, epoch, seq),
            "idem",
            3,
            t0,
        );
        s.exchange(what, PRODUCE_V, produce_request(&topic, 0, -1, records));
    };
    // Six batches of three records in order: sequences 0, 3, …, 15 at offsets 0, 3, …, 15.
    for n in 0..6 {
        send(s, format!("Produce seq {} in order", 3 * n), epoch, 3 * n);
        s.expect(PARTITION_ERROR, NONE);
        s.expect(PARTITION_OFFSET, &(3 * n).to_string());
    }
    // A retry of any of the last five batches: NONE with the original offset, nothing appended.
    for n in 1..6 {
        send(
            s,
            format!("Produce seq {} again (duplicate)", 3 * n),
            epoch,
            3 * n,
        );
        s.expect(PARTITION_ERROR, NONE);
        s.expect(PARTITION_OFFSET, &(3 * n).to_string());
    }
    // The first batch has left the five-batch cache: out of order.
    send(
        s,
        "Produce seq 0 again (older than the cache)".into(),
        epoch,
        0,
    );
    s.expect(PARTITION_ERROR, OUT_OF_ORDER_SEQUENCE_NUMBER);
    send(s, "Produce seq 21 (gap after 17)".into(), epoch, 21);
    s.expect(PARTITION_ERROR, OUT_OF_ORDER_SEQUENCE_NUMBER);
    send(s, "Produce seq 18 in order".into(), epoch, 18);
    s.expect(PARTITION_ERROR, NONE);
    s.expect(PARTITION_OFFSET, "18");
    // A new epoch must start at sequence 0; then the old epoch is stale.
    send(s, "Produce epoch+1 seq 5".into(), epoch + 1, 5);
    s.expect(PARTITION_ERROR, OUT_OF_ORDER_SEQUENCE_NUMBER);
    send(s, "Produce epoch+1 seq 0".into(), epoch + 1, 0);
    s.expect(PARTITION_ERROR, NONE);
    s.expect(PARTITION_OFFSET, "21");
    send(s, "Produce stale epoch seq 21".into(), epoch, 21);
    s.expect(PARTITION_ERROR, INVALID_PRODUCER_EPOCH);
    Ok(())
}

fn sequence_wrap(s: &mut Session<'_>) -> Result<(), String> {
    create_topic(s, "wrap", 1)?;
    let topic = s.topic("wrap");
    let (pid, epoch) = init_producer_id(s)?;
    let t0 = s.timestamp(0);
    let send = |s: &mut Session<'_>, what: &str, seq: i32, count: usize| {
        let records = batch(
            Compression::None,
            idempotent(pid, epoch, seq),
            "wrap",
            count,
            t0,
        );
        s.exchange(what, PRODUCE_V, produce_request(&topic, 0, -1, records));
    };
    // A producer with no state on the partition may start at any sequence (KIP-360).
    send(s, "Produce first batch at seq 2^31-3", i32::MAX - 2, 2);
    s.expect(PARTITION_ERROR, NONE);
    // Sequences 2^31-1, 0, 1: a batch across the wrap (incrementSequence).
    send(
        s,
        "Produce batch across the wrap (seq 2^31-1, 3 records)",
        i32::MAX,
        3,
    );
    s.expect(PARTITION_ERROR, NONE);
    s.expect(PARTITION_OFFSET, "2");
    send(s, "Produce seq 2 after the wrap", 2, 1);
    s.expect(PARTITION_ERROR, NONE);
    s.expect(PARTITION_OFFSET, "5");
    send(
        s,
        "Produce seq 0 after the wrap (duplicate inside the last batch)",
        0,
        1,
    );
    s.expect(PARTITION_ERROR, OUT_OF_ORDER_SEQUENCE_NUMBER);
    Ok(())
}

fn list_offsets_request(topic: &str, timestamp: i64) -> RequestKind {
    RequestKind::ListOffsets(
        ListOffsetsRequest::default()
            .with_replica_id(ktrial_protocol::messages::BrokerId(-1))
            .with_topics(vec![
                ListOffsetsTopic::default()
                    .with_name(topic_name(topic))
                    .with_partitions(vec![
                        ListOffsetsPartition::default()
                            .with_partition_index(0)
                            .with_current_leader_epoch(-1)
                            .with_timestamp(timestamp),
                    ]),
            ]),
    )
}

/// Two batches of five records, timestamps t0, t0+10, …, t0+40 and t0+1000, …, t0+1040.
fn produce_two_batches(s: &mut Session<'_>, topic: &str) {
    for (n, start) in [0i64, 1000].into_iter().enumerate() {
        let records = batch(
            Compression::None,
            ProducerState::NONE,
            &format!("b{n}"),
            5,
            s.timestamp(start),
        );
        s.exchange(
            format!("Produce batch {n}"),
            PRODUCE_V,
            produce_request(topic, 0, 1, records),
        );
        s.expect(PARTITION_ERROR, NONE);
    }
}

fn list_offsets(s: &mut Session<'_>) -> Result<(), String> {
    create_topic(s, "offsets", 1)?;
    let topic = s.topic("offsets");
    s.exchange(
        "ListOffsets latest, empty log",
        LIST_OFFSETS_V,
        list_offsets_request(&topic, -1),
    );
    s.expect("partitions[0].offset", "0");
    produce_two_batches(s, &topic);
    let cases = [
        ("earliest (-2)", -2, "0"),
        ("latest (-1)", -1, "10"),
        ("max timestamp (-3)", -3, "9"),
        ("timestamp t0+15", s.timestamp(15), "2"),
        ("timestamp t0+500", s.timestamp(500), "5"),
        ("timestamp after the last record", s.timestamp(5_000), "-1"),
    ];
    for (what, timestamp, offset) in cases {
        s.exchange(
            format!("ListOffsets {what}"),
            LIST_OFFSETS_V,
            list_offsets_request(&topic, timestamp),
        );
        s.expect("partitions[0].error_code", NONE);
        s.expect("partitions[0].offset", offset);
    }
    s.exchange(
        "ListOffsets missing topic",
        LIST_OFFSETS_V,
        list_offsets_request(&s.topic("no-such-topic"), -1),
    );
    s.expect("partitions[0].error_code", UNKNOWN_TOPIC_OR_PARTITION);
    Ok(())
}

fn fetch_from(s: &mut Session<'_>, what: &str, topic: &str, offset: i64, max_bytes: i32) {
    let request = FetchRequest::default()
        .with_replica_id(ktrial_protocol::messages::BrokerId(-1))
        .with_max_wait_ms(100)
        .with_min_bytes(1)
        .with_max_bytes(max_bytes)
        .with_session_epoch(-1)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(topic_name(topic))
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(0)
                        .with_current_leader_epoch(-1)
                        .with_fetch_offset(offset)
                        .with_last_fetched_epoch(-1)
                        .with_log_start_offset(-1)
                        .with_partition_max_bytes(max_bytes),
                ]),
        ]);
    s.exchange(what, FETCH_V, RequestKind::Fetch(request));
}

fn fetch(s: &mut Session<'_>) -> Result<(), String> {
    create_topic(s, "fetch", 1)?;
    let topic = s.topic("fetch");
    produce_two_batches(s, &topic);
    fetch_from(s, "Fetch from 0", &topic, 0, 1 << 20);
    s.expect("partitions[0].error_code", NONE);
    s.expect("partitions[0].high_watermark", "10");
    s.expect("batches[1].base_offset", "5");
    // From the middle of the first batch: Kafka returns whole batches, starting before the offset.
    fetch_from(
        s,
        "Fetch from 3 (inside the first batch)",
        &topic,
        3,
        1 << 20,
    );
    s.expect("partitions[0].error_code", NONE);
    s.expect("batches[0].base_offset", "0");
    fetch_from(s, "Fetch at the end (10)", &topic, 10, 1 << 20);
    s.expect("partitions[0].error_code", NONE);
    s.expect_that(
        s.steps
            .last()
            .is_some_and(|step| step.outcome.get("batches[0].base_offset").is_none()),
        "no batch in a Fetch at the end of the log",
    );
    fetch_from(s, "Fetch past the end (11)", &topic, 11, 1 << 20);
    s.expect("partitions[0].error_code", OFFSET_OUT_OF_RANGE);
    fetch_from(s, "Fetch at -5", &topic, -5, 1 << 20);
    s.expect("partitions[0].error_code", OFFSET_OUT_OF_RANGE);
    // A limit smaller than the first batch: the first batch comes anyway (KIP-74).
    fetch_from(s, "Fetch with max_bytes 10", &topic, 0, 10);
    s.expect("partitions[0].error_code", NONE);
    s.expect("batches[0].base_offset", "0");
    fetch_from(
        s,
        "Fetch from a missing topic",
        &s.topic("no-such-topic"),
        0,
        1 << 20,
    );
    s.expect("partitions[0].error_code", UNKNOWN_TOPIC_OR_PARTITION);
    Ok(())
}
