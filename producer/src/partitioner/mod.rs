//! Choosing a partition for a record: an explicit partition wins, a key is hashed as the chosen
//! client hashes it, and records without a key stick to one partition until `batch.size` bytes
//! went there (KIP-794 uniform sticky, `BuiltInPartitioner.updatePartitionInfo` L190-226).

pub mod hash;

use std::collections::BTreeMap;
use std::str::FromStr;

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Which client's key → partition mapping to reproduce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionerKind {
    /// `java` (default): `toPositive(murmur2(key)) % n`; null key sticky.
    Java,
    /// librdkafka `murmur2`: as Java, but a null key hashes like an empty one.
    Murmur2,
    /// librdkafka `murmur2_random`: as Java (null key sticky, empty key hashed).
    Murmur2Random,
    /// librdkafka `consistent`: `crc32(key) % n`; null and empty keys hash to CRC 0.
    Consistent,
    /// librdkafka `consistent_random` (its default): null or empty key sticky, else `crc32 % n`.
    ConsistentRandom,
    /// librdkafka `fnv1a` and Sarama's default `NewHashPartitioner`: `|int32(fnv1a)| % n`;
    /// a null key hashes like an empty one.
    Fnv1a,
    /// librdkafka `fnv1a_random` / Sarama `NewHashPartitioner`: as `fnv1a`, null key sticky.
    Fnv1aRandom,
    /// Sarama `NewReferenceHashPartitioner`: `(int32(fnv1a) & 0x7fffffff) % n`, null key sticky.
    SaramaReference,
}

impl FromStr for PartitionerKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "java" | "default" => PartitionerKind::Java,
            "murmur2" => PartitionerKind::Murmur2,
            "murmur2_random" => PartitionerKind::Murmur2Random,
            "consistent" => PartitionerKind::Consistent,
            "consistent_random" => PartitionerKind::ConsistentRandom,
            "fnv1a" => PartitionerKind::Fnv1a,
            "fnv1a_random" | "sarama" => PartitionerKind::Fnv1aRandom,
            "sarama_reference" => PartitionerKind::SaramaReference,
            _ => {
                return Err("expected java, murmur2, murmur2_random, consistent, \
                     consistent_random, fnv1a, fnv1a_random, sarama or sarama_reference"
                    .to_string());
            }
        })
    }
}

impl PartitionerKind {
    /// The partition for `key` among `count` partitions, or `None` when the record has no
    /// key to hash and goes to the sticky partition. `count` must be positive.
    pub fn partition_for_key(self, key: Option<&[u8]>, count: i32) -> Option<i32> {
        debug_assert!(count > 0);
        let n = count.max(1);
        let unsigned_mod = |h: u32| (h % n as u32) as i32;
        let sarama_hash = |k: &[u8]| {
            // Go's truncating `%`, negated when negative (`partitioner.go` hashPartitioner).
            let p = (hash::fnv1a(k) as i32) % n;
            if p < 0 { -p } else { p }
        };
        match (self, key) {
            (PartitionerKind::Java | PartitionerKind::Murmur2Random, Some(k))
            | (PartitionerKind::Murmur2, Some(k)) => Some(hash::to_positive(hash::murmur2(k)) % n),
            (PartitionerKind::Murmur2, None) => Some(hash::to_positive(hash::murmur2(&[])) % n),
            (PartitionerKind::Consistent, k) => Some(unsigned_mod(hash::crc32(k.unwrap_or(&[])))),
            (PartitionerKind::ConsistentRandom, Some(k)) if !k.is_empty() => {
                Some(unsigned_mod(hash::crc32(k)))
            }
            (PartitionerKind::Fnv1a, k) => Some(sarama_hash(k.unwrap_or(&[]))),
            (PartitionerKind::Fnv1aRandom, Some(k)) => Some(sarama_hash(k)),
            (PartitionerKind::SaramaReference, Some(k)) => {
                Some(hash::to_positive(hash::fnv1a(k) as i32) % n)
            }
            _ => None,
        }
    }
}

/// Per-topic sticky partitions for records without a key.
#[derive(Debug)]
pub struct StickyPartitions {
    batch_size: usize,
    topics: BTreeMap<String, Sticky>,
}

#[derive(Debug, Clone, Copy)]
struct Sticky {
    partition: i32,
    produced_bytes: usize,
}

impl StickyPartitions {
    /// Sticky state that moves on after `batch_size` bytes.
    pub fn new(batch_size: usize) -> Self {
        Self {
            batch_size,
            topics: BTreeMap::new(),
        }
    }

    /// The current sticky partition of `topic`, choosing one at random the first time.
    pub fn partition(&mut self, topic: &str, count: i32, rng: &mut ChaCha8Rng) -> i32 {
        if let Some(s) = self.topics.get(topic)
            && s.partition < count
        {
            return s.partition;
        }
        let partition = rng.random_range(0..count.max(1));
        self.topics.insert(
            topic.to_string(),
            Sticky {
                partition,
                produced_bytes: 0,
            },
        );
        partition
    }

