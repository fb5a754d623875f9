//! Batch boundaries and acks semantics, judged on the bytes the producer really sent: batch
//! sizes and counts against `batch.size` and `batch.num.messages`, the time a batch waited
//! against `linger.ms`, requests against `max.request.size`, and what `acks` promised.
//!
//! A batch may wait longer than `linger.ms` when it was ready but the producer could not send it.
//! Three such holds show on the wire, and a batch's wait counts from the latest of:
//! - `linger.ms` after its first record;
//! - the last sending, before its own, of a batch of its partition with an earlier first record:
//!   a producer that keeps order (idempotence, or one request in flight) sends a retried batch
//!   before the ones behind it (Java's `RecordAccumulator.drain` skips a partition whose first
//!   batch is in backoff);
//! - when the connection it went on was ready (its first request, the API versions handshake,
//!   answered): before, the producer had no connection to the leader, as after a broker went
//!   down and came back, and the time it took to reconnect is its backoff, not a batch's wait;
//! - if at that moment its connection had `max.in.flight.requests.per.connection` requests
//!   written and unanswered, the answer that brought the count below it (Java's
//!   `NetworkClient.isReady` needs `InFlightRequests.canSendMore`). acks=0 Produce requests are
//!   never outstanding: `Sender` builds them with `expectResponse = (acks != 0)` and
//!   `NetworkClient.handleCompletedSends` completes them once written.
//!
//! Holds the wire does not show (no leader, `buffer.memory`), batches of a partition queued
//! behind others from the same millisecond, and the sender's 1 ms ticks are covered only by
//! [`LINGER_SLACK_MS`].

use std::collections::{BTreeMap, BTreeSet};

use ktrial_producer::{Acks, ProducerConfig};

use super::Findings;
use crate::sim::EPOCH_MS;
use crate::wire::WireLog;

/// How much longer than its free moment a batch may wait before it counts as held too long: the
/// sender wakes on 1 ms ticks; batches of a partition whose first records share a millisecond
/// queue behind each other, which first-record timestamps cannot order (at 1 ms of slack,
/// `batching-max-request-size` has one sent 6 ms after its free moment); and holds the wire does
/// not show (a partition without a leader, `buffer.memory`) last up to about a round trip.
pub const LINGER_SLACK_MS: i64 = 10;

/// The limits a run's batches are judged against, and how to read the wire's times. A bound that
/// is `None` is not judged: a real client's defaults are its own, so only the properties a
/// scenario gives bind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchBounds {
    /// `linger.ms`.
    pub linger_ms: Option<i64>,
    /// `batch.size`: bytes of a batch's records before compression, header included.
    pub batch_size: Option<usize>,
    /// `batch.num.messages` (librdkafka's; ktrial's producer honours it too).
    pub batch_num_messages: Option<usize>,
    /// `max.request.size`: batch bytes of a request with more than one batch.
    pub max_request_size: Option<usize>,
    /// `max.in.flight.requests.per.connection`: a full window excuses a batch's wait.
    pub max_in_flight: usize,
    /// `acks=all` was asked for: then nothing acknowledged may be lost.
    pub acks_all: bool,
    /// The client's wall-clock milliseconds at the wire's 0 ms: batches carry their first
    /// record's timestamp from the client's clock.
    pub epoch_ms: i64,
    /// [`LINGER_SLACK_MS`] in simulated time; more for real clients in real time.
    pub slack_ms: i64,
}

impl BatchBounds {
    /// Every bound of ktrial's producer's configuration, in simulated time.
    pub fn of(config: &ProducerConfig) -> Self {
        Self {
            linger_ms: Some(config.linger.as_millis() as i64),
            batch_size: Some(config.batch_size),
            batch_num_messages: Some(config.batch_num_messages),
            max_request_size: Some(config.max_request_size),
            max_in_flight: config.max_in_flight,
            acks_all: config.acks == Acks::All,
            epoch_ms: EPOCH_MS,
            slack_ms: LINGER_SLACK_MS,
        }
    }
}

