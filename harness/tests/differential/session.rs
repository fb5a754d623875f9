//! One scenario's conversation with one broker: it sends requests, records each answer in normalised
//! form as a step of the comparison, and checks the oracle's answers against Kafka's documented
//! behaviour (expectations are only asserted on real Kafka; the mock is judged by comparison).

use std::time::Duration;

use bytes::Bytes;
use ktrial_protocol::compression::Compression;
use ktrial_protocol::messages::{
    FetchResponse, MetadataRequest, ProduceRequest, RequestKind, ResponseKind, TopicName,
    metadata_request::MetadataRequestTopic,
    produce_request::{PartitionProduceData, TopicProduceData},
};
use ktrial_protocol::records::{ProducerState, RecordBatch, RecordBatchBuilder, parse_batches};
use ktrial_protocol::{ProtocolError, StrBytes};

use crate::client::{Answered, Connection};
use crate::normalise::{Leaves, Outcome, RunContext, normalise};

/// Versions the scenarios speak (the highest that still address topics by name).
pub const METADATA_V: i16 = 12;
/// See [`METADATA_V`].
pub const PRODUCE_V: i16 = 12;
/// See [`METADATA_V`].
pub const FETCH_V: i16 = 12;
/// See [`METADATA_V`].
pub const LIST_OFFSETS_V: i16 = 9;
/// See [`METADATA_V`].
pub const CREATE_TOPICS_V: i16 = 7;
/// See [`METADATA_V`].
pub const DELETE_TOPICS_V: i16 = 6;
/// See [`METADATA_V`].
pub const INIT_PRODUCER_ID_V: i16 = 5;

/// One request and what the broker did with it.
#[derive(Debug, Clone)]
pub struct Step {
    /// What was asked, in words.
    pub request: String,
    /// The answer, normalised.
    pub outcome: Outcome,
}

/// A scenario's connection to one broker and what it has seen.
pub struct Session<'a> {
    addr: String,
    conn: Connection,
    run: &'a RunContext,
    is_oracle: bool,
    /// The recorded steps, in order.
    pub steps: Vec<Step>,
    /// Expectations the oracle did not meet.
    pub failures: Vec<String>,
}

impl<'a> Session<'a> {
    /// Connects to `addr`; `is_oracle` turns expectations into assertions.
    pub fn new(addr: &str, run: &'a RunContext, is_oracle: bool) -> Result<Self, String> {
        Ok(Self {
            addr: addr.to_string(),
            conn: Connection::connect(addr).map_err(|e| format!("connect {addr}: {e}"))?,
            run,
            is_oracle,
            steps: Vec::new(),
            failures: Vec::new(),
        })
    }

    /// The run-unique name of a scenario's topic.
    pub fn topic(&self, name: &str) -> String {
        format!("{}{name}", self.run.topic_prefix)
    }

    /// The record timestamp `offset_ms` after the run's base.
    pub fn timestamp(&self, offset_ms: i64) -> i64 {
        self.run.base_timestamp + offset_ms
    }

    /// A new connection (after the broker closed the old one).
    pub fn reconnect(&mut self) -> Result<(), String> {
        self.conn =
            Connection::connect(&self.addr).map_err(|e| format!("connect {}: {e}", self.addr))?;
        Ok(())
    }

    /// The connection, for hand-made frames.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Sends a request, records the step and returns the typed answer.
    pub fn exchange(
        &mut self,
        request: impl Into<String>,
        version: i16,
        body: RequestKind,
    ) -> Option<ResponseKind> {
        let answered = self
            .conn
            .call(version, body)
            .unwrap_or_else(|e| Answered::Undecodable(format!("could not send: {e}")));
        self.record(request, answered)
    }

    /// Records an answer obtained by hand (see [`Connection::receive_for`]).
    pub fn record(
        &mut self,
        request: impl Into<String>,
        answered: Answered,
    ) -> Option<ResponseKind> {
        let (outcome, body) = match answered {
            Answered::Body(body) => match normalise_body(&body, self.run) {
                Ok(leaves) => (Outcome::Answer(leaves), Some(*body)),
                Err(e) => (Outcome::Undecodable(e), None),
            },
            Answered::Silent => (Outcome::NoAnswer, None),
            Answered::Closed => (Outcome::Closed, None),
            Answered::Undecodable(e) => (Outcome::Undecodable(e), None),
        };
        let request = request.into();
        if self.is_oracle
            && let Outcome::Undecodable(e) = &outcome
        {
            self.failures
                .push(format!("{request}: Kafka's answer did not decode: {e}"));
        }
        self.steps.push(Step { request, outcome });
        body
    }

    /// Expects the last step's leaf ending in `path` to read `value` (asserted on the oracle only).
    pub fn expect(&mut self, path: &str, value: &str) {
        let Some(step) = self.steps.last() else {
            return;
        };
        let got = step.outcome.get(path);
        if self.is_oracle && got != Some(value) {
            self.failures.push(format!(
                "{}: expected {path} = {value}, Kafka answered {got:?} ({})",
                step.request,
                step.outcome.summary()
            ));
        }
    }

    /// Expects the last step to have ended as `outcome` (no answer, closed connection).
    pub fn expect_outcome(&mut self, outcome: &Outcome) {
        let Some(step) = self.steps.last() else {
            return;
        };
        if self.is_oracle && &step.outcome != outcome {
            self.failures.push(format!(
                "{}: expected {}, Kafka: {}",
                step.request,
                outcome.summary(),
                step.outcome.summary()
            ));
        }
    }

