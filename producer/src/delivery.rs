//! Delivery reports: one shared completion per batch, and a future per record that reads its
//! own offset from it. A dropped future costs nothing (fire-and-forget); awaiting it is the sync
//! mode; spawning it or passing a callback is the async mode. A batch split after
//! MESSAGE_TOO_LARGE completes its records one by one instead, each when its part is through.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use std::task::Waker;

use crate::error::ProducerError;

/// Where an acknowledged record landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordMetadata {
    /// The partition the record went to.
    pub partition: i32,
    /// Its offset in the partition, or -1 with `acks=0` (nothing tells the producer).
    pub offset: i64,
    /// The record's timestamp (CreateTime), or the broker's LogAppendTime when the topic uses it.
    pub timestamp: i64,
}

/// How a whole batch ended: its base offset, or why it failed.
#[derive(Debug, Clone)]
pub(crate) struct BatchOutcome {
    pub partition: i32,
    pub result: Result<BatchAck, ProducerError>,
}

/// What the broker returned for a batch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchAck {
    /// Offset of the first record, or -1 (acks=0, or a duplicate without offset).
    pub base_offset: i64,
    /// LogAppendTime, or -1 when the records keep their CreateTime.
    pub log_append_time: i64,
}

type Callback = Box<dyn FnOnce(Result<RecordMetadata, ProducerError>) + Send>;

/// The completion shared by every record of a batch; set once by the sender.
pub(crate) struct BatchCompletion {
    outcome: OnceLock<BatchOutcome>,
    waiters: std::sync::Mutex<Waiters>,
}

#[derive(Default)]
struct Waiters {
    wakers: Vec<Waker>,
    callbacks: Vec<(i32, i64, Callback)>,
    /// After a split: the outcome of each record completed so far (its own offset as the base
    /// offset), by offset delta, and how many records the batch holds.
    by_record: BTreeMap<i32, BatchOutcome>,
    split_records: Option<usize>,
}

impl Waiters {
    fn all_split_records_done(&self) -> bool {
        self.split_records == Some(self.by_record.len())
    }
}

/// A record's metadata from its batch's outcome.
fn record_metadata(
    outcome: &BatchOutcome,
    offset_delta: i32,
    timestamp: i64,
) -> Result<RecordMetadata, ProducerError> {
    outcome.result.clone().map(|ack| RecordMetadata {
        partition: outcome.partition,
        offset: if ack.base_offset < 0 {
            -1
        } else {
            ack.base_offset + i64::from(offset_delta)
        },
        timestamp: if ack.log_append_time >= 0 {
            ack.log_append_time
        } else {
            timestamp
        },
    })
}

impl std::fmt::Debug for BatchCompletion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchCompletion")
            .field("outcome", &self.outcome.get())
            .finish_non_exhaustive()
    }
}

