//! The cluster's one clock. Every `now` the servers hand the model, every journal time and every
//! timer deadline comes from here, never from a caller's own `Instant::now()`: under turmoil each
//! simulated host runs its own tokio runtime, and instants read on different hosts would not
//! agree. The default reads tokio's clock (so `tokio::time::pause` drives it); a simulation
//! passes its own "time since the cluster started". Every wait of the servers goes through
//! [`Clock::sleep`] too, so that a simulation can see each pending timer (the default sleeps on
//! tokio's timer).

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::time::Duration;
use std::sync::Arc;

use tokio::time::Instant;

/// Time since the cluster started, as a shared function.
pub type ElapsedFn = Arc<dyn Fn() -> Duration + Send + Sync>;

/// A sleep of a given length on the caller's runtime.
pub type SleepFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Starts a sleep of the given length, as a shared function.
pub type SleepFn = Arc<dyn Fn(Duration) -> SleepFuture + Send + Sync>;

/// The time ran out before the future completed (see [`Clock::timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("timed out")]
pub struct TimedOut;

/// The cluster clock: a fixed origin plus the elapsed time an [`ElapsedFn`] reports.
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
/// use std::time::Duration;
/// use ktrial_mockbroker::Clock;
///
/// let ms = Arc::new(AtomicU64::new(0));
/// let source = Arc::clone(&ms);
/// let clock = Clock::from_fn(Arc::new(move || Duration::from_millis(source.load(Ordering::SeqCst))));
/// let start = clock.now();
/// ms.store(250, Ordering::SeqCst);
/// assert_eq!(clock.elapsed_ms(), 250);
/// assert_eq!(clock.now() - start, Duration::from_millis(250));
/// ```
#[derive(Clone)]
pub struct Clock {
    origin: Instant,
    elapsed: ElapsedFn,
    sleeper: SleepFn,
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clock")
            .field("elapsed_ms", &self.elapsed_ms())
            .finish_non_exhaustive()
    }
}

impl Default for Clock {
    /// Tokio's clock, started now.
    fn default() -> Self {
        let origin = Instant::now();
        Self {
            origin,
            elapsed: Arc::new(move || origin.elapsed()),
            sleeper: tokio_sleeper(),
        }
    }
}

impl Clock {
    /// A clock that reads `elapsed` for the time since the cluster started.
    pub fn from_fn(elapsed: ElapsedFn) -> Self {
        Self {
            origin: Instant::now(),
            elapsed,
            sleeper: tokio_sleeper(),
        }
    }

    /// This clock with its waits made by `sleeper` instead of tokio's timer (a simulation
    /// registers every pending deadline this way).
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    /// use ktrial_mockbroker::Clock;
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let asked = Arc::new(Mutex::new(Vec::new()));
    /// let seen = Arc::clone(&asked);
    /// let clock = Clock::default().with_sleeper(Arc::new(move |duration| {
    ///     seen.lock().unwrap().push(duration);
    ///     Box::pin(tokio::time::sleep(duration))
    /// }));
    /// clock.sleep_until(clock.now() + Duration::from_millis(30)).await;
    /// let pending = std::future::pending::<()>();
    /// assert!(clock.timeout(Duration::from_millis(5), pending).await.is_err());
    /// assert_eq!(*asked.lock().unwrap(), [Duration::from_millis(30), Duration::from_millis(5)]);
    /// # }
    /// ```
    pub fn with_sleeper(mut self, sleeper: SleepFn) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// The instant the cluster started, on this clock.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// The current instant: origin plus the time elapsed.
    pub fn now(&self) -> Instant {
        self.origin + (self.elapsed)()
    }

    /// Milliseconds since the cluster started.
    pub fn elapsed_ms(&self) -> u64 {
        millis((self.elapsed)())
    }

    /// Milliseconds from the origin to `at` (0 before it).
    pub fn ms_at(&self, at: Instant) -> u64 {
        millis(at.saturating_duration_since(self.origin))
    }

    /// Sleeps (on the caller's runtime) until this clock reads `deadline`.
    pub async fn sleep_until(&self, deadline: Instant) {
        let left = deadline.saturating_duration_since(self.now());
        if !left.is_zero() {
            self.sleep(left).await;
        }
    }

    /// Sleeps (on the caller's runtime) for `duration`.
    pub fn sleep(&self, duration: Duration) -> SleepFuture {
        (self.sleeper)(duration)
    }

    /// Runs `future` for at most `duration`; polled before the timer, as `tokio::time::timeout`.
    pub async fn timeout<F: Future>(
        &self,
        duration: Duration,
        future: F,
    ) -> Result<F::Output, TimedOut> {
        let sleep = self.sleep(duration);
        tokio::select! {
            biased;
            output = future => Ok(output),
            () = sleep => Err(TimedOut),
        }
    }
}

fn tokio_sleeper() -> SleepFn {
    Arc::new(|duration| Box::pin(tokio::time::sleep(duration)))
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
