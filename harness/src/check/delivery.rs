//! Loss, duplication and reordering: every record carries its send index (its id), so the final
//! logs can be compared with the order of `send` calls and with what the producer acknowledged.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

/// What the producer reported for one record, in send order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sent {
    /// The record's id: its index in send order.
    pub id: u64,
    /// Its key.
    pub key: Option<Vec<u8>>,
    /// What the producer said.
    pub outcome: Outcome,
}

/// The producer's verdict on a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// Acknowledged (offset -1 under acks=0, where the broker never answers).
    Acked {
        /// The partition.
        partition: i32,
        /// The offset, or -1.
        offset: i64,
    },
    /// Failed, with the error's text.
    Failed(String),
    /// Never reported (fire-and-forget, or still pending at the end).
    Unknown,
}

/// A record found in a final log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stored {
    /// Its offset.
    pub offset: i64,
    /// The id written into its value.
    pub id: u64,
    /// Its key.
    pub key: Option<Vec<u8>>,
}

/// Everything the delivery checkers look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observation {
    /// Every record sent, in send order.
    pub sent: Vec<Sent>,
    /// The final log of every partition written to, by partition, in offset order.
    pub logs: BTreeMap<i32, Vec<Stored>>,
}

/// A record stored after one that was sent later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reordering {
    /// The partition.
    pub partition: i32,
    /// The record stored out of order (sent earlier)…
    pub id: u64,
    /// …at this offset…
    pub offset: i64,
    /// …after this record, sent later.
    pub after_id: u64,
}

/// What the checkers found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Findings {
    /// Records sent.
    pub sent: u64,
    /// Records acknowledged.
    pub acked: u64,
    /// Records that failed.
    pub failed: u64,
    /// The first failed record's error, as the client reported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    /// Acknowledged records missing from every log.
    pub lost: Vec<u64>,
    /// Records stored more than once.
    pub duplicated: Vec<u64>,
    /// Records stored out of send order within a partition.
    pub reordered: Vec<Reordering>,
    /// Records stored out of send order among records with the same key.
    pub reordered_per_key: Vec<Reordering>,
    /// Batches or requests beyond the producer's bounds (filled by the batch checker).
    pub batch_violations: Vec<String>,
    /// Breaches of what the acks setting promises (filled by the acks checker).
    pub acks_violations: Vec<String>,
    /// The longest a batch waited between its first record and its first sending, in ms.
    pub longest_batch_wait_ms: u64,
}

/// Compares what was acknowledged and sent with what the logs hold.
///
/// ```
/// use std::collections::BTreeMap;
/// use ktrial_harness::check::{check_deliveries, Observation, Outcome, Sent, Stored};
///
/// let acked = |id, offset| Sent { id, key: None, outcome: Outcome::Acked { partition: 0, offset } };
/// let stored = |id, offset| Stored { offset, id, key: None };
/// let observation = Observation {
///     sent: vec![acked(0, 0), acked(1, 2), acked(2, 1)],
///     // Record 1 was retried after record 2 overtook it, and its first attempt also landed.
///     logs: BTreeMap::from([(0, vec![stored(0, 0), stored(1, 1), stored(2, 2), stored(1, 3)])]),
/// };
/// let findings = check_deliveries(&observation);
/// assert_eq!(findings.duplicated, [1]);
/// assert!(findings.lost.is_empty());
/// assert!(findings.reordered.is_empty()); // first occurrences are in send order
/// ```
pub fn check_deliveries(observation: &Observation) -> Findings {
    let mut findings = Findings {
        sent: observation.sent.len() as u64,
        ..Findings::default()
    };
    let mut stored_ids = BTreeSet::new();
    let mut duplicated = BTreeSet::new();
    for log in observation.logs.values() {
        for record in log {
            if !stored_ids.insert(record.id) {
                duplicated.insert(record.id);
            }
        }
    }
    for sent in &observation.sent {
        match sent.outcome {
            Outcome::Acked { .. } => {
                findings.acked += 1;
                if !stored_ids.contains(&sent.id) {
                    findings.lost.push(sent.id);
                }
            }
            Outcome::Failed(ref error) => {
                findings.failed += 1;
                findings.first_error.get_or_insert_with(|| error.clone());
            }
            Outcome::Unknown => {}
        }
    }
    findings.duplicated = duplicated.into_iter().collect();
    for (&partition, log) in &observation.logs {
        findings
            .reordered
            .extend(inversions(partition, first_occurrences(log)));
        let mut by_key: BTreeMap<Option<&[u8]>, Vec<&Stored>> = BTreeMap::new();
        for record in first_occurrences(log) {
            if record.key.is_some() {
                by_key
                    .entry(record.key.as_deref())
                    .or_default()
                    .push(record);
            }
        }
        for records in by_key.into_values() {
            findings
                .reordered_per_key
                .extend(inversions(partition, records.into_iter()));
        }
    }
    findings
}