impl BatchCompletion {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            outcome: OnceLock::new(),
            waiters: std::sync::Mutex::new(Waiters::default()),
        })
    }

    /// Records the outcome (the first call wins) and wakes every waiter and callback.
    pub(crate) fn complete(&self, outcome: BatchOutcome) {
        if self.outcome.set(outcome).is_err() {
            return;
        }
        let waiters = std::mem::take(&mut *self.lock_waiters());
        for waker in waiters.wakers {
            waker.wake();
        }
        for (offset_delta, timestamp, callback) in waiters.callbacks {
            callback(
                self.record_result(offset_delta, timestamp, None)
                    .unwrap_or(Err(ProducerError::Closed)),
            );
        }
    }

    fn lock_waiters(&self) -> std::sync::MutexGuard<'_, Waiters> {
        match self.waiters.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The record's result once known; `waiters` when the caller holds the lock already.
    fn record_result(
        &self,
        offset_delta: i32,
        timestamp: i64,
        waiters: Option<&Waiters>,
    ) -> Option<Result<RecordMetadata, ProducerError>> {
        if let Some(outcome) = self.outcome.get() {
            return Some(record_metadata(outcome, offset_delta, timestamp));
        }
        let outcome = match waiters {
            Some(waiters) => waiters.by_record.get(&offset_delta).cloned(),
            None => self.lock_waiters().by_record.get(&offset_delta).cloned(),
        }?;
        Some(record_metadata(&outcome, 0, timestamp))
    }

    /// The batch was split into parts of `records` records in all: from now on its records
    /// complete one by one ([`complete_record`](Self::complete_record)).
    pub(crate) fn expect_split(&self, records: usize) {
        self.lock_waiters().split_records.get_or_insert(records);
    }

    /// Completes one record of a split batch; `outcome` carries its own offset as the base.
    pub(crate) fn complete_record(&self, offset_delta: i32, outcome: BatchOutcome) {
        let (wakers, callbacks) = {
            let mut waiters = self.lock_waiters();
            if waiters.by_record.contains_key(&offset_delta) {
                return;
            }
            waiters.by_record.insert(offset_delta, outcome.clone());
            let (mine, others) = std::mem::take(&mut waiters.callbacks)
                .into_iter()
                .partition(|(delta, _, _)| *delta == offset_delta);
            waiters.callbacks = others;
            (std::mem::take(&mut waiters.wakers), mine)
        };
        for waker in wakers {
            waker.wake();
        }
        for (_, timestamp, callback) in callbacks {
            callback(record_metadata(&outcome, 0, timestamp));
        }
    }

    /// Resolves once every record of the batch has an outcome.
    pub(crate) async fn done(&self) {
        std::future::poll_fn(|cx| {
            if self.outcome.get().is_some() {
                return Poll::Ready(());
            }
            let mut waiters = self.lock_waiters();
            if self.outcome.get().is_some() || waiters.all_split_records_done() {
                return Poll::Ready(());
            }
            waiters.wakers.push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Runs `callback` once the batch completes (at once if it already has).
    pub(crate) fn on_complete(&self, offset_delta: i32, timestamp: i64, callback: Callback) {
        let result = {
            let mut waiters = self.lock_waiters();
            // Checked under the lock: `complete` sets the outcome before taking the waiters.
            let result = self.record_result(offset_delta, timestamp, Some(&waiters));
            if result.is_none() {
                waiters.callbacks.push((offset_delta, timestamp, callback));
                return;
            }
            result
        };
        callback(result.unwrap_or(Err(ProducerError::Closed)));
    }
}

/// Resolves when the record is acknowledged or has failed. Dropping it does not cancel the send.
#[derive(Debug)]
pub struct DeliveryFuture {
    completion: Arc<BatchCompletion>,
    offset_delta: i32,
    timestamp: i64,
}

impl DeliveryFuture {
    pub(crate) fn pending(
        completion: Arc<BatchCompletion>,
        offset_delta: i32,
        timestamp: i64,
    ) -> Self {
        Self {
            completion,
            offset_delta,
            timestamp,
        }
    }

    /// Calls `callback` with the outcome when it is known, on the sender's task: keep it short.
    pub fn on_complete(
        self,
        callback: impl FnOnce(Result<RecordMetadata, ProducerError>) + Send + 'static,
    ) {
        self.completion
            .on_complete(self.offset_delta, self.timestamp, Box::new(callback));
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata, ProducerError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let (offset_delta, timestamp) = (this.offset_delta, this.timestamp);
        if let Some(outcome) = this.completion.outcome.get() {
            return Poll::Ready(record_metadata(outcome, offset_delta, timestamp));
        }
        let mut waiters = this.completion.lock_waiters();
        // Looked at again under the lock, so a completion in between is not missed.
        if let Some(result) = this
            .completion
            .record_result(offset_delta, timestamp, Some(&waiters))
        {
            return Poll::Ready(result);
        }
        waiters.wakers.push(cx.waker().clone());
        Poll::Pending
    }
}
