//! Batch boundaries and acks semantics, judged on the bytes the producer really sent: batch
//! sizes and counts against `batch.size` and `batch.num.messages`, the time a batch waited
//! against `linger.ms`, requests against `max.request.size`, and what `acks` promised.

use std::collections::BTreeSet;

use ktrial_producer::{Acks, ProducerConfig};

use super::Findings;
use crate::sim::{EPOCH_MS, WireLog};

/// How much longer than `linger.ms` a batch may wait before it counts as held too long: the
/// sender wakes on 1 ms ticks, and a full in-flight window delays a ready batch by a round trip.
pub const LINGER_SLACK_MS: i64 = 10;

/// Adds batch-bound and acks violations to `findings`.
pub fn check_batches(config: &ProducerConfig, wire: &WireLog, findings: &mut Findings) {
    let linger_ms = config.linger.as_millis() as i64;
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
            let waited = request.at_ms as i64 - (batch.base_timestamp - EPOCH_MS);
            if first_sending && waited > linger_ms + LINGER_SLACK_MS {
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