/// Adds batch-bound and acks violations to `findings`.
pub fn check_batches(bounds: &BatchBounds, wire: &WireLog, findings: &mut Findings) {
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
            if let Some(limit) = bounds.batch_num_messages
                && batch.records as usize > limit
            {
                findings.batch_violations.push(format!(
                    "{} records in a batch for {at}, above batch.num.messages {limit}",
                    batch.records
                ));
            }
            if let Some(limit) = bounds.batch_size
                && batch.records > 1
                && batch.uncompressed_bytes > limit
            {
                findings.batch_violations.push(format!(
                    "{} bytes in a batch for {at}, above batch.size {limit}",
                    batch.uncompressed_bytes
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
            let first_record_ms = batch.base_timestamp - bounds.epoch_ms;
            let waited = request.at_ms as i64 - first_record_ms;
            findings.longest_batch_wait_ms =
                findings.longest_batch_wait_ms.max(waited.max(0) as u64);
            let Some(linger_ms) = bounds.linger_ms else {
                continue;
            };
            let held_until = sendings
                .get(&(batch.topic.as_str(), batch.partition))
                .into_iter()
                .flatten()
                .filter(|(at, base)| *at <= request.at_ms && *base < batch.base_timestamp)
                .map(|(at, _)| *at as i64)
                .max();
            let mut free_from = held_until.map_or(first_record_ms + linger_ms, |held| {
                held.max(first_record_ms + linger_ms)
            });
            // The connection is replayed only for a batch that would otherwise be flagged.
            if first_sending && request.at_ms as i64 - free_from > bounds.slack_ms {
                if let Some(ready) = connection_ready_at(wire, request.connection) {
                    free_from = free_from.max(ready as i64);
                }
                let from = u64::try_from(free_from).unwrap_or(0);
                if let Some(freed) =
                    window_full_until(wire, request.connection, from, bounds.max_in_flight)
                {
                    free_from = free_from.max(freed as i64);
                }
            }
            if first_sending && request.at_ms as i64 - free_from > bounds.slack_ms {
                findings.batch_violations.push(format!(
                    "a batch for {at} waited {waited} ms, beyond linger.ms {linger_ms}"
                ));
            }
        }
        if let Some(limit) = bounds.max_request_size
            && request.batches.len() > 1
            && request_bytes > limit
        {
            findings.batch_violations.push(format!(
                "a request of {request_bytes} batch bytes at {} ms, above max.request.size {limit}",
                request.at_ms
            ));
        }
    }
    findings
        .acks_violations
        .extend(wire.acks0_answers.iter().cloned());
    if bounds.acks_all && !findings.lost.is_empty() {
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

/// When `connection` was ready: the answer to its first request, the handshake the producer
/// waits for before sending anything else on it.
fn connection_ready_at(wire: &WireLog, connection: u32) -> Option<u64> {
    wire.responses
        .iter()
        .find(|r| r.connection == connection)
        .map(|r| r.at_ms)
}

/// If `connection` had `max_in_flight` or more requests unanswered at `at_ms`, when an answer
/// brought the count below that: the in-flight window kept every request back until then.
/// `None` when the window had room, or never got any (then nothing excuses a request sent on it).
fn window_full_until(
    wire: &WireLog,
    connection: u32,
    at_ms: u64,
    max_in_flight: usize,
) -> Option<u64> {
    let answered: BTreeMap<i32, u64> = wire
        .responses
        .iter()
        .filter(|r| r.connection == connection)
        .map(|r| (r.correlation_id, r.at_ms))
        .collect();
    // (written at, answered at) of each request that takes a place; matched by correlation id,
    // as a request and its answer may fall in the same millisecond.
    let requests: Vec<(u64, Option<u64>)> = wire
        .produce
        .iter()
        .filter(|r| r.connection == connection && r.acks != 0)
        .map(|r| (r.at_ms, r.correlation_id))
        .chain(
            wire.other_requests
                .iter()
                .filter(|r| r.connection == connection)
                .map(|r| (r.at_ms, r.correlation_id)),
        )
        .map(|(at, correlation)| (at, answered.get(&correlation).copied()))
        .collect();
    // Requests written before `until` (or at it, with `written_then`) and not answered by then.
    let unanswered = |until: u64, written_then: bool| {
        requests
            .iter()
            .filter(|(sent, answer)| {
                (*sent < until || (written_then && *sent == until))
                    && answer.is_none_or(|a| a > until)
            })
            .count()
    };
    if unanswered(at_ms, true) < max_in_flight {
        return None;
    }
    // A place freed at an answer counts even if a request written in the same millisecond took it.
    let mut answers: Vec<u64> = answered.into_values().filter(|&a| a > at_ms).collect();
    answers.sort_unstable();
    answers
        .into_iter()
        .find(|&at| unanswered(at, false) < max_in_flight)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::wire::{BatchSent, ProduceSent, RequestSent, ResponseSeen};

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
            connection: 0,
            correlation_id: at_ms as i32,
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

    /// The answer, at `at_ms`, to the request sent at `sent_ms`.
    fn answer(sent_ms: u64, at_ms: u64) -> ResponseSeen {
        ResponseSeen {
            at_ms,
            connection: 0,
            correlation_id: sent_ms as i32,
        }
    }

    /// The API versions handshake of `connection`, answered at `at_ms`.
    fn handshake(connection: u32, at_ms: u64) -> (RequestSent, ResponseSeen) {
        let request = RequestSent {
            at_ms,
            connection,
            correlation_id: -1,
            api_key: 18,
        };
        let answer = ResponseSeen {
            at_ms,
            connection,
            correlation_id: -1,
        };
        (request, answer)
    }

    /// The violations in `wire` after connection 0's handshake, answered at 1 ms.
    fn violations_in(mut wire: WireLog) -> Vec<String> {
        let (request, answer) = handshake(0, 1);
        wire.other_requests.insert(0, request);
        wire.responses.insert(0, answer);
        let mut findings = Findings::default();
        check_batches(&BatchBounds::of(&linger_20()), &wire, &mut findings);
        findings.batch_violations
    }

    fn violations(produce: Vec<ProduceSent>) -> Vec<String> {
        violations_answered(produce, Vec::new())
    }

    fn violations_answered(produce: Vec<ProduceSent>, responses: Vec<ResponseSeen>) -> Vec<String> {
        violations_in(WireLog {
            produce,
            responses,
            ..WireLog::default()
        })
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

    /// As explore found on batching-by-linger: the first request's answer is delayed 152 ms, four
    /// more batches fill the window of 5 behind it, and the batch from 150 ms, ready at 170 ms,
    /// leaves at 181 ms, right after the answers at 180 ms.
    fn full_window(first_answer_ms: u64) -> Vec<String> {
        let produce = vec![
            request(28, 8),
            request(48, 28),
            request(78, 58),
            request(108, 88),
            request(138, 118),
            request(181, 150),
        ];
        let responses = vec![
            answer(28, first_answer_ms),
            answer(48, 180),
            answer(78, 180),
            answer(108, 180),
            answer(138, 180),
            answer(181, 182),
        ];
        violations_answered(produce, responses)
    }

    #[test]
    fn a_batch_held_by_a_full_in_flight_window_is_not_flagged() {
        assert_eq!(full_window(180), Vec::<String>::new());
    }

    #[test]
    fn a_batch_that_waited_while_the_window_had_room_is_flagged() {
        // The first answer came at 100 ms: at 170 ms four of five places were taken, so the
        // batch could have left then and its 31 ms wait stands.
        assert_eq!(
            full_window(100),
            ["a batch for ticks-0 at 181 ms waited 31 ms, beyond linger.ms 20"]
        );
    }

    #[test]
    fn acks0_requests_do_not_fill_the_window() {
        // A metadata request at 2 ms answered at 89 ms, and four acks=0 requests, never answered
        // and never outstanding: one place of five taken when the batch was ready at 40 ms, so
        // it had no reason to wait until 90 ms.
        let mut produce: Vec<ProduceSent> = (3..=6).map(|at| request(at, 0)).collect();
        produce.push(request(90, 20));
        for sent in &mut produce {
            sent.acks = 0;
        }
        let wire = WireLog {
            produce,
            other_requests: vec![RequestSent {
                at_ms: 2,
                connection: 0,
                correlation_id: 2,
                api_key: 3,
            }],
            responses: vec![answer(2, 89)],
            ..WireLog::default()
        };
        assert_eq!(
            violations_in(wire),
            ["a batch for ticks-0 at 90 ms waited 70 ms, beyond linger.ms 20"]
        );
    }

    /// The broker went down at 5 ms and came back; the producer's new connection to it was ready
    /// at `ready_ms`, and the batch from 6 ms left on it at 133 ms.
    fn after_reconnect(ready_ms: u64) -> Vec<String> {
        let (request_on_1, answer_on_1) = handshake(1, ready_ms);
        let mut sent = request(133, 6);
        sent.connection = 1;
        violations_in(WireLog {
            produce: vec![sent],
            other_requests: vec![request_on_1],
            responses: vec![answer_on_1],
            ..WireLog::default()
        })
    }

    #[test]
    fn a_batch_held_until_its_connection_was_ready_is_not_flagged() {
        assert_eq!(after_reconnect(132), Vec::<String>::new());
    }

    #[test]
    fn a_batch_that_waited_on_a_ready_connection_is_flagged() {
        assert_eq!(
            after_reconnect(30),
            ["a batch for ticks-0 at 133 ms waited 127 ms, beyond linger.ms 20"]
        );
    }
}
