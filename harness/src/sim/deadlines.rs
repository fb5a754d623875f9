//! Every timer pending on a simulated host, where the runner can see it. The brokers' clock, the
//! producer's transport and the workload sleep through [`Deadlines`], which records each
//! deadline in simulated time until its sleep has completed or is dropped. The runner jumps
//! over idle time only up to the earliest deadline (see `jump`): tokio does not tell which
//! timers a runtime holds, so they are kept here, by construction.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// Simulated time since the start of the run, if the caller is inside the simulation.
pub type SimTimeFn = Arc<dyn Fn() -> Option<Duration> + Send + Sync>;

/// The registry of pending deadlines, shared by every host of one run.
#[derive(Clone)]
pub struct Deadlines {
    state: Arc<Mutex<State>>,
    sim_time: SimTimeFn,
}

impl std::fmt::Debug for Deadlines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deadlines")
            .field("state", &*self.lock())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct State {
    /// Pending sleeps by deadline (simulated time since the start of the run).
    pending: BTreeMap<Duration, usize>,
}

impl Deadlines {
    /// A registry reading simulated time from `sim_time`.
    pub fn new(sim_time: SimTimeFn) -> Self {
        Self {
            state: Arc::default(),
            sim_time,
        }
    }

    /// A registry on turmoil's simulated time.
    pub fn simulated() -> Self {
        Self::new(Arc::new(turmoil::sim_elapsed))
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A sleep until `deadline` on the calling host's clock, registered until it ends or is
    /// dropped.
    pub fn sleep_until(&self, deadline: Instant) -> RegisteredSleep {
        let left = deadline.saturating_duration_since(Instant::now());
        // Outside a host there is no simulated time; zero keeps the runner from jumping.
        let at = (self.sim_time)().map_or(Duration::ZERO, |now| now + left);
        *self.lock().pending.entry(at).or_default() += 1;
        RegisteredSleep {
            sleep: Box::pin(tokio::time::sleep_until(deadline)),
            at,
            registry: self.clone(),
            registered: true,
        }
    }

    /// A sleep of `duration` on the calling host's clock, registered like
    /// [`Deadlines::sleep_until`].
    pub fn sleep(&self, duration: Duration) -> RegisteredSleep {
        let now = Instant::now();
        // As tokio's `sleep`: an overflowing deadline means about 30 years.
        let deadline = now
            .checked_add(duration)
            .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30));
        self.sleep_until(deadline)
    }

    /// The earliest pending deadline, in simulated time.
    pub fn earliest(&self) -> Option<Duration> {
        self.lock().pending.keys().next().copied()
    }

    fn deregister(&self, at: Duration) {
        let mut state = self.lock();
        if let Some(count) = state.pending.get_mut(&at) {
            *count -= 1;
            if *count == 0 {
                state.pending.remove(&at);
            }
        }
    }
}

/// A tokio sleep whose deadline stays in a [`Deadlines`] registry until it completes (is
/// polled ready) or is dropped.
#[derive(Debug)]
pub struct RegisteredSleep {
    sleep: Pin<Box<Sleep>>,
    at: Duration,
    registry: Deadlines,
    registered: bool,
}

impl Future for RegisteredSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let poll = self.sleep.as_mut().poll(cx);
        if poll.is_ready() && self.registered {
            self.registered = false;
            self.registry.deregister(self.at);
        }
        poll
    }
}

impl Drop for RegisteredSleep {
    fn drop(&mut self) {
        if self.registered {
            self.registry.deregister(self.at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on_tokio_time() -> Deadlines {
        let origin = Instant::now();
        Deadlines::new(Arc::new(move || Some(origin.elapsed())))
    }

    #[tokio::test(start_paused = true)]
    async fn a_sleep_is_pending_until_it_completes() {
        let deadlines = on_tokio_time();
        let sleep = deadlines.sleep(Duration::from_millis(5));
        assert_eq!(deadlines.earliest(), Some(Duration::from_millis(5)));
        sleep.await;
        assert_eq!(deadlines.earliest(), None);
    }

    #[test]
    fn outside_the_simulation_a_deadline_is_due_at_once() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let _guard = runtime.enter();
        let deadlines = Deadlines::new(Arc::new(|| None));
        let _sleep = deadlines.sleep(Duration::from_secs(1));
        assert_eq!(deadlines.earliest(), Some(Duration::ZERO));
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_sleep_is_no_longer_pending() {
        let deadlines = on_tokio_time();
        let early = deadlines.sleep(Duration::from_millis(3));
        let late = deadlines.sleep(Duration::from_millis(9));
        let _same = deadlines.sleep(Duration::from_millis(9));
        drop(early);
        assert_eq!(deadlines.earliest(), Some(Duration::from_millis(9)));
        drop(late);
        assert_eq!(deadlines.earliest(), Some(Duration::from_millis(9)));
    }
}
