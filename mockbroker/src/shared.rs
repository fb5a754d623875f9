//! The model shared by every broker's connections: one lock around [`Cluster`], held only for
//! synchronous work, and a change signal so that waiters (acks=all produce, fetch long polls,
//! tests) wake on writes; replication deadlines wake them through their own timers.

use core::time::Duration;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;
use tokio::time::Instant;

use crate::model::Cluster;

/// The shortest sleep between two polls of a wait.
const MIN_SLEEP: Duration = Duration::from_millis(1);

/// The cluster model behind a lock, with a change signal.
#[derive(Debug)]
pub struct SharedCluster {
    model: Mutex<Cluster>,
    changed: watch::Sender<u64>,
}

impl SharedCluster {
    /// Shares `cluster`.
    pub fn new(cluster: Cluster) -> Self {
        Self {
            model: Mutex::new(cluster),
            changed: watch::Sender::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Cluster> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.model.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the model brought up to `now`, then wakes every waiter.
    pub fn update<R>(&self, now: Instant, f: impl FnOnce(&mut Cluster) -> R) -> R {
        let result = {
            let mut cluster = self.lock();
            cluster.tick(now);
            f(&mut cluster)
        };
        self.changed
            .send_modify(|version| *version = version.wrapping_add(1));
        result
    }

    /// Runs `f` on the model brought up to `now`, without waking anyone.
    pub fn read<R>(&self, now: Instant, f: impl FnOnce(&Cluster) -> R) -> R {
        let mut cluster = self.lock();
        cluster.tick(now);
        f(&cluster)
    }

    /// Polls `poll` on the model, brought up to date, until it returns `Some`: after every change
    /// and at every replication deadline. `None` once `deadline` passes without an answer (after
    /// a last poll at the deadline).
    pub async fn wait_until<R>(
        &self,
        deadline: Instant,
        mut poll: impl FnMut(&mut Cluster, Instant) -> Option<R>,
    ) -> Option<R> {
        let mut changes = self.changed.subscribe();
        loop {
            let now = Instant::now();
            let (result, next) = {
                let mut cluster = self.lock();
                cluster.tick(now);
                (poll(&mut cluster, now), cluster.next_deadline())
            };
            if result.is_some() || now >= deadline {
                return result;
            }
            // Never sleep less than a tick: a deadline that is already due must not spin.
            let wake = next
                .map_or(deadline, |next| next.min(deadline))
                .max(now + MIN_SLEEP);
            tokio::select! {
                biased;
                _ = changes.changed() => {}
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }
}
