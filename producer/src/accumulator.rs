//! The record accumulator, plain data with no I/O: records are encoded into per-partition batches
//! as they are appended; the sender asks, with an explicit `now`, which batches may leave and
//! drains them per leader (`RecordAccumulator.java` `batchReady` L625-648, `drainBatchesForOneNode`
//! L869-960).
//!
//! A batch is sendable when it is full (by bytes or by count, or another batch follows it),
//! when `linger.ms` has passed since it was opened, during a flush, after close, or while a caller
//! waits for buffer memory; a batch backing off after a failure waits for its backoff first.
//! A batch the broker refuses as too large is split (`split.rs`) and its parts requeued in front.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use indexmap::IndexMap;
use ktrial_protocol::compression::Compression;
use ktrial_protocol::records::{BATCH_OVERHEAD, ProducerState, RecordBatchBuilder};
use tokio::time::Instant;

use crate::config::ProducerConfig;
use crate::delivery::{BatchAck, BatchCompletion, BatchOutcome};
use crate::error::ProducerError;

mod split;

/// The accumulator's share of the configuration.
#[derive(Debug, Clone)]
pub struct AccumulatorConfig {
    /// `batch.size`.
    pub batch_size: usize,
    /// `batch.num.messages`.
    pub batch_num_messages: usize,
    /// `linger.ms`.
    pub linger: Duration,
    /// `compression.type`.
    pub compression: Compression,
    /// `max.request.size`.
    pub max_request_size: usize,
    /// `buffer.memory`.
    pub buffer_memory: usize,
    /// `delivery.timeout.ms`.
    pub delivery_timeout: Duration,
}

impl From<&ProducerConfig> for AccumulatorConfig {
    fn from(c: &ProducerConfig) -> Self {
        Self {
            batch_size: c.batch_size,
            batch_num_messages: c.batch_num_messages,
            linger: c.linger,
            compression: c.compression,
            max_request_size: c.max_request_size,
            buffer_memory: c.buffer_memory,
            delivery_timeout: c.delivery_timeout,
        }
    }
}

/// One record to append.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    /// CreateTime in milliseconds.
    pub timestamp: i64,
    /// The key, if any.
    pub key: Option<&'a [u8]>,
    /// The value, if any.
    pub value: Option<&'a [u8]>,
    /// Headers.
    pub headers: &'a [(&'a str, Option<&'a [u8]>)],
}

/// Where an appended record went.
#[derive(Debug)]
pub struct Appended {
    pub(crate) completion: Arc<BatchCompletion>,
    /// The record's offset in its batch.
    pub offset_delta: i32,
    /// Bytes the record added.
    pub size: usize,
    /// True when the append made a batch sendable (full, or a new batch was opened behind it).
    pub batch_ready: bool,
}

/// Why a record was not appended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// Not enough buffer memory now; the caller may wait for some to be freed.
    #[error("buffer full: {used} of {limit} bytes in use")]
    BufferFull {
        /// Bytes in use.
        used: usize,
        /// `buffer.memory`.
        limit: usize,
    },
    /// The record can never be sent.
    #[error("record of {size} bytes exceeds {limit_name} ({limit})")]
    TooLarge {
        /// Its size in a batch of its own.
        size: usize,
        /// The limit.
        limit: usize,
        /// The property.
        limit_name: &'static str,
    },
}

impl From<AppendError> for ProducerError {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::BufferFull { .. } => ProducerError::BufferExhausted {
                waited: Duration::ZERO,
            },
            AppendError::TooLarge {
                size,
                limit,
                limit_name,
            } => ProducerError::RecordTooLarge {
                size,
                limit,
                limit_name,
            },
        }
    }
}

/// Where a batch stands among the batches of its partition, in send order: the id of the batch
/// its records were appended to, and the index there of its first record (not 0 only for the
/// parts of a split batch). Retries and split parts are queued in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BatchOrder {
    /// Id of the batch the records were appended to.
    pub root: u64,
    /// Index of the first record in that batch.
    pub first_record: i32,
}

