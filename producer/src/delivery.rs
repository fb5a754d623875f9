//! Delivery reports: one shared completion per batch, and a future per record that reads its
//! own offset from it. A dropped future costs nothing (fire-and-forget); awaiting it is the sync
//! mode; spawning it or passing a callback is the async mode.

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
                self.record_result(offset_delta, timestamp)
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

    fn record_result(
        &self,
        offset_delta: i32,
        timestamp: i64,
    ) -> Option<Result<RecordMetadata, ProducerError>> {
        let outcome = self.outcome.get()?;
        Some(outcome.result.clone().map(|ack| RecordMetadata {
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
        }))
    }

    /// Resolves once the batch has an outcome.
    pub(crate) async fn done(&self) {
        std::future::poll_fn(|cx| {
            if self.outcome.get().is_some() {
                return Poll::Ready(());
            }
            let mut waiters = self.lock_waiters();
            if self.outcome.get().is_some() {
                return Poll::Ready(());
            }
            waiters.wakers.push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Runs `callback` once the batch completes (at once if it already has).
    pub(crate) fn on_complete(&self, offset_delta: i32, timestamp: i64, callback: Callback) {
        {
            let mut waiters = self.lock_waiters();
            // Checked under the lock: `complete` sets the outcome before taking the waiters.
            if self.outcome.get().is_none() {
                waiters.callbacks.push((offset_delta, timestamp, callback));
                return;
            }
        }
        callback(
            self.record_result(offset_delta, timestamp)
                .unwrap_or(Err(ProducerError::Closed)),
        );
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
        if let Some(result) = this.completion.record_result(offset_delta, timestamp) {
            return Poll::Ready(result);
        }
        let mut waiters = this.completion.lock_waiters();
        // Looked at again under the lock, so a completion in between is not missed.
        if let Some(result) = this.completion.record_result(offset_delta, timestamp) {
            return Poll::Ready(result);
        }
        waiters.wakers.push(cx.waker().clone());
        Poll::Pending
    }
}
