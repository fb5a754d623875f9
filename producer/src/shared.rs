//! The state the application's `send` calls and the sender task share: the accumulator and the
//! topic view behind one mutex (held for an append or a drain, never across an await), and the
//! wake-ups between the two sides.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use ktrial_protocol::ResponseError;
use rand_chacha::ChaCha8Rng;
use tokio::sync::Notify;

use crate::accumulator::Accumulator;
use crate::config::ProducerConfig;
use crate::partitioner::StickyPartitions;
use crate::stats::Stats;

/// What `send` knows about a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopicView {
    /// The topic exists with this many partitions.
    Known(i32),
    /// The cluster reported an error for it (it may still appear, e.g. while being created).
    Failed(ResponseError),
}

/// Guarded by [`Shared::inner`].
#[derive(Debug)]
pub(crate) struct Inner {
    pub acc: Accumulator,
    pub topics: BTreeMap<String, TopicView>,
    /// Topics `send` asked about: the sender keeps their metadata.
    pub wanted: BTreeSet<String>,
    pub sticky: StickyPartitions,
    pub rng: ChaCha8Rng,
    /// `close` was called: no more sends.
    pub closed: bool,
    /// Give up on everything not yet delivered (close timed out).
    pub abort: bool,
}

/// Shared between the producer handles and the sender task.
#[derive(Debug)]
pub(crate) struct Shared {
    pub config: ProducerConfig,
    inner: Mutex<Inner>,
    /// Something for the sender: a batch became ready, a topic is wanted, a flush or close.
    pub wake_sender: Notify,
    /// Buffer memory was freed.
    pub space_freed: Notify,
    /// New metadata arrived.
    pub metadata_updated: Notify,
    pub stats: Stats,
    /// Every producer handle is gone, or `close` finished: the sender stops once idle.
    pub shutdown: AtomicBool,
}

impl Shared {
    pub fn new(config: ProducerConfig, inner: Inner) -> Self {
        Self {
            config,
            inner: Mutex::new(inner),
            wake_sender: Notify::new(),
            space_freed: Notify::new(),
            metadata_updated: Notify::new(),
            stats: Stats::default(),
            shutdown: AtomicBool::new(false),
        }
    }

    /// Locks the inner state (a panic elsewhere does not poison the producer for good).
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    pub fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    pub fn shut_down(&self) {
        self.shutdown.store(true, Ordering::Release);
        self.wake_sender.notify_one();
    }
}