    /// A free-form expectation about the oracle (`holds` computed by the scenario).
    pub fn expect_that(&mut self, holds: bool, what: &str) {
        if self.is_oracle && !holds {
            self.failures.push(format!("expected {what}"));
        }
    }

    /// Polls Metadata (not recorded: how long it takes is timing) until every partition of `topic`
    /// has a leader, or gives up after 15 s.
    pub fn await_leaders(&mut self, topic: &str) -> bool {
        for _ in 0..150 {
            let body = RequestKind::Metadata(metadata_request(&[topic], false));
            if let Ok(Answered::Body(body)) = self.conn.call(METADATA_V, body)
                && let ResponseKind::Metadata(m) = *body
                && m.topics.iter().all(|t| {
                    t.error_code == 0
                        && !t.partitions.is_empty()
                        && t.partitions.iter().all(|p| p.leader_id.0 >= 0)
                })
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if self.is_oracle {
            self.failures
                .push(format!("{topic} got no leader within 15 s"));
        }
        false
    }
}

/// Normalises a response; Fetch records are replaced by a summary of their batches, and records
/// the protocol crate cannot read make the answer undecodable.
fn normalise_body(body: &ResponseKind, run: &RunContext) -> Result<Leaves, String> {
    let ResponseKind::Fetch(fetch) = body else {
        return Ok(normalise(body, run));
    };
    let mut response = fetch.clone();
    let mut batches = Vec::new();
    for topic in &mut response.responses {
        for partition in &mut topic.partitions {
            let records = partition.records.take().unwrap_or_default();
            for batch in parse_batches(records) {
                match batch.and_then(|b| summarise_batch(partition.partition_index, &b)) {
                    Ok(summary) => batches.push(summary),
                    // A Fetch may end with a partial batch (cut at the size limit).
                    Err(ProtocolError::Truncated { .. }) => break,
                    Err(e) => {
                        return Err(format!(
                            "records of partition {}: {e}",
                            partition.partition_index
                        ));
                    }
                }
            }
        }
    }
    Ok(normalise(&FetchAnswer { response, batches }, run))
}

/// A Fetch response with its records read.
#[derive(Debug)]
#[allow(dead_code)] // read through Debug
struct FetchAnswer {
    response: FetchResponse,
    batches: Vec<BatchSummary>,
}

/// A batch as the comparison sees it: everything but the broker-stamped leader epoch and the CRC
/// (which covers the producer's bytes and so compares through the values).
#[derive(Debug)]
#[allow(dead_code)] // read through Debug
struct BatchSummary {
    partition: i32,
    base_offset: i64,
    last_offset_delta: i32,
    compression: String,
    base_timestamp: i64,
    max_timestamp: i64,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    values: Vec<String>,
}

fn summarise_batch(partition: i32, batch: &RecordBatch) -> Result<BatchSummary, ProtocolError> {
    let h = batch.header();
    let values = batch
        .records(16 << 20)?
        .map(|r| r.map(|r| String::from_utf8_lossy(r.value.as_deref().unwrap_or(b"<null>")).into()))
        .collect::<Result<_, _>>()?;
    Ok(BatchSummary {
        partition,
        base_offset: h.base_offset,
        last_offset_delta: h.last_offset_delta,
        compression: h.compression()?.name().to_string(),
        base_timestamp: h.base_timestamp,
        max_timestamp: h.max_timestamp,
        producer_id: h.producer_id,
        producer_epoch: h.producer_epoch,
        base_sequence: h.base_sequence,
        values,
    })
}

/// A Metadata request for `topics` by name.
pub fn metadata_request(topics: &[&str], allow_auto_topic_creation: bool) -> MetadataRequest {
    MetadataRequest::default()
        .with_topics(Some(
            topics
                .iter()
                .map(|t| MetadataRequestTopic::default().with_name(Some(topic_name(t))))
                .collect(),
        ))
        .with_allow_auto_topic_creation(allow_auto_topic_creation)
}

/// A topic name for a message field.
pub fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

/// A Produce request carrying `records` for one partition.
pub fn produce_request(topic: &str, partition: i32, acks: i16, records: Bytes) -> RequestKind {
    RequestKind::Produce(
        ProduceRequest::default()
            .with_acks(acks)
            .with_timeout_ms(5_000)
            .with_topic_data(vec![
                TopicProduceData::default()
                    .with_name(topic_name(topic))
                    .with_partition_data(vec![
                        PartitionProduceData::default()
                            .with_index(partition)
                            .with_records(Some(records)),
                    ]),
            ]),
    )
}

/// A batch of `count` records with values `{label}-0`, `{label}-1`, … and timestamps 10 ms apart
/// from `timestamp`.
pub fn batch(
    compression: Compression,
    producer: ProducerState,
    label: &str,
    count: usize,
    timestamp: i64,
) -> Bytes {
    let mut builder = RecordBatchBuilder::new(compression);
    builder.set_producer_state(producer);
    for i in 0..count {
        let value = format!("{label}-{i}");
        builder
            .append(timestamp + 10 * i as i64, None, Some(value.as_bytes()), &[])
            .expect("a small record fits a batch");
    }
    builder.finish().expect("a small batch encodes")
}