/// A batch: open (still taking records) until drained, then sealed (finished bytes, kept for
/// retries so a retry resends exactly the same batch).
#[derive(Debug)]
pub struct ProducerBatch {
    /// Unique, increasing in creation order.
    pub id: u64,
    /// Its place in the partition's send order.
    pub order: BatchOrder,
    /// The topic.
    pub topic: Arc<str>,
    /// The partition.
    pub partition: i32,
    payload: Payload,
    /// Records in the batch.
    pub record_count: i32,
    /// Uncompressed size, header included.
    pub uncompressed_bytes: usize,
    /// Bytes of buffer memory the batch holds.
    reserved: usize,
    /// When it was opened.
    pub created: Instant,
    /// How many times it was sent.
    pub attempts: u32,
    /// Not sendable before this (retry backoff).
    pub retry_at: Option<Instant>,
    /// Producer id, epoch and base sequence stamped on it.
    pub producer: ProducerState,
    pub(crate) completion: Arc<BatchCompletion>,
    /// Reported failed (delivery timeout) while its request was still in flight; the response,
    /// when it comes, only frees the batch.
    pub(crate) reported_timed_out: bool,
    /// A part of a split batch: its records complete one by one in the root's completion.
    split: bool,
    full: bool,
}

#[derive(Debug)]
enum Payload {
    Open(RecordBatchBuilder),
    Sealed(Bytes),
}

impl ProducerBatch {
    /// The finished batch bytes (after drain).
    pub fn bytes(&self) -> Option<&Bytes> {
        match &self.payload {
            Payload::Sealed(bytes) => Some(bytes),
            Payload::Open(_) => None,
        }
    }

    /// True once finished by [`seal`](Self::seal) (every batch sent before is).
    pub fn is_sealed(&self) -> bool {
        matches!(self.payload, Payload::Sealed(_))
    }

    /// Size on the wire (an estimate while open).
    pub fn wire_size(&self) -> usize {
        match &self.payload {
            Payload::Sealed(bytes) => bytes.len(),
            Payload::Open(builder) => builder.size_in_bytes(),
        }
    }

    /// Re-stamps a sealed batch with a new producer state (epoch bump, sequence reset).
    pub fn restamp(&mut self, producer: ProducerState) -> Result<(), ProducerError> {
        if let Payload::Sealed(bytes) = &mut self.payload {
            let mut owned = bytes.to_vec();
            ktrial_protocol::records::set_producer_state(&mut owned, producer)?;
            *bytes = Bytes::from(owned);
        }
        self.producer = producer;
        Ok(())
    }

    /// Finishes a drained batch: compression and CRC, with the producer state stamped at
    /// drain. The sender calls it after releasing the accumulator, so `send` callers never wait
    /// behind a compression.
    pub fn seal(&mut self) -> Result<(), ProducerError> {
        if let Payload::Open(builder) = &mut self.payload {
            let mut builder =
                std::mem::replace(builder, RecordBatchBuilder::new(Compression::None));
            builder.set_producer_state(self.producer);
            self.payload = Payload::Sealed(builder.finish()?);
        }
        Ok(())
    }

    /// Reports the outcome to the records' delivery futures and callbacks.
    pub(crate) fn report(&self, result: Result<BatchAck, ProducerError>) {
        if !self.split {
            self.completion.complete(BatchOutcome {
                partition: self.partition,
                result,
            });
            return;
        }
        for i in 0..self.record_count {
            let result = result.clone().map(|ack| BatchAck {
                base_offset: if ack.base_offset < 0 {
                    -1
                } else {
                    ack.base_offset + i64::from(i)
                },
                ..ack
            });
            self.completion.complete_record(
                self.order.first_record + i,
                BatchOutcome {
                    partition: self.partition,
                    result,
                },
            );
        }
    }

    fn sendable(&self, linger: Duration, now: Instant, urgent: bool) -> bool {
        match self.retry_at {
            Some(at) => now >= at,
            None => urgent || self.full || now >= self.created + linger,
        }
    }
}

/// What the sender decides during a drain: whether a partition may send now, and the producer
/// state to stamp on a fresh batch (sequence numbers are assigned at drain time, as in Java).
pub trait DrainPolicy {
    /// The leader of a partition, if known.
    fn leader(&self, topic: &str, partition: i32) -> Option<i32>;
    /// Whether the partition of `head`, its first queued batch, may send it now.
    fn may_drain(&self, head: &ProducerBatch) -> bool;
    /// The producer state for a batch being drained for the first time.
    fn stamp(&mut self, topic: &str, partition: i32, record_count: i32) -> ProducerState;
}

/// Per-partition queues of batches, bounded by `buffer.memory`.
#[derive(Debug)]
pub struct Accumulator {
    config: AccumulatorConfig,
    topics: IndexMap<Arc<str>, Vec<VecDeque<ProducerBatch>>>,
    used_bytes: usize,
    next_batch_id: u64,
    /// Batches with an id up to this are sendable at once (flush).
    flush_through: Option<u64>,
    /// Callers are waiting for memory: everything is sendable.
    memory_waiters: usize,
    closed: bool,
    drain_index: BTreeMap<i32, usize>,
    incomplete: BTreeMap<u64, Arc<BatchCompletion>>,
}

