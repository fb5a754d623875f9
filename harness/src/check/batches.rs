//! Batch boundaries and acks semantics, judged on the bytes the producer really sent: batch
//! sizes and counts against `batch.size` and `batch.num.messages`, the time a batch waited
//! against `linger.ms`, requests against `max.request.size`, and what `acks` promised.
//!
//! A batch may wait longer than `linger.ms` when it was ready but the producer could not send it.
//! The one such hold the wire shows is an earlier batch of the same partition being sent again:
//! a producer that keeps order (idempotence, or one request in flight) sends a retried batch
//! before the ones behind it (Java's `RecordAccumulator.drain` skips a partition whose first
//! batch is in backoff). So a batch's wait counts from the later of `linger.ms` after its first
//! record and the last sending, before its own, of a batch of its partition with an earlier first
//! record. Holds the wire does not show (a full in-flight window, metadata without a leader,
//! `buffer.memory`) are covered only by [`LINGER_SLACK_MS`], about one round trip.

use std::collections::{BTreeMap, BTreeSet};

use ktrial_producer::{Acks, ProducerConfig};

use super::Findings;
use crate::sim::{EPOCH_MS, WireLog};

/// How much longer than `linger.ms` a batch may wait before it counts as held too long: the
/// sender wakes on 1 ms ticks, and a full in-flight window delays a ready batch by a round trip.
pub const LINGER_SLACK_MS: i64 = 10;

/// Adds batch-bound and acks violations to `findings`.
pub fn check_batches(config: &ProducerConfig, wire: &WireLog, findings: &mut Findings) {
    let linger_ms = config.linger.as_millis() as i64;
    let sendings = sendings_by_partition(wire);
    let mut seen = BTreeSet::new();
    for request in &wire.produce {
        let mut partitions = BTreeSet::new();
        let mut request_bytes = 0;
        for batch in &request.batches {
            let at = format!(
                "{}-{} at {} ms",
                batch.topic, batch.partition, request.at_ms
            );
            if !partitions.insert((&batch.topic, batch.partition)) {
                findings
                    .batch_violations
                    .push(format!("two batches for {at} in one request"));
            }
            request_bytes += batch.bytes;
            if batch.records as usize > config.batch_num_messages {
                findings.batch_violations.push(format!(
                    "{} records in a batch for {at}, above batch.num.messages {}",
                    batch.records, config.batch_num_messages
                ));
            }
            if batch.records > 1 && batch.uncompressed_bytes > config.batch_size {
                findings.batch_violations.push(format!(
                    "{} bytes in a batch for {at}, above batch.size {}",
                    batch.uncompressed_bytes, config.batch_size
                ));
            }
            // A retried batch is sent again with its first record's timestamp: judge its
            // first sending only.
            let first_sending = seen.insert((
                batch.topic.clone(),
                batch.partition,
                batch.base_timestamp,
                batch.records,
            ));
            let first_record_ms = batch.base_timestamp - EPOCH_MS;
            let waited = request.at_ms as i64 - first_record_ms;
            let held_until = sendings
                .get(&(batch.topic.as_str(), batch.partition))
                .into_iter()
                .flatten()
                .filter(|(at, base)| *at <= request.at_ms && *base < batch.base_timestamp)
                .map(|(at, _)| *at as i64)
                .max();
            let free_from = held_until.map_or(first_record_ms + linger_ms, |held| {
                held.max(first_record_ms + linger_ms)
            });
            if first_sending && request.at_ms as i64 - free_from > LINGER_SLACK_MS {
                findings.batch_violations.push(format!(
                    "a batch for {at} waited {waited} ms, beyond linger.ms {linger_ms}"
                ));
            }
            findings.longest_batch_wait_ms =
                findings.longest_batch_wait_ms.max(waited.max(0) as u64);
        }
        if request.batches.len() > 1 && request_bytes > config.max_request_size {
            findings.batch_violations.push(format!(
                "a request of {request_bytes} batch bytes at {} ms, above max.request.size {}",
                request.at_ms, config.max_request_size
            ));
        }
    }
    findings
        .acks_violations
        .extend(wire.acks0_answers.iter().cloned());
    if config.acks == Acks::All && !findings.lost.is_empty() {
        findings.acks_violations.push(format!(
            "{} record(s) acknowledged with acks=all were lost",
            findings.lost.len()
        ));
    }
}

/// Every sending of every batch, by partition: (sent at ms, first record's timestamp).
fn sendings_by_partition(wire: &WireLog) -> BTreeMap<(&str, i32), Vec<(u64, i64)>> {
    let mut sendings: BTreeMap<(&str, i32), Vec<(u64, i64)>> = BTreeMap::new();
    for request in &wire.produce {
        for batch in &request.batches {
            sendings
                .entry((batch.topic.as_str(), batch.partition))
                .or_default()
                .push((request.at_ms, batch.base_timestamp));
        }
    }
    sendings
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::sim::{BatchSent, ProduceSent};

    fn linger_20() -> ProducerConfig {
        let properties = BTreeMap::from([
            ("bootstrap.servers".to_string(), "broker1:9092".to_string()),
            ("linger.ms".to_string(), "20".to_string()),
        ]);
        ProducerConfig::from_properties(&properties).unwrap()
    }

    /// A request at `at_ms` with one batch whose first record was made at `first_ms`.
    fn request(at_ms: u64, first_ms: i64) -> ProduceSent {
        ProduceSent {
            at_ms,
            broker: "broker1:9092".into(),
            acks: -1,
            batches: vec![BatchSent {
                topic: "ticks".into(),
                partition: 0,
                bytes: 100,
                uncompressed_bytes: 100,
                records: 3,
                base_timestamp: EPOCH_MS + first_ms,
            }],
        }
    }

    fn violations(produce: Vec<ProduceSent>) -> Vec<String> {
        let wire = WireLog {
            produce,
            ..WireLog::default()
        };
        let mut findings = Findings::default();
        check_batches(&linger_20(), &wire, &mut findings);
        findings.batch_violations
    }

    #[test]
    fn a_batch_held_behind_a_retried_batch_of_its_partition_is_not_flagged() {
        // As explore found on batching-by-linger: the batch from 6 ms fails at 26 ms and is sent
        // again at 127 ms after the retry backoff; the batch from 30 ms leaves right after it.
        let violations = violations(vec![request(26, 6), request(127, 6), request(129, 30)]);
        assert_eq!(violations, Vec::<String>::new());
    }

    #[test]
    fn a_batch_that_waited_with_nothing_ahead_of_it_is_flagged() {
        // The earlier batch went out on time; nothing held the second one for 99 ms.
        let violations = violations(vec![request(26, 6), request(129, 30)]);
        assert_eq!(
            violations,
            ["a batch for ticks-0 at 129 ms waited 99 ms, beyond linger.ms 20"]
        );
    }

    #[test]
    fn a_retry_sent_after_the_batch_does_not_excuse_it() {
        // Without ordering the later batch overtakes the retry: the retry at 140 ms came after
        // it, so it held nothing, and the wait from 30 ms to 129 ms stands.
        let violations = violations(vec![request(26, 6), request(129, 30), request(140, 6)]);
        assert_eq!(
            violations,
            ["a batch for ticks-0 at 129 ms waited 99 ms, beyond linger.ms 20"]
        );
    }
}
