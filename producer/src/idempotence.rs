//! Per-partition send bookkeeping, plain data: requests in flight, the batches sent and not yet
//! through, and for the idempotent producer its id, epoch and sequence numbers.
//!
//! Follows the Java client (`TransactionManager`, `RecordAccumulator` L832-947): sequences are
//! assigned when a batch is drained; a retried batch keeps its sequence and goes out only when it
//! is the oldest batch of its partition not yet through (`shouldStopDrainBatchesForPartition`,
//! `firstInFlightSequence`), so retries replay in order while fresh batches keep flowing behind
//! them; an OUT_OF_ORDER_SEQUENCE_NUMBER
//! for the batch right after the last acknowledged one, an UNKNOWN_PRODUCER_ID, or a batch that
//! failed for good bumps the epoch locally (KIP-360) and restarts every partition's sequences at 0
//! once its requests in flight have come back.
//!
//! A batch that reaches `delivery.timeout.ms` after being sent has an unknown fate: its sequence
//! is *unresolved* (Java `Sender` L424-431). Until the partition's requests and queued retries
//! are all through, no fresh batch is stamped; then, as in Java's `maybeResolveSequences`
//! (L749-786), an acknowledgement at or past the unresolved sequence proves it was written and
//! nothing changes, otherwise the epoch is bumped. Bumping at once instead would re-stamp queued
//! retries whose earlier attempt may already be in the log, and the broker would take them again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::accumulator::BatchOrder;
use ktrial_protocol::records::{
    NO_PRODUCER_EPOCH, NO_PRODUCER_ID, ProducerState, increment_sequence,
};

/// The producer's identity for idempotence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// Not idempotent.
    Disabled,
    /// Waiting for InitProducerId.
    Pending,
    /// Id and epoch from the broker (the epoch possibly bumped locally).
    Ready {
        /// Producer id.
        producer_id: i64,
        /// Producer epoch.
        epoch: i16,
    },
}

#[derive(Debug, Default, Clone)]
struct PartitionBook {
    in_flight: usize,
    /// The batches sent and neither acknowledged nor failed yet, in flight or queued for a
    /// retry, in send order: Java's `inflightBatchesBySequence`.
    outstanding: BTreeSet<BatchOrder>,
    next_sequence: i32,
    last_acked: i32,
    /// Sequences must restart at 0 under the new epoch once nothing is in flight.
    needs_reset: bool,
    /// The last sequence of an expired batch whose fate is unknown.
    unresolved: Option<i32>,
}

/// Bookkeeping for every partition the producer sends to.
#[derive(Debug)]
pub struct SendBook {
    identity: Identity,
    one_at_a_time: bool,
    partitions: BTreeMap<Arc<str>, BTreeMap<i32, PartitionBook>>,
}

/// What the sender must do about a failed batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceVerdict {
    /// Retry the batch as it is.
    RetryAsIs,
    /// Bump the epoch, then retry (the batch will be re-stamped).
    BumpAndRetry,
}

impl SendBook {
    /// A book; `idempotent` starts with a pending identity; `one_at_a_time` when
    /// `max.in.flight.requests.per.connection` is 1 (Java's `guaranteeMessageOrder`).
    pub fn new(idempotent: bool, one_at_a_time: bool) -> Self {
        Self {
            identity: if idempotent {
                Identity::Pending
            } else {
                Identity::Disabled
            },
            one_at_a_time,
            partitions: BTreeMap::new(),
        }
    }

    /// The current identity.
    pub fn identity(&self) -> Identity {
        self.identity
    }

    /// Sets the identity from an InitProducerId response; every partition starts over at 0.
    pub fn set_identity(&mut self, producer_id: i64, epoch: i16) {
        self.identity = Identity::Ready { producer_id, epoch };
        for book in self.partitions.values_mut().flat_map(BTreeMap::values_mut) {
            book.needs_reset = true;
        }
    }

    fn book(&mut self, topic: &Arc<str>, partition: i32) -> &mut PartitionBook {
        self.partitions
            .entry(topic.clone())
            .or_default()
            .entry(partition)
            .or_insert_with(|| PartitionBook {
                last_acked: -1,
                ..PartitionBook::default()
            })
    }

