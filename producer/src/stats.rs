//! Statistics a user can read at any time: counters and histograms kept in atomics, so updating
//! them costs the hot path a few relaxed adds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Power-of-two buckets: bucket `i` counts values in `[2^(i-1), 2^i)` (bucket 0 holds 0).
const BUCKETS: usize = 40;

#[derive(Debug)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS],
    sum: AtomicU64,
    count: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    fn record(&self, value: u64) {
        let bucket = (u64::BITS - value.leading_zeros()) as usize;
        self.buckets[bucket.min(BUCKETS - 1)].fetch_add(1, Ordering::Relaxed);
        self.sum.fetch_add(value, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            buckets: self
                .buckets
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    (
                        if i == 0 { 0 } else { 1u64 << (i - 1) },
                        b.load(Ordering::Relaxed),
                    )
                })
                .filter(|(_, n)| *n > 0)
                .collect(),
            sum: self.sum.load(Ordering::Relaxed),
            count: self.count.load(Ordering::Relaxed),
        }
    }
}

/// A histogram's state: `(lower bound, count)` for every non-empty power-of-two bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistogramSnapshot {
    /// `(lower bound, count)`; a bucket holds values from its bound up to twice it.
    pub buckets: Vec<(u64, u64)>,
    /// Sum of all values.
    pub sum: u64,
    /// How many values.
    pub count: u64,
}

impl HistogramSnapshot {
    /// The mean, or 0 when empty.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum as f64 / self.count as f64
        }
    }
}

/// The producer's live counters.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub records_sent: AtomicU64,
    pub records_acked: AtomicU64,
    pub records_failed: AtomicU64,
    pub records_retried: AtomicU64,
    pub batches_sent: AtomicU64,
    pub requests_sent: AtomicU64,
    pub in_flight_requests: AtomicU64,
    pub epoch_bumps: AtomicU64,
    pub batches_split: AtomicU64,
    pub uncompressed_bytes: AtomicU64,
    pub compressed_bytes: AtomicU64,
    records_per_batch: Histogram,
    bytes_per_batch: Histogram,
    request_latency_us: Histogram,
}

impl Stats {
    pub(crate) fn batch_sent(&self, records: i32, uncompressed: usize, wire: usize) {
        self.batches_sent.fetch_add(1, Ordering::Relaxed);
        self.records_per_batch.record(records.max(0) as u64);
        self.bytes_per_batch.record(wire as u64);
        self.uncompressed_bytes
            .fetch_add(uncompressed as u64, Ordering::Relaxed);
        self.compressed_bytes
            .fetch_add(wire as u64, Ordering::Relaxed);
    }

    pub(crate) fn request_latency(&self, latency: Duration) {
        self.request_latency_us
            .record(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, buffer_used: usize, buffer_total: usize) -> Statistics {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let uncompressed = load(&self.uncompressed_bytes);
        let compressed = load(&self.compressed_bytes);
        Statistics {
            records_sent: load(&self.records_sent),
            records_acked: load(&self.records_acked),
            records_failed: load(&self.records_failed),
            records_retried: load(&self.records_retried),
            batches_sent: load(&self.batches_sent),
            requests_sent: load(&self.requests_sent),
            in_flight_requests: load(&self.in_flight_requests),
            epoch_bumps: load(&self.epoch_bumps),
            batches_split: load(&self.batches_split),
            records_per_batch: self.records_per_batch.snapshot(),
            bytes_per_batch: self.bytes_per_batch.snapshot(),
            request_latency_us: self.request_latency_us.snapshot(),
            compression_ratio: if uncompressed == 0 {
                1.0
            } else {
                compressed as f64 / uncompressed as f64
            },
            buffer_used,
            buffer_total,
        }
    }
}

/// A snapshot of the producer's statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    /// Records accepted by `send`/`try_send`.
    pub records_sent: u64,
    /// Records acknowledged (or written, with acks=0).
    pub records_acked: u64,
    /// Records that failed for good.
    pub records_failed: u64,
    /// Record sends repeated after a retriable failure (counted per record).
    pub records_retried: u64,
    /// Batches sent, retries included.
    pub batches_sent: u64,
    /// Produce requests sent.
    pub requests_sent: u64,
    /// Requests in flight now.
    pub in_flight_requests: u64,
    /// Idempotent producer epoch bumps (KIP-360), each restarting sequences at 0.
    pub epoch_bumps: u64,
    /// Batches split in two after MESSAGE_TOO_LARGE.
    pub batches_split: u64,
    /// Records per batch sent.
    pub records_per_batch: HistogramSnapshot,
    /// Bytes on the wire per batch sent.
    pub bytes_per_batch: HistogramSnapshot,
    /// Produce request round trips, in microseconds.
    pub request_latency_us: HistogramSnapshot,
    /// Bytes on the wire divided by uncompressed bytes (1.0 before anything was sent).
    pub compression_ratio: f64,
    /// Buffer memory in use, bytes.
    pub buffer_used: usize,
    /// `buffer.memory`.
    pub buffer_total: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_by_power_of_two() {
        let h = Histogram::default();
        for v in [0, 1, 2, 3, 4, 1000] {
            h.record(v);
        }
        let s = h.snapshot();
        assert_eq!(s.buckets, vec![(0, 1), (1, 1), (2, 2), (4, 1), (512, 1)]);
        assert_eq!(s.count, 6);
        assert_eq!(s.sum, 1010);
    }

    #[test]
    fn compression_ratio_is_wire_over_raw() {
        let stats = Stats::default();
        stats.batch_sent(10, 1000, 250);
        let s = stats.snapshot(0, 1);
        assert!((s.compression_ratio - 0.25).abs() < 1e-9);
        assert_eq!(s.records_per_batch.buckets, vec![(8, 1)]);
    }
}
