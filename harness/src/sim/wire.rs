//! What crossed the simulated wire, seen from the client: every Produce request (its batches,
//! sizes and acks), every other request, when each answer arrived, and any answer to an acks=0
//! request. The producer's transport is wrapped, so the batch and acks checkers judge the bytes
//! that were really sent, not the producer's account; requests and answers per connection show
//! when its in-flight window was full. The same transport times the producer's waits through the
//! run's [`Deadlines`].

use std::collections::BTreeSet;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, ready};

use bytes::BytesMut;
use ktrial_producer::{BrokerStream, ConnectFuture, SleepFuture, Transport};
use ktrial_protocol::codec::{decode_request, peek_request_prefix};
use ktrial_protocol::frame::FrameDecoder;
use ktrial_protocol::messages::RequestKind;
use ktrial_protocol::records::RecordBatch;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

use super::SimTransport;
use super::deadlines::Deadlines;

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

/// A transport that records what the producer sends and what comes back.
#[derive(Debug, Clone)]
pub struct RecordingTransport {
    log: Arc<Mutex<WireLog>>,
    deadlines: Deadlines,
    connections: Arc<AtomicU32>,
}

impl RecordingTransport {
    /// Records from now on; the producer's waits are registered in `deadlines`.
    pub fn new(deadlines: Deadlines) -> Self {
        Self {
            log: Arc::default(),
            deadlines,
            connections: Arc::default(),
        }
    }

    /// What was recorded so far.
    pub fn log(&self) -> WireLog {
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Transport for RecordingTransport {
    fn connect<'a>(&'a self, addr: &'a str) -> ConnectFuture<'a> {
        Box::pin(async move {
            // Numbered before connecting, so the numbers follow the producer's order of attempts.
            let connection = self.connections.fetch_add(1, Ordering::Relaxed);
            let inner = SimTransport.connect(addr).await?;
            Ok(Box::new(Recorded {
                inner,
                broker: addr.to_string(),
                connection,
                log: Arc::clone(&self.log),
                outbound: BytesMut::new(),
                inbound: BytesMut::new(),
                acks0: BTreeSet::new(),
                unanswered: BTreeSet::new(),
            }) as Box<dyn BrokerStream>)
        })
    }

    fn sleep_until(&self, deadline: Instant) -> SleepFuture {
        Box::pin(self.deadlines.sleep_until(deadline))
    }
}

/// One recorded connection.
struct Recorded {
    inner: Box<dyn BrokerStream>,
    broker: String,
    connection: u32,
    log: Arc<Mutex<WireLog>>,
    outbound: BytesMut,
    inbound: BytesMut,
    /// Correlation ids of acks=0 Produce requests on this connection.
    acks0: BTreeSet<i32>,
    /// Correlation ids of requests on this connection that expect an answer and have none yet:
    /// no larger than the producer's own in-flight window.
    unanswered: BTreeSet<i32>,
}

impl Recorded {
    fn lock(&self) -> std::sync::MutexGuard<'_, WireLog> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn sent(&mut self, bytes: &[u8]) {
        self.outbound.extend_from_slice(bytes);
        let mut frames = FrameDecoder::default();
        while let Ok(Some(frame)) = frames.decode(&mut self.outbound) {
            let Ok(prefix) = peek_request_prefix(&frame) else {
                continue;
            };
            if prefix.api_key != 0 {
                self.unanswered.insert(prefix.correlation_id);
                let sent = RequestSent {
                    at_ms: sim_ms(),
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
                            at_ms: sim_ms(),
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

    fn received(&mut self, bytes: &[u8]) {
        self.inbound.extend_from_slice(bytes);
        let mut frames = FrameDecoder::default();
        loop {
            let frame = match frames.decode(&mut self.inbound) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(_) => {
                    // The producer refuses this stream too and closes it; buffer none of it.
                    self.inbound.clear();
                    break;
                }
            };
            let Some(correlation) = frame.first_chunk::<4>().map(|c| i32::from_be_bytes(*c)) else {
                continue;
            };
            if self.unanswered.remove(&correlation) {
                let seen = ResponseSeen {
                    at_ms: sim_ms(),
                    connection: self.connection,
                    correlation_id: correlation,
                };
                self.lock().responses.push(seen);
            }
            if self.acks0.contains(&correlation) {
                let line = format!(
                    "{} answered acks=0 request {correlation} at {} ms",
                    self.broker,
                    sim_ms()
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

fn sim_ms() -> u64 {
    turmoil::sim_elapsed().map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl AsyncWrite for Recorded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let written = ready!(Pin::new(&mut self.inner).poll_write(cx, buf))?;
        self.sent(&buf[..written]);
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl AsyncRead for Recorded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        let new = buf.filled()[before..].to_vec();
        self.received(&new);
        Poll::Ready(Ok(()))
    }
}