impl Accumulator {
    /// An empty accumulator.
    pub fn new(config: AccumulatorConfig) -> Self {
        Self {
            config,
            topics: IndexMap::new(),
            used_bytes: 0,
            next_batch_id: 0,
            flush_through: None,
            memory_waiters: 0,
            closed: false,
            drain_index: BTreeMap::new(),
            incomplete: BTreeMap::new(),
        }
    }

    /// Bytes of buffer memory in use.
    pub fn used_bytes(&self) -> usize {
        self.used_bytes
    }

    /// Appends a record to the open batch of `topic`/`partition`, opening one when needed.
    pub fn append(
        &mut self,
        topic: &str,
        partition: i32,
        record: RecordRef<'_>,
        now: Instant,
    ) -> Result<Appended, AppendError> {
        let cfg = &self.config;
        let alone = BATCH_OVERHEAD
            + RecordBatchBuilder::record_size(0, 0, record.key, record.value, record.headers);
        for (limit, limit_name) in [
            (cfg.max_request_size, "max.request.size"),
            (cfg.buffer_memory, "buffer.memory"),
        ] {
            if alone > limit {
                return Err(AppendError::TooLarge {
                    size: alone,
                    limit,
                    limit_name,
                });
            }
        }
        let cfg = cfg.clone();
        let queue = self.queue_mut(topic, partition);
        let fits = |b: &ProducerBatch, size: usize, cfg: &AccumulatorConfig| match &b.payload {
            Payload::Open(builder) if !b.full => {
                builder.size_in_bytes() + size <= cfg.batch_size
                    && (builder.record_count() as usize) < cfg.batch_num_messages
            }
            _ => false,
        };
        let size_in_last = queue.back().and_then(|b| match &b.payload {
            Payload::Open(builder) if !b.full => Some(RecordBatchBuilder::record_size(
                builder.record_count(),
                record.timestamp.wrapping_sub(builder.base_timestamp()),
                record.key,
                record.value,
                record.headers,
            )),
            _ => None,
        });
        let reuse = match (queue.back(), size_in_last) {
            (Some(last), Some(size)) => fits(last, size, &cfg).then_some(size),
            _ => None,
        };
        let size = reuse.unwrap_or(alone);
        if self.used_bytes + size > self.config.buffer_memory {
            return Err(AppendError::BufferFull {
                used: self.used_bytes,
                limit: self.config.buffer_memory,
            });
        }
        let mut batch_ready = false;
        if reuse.is_none() {
            let id = self.next_batch_id;
            self.next_batch_id += 1;
            let completion = BatchCompletion::new();
            self.incomplete.insert(id, completion.clone());
            let capacity = self.config.batch_size.max(size);
            let batch = ProducerBatch {
                id,
                order: BatchOrder {
                    root: id,
                    first_record: 0,
                },
                topic: self.topic_key(topic),
                partition,
                payload: Payload::Open(RecordBatchBuilder::with_capacity(
                    self.config.compression,
                    capacity,
                )),
                record_count: 0,
                uncompressed_bytes: BATCH_OVERHEAD,
                reserved: 0,
                created: now,
                attempts: 0,
                retry_at: None,
                producer: ProducerState::NONE,
                completion,
                reported_timed_out: false,
                split: false,
                full: false,
            };
            let queue = self.queue_mut(topic, partition);
            if let Some(previous) = queue.back_mut() {
                batch_ready = !previous.full;
                previous.full = true;
            }
            queue.push_back(batch);
        }
        let batch_num_messages = self.config.batch_num_messages;
        let batch_size = self.config.batch_size;
        let queue = self.queue_mut(topic, partition);
        let Some(batch) = queue.back_mut() else {
            unreachable!("a batch was just found or pushed");
        };
        let Payload::Open(builder) = &mut batch.payload else {
            unreachable!("the last batch is open");
        };
        let offset_delta = builder
            .append(record.timestamp, record.key, record.value, record.headers)
            .map_err(|_| AppendError::TooLarge {
                size,
                limit: i32::MAX as usize,
                limit_name: "the record format",
            })?;
        batch.record_count += 1;
        batch.uncompressed_bytes = builder.size_in_bytes();
        let grown = batch.uncompressed_bytes - batch.reserved;
        batch.reserved = batch.uncompressed_bytes;
        if builder.record_count() as usize >= batch_num_messages
            || builder.size_in_bytes() >= batch_size
        {
            batch_ready |= !batch.full;
            batch.full = true;
        }
        let completion = batch.completion.clone();
        self.used_bytes += grown;
        Ok(Appended {
            completion,
            offset_delta,
            size: grown,
            batch_ready,
        })
    }

