//! Idle simulated time in one step, exactly. The runner steps turmoil in 1 ms ticks; when no
//! host can do anything for a while, [`IdleJump`] lets it advance every host to just before the
//! next thing that can happen, in one [`turmoil::Sim::step_for`].
//!
//! Within a 1 ms tick a host runs at the tick's start (the tasks left ready by the last tick
//! and those woken by messages delivered now), then its clock moves to the tick's end, where
//! timers fire (tokio rounds deadlines up to whole milliseconds) and wake tasks that run in the
//! next step. So a jump is taken only when:
//! - the step just taken was quiet: the network was idle before and after it, no runner action
//!   preceded it, and nothing read the cluster clock in it. Every access to the shared cluster
//!   (which wakes waiters on other brokers) reads the clock first, and the only other wakes
//!   that cross hosts are turmoil's messages; so no host was left with a task woken by another
//!   host after its own tick had run;
//! - every timer on every host is in [`Deadlines`] (so the tasks its firing left ready keep it
//!   there until they run) and the earliest is after the jump's end: the jump stops at the last
//!   tick boundary strictly before it, and the timer fires in a 1 ms step as it would have;
//! - the runner's own next action (network schedule, cluster event, end of the drain, the
//!   simulation limit) is not before the jump's end.
//!
//! `harness/tests/idle_jump.rs` runs every fixture and explored fault schedules with and without
//! jumping and requires the same journal hash.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::deadlines::Deadlines;

/// Decides, before each step, whether it can be a jump and how long.
#[derive(Debug)]
pub(crate) struct IdleJump {
    enabled: bool,
    deadlines: Deadlines,
    /// Reads of the cluster clock, ever: every access to the shared cluster reads it first.
    cluster_reads: Arc<AtomicU64>,
    /// Whether the last step was quiet (see the module documentation).
    quiet: bool,
    /// Cluster clock reads counted before the step being taken.
    reads_before: u64,
    /// Whether the network was idle before the step being taken.
    network_idle_before: bool,
}

impl IdleJump {
    /// Jumps when `enabled`, on the timers in `deadlines`; `cluster_reads` counts the reads of
    /// the cluster clock.
    pub(crate) fn new(enabled: bool, deadlines: Deadlines, cluster_reads: Arc<AtomicU64>) -> Self {
        Self {
            enabled,
            deadlines,
            cluster_reads,
            quiet: false,
            reads_before: 0,
            network_idle_before: false,
        }
    }

    /// Before a step at `now_ms`: the length of the step to take, 1 ms (`tick`) unless a jump
    /// is safe. `acted` says whether the runner just changed the simulation; `next_action_ms`
    /// is the runner's next own action (the jump ends at it at the latest).
    pub(crate) fn next_step(
        &mut self,
        sim: &turmoil::Sim<'_>,
        now_ms: u64,
        acted: bool,
        next_action_ms: u64,
        tick: Duration,
    ) -> Duration {
        let network_idle = sim.is_network_idle();
        let quiet = std::mem::replace(&mut self.quiet, false);
        self.reads_before = self.cluster_reads.load(Ordering::Relaxed);
        self.network_idle_before = network_idle && !acted;
        if !self.enabled || acted || !quiet || !network_idle {
            return tick;
        }
        // The last tick boundary strictly before the earliest deadline.
        let before_timer = self.deadlines.earliest().map_or(u64::MAX, |at| {
            let ceil_ms = at.as_nanos().div_ceil(1_000_000);
            u64::try_from(ceil_ms).unwrap_or(u64::MAX).saturating_sub(1)
        });
        let end_ms = before_timer.min(next_action_ms);
        match end_ms.checked_sub(now_ms) {
            Some(ms) if ms > 1 => Duration::from_millis(ms),
            _ => tick,
        }
    }

    /// After the step: whether it was quiet.
    pub(crate) fn stepped(&mut self) {
        self.quiet = self.network_idle_before
            && self.cluster_reads.load(Ordering::Relaxed) == self.reads_before;
    }
}
