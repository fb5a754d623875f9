//! The journal: every request and response (decoded and summarised), every fault applied, every
//! cluster event and what it caused (elections, truncations, ISR changes), with cluster time,
//! broker, connection and correlation id. Bounded: past its capacity the oldest entries go, and
//! are counted. Printed one line per entry ([`Journal::timeline`]) in a stable format with no
//! wall-clock values, peer addresses or map-order effects, so that a seeded simulation gives the
//! same text byte for byte.

mod summary;

use std::collections::VecDeque;
use std::fmt;

use serde::Serialize;

pub use summary::{request_summary, response_summary};

use crate::faults::{Action, RuleId};
use crate::model::{BrokerId, NoticeKind};

/// Entries kept by default.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// One thing that happened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalEntry {
    /// Position in the journal, from 0; never reused, also after the oldest are dropped.
    pub seq: u64,
    /// Cluster time in milliseconds since the cluster started.
    pub at_ms: u64,
    /// The broker, when it happened on one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broker: Option<BrokerId>,
    /// The connection (per broker, in accept order), for requests and responses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<u64>,
    /// The request's correlation id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<i32>,
    /// What happened.
    pub what: Happening,
}

/// What a [`JournalEntry`] records.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Happening {
    /// A request arrived.
    Request {
        /// The API.
        api: String,
        /// Its version.
        version: i16,
        /// Topics, partitions, record counts.
        summary: String,
    },
    /// A response was sent.
    Response {
        /// The API.
        api: String,
        /// Its version.
        version: i16,
        /// Error codes, base offsets, leaders.
        summary: String,
    },
    /// A fault rule fired on the request.
    Fault {
        /// The rule.
        rule: RuleId,
        /// What it does.
        action: Action,
    },
    /// The interceptor answered the request itself.
    Intercepted,
    /// The request was applied (or dropped) and its response will never be sent.
    ResponseLost,
    /// The broker closed the connection.
    Closed {
        /// Why.
        reason: String,
    },
    /// The cluster changed.
    Cluster {
        /// How.
        notice: NoticeKind,
    },
}

/// The bounded journal.
#[derive(Debug, Clone)]
pub struct Journal {
    entries: VecDeque<JournalEntry>,
    capacity: usize,
    next_seq: u64,
}

impl Default for Journal {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl Journal {
    /// An empty journal keeping at most `capacity` entries (at least one).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: VecDeque::new(),
            capacity: capacity.max(1),
            next_seq: 0,
        }
    }

    /// Adds an entry, dropping the oldest when full.
    pub fn push(
        &mut self,
        at_ms: u64,
        broker: Option<BrokerId>,
        connection: Option<u64>,
        correlation_id: Option<i32>,
        what: Happening,
    ) {
        if self.entries.len() == self.capacity {
            self.entries.pop_front();
        }
        self.entries.push_back(JournalEntry {
            seq: self.next_seq,
            at_ms,
            broker,
            connection,
            correlation_id,
            what,
        });
        self.next_seq += 1;
    }

    /// How many entries were dropped to stay within the capacity.
    pub fn dropped(&self) -> u64 {
        self.next_seq - self.entries.len() as u64
    }

    /// The entries with `seq >= since`, oldest first.
    pub fn since(&self, since: u64) -> Vec<JournalEntry> {
        let skip = usize::try_from(since.saturating_sub(self.dropped())).unwrap_or(usize::MAX);
        self.entries.iter().skip(skip).cloned().collect()
    }

    /// One line per entry, oldest first, after a first line counting dropped entries if any.
    pub fn timeline(&self) -> String {
        let mut text = String::new();
        if self.dropped() > 0 {
            text.push_str(&format!("({} earlier entries dropped)\n", self.dropped()));
        }
        for entry in &self.entries {
            text.push_str(&entry.to_string());
            text.push('\n');
        }
        text
    }
}

impl fmt::Display for JournalEntry {
    /// `   1250 ms #42 b1 c3 corr=7 response Produce v9 orders-0 NONE @10`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>7} ms #{}", self.at_ms, self.seq)?;
        if let Some(broker) = self.broker {
            write!(f, " b{broker}")?;
        }
        if let Some(connection) = self.connection {
            write!(f, " c{connection}")?;
        }
        if let Some(correlation) = self.correlation_id {
            write!(f, " corr={correlation}")?;
        }
        write!(f, " {}", self.what)
    }
}

impl fmt::Display for Happening {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Happening::Request {
                api,
                version,
                summary,
            } => write!(f, "request {api} v{version} {summary}"),
            Happening::Response {
                api,
                version,
                summary,
            } => write!(f, "response {api} v{version} {summary}"),
            Happening::Fault { rule, action } => {
                let action = serde_json::to_string(action).map_err(|_| fmt::Error)?;
                write!(f, "fault rule={rule} {action}")
            }
            Happening::Intercepted => write!(f, "intercepted"),
            Happening::ResponseLost => write!(f, "response lost"),
            Happening::Closed { reason } => write!(f, "closed: {reason}"),
            Happening::Cluster { notice } => write!(f, "cluster {notice}"),
        }
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NoticeKind::Event(event) => {
                let event = serde_json::to_string(event).map_err(|_| fmt::Error)?;
                write!(f, "event {event}")
            }
            NoticeKind::EventFailed { event, reason } => {
                let event = serde_json::to_string(event).map_err(|_| fmt::Error)?;
                write!(f, "event failed {event}: {reason}")
            }
            NoticeKind::Election {
                topic,
                partition,
                leader,
                epoch,
                unclean,
            } => write!(
                f,
                "election {topic}-{partition} leader={leader} epoch={epoch}{}",
                if *unclean { " unclean" } else { "" }
            ),
            NoticeKind::Offline {
                topic,
                partition,
                epoch,
            } => write!(f, "offline {topic}-{partition} epoch={epoch}"),
            NoticeKind::Truncated {
                topic,
                partition,
                truncation,
            } => write!(
                f,
                "truncated {topic}-{partition} offsets {}..{} lost {} records{}",
                truncation.from_offset,
                truncation.to_offset,
                truncation.records,
                if truncation.committed {
                    " (below the high watermark)"
                } else {
                    ""
                }
            ),
            NoticeKind::IsrChanged {
                topic,
                partition,
                isr,
            } => write!(f, "isr {topic}-{partition} {isr:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lost(journal: &mut Journal, at_ms: u64) {
        journal.push(at_ms, Some(1), Some(2), Some(3), Happening::ResponseLost);
    }

    #[test]
    fn bounded_with_drops_counted_and_since_by_sequence() {
        let mut journal = Journal::with_capacity(3);
        for at in 0..5 {
            lost(&mut journal, at);
        }
        assert_eq!(journal.dropped(), 2);
        let seqs: Vec<u64> = journal.since(0).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [2, 3, 4]);
        assert_eq!(journal.since(3).len(), 2);
        assert_eq!(
            journal.since(0).len(),
            3,
            "dropped entries are not replayed"
        );
        assert!(journal.since(9).is_empty());
        assert_eq!(
            journal.timeline(),
            "(2 earlier entries dropped)\n      2 ms #2 b1 c2 corr=3 response lost\n      3 ms #3 b1 c2 corr=3 response lost\n      4 ms #4 b1 c2 corr=3 response lost\n"
        );
    }
}
