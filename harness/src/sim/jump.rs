//! Idle simulated time in one step, exactly. The runner steps turmoil in 1 ms ticks; when no
//! host can do anything for a while, [`IdleJump`] lets it advance every host to just before the
//! next thing that can happen, in one [`turmoil::Sim::step_for`].
//!
//! Nothing can happen on a host until a timer fires, a message arrives, or another host (or
//! the runner) wakes one of its tasks. So a jump is taken only when:
//! - every timer on every host is in [`Deadlines`] and the earliest is past the jump's end (the
//!   jump stops at the last tick boundary strictly before it, so the timer fires in a 1 ms step
//!   as it would have);
//! - no message is in flight or waiting to be delivered;
//! - the step just taken was quiet: no timer came or went in it, the network was idle before it
//!   and no runner action preceded it. In a quiet step no host can have woken a task on another
//!   host that had already run its tick (such a task would only run in the next step): the
//!   wakes that cross hosts are turmoil's messages, the cluster's change signal (raised by
//!   request handling, which needs a message, or by a broker's wait loop, which re-arms its
//!   timer on every wake) and the runner's actions;
//! - the runner's own next action (network schedule, cluster event, end of the drain, the
//!   simulation limit) is not before the jump's end.
//!
//! `harness/tests/idle_jump.rs` runs every fixture with and without jumping and requires the
//! same journal hash.

use std::time::Duration;

use super::deadlines::Deadlines;

/// Decides, before each step, whether it can be a jump and how long.
#[derive(Debug)]
pub(crate) struct IdleJump {
    enabled: bool,
    deadlines: Deadlines,
    /// Whether the last step was quiet (see the module documentation).
    quiet: bool,
    /// Timer changes counted before the step being taken.
    changes_before: u64,
    /// Whether the network was idle before the step being taken.
    network_idle_before: bool,
}

impl IdleJump {
    /// Jumps when `enabled`, on the timers in `deadlines`.
    pub(crate) fn new(enabled: bool, deadlines: Deadlines) -> Self {
        Self {
            enabled,
            deadlines,
            quiet: false,
            changes_before: 0,
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
        self.changes_before = self.deadlines.changes();
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
        self.quiet = self.network_idle_before && self.deadlines.changes() == self.changes_before;
    }
}
