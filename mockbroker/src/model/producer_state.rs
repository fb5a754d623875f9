//! Idempotent-producer state of one partition: per producer id, its epoch and the metadata of
//! its last five batches, checked as `ProducerAppendInfo` and `ProducerStateEntry` do
//! (apache/kafka `storage/.../log/ProducerAppendInfo.java` L89-147, `ProducerStateEntry.java`).

use std::collections::{BTreeMap, VecDeque};

use ktrial_protocol::ResponseError;
use ktrial_protocol::records::{BatchHeader, NO_PRODUCER_ID};

/// `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`: the duplicate cache holds five batches.
pub const BATCHES_TO_RETAIN: usize = 5;

/// What a partition remembers of one appended batch, to answer its retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchMetadata {
    /// Sequence of the first record.
    pub first_sequence: i32,
    /// Sequence of the last record.
    pub last_sequence: i32,
    /// Offset given to the first record.
    pub first_offset: i64,
    /// The batch's largest timestamp as stored (the append time under LogAppendTime); a
    /// duplicate's answer carries it as `log_append_time` (`UnifiedLog.append` for duplicates).
    pub max_timestamp: i64,
}

/// How an idempotent batch relates to what the partition has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceCheck {
    /// New and in sequence (or not idempotent): append it.
    Append,
    /// A retry of a batch among the last five: answer with its original offsets, append nothing.
    Duplicate(BatchMetadata),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<BatchMetadata>,
}

/// Producer states of one partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerStates {
    by_id: BTreeMap<i64, ProducerEntry>,
}

/// `inSequence`: the next sequence follows the last one, wrapping from `i32::MAX` to 0.
fn in_sequence(last: i32, next: i32) -> bool {
    i64::from(next) == i64::from(last) + 1 || (next == 0 && last == i32::MAX)
}

impl ProducerStates {
    /// Checks a batch before append. The duplicate check comes first and only matches the same
    /// epoch and exact sequence range (`UnifiedLog.analyzeAndValidateProducerState`); then a
    /// stale epoch is INVALID_PRODUCER_EPOCH and a gap OUT_OF_ORDER_SEQUENCE_NUMBER. An unknown
    /// producer may start at any sequence (KIP-360).
    pub fn check(&self, batch: &BatchHeader) -> Result<SequenceCheck, ResponseError> {
        if batch.producer_id == NO_PRODUCER_ID {
            return Ok(SequenceCheck::Append);
        }
        let Some(entry) = self.by_id.get(&batch.producer_id) else {
            return Ok(SequenceCheck::Append);
        };
        let (first, last) = (batch.base_sequence, batch.last_sequence());
        if batch.producer_epoch == entry.epoch
            && let Some(cached) = entry
                .batches
                .iter()
                .find(|b| b.first_sequence == first && b.last_sequence == last)
        {
            return Ok(SequenceCheck::Duplicate(*cached));
        }
        if batch.producer_epoch < entry.epoch {
            return Err(ResponseError::InvalidProducerEpoch);
        }
        let in_order = if batch.producer_epoch != entry.epoch {
            first == 0
        } else {
            entry
                .batches
                .back()
                .is_none_or(|b| in_sequence(b.last_sequence, first))
        };
        if in_order {
            Ok(SequenceCheck::Append)
        } else {
            Err(ResponseError::OutOfOrderSequenceNumber)
        }
    }

    /// The states a log's batches leave behind, as Kafka rebuilds them after a truncation
    /// (`UnifiedLog.rebuildProducerState`).
    pub(crate) fn rebuild(log: &super::log::PartitionLog) -> Self {
        let mut states = Self::default();
        for batch in log.batches() {
            if let Ok(parsed) = ktrial_protocol::records::RecordBatch::parse(&batch.bytes()) {
                states.record(parsed.header(), batch.base_offset, -1);
            }
        }
        states
    }

    /// Records an appended batch; a new epoch starts a fresh cache.
    pub fn record(&mut self, batch: &BatchHeader, first_offset: i64, max_timestamp: i64) {
        if batch.producer_id == NO_PRODUCER_ID {
            return;
        }
        let entry = self
            .by_id
            .entry(batch.producer_id)
            .or_insert_with(|| ProducerEntry {
                epoch: batch.producer_epoch,
                batches: VecDeque::with_capacity(BATCHES_TO_RETAIN),
            });
        if entry.epoch != batch.producer_epoch {
            entry.epoch = batch.producer_epoch;
            entry.batches.clear();
        }
        if entry.batches.len() == BATCHES_TO_RETAIN {
            entry.batches.pop_front();
        }
        entry.batches.push_back(BatchMetadata {
            first_sequence: batch.base_sequence,
            last_sequence: batch.last_sequence(),
            first_offset,
            max_timestamp,
        });
    }
}
