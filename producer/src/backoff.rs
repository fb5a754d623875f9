//! Retry backoff, KIP-580 (`ExponentialBackoff.java`): `initial × 2^attempts`, capped at `max`,
//! with ±20% jitter from the producer's seeded RNG; a constant `max` when `initial > max`.

use std::time::Duration;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Exponential backoff with jitter.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
}

impl Backoff {
    /// `retry.backoff.ms` and `retry.backoff.max.ms`.
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self { initial, max }
    }

    /// The wait before retry number `attempts` (0 for the first retry).
    pub fn delay(&self, attempts: u32, rng: &mut ChaCha8Rng) -> Duration {
        if self.initial.is_zero() {
            return Duration::ZERO;
        }
        if self.initial > self.max {
            return self.max;
        }
        let ratio = self.max.as_secs_f64() / self.initial.as_secs_f64();
        let exponent = f64::from(attempts).min(ratio.log2());
        let term = self.initial.as_secs_f64() * 2f64.powf(exponent);
        let jitter = rng.random_range(0.8..1.2);
        Duration::from_secs_f64((term * jitter).min(self.max.as_secs_f64()))
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn doubles_with_jitter_up_to_the_cap() {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (attempts, base) in [(0, 100.0), (1, 200.0), (2, 400.0), (3, 800.0)] {
            let d = backoff.delay(attempts, &mut rng).as_secs_f64() * 1000.0;
            assert!(
                d >= base * 0.8 && d <= base * 1.2,
                "attempt {attempts}: {d}"
            );
        }
        for attempts in [4, 10, 1000] {
            let d = backoff.delay(attempts, &mut rng);
            assert!(d <= Duration::from_millis(1000));
            assert!(d >= Duration::from_millis(800));
        }
    }

    #[test]
    fn initial_above_max_is_constant_max() {
        let backoff = Backoff::new(Duration::from_millis(500), Duration::from_millis(200));
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(backoff.delay(3, &mut rng), Duration::from_millis(200));
    }

    #[test]
    fn same_seed_same_delays() {
        let backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..5)
                .map(|a| backoff.delay(a, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
    }
}
