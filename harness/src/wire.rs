//! What crossed the wire between a client and the brokers: every Produce request (its batches,
//! sizes and acks), every other request, when each answer came, and any answer to an acks=0
//! request. The batch and acks checkers judge these bytes, not a client's own account.
//!
//! A connection recorder reads one connection's bytes in both directions, at times its caller
//! gives: the simulation records on the client's side (ktrial's producer's transport, simulated
//! milliseconds), a run against a real client on the broker's side (its listener, real
//! milliseconds since the run began); on loopback the two differ by microseconds.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::BytesMut;
use ktrial_protocol::codec::{decode_request, peek_request_prefix};
use ktrial_protocol::frame::FrameDecoder;
use ktrial_protocol::messages::RequestKind;
use ktrial_protocol::records::RecordBatch;
use serde::Serialize;

/// One batch inside a Produce request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchSent {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Bytes of the batch as sent (compressed, header included).
    pub bytes: usize,
    /// Bytes of its records before compression, header included.
    pub uncompressed_bytes: usize,
    /// Records in it.
    pub records: i32,
    /// Its first record's timestamp (the producer's clock: simulated time).
    pub base_timestamp: i64,
}

/// One Produce request as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProduceSent {
    /// Simulated milliseconds when its last byte was written.
    pub at_ms: u64,
    /// The broker address it went to.
    pub broker: String,
    /// The connection it went on, numbered from 0 in the order the producer opened them.
    pub connection: u32,
    /// Its correlation id.
    pub correlation_id: i32,
    /// Its `acks`.
    pub acks: i16,
    /// Its batches, in request order.
    pub batches: Vec<BatchSent>,
}

/// A request other than Produce (metadata, API versions, producer id), which takes a place in
/// its connection's in-flight window until answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestSent {
    /// Simulated milliseconds when its last byte was written.
    pub at_ms: u64,
    /// The connection it went on.
    pub connection: u32,
    /// Its correlation id.
    pub correlation_id: i32,
    /// Its API key.
    pub api_key: i16,
}

/// The answer to a recorded request, as the producer read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResponseSeen {
    /// Simulated milliseconds when its last byte was read.
    pub at_ms: u64,
    /// The connection it came on.
    pub connection: u32,
    /// The correlation id of the request it answers.
    pub correlation_id: i32,
}

/// Everything the recorder saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WireLog {
    /// Produce requests, in the order they were written.
    pub produce: Vec<ProduceSent>,
    /// Other requests, in the order they were written.
    pub other_requests: Vec<RequestSent>,
    /// Answers to requests that expected one (not acks=0 Produce), in the order they were read:
    /// at most one per request, later duplicates of a correlation id are not kept.
    pub responses: Vec<ResponseSeen>,
    /// Responses that arrived for acks=0 requests (Kafka never sends any).
    pub acks0_answers: Vec<String>,
    /// Produce requests the recorder could not decode.
    pub undecodable: Vec<String>,
}

/// One connection's bytes, parsed into the shared [`WireLog`] as they pass.
#[derive(Debug)]
pub(crate) struct ConnectionRecorder {
    broker: String,
    connection: u32,
    log: Arc<Mutex<WireLog>>,
    requests: BytesMut,
    responses: BytesMut,
    /// Correlation ids of acks=0 Produce requests on this connection.
    acks0: BTreeSet<i32>,
    /// Correlation ids of requests on this connection that expect an answer and have none yet:
    /// no larger than the client's own in-flight window.
    unanswered: BTreeSet<i32>,
}

impl ConnectionRecorder {
    /// Records connection number `connection` to `broker` into `log`.
    pub(crate) fn new(broker: String, connection: u32, log: Arc<Mutex<WireLog>>) -> Self {
        Self {
            broker,
            connection,
            log,
            requests: BytesMut::new(),
            responses: BytesMut::new(),
            acks0: BTreeSet::new(),
            unanswered: BTreeSet::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, WireLog> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Bytes the client wrote, at `at_ms`.
    pub(crate) fn requests(&mut self, bytes: &[u8], at_ms: u64) {
        self.requests.extend_from_slice(bytes);
        let mut frames = FrameDecoder::default();
        while let Ok(Some(frame)) = frames.decode(&mut self.requests) {
            let Ok(prefix) = peek_request_prefix(&frame) else {
                continue;
            };
            if prefix.api_key != 0 {
                self.unanswered.insert(prefix.correlation_id);
                let sent = RequestSent {
                    at_ms,
                    connection: self.connection,
                    correlation_id: prefix.correlation_id,
                    api_key: prefix.api_key,
                };
                self.lock().other_requests.push(sent);
                continue;
            }
            match decode_request(frame) {
                Ok(request) => {
                    if let RequestKind::Produce(produce) = request.body {
                        if produce.acks == 0 {
                            self.acks0.insert(prefix.correlation_id);
                        } else {
                            self.unanswered.insert(prefix.correlation_id);
                        }
                        let sent = ProduceSent {
                            at_ms,
                            broker: self.broker.clone(),
                            connection: self.connection,
                            correlation_id: prefix.correlation_id,
                            acks: produce.acks,
                            batches: produce
                                .topic_data
                                .iter()
                                .flat_map(|topic| {
                                    topic.partition_data.iter().map(|p| {
                                        batch_sent(topic.name.as_str(), p.index, p.records.as_ref())
                                    })
                                })
                                .collect(),
                        };
                        self.lock().produce.push(sent);
                    }
                }
                Err(e) => {
                    let line = format!("{}: {e}", self.broker);
                    self.lock().undecodable.push(line);
                }
            }
        }
    }

    /// Bytes the broker answered, at `at_ms`.
    pub(crate) fn responses(&mut self, bytes: &[u8], at_ms: u64) {
        self.responses.extend_from_slice(bytes);
        let mut frames = FrameDecoder::default();
        loop {
            let frame = match frames.decode(&mut self.responses) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(_) => {
                    // The client refuses this stream too and closes it; buffer none of it.
                    self.responses.clear();
                    break;
                }
            };
            let Some(correlation) = frame.first_chunk::<4>().map(|c| i32::from_be_bytes(*c)) else {
                continue;
            };
            if self.unanswered.remove(&correlation) {
                let seen = ResponseSeen {
                    at_ms,
                    connection: self.connection,
                    correlation_id: correlation,
                };
                self.lock().responses.push(seen);
            }
            if self.acks0.contains(&correlation) {
                let line = format!(
                    "{} answered acks=0 request {correlation} at {at_ms} ms",
                    self.broker
                );
                self.lock().acks0_answers.push(line);
            }
        }
    }
}

fn batch_sent(topic: &str, partition: i32, records: Option<&bytes::Bytes>) -> BatchSent {
    let parsed = records.and_then(|bytes| RecordBatch::parse(bytes).ok());
    let header = parsed.as_ref().map(|b| *b.header());
    let uncompressed_bytes = parsed
        .as_ref()
        .and_then(|b| {
            let records = b.records(usize::MAX).ok()?;
            // The records section before compression: the batch header plus each record's bytes.
            Some(ktrial_protocol::records::BATCH_OVERHEAD + records.uncompressed_len())
        })
        .unwrap_or(0);
    BatchSent {
        topic: topic.to_string(),
        partition,
        bytes: records.map_or(0, bytes::Bytes::len),
        uncompressed_bytes,
        records: header.map_or(0, |h| h.records_count),
        base_timestamp: header.map_or(-1, |h| h.base_timestamp),
    }
}