    fn topic_key(&mut self, topic: &str) -> Arc<str> {
        match self.topics.get_key_value(topic) {
            Some((key, _)) => key.clone(),
            None => Arc::from(topic),
        }
    }

    fn queue_mut(&mut self, topic: &str, partition: i32) -> &mut VecDeque<ProducerBatch> {
        let index = usize::try_from(partition).unwrap_or(0);
        let partitions = match self.topics.get_index_of(topic) {
            Some(i) => &mut self.topics[i],
            None => self.topics.entry(Arc::from(topic)).or_default(),
        };
        if partitions.len() <= index {
            partitions.resize_with(index + 1, VecDeque::new);
        }
        &mut partitions[index]
    }

    /// Makes every batch appended so far sendable at once; returns how many are incomplete.
    pub fn flush_now(&mut self) -> usize {
        self.begin_flush().len()
    }

    /// Makes every batch appended so far sendable at once; returns their completions, to wait on.
    pub(crate) fn begin_flush(&mut self) -> Vec<Arc<BatchCompletion>> {
        if let Some(last) = self.next_batch_id.checked_sub(1) {
            self.flush_through = Some(last);
        }
        self.incomplete.values().cloned().collect()
    }

    /// Callers waiting for memory.
    pub fn memory_waiters(&self) -> usize {
        self.memory_waiters
    }

    /// Counts callers starting (`+1`) or ending (`-1`) a wait for memory; everything is
    /// sendable while one waits.
    pub fn add_memory_waiter(&mut self, delta: isize) {
        self.memory_waiters = self.memory_waiters.saturating_add_signed(delta);
    }

    /// Marks the accumulator closed: every batch is sendable, appends are refused by the producer.
    pub fn close(&mut self) {
        self.closed = true;
    }

    /// True when no batch is queued.
    pub fn is_empty(&self) -> bool {
        self.topics.values().flatten().all(VecDeque::is_empty)
    }

    /// Batches not yet completed (queued or in flight).
    pub fn incomplete_batches(&self) -> usize {
        self.incomplete.len()
    }

    /// Drains the next request for `node`: at most one sendable batch per partition led by
    /// `node`, starting after the partition where the previous drain for that node stopped,
    /// until the next batch would take the request past `max.request.size` (a batch alone is
    /// always taken).
    pub fn drain(
        &mut self,
        node: i32,
        now: Instant,
        policy: &mut impl DrainPolicy,
    ) -> Result<Vec<ProducerBatch>, ProducerError> {
        let policy_ref = &*policy;
        let partitions: Vec<(usize, usize)> = self
            .topics
            .iter()
            .enumerate()
            .flat_map(|(ti, (topic, queues))| {
                queues
                    .iter()
                    .enumerate()
                    .filter(move |(p, q)| {
                        !q.is_empty() && policy_ref.leader(topic, *p as i32) == Some(node)
                    })
                    .map(move |(p, _)| (ti, p))
            })
            .collect();
        let mut drained = Vec::new();
        if partitions.is_empty() {
            return Ok(drained);
        }
        let start = self.drain_index.get(&node).copied().unwrap_or(0) % partitions.len();
        let urgent = self.closed || self.memory_waiters > 0;
        let mut size = 0;
        let mut next_start = start;
        for step in 0..partitions.len() {
            let (ti, p) = partitions[(start + step) % partitions.len()];
            let (topic, queues) = self
                .topics
                .get_index_mut(ti)
                .ok_or_else(|| ProducerError::Protocol("accumulator index".into()))?;
            let queue = &mut queues[p];
            let Some(head) = queue.front() else { continue };
            let flushing = self.flush_through.is_some_and(|f| head.id <= f);
            if !head.sendable(self.config.linger, now, urgent || flushing)
                || !policy.may_drain(head)
            {
                continue;
            }
            if !drained.is_empty() && size + head.wire_size() > self.config.max_request_size {
                break;
            }
            let Some(mut batch) = queue.pop_front() else {
                continue;
            };
            if !batch.is_sealed() {
                batch.producer = policy.stamp(topic, p as i32, batch.record_count);
            }
            batch.attempts += 1;
            batch.retry_at = None;
            size += batch.wire_size();
            drained.push(batch);
            next_start = start + step + 1;
        }
        self.drain_index.insert(node, next_start % partitions.len());
        Ok(drained)
    }