    fn get(&self, topic: &str, partition: i32) -> Option<&PartitionBook> {
        self.partitions.get(topic)?.get(&partition)
    }

    /// Whether the partition may send its head batch (at `head`; `head_is_retry` when it was
    /// sent before) now. As Java's `shouldStopDrainBatchesForPartition` (`RecordAccumulator`):
    /// nothing while batches of an older epoch are in flight; a retry only when no older batch
    /// is still to come through; a fresh batch unless a sequence is unresolved.
    pub fn may_drain(
        &self,
        topic: &str,
        partition: i32,
        head: BatchOrder,
        head_is_retry: bool,
    ) -> bool {
        if self.identity == Identity::Pending {
            return false;
        }
        let Some(book) = self.get(topic, partition) else {
            return true;
        };
        if (book.needs_reset || self.one_at_a_time) && book.in_flight > 0 {
            return false;
        }
        if head_is_retry {
            book.outstanding.first().is_none_or(|&first| first >= head)
        } else {
            book.unresolved.is_none()
        }
    }

    /// The producer state for a fresh batch of `count` records, advancing the sequence.
    pub fn stamp(&mut self, topic: &Arc<str>, partition: i32, count: i32) -> ProducerState {
        let Identity::Ready { producer_id, epoch } = self.identity else {
            return ProducerState::NONE;
        };
        let book = self.book(topic, partition);
        let base_sequence = book.next_sequence;
        book.next_sequence = increment_sequence(base_sequence, count);
        ProducerState {
            producer_id,
            producer_epoch: epoch,
            base_sequence,
        }
    }

    /// If the partition waits for a sequence reset and nothing is in flight, resets it and
    /// returns the producer state for its queued batches in order (`counts` are their record
    /// counts); otherwise `None`.
    pub fn take_reset(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        counts: &[i32],
    ) -> Option<Vec<ProducerState>> {
        let Identity::Ready { producer_id, epoch } = self.identity else {
            return None;
        };
        let book = self.book(topic, partition);
        if !book.needs_reset || book.in_flight > 0 {
            return None;
        }
        book.needs_reset = false;
        book.last_acked = -1;
        book.next_sequence = 0;
        let mut states = Vec::with_capacity(counts.len());
        for &count in counts {
            states.push(ProducerState {
                producer_id,
                producer_epoch: epoch,
                base_sequence: book.next_sequence,
            });
            book.next_sequence = increment_sequence(book.next_sequence, count);
        }
        Some(states)
    }

    /// Partitions waiting for a sequence reset.
    pub fn pending_resets(&self) -> Vec<(Arc<str>, i32)> {
        self.partitions
            .iter()
            .flat_map(|(topic, books)| {
                books
                    .iter()
                    .filter(|(_, b)| b.needs_reset && b.in_flight == 0)
                    .map(|(p, _)| (topic.clone(), *p))
            })
            .collect()
    }

    /// A request carrying the partition's batch at `order` went out.
    pub fn sent(&mut self, topic: &Arc<str>, partition: i32, order: BatchOrder) {
        let book = self.book(topic, partition);
        book.in_flight += 1;
        book.outstanding.insert(order);
    }

    /// The batch at `order` is through: acknowledged, failed, split, or given up on at its
    /// delivery timeout.
    pub fn completed(&mut self, topic: &Arc<str>, partition: i32, order: BatchOrder) {
        self.book(topic, partition).outstanding.remove(&order);
    }

    /// A request carrying a batch of the partition came back (whatever the outcome).
    pub fn returned(&mut self, topic: &Arc<str>, partition: i32) {
        let book = self.book(topic, partition);
        book.in_flight = book.in_flight.saturating_sub(1);
    }

    /// The batch was acknowledged.
    pub fn acked(&mut self, topic: &Arc<str>, partition: i32, state: ProducerState, count: i32) {
        let book = self.book(topic, partition);
        if state.base_sequence >= 0 && !book.needs_reset {
            book.last_acked = increment_sequence(state.base_sequence, count - 1);
        }
    }

