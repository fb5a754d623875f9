//! Answers that wait for the group: a JoinGroup is answered when the rebalance completes and a
//! follower's SyncGroup when the leader hands in the assignment (Kafka's `DelayedJoin` and the
//! `awaitingJoinCallback`/`awaitingSyncCallback` of each member). The model files each answer
//! under a [`Ticket`]; the handler that holds the ticket collects it. Every ticket is answered
//! exactly once: by the rebalance, by an error when its member goes, or by its cancellation.

use std::collections::BTreeMap;

use super::{JoinResult, SyncResult};

/// A claim on an answer the group has not given yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(pub(crate) u64);

/// An answer now, or a ticket for one later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pending<T> {
    /// The answer.
    Ready(T),
    /// Collect the answer with this ticket once the group has it.
    Wait(Ticket),
}

/// An answer filed under a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Reply {
    /// Not answered yet.
    Open,
    Join(JoinResult),
    Sync(SyncResult),
}

/// Open tickets and the answers filed under them.
#[derive(Debug, Clone, Default)]
pub(crate) struct Replies {
    next: u64,
    replies: BTreeMap<Ticket, Reply>,
}

impl Replies {
    /// A new open ticket.
    pub(crate) fn issue(&mut self) -> Ticket {
        self.next += 1;
        let ticket = Ticket(self.next);
        self.replies.insert(ticket, Reply::Open);
        ticket
    }

    /// Files a JoinGroup answer (ignored for a ticket already answered or collected).
    pub(crate) fn answer_join(&mut self, ticket: Ticket, result: JoinResult) {
        if let Some(slot @ Reply::Open) = self.replies.get_mut(&ticket) {
            *slot = Reply::Join(result);
        }
    }

    /// Files a SyncGroup answer (ignored for a ticket already answered or collected).
    pub(crate) fn answer_sync(&mut self, ticket: Ticket, result: SyncResult) {
        if let Some(slot @ Reply::Open) = self.replies.get_mut(&ticket) {
            *slot = Reply::Sync(result);
        }
    }

    /// The JoinGroup answer, once there is one.
    pub(crate) fn take_join(&mut self, ticket: Ticket) -> Option<JoinResult> {
        match self.replies.remove(&ticket)? {
            Reply::Join(result) => Some(result),
            other => {
                self.replies.insert(ticket, other);
                None
            }
        }
    }

    /// The SyncGroup answer, once there is one.
    pub(crate) fn take_sync(&mut self, ticket: Ticket) -> Option<SyncResult> {
        match self.replies.remove(&ticket)? {
            Reply::Sync(result) => Some(result),
            other => {
                self.replies.insert(ticket, other);
                None
            }
        }
    }

    /// Forgets a ticket whose holder stopped waiting.
    pub(crate) fn forget(&mut self, ticket: Ticket) {
        self.replies.remove(&ticket);
    }

    /// Tickets issued and not yet collected.
    pub(crate) fn outstanding(&self) -> usize {
        self.replies.len()
    }
}