    /// Puts a failed batch back at the front of its partition, ordered among other retries by
    /// creation, not sendable before `retry_at`.
    pub fn reenqueue(&mut self, mut batch: ProducerBatch, retry_at: Instant) {
        batch.retry_at = Some(retry_at);
        self.insert_in_order(batch);
    }

    fn insert_in_order(&mut self, batch: ProducerBatch) {
        let queue = self.queue_mut(&batch.topic.clone(), batch.partition);
        let position = queue
            .iter()
            .position(|b| !b.is_sealed() || b.order > batch.order)
            .unwrap_or(queue.len());
        queue.insert(position, batch);
    }

    /// Splits a batch the broker refused as too large in two (`RecordAccumulator
    /// .splitAndReenqueue`); the parts keep its place, sequences and creation time, and are
    /// sendable at once. The batch itself is forgotten; its records complete with the parts.
    pub fn split_and_reenqueue(&mut self, batch: &ProducerBatch) -> Result<(), ProducerError> {
        let parts = split::halves(batch, self.config.compression)?;
        if !batch.split {
            batch
                .completion
                .expect_split(usize::try_from(batch.record_count).unwrap_or(0));
        }
        self.incomplete.remove(&batch.id);
        let mut reserved = batch.reserved;
        let count = parts.len();
        for (i, mut part) in parts.into_iter().enumerate() {
            part.id = self.next_batch_id;
            self.next_batch_id += 1;
            part.reserved = if i + 1 == count {
                reserved
            } else {
                part.uncompressed_bytes.min(reserved)
            };
            reserved -= part.reserved;
            self.incomplete.insert(part.id, part.completion.clone());
            self.insert_in_order(part);
        }
        Ok(())
    }

    /// Frees the batch's memory and forgets it; the caller completes its delivery.
    pub fn release(&mut self, batch: &ProducerBatch) {
        self.used_bytes = self.used_bytes.saturating_sub(batch.reserved);
        self.incomplete.remove(&batch.id);
        if self.incomplete.is_empty() {
            self.flush_through = None;
        }
    }

    /// Removes queued batches older than `delivery.timeout.ms`.
    pub fn expire(&mut self, now: Instant) -> Vec<ProducerBatch> {
        let timeout = self.config.delivery_timeout;
        let mut expired = Vec::new();
        for queue in self.topics.values_mut().flatten() {
            while queue.front().is_some_and(|b| now >= b.created + timeout) {
                expired.extend(queue.pop_front());
            }
        }
        expired
    }

    /// Removes every queued batch (the producer is shutting down without draining).
    pub fn abort_all(&mut self) -> Vec<ProducerBatch> {
        self.topics
            .values_mut()
            .flatten()
            .flat_map(std::mem::take)
            .collect()
    }

    /// Batches queued for a partition, for a sender re-stamping sequences after an epoch bump.
    pub fn queued_mut(
        &mut self,
        topic: &str,
        partition: i32,
    ) -> impl Iterator<Item = &mut ProducerBatch> {
        self.queue_mut(topic, partition).iter_mut()
    }

    /// Whether a batch sent before waits in the partition's queue for a retry.
    pub fn has_queued_retry(&self, topic: &str, partition: i32) -> bool {
        usize::try_from(partition)
            .ok()
            .and_then(|p| self.topics.get(topic)?.get(p))
            .is_some_and(|queue| queue.iter().any(ProducerBatch::is_sealed))
    }

    /// The earliest moment something changes on its own: a linger or backoff ends, or a batch
    /// expires. `None` when nothing is queued.
    pub fn next_deadline(&self) -> Option<Instant> {
        let mut deadline: Option<Instant> = None;
        for queue in self.topics.values().flatten() {
            let Some(head) = queue.front() else { continue };
            let ready_at = match head.retry_at {
                Some(at) => at,
                None if head.full || self.closed || self.memory_waiters > 0 => head.created,
                None => head.created + self.config.linger,
            };
            let expires = head.created + self.config.delivery_timeout;
            let earliest = ready_at.min(expires);
            deadline = Some(deadline.map_or(earliest, |d| d.min(earliest)));
        }
        deadline
    }
}