    /// A batch stamped with `state` reached its delivery timeout after being sent: its
    /// sequence is unresolved (ignored for a batch of an older epoch, already reset).
    pub fn expired(&mut self, topic: &Arc<str>, partition: i32, state: ProducerState, count: i32) {
        if state.base_sequence < 0 || state.producer_epoch != self.current_epoch() {
            return;
        }
        let last = increment_sequence(state.base_sequence, count - 1);
        let book = self.book(topic, partition);
        book.unresolved = Some(book.unresolved.map_or(last, |u| u.max(last)));
    }

    /// Settles the unresolved sequences of partitions with nothing in flight and no queued
    /// retry (`has_queued_retry`); true when one was not acknowledged and the epoch must be
    /// bumped.
    pub fn resolve_sequences(&mut self, has_queued_retry: impl Fn(&str, i32) -> bool) -> bool {
        let mut bump = false;
        for (topic, books) in &mut self.partitions {
            for (&partition, book) in books.iter_mut() {
                let Some(unresolved) = book.unresolved else {
                    continue;
                };
                if book.in_flight > 0 || has_queued_retry(topic, partition) {
                    continue;
                }
                book.unresolved = None;
                // Under a reset already pending, the bump is on its way.
                if !book.needs_reset && book.last_acked < unresolved {
                    bump = true;
                }
            }
        }
        bump
    }

    /// Java's `canRetry` for OUT_OF_ORDER_SEQUENCE_NUMBER: a batch that is not the next one
    /// expected failed only because an earlier one did; the next expected one means the broker
    /// lost our state, so the epoch must be bumped.
    pub fn out_of_order(
        &self,
        topic: &str,
        partition: i32,
        state: ProducerState,
    ) -> SequenceVerdict {
        let expected = self
            .get(topic, partition)
            .map_or(0, |b| increment_sequence(b.last_acked, 1));
        if state.producer_epoch == self.current_epoch() && state.base_sequence == expected {
            SequenceVerdict::BumpAndRetry
        } else {
            SequenceVerdict::RetryAsIs
        }
    }

    fn current_epoch(&self) -> i16 {
        match self.identity {
            Identity::Ready { epoch, .. } => epoch,
            _ => NO_PRODUCER_EPOCH,
        }
    }