/// The first copy of each record, in log order (a duplicate's later copy says nothing of order).
fn first_occurrences(log: &[Stored]) -> impl Iterator<Item = &Stored> {
    let mut seen = BTreeSet::new();
    log.iter().filter(move |r| seen.insert(r.id))
}

/// Each record stored after a record sent later than it.
fn inversions<'a>(
    partition: i32,
    records: impl Iterator<Item = &'a Stored>,
) -> impl Iterator<Item = Reordering> {
    let mut latest: Option<u64> = None;
    records.filter_map(move |record| match latest {
        Some(after_id) if record.id < after_id => Some(Reordering {
            partition,
            id: record.id,
            offset: record.offset,
            after_id,
        }),
        _ => {
            latest = Some(record.id);
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acked(id: u64, partition: i32) -> Sent {
        Sent {
            id,
            key: Some(vec![(id % 2) as u8]),
            outcome: Outcome::Acked {
                partition,
                offset: 0,
            },
        }
    }

    fn stored(ids: &[u64]) -> Vec<Stored> {
        ids.iter()
            .enumerate()
            .map(|(offset, &id)| Stored {
                offset: offset as i64,
                id,
                key: Some(vec![(id % 2) as u8]),
            })
            .collect()
    }

    #[test]
    fn clean_run_finds_nothing() {
        let observation = Observation {
            sent: (0..4).map(|id| acked(id, 0)).collect(),
            logs: BTreeMap::from([(0, stored(&[0, 1, 2, 3]))]),
        };
        let findings = check_deliveries(&observation);
        assert_eq!(findings.acked, 4);
        assert!(findings.lost.is_empty() && findings.duplicated.is_empty());
        assert!(findings.reordered.is_empty() && findings.reordered_per_key.is_empty());
    }

    #[test]
    fn acknowledged_records_missing_from_the_log_are_lost() {
        let mut sent: Vec<Sent> = (0..3).map(|id| acked(id, 0)).collect();
        sent.push(Sent {
            id: 3,
            key: None,
            outcome: Outcome::Failed("timed out".into()),
        });
        let observation = Observation {
            sent,
            logs: BTreeMap::from([(0, stored(&[0, 2]))]),
        };
        let findings = check_deliveries(&observation);
        assert_eq!(findings.lost, [1]);
        assert_eq!(findings.failed, 1);
    }

    #[test]
    fn a_retried_batch_that_overtook_a_later_one_is_reordered_per_partition_and_key() {
        // 0,1 sent in one batch, 2,3 in the next; the first failed and was retried after the second.
        let observation = Observation {
            sent: (0..4).map(|id| acked(id, 0)).collect(),
            logs: BTreeMap::from([(0, stored(&[2, 3, 0, 1]))]),
        };
        let findings = check_deliveries(&observation);
        let ids: Vec<_> = findings
            .reordered
            .iter()
            .map(|r| (r.id, r.after_id))
            .collect();
        assert_eq!(ids, [(0, 3), (1, 3)]);
        let per_key: Vec<_> = findings
            .reordered_per_key
            .iter()
            .map(|r| (r.id, r.after_id))
            .collect();
        assert_eq!(per_key, [(0, 2), (1, 3)]);
    }

    #[test]
    fn partitions_are_checked_separately() {
        let observation = Observation {
            sent: vec![acked(0, 1), acked(1, 0), acked(2, 1), acked(3, 0)],
            logs: BTreeMap::from([(0, stored(&[1, 3])), (1, stored(&[0, 2]))]),
        };
        assert!(check_deliveries(&observation).reordered.is_empty());
    }
}