    /// Counts `bytes` sent to the sticky partition of `topic`; once `batch.size` bytes went
    /// there, moves to another partition chosen at random.
    pub fn record_appended(&mut self, topic: &str, bytes: usize, count: i32, rng: &mut ChaCha8Rng) {
        let Some(sticky) = self.topics.get_mut(topic) else {
            return;
        };
        sticky.produced_bytes += bytes;
        if sticky.produced_bytes >= self.batch_size {
            sticky.produced_bytes = 0;
            if count > 1 {
                // Another partition, uniformly (KIP-794 without adaptive weights).
                let next = rng.random_range(0..count - 1);
                sticky.partition = if next >= sticky.partition {
                    next + 1
                } else {
                    next
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn sarama_vectors_with_100_partitions() {
        let p =
            |kind: PartitionerKind, key: &str| kind.partition_for_key(Some(key.as_bytes()), 100);
        for (key, expected) in [
            ("foo", 16),
            ("bar", 45),
            ("baz", 80),
            ("kafka", 80),
            ("sarama", 11),
        ] {
            assert_eq!(p(PartitionerKind::Java, key), Some(expected), "{key}");
        }
        for (key, expected) in [
            ("abc123def456", 57),
            ("SheetJS", 26),
            ("9e8c7f4cf45857cfff7645d6", 24),
            ("3900446192ff85a5f67da10c", 75),
            ("0f4407b7a67d6d27de372198", 50),
        ] {
            assert_eq!(
                p(PartitionerKind::ConsistentRandom, key),
                Some(expected),
                "{key}"
            );
        }
        for (key, default, reference) in [
            ("kafka", 45, 45),
            ("foo", 73, 75),
            ("hejsan", 18, 30),
            ("1468509572224", 48, 0),
        ] {
            assert_eq!(p(PartitionerKind::Fnv1aRandom, key), Some(default), "{key}");
            assert_eq!(
                p(PartitionerKind::SaramaReference, key),
                Some(reference),
                "{key}"
            );
        }
    }

    #[test]
    fn librdkafka_0048_vectors_modulo_partition_count() {
        let long = "this is another string with more length to it perhaps";
        for n in [1, 3, 17, 100] {
            for (key, crc, murmur, fnv) in [
                ("23456", 0xb1b4_51d7_u32, 0x058d_780f_u32, 0x27e6_f469_u32),
                (long, 0xb015_0df7, 0x4f77_03da, 0x155e_3e5f),
                ("hejsan", 0xd077_037e, 0x5ec1_9395, 0x17b1_e27a),
            ] {
                let k = Some(key.as_bytes());
                let m = |h: u32| Some((h % n as u32) as i32);
                assert_eq!(PartitionerKind::Consistent.partition_for_key(k, n), m(crc));
                assert_eq!(PartitionerKind::Murmur2.partition_for_key(k, n), m(murmur));
                assert_eq!(PartitionerKind::Fnv1a.partition_for_key(k, n), m(fnv));
            }
            // Null and empty keys: CRC 0, murmur2("") and |fnv1a("")|.
            assert_eq!(
                PartitionerKind::Consistent.partition_for_key(None, n),
                Some(0)
            );
            assert_eq!(
                PartitionerKind::Murmur2.partition_for_key(None, n),
                Some((0x106e_08d9 % n as u32) as i32)
            );
            assert_eq!(
                PartitionerKind::Fnv1a.partition_for_key(Some(b""), n),
                Some((0x7ee3_623b % n as u32) as i32)
            );
        }
    }

    #[test]
    fn random_variants_leave_missing_keys_to_the_sticky_partition() {
        assert_eq!(PartitionerKind::Java.partition_for_key(None, 10), None);
        assert_eq!(
            PartitionerKind::ConsistentRandom.partition_for_key(Some(b""), 10),
            None
        );
        // murmur2_random hashes an empty key, like Java.
        assert!(
            PartitionerKind::Murmur2Random
                .partition_for_key(Some(b""), 10)
                .is_some()
        );
        assert!(
            PartitionerKind::Java
                .partition_for_key(Some(b""), 10)
                .is_some()
        );
    }

    #[test]
    fn sticky_switches_after_batch_size_bytes() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut sticky = StickyPartitions::new(1000);
        let first = sticky.partition("t", 4, &mut rng);
        sticky.record_appended("t", 999, 4, &mut rng);
        assert_eq!(sticky.partition("t", 4, &mut rng), first);
        sticky.record_appended("t", 1, 4, &mut rng);
        let second = sticky.partition("t", 4, &mut rng);
        assert_ne!(second, first);
        assert!((0..4).contains(&second));
    }
}