    /// KIP-360 epoch bump, local: epoch + 1 and every partition restarts at sequence 0; at
    /// `i16::MAX` a new producer id is needed instead (InitProducerId again).
    pub fn bump_epoch(&mut self) {
        if let Identity::Ready { producer_id, epoch } = self.identity {
            self.identity = if epoch == i16::MAX || producer_id == NO_PRODUCER_ID {
                Identity::Pending
            } else {
                Identity::Ready {
                    producer_id,
                    epoch: epoch + 1,
                }
            };
            for book in self.partitions.values_mut().flat_map(BTreeMap::values_mut) {
                book.needs_reset = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Arc<str> {
        Arc::from("t")
    }

    fn o(root: u64) -> BatchOrder {
        BatchOrder {
            root,
            first_record: 0,
        }
    }

    #[test]
    fn sequences_advance_by_record_count() {
        let mut book = SendBook::new(true, false);
        assert!(!book.may_drain("t", 0, o(0), false), "no producer id yet");
        book.set_identity(7, 0);
        assert_eq!(book.stamp(&t(), 0, 3).base_sequence, 0);
        assert_eq!(book.stamp(&t(), 0, 2).base_sequence, 3);
        assert_eq!(book.stamp(&t(), 1, 1).base_sequence, 0);
        assert_eq!(book.stamp(&t(), 0, 1).producer_id, 7);
    }

    #[test]
    fn a_retry_goes_only_as_the_oldest_batch_not_through() {
        let mut book = SendBook::new(true, false);
        book.set_identity(1, 0);
        book.sent(&t(), 0, o(10));
        book.sent(&t(), 0, o(11));
        book.returned(&t(), 0);
        book.returned(&t(), 0);
        // Both failed and wait for a retry: the older first, the newer behind it.
        assert!(book.may_drain("t", 0, o(10), true));
        assert!(!book.may_drain("t", 0, o(11), true));
        book.sent(&t(), 0, o(10));
        assert!(
            book.may_drain("t", 0, o(12), false),
            "fresh batches flow behind a retry in flight"
        );
        book.returned(&t(), 0);
        book.completed(&t(), 0, o(10));
        assert!(book.may_drain("t", 0, o(11), true));
    }

    #[test]
    fn one_in_flight_at_a_time_when_asked() {
        let mut book = SendBook::new(false, true);
        book.sent(&t(), 0, o(0));
        assert!(!book.may_drain("t", 0, o(1), false));
        book.returned(&t(), 0);
        book.completed(&t(), 0, o(0));
        assert!(book.may_drain("t", 0, o(1), false));
    }

    #[test]
    fn out_of_order_for_the_next_expected_batch_bumps_the_epoch() {
        let mut book = SendBook::new(true, false);
        book.set_identity(1, 0);
        let first = book.stamp(&t(), 0, 5);
        let second = book.stamp(&t(), 0, 5);
        assert_eq!(
            book.out_of_order("t", 0, second),
            SequenceVerdict::RetryAsIs
        );
        assert_eq!(
            book.out_of_order("t", 0, first),
            SequenceVerdict::BumpAndRetry
        );
        book.acked(&t(), 0, first, 5);
        assert_eq!(
            book.out_of_order("t", 0, second),
            SequenceVerdict::BumpAndRetry
        );
    }

    #[test]
    fn bump_resets_sequences_once_nothing_is_in_flight() {
        let mut book = SendBook::new(true, false);
        book.set_identity(1, 4);
        book.stamp(&t(), 0, 10);
        book.sent(&t(), 0, o(0));
        book.bump_epoch();
        assert!(!book.may_drain("t", 0, o(1), false));
        assert_eq!(book.take_reset(&t(), 0, &[2, 3]), None);
        book.returned(&t(), 0);
        let states = book.take_reset(&t(), 0, &[2, 3]).unwrap();
        assert_eq!(
            states
                .iter()
                .map(|s| (s.producer_epoch, s.base_sequence))
                .collect::<Vec<_>>(),
            vec![(5, 0), (5, 2)]
        );
        assert_eq!(book.stamp(&t(), 0, 1).base_sequence, 5);
    }

    #[test]
    fn an_expired_batch_acknowledged_later_resolves_without_a_bump() {
        let mut book = SendBook::new(true, false);
        book.set_identity(1, 0);
        let first = book.stamp(&t(), 0, 2);
        let second = book.stamp(&t(), 0, 2);
        book.sent(&t(), 0, o(0));
        book.sent(&t(), 0, o(1));
        book.expired(&t(), 0, first, 2);
        book.completed(&t(), 0, o(0));
        assert!(
            !book.may_drain("t", 0, o(2), false),
            "no fresh batch while unresolved"
        );
        book.returned(&t(), 0);
        book.returned(&t(), 0);
        assert!(
            book.may_drain("t", 0, o(1), true),
            "retries keep their sequence"
        );
        assert!(
            !book.resolve_sequences(|_, _| true),
            "a retry is still queued"
        );
        assert!(!book.may_drain("t", 0, o(1), false));
        // The queued retry of the second batch is acknowledged: the first was written too.
        book.sent(&t(), 0, o(1));
        book.returned(&t(), 0);
        book.acked(&t(), 0, second, 2);
        book.completed(&t(), 0, o(1));
        assert!(!book.resolve_sequences(|_, _| false));
        assert!(book.may_drain("t", 0, o(2), false));
        assert_eq!(
            book.stamp(&t(), 0, 1).base_sequence,
            4,
            "same epoch, no reset"
        );
    }

    #[test]
    fn an_expired_batch_never_acknowledged_bumps_the_epoch() {
        let mut book = SendBook::new(true, false);
        book.set_identity(1, 0);
        let first = book.stamp(&t(), 0, 3);
        book.sent(&t(), 0, o(0));
        book.expired(&t(), 0, first, 3);
        assert!(!book.resolve_sequences(|_, _| false), "still in flight");
        book.returned(&t(), 0);
        assert!(book.resolve_sequences(|_, _| false));
        assert!(!book.resolve_sequences(|_, _| false), "settled once");
    }

    #[test]
    fn epoch_exhausted_needs_a_new_id() {
        let mut book = SendBook::new(true, false);
        book.set_identity(1, i16::MAX);
        book.bump_epoch();
        assert_eq!(book.identity(), Identity::Pending);
    }
}
