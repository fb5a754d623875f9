//! The key hashes of the clients we stay compatible with, bit for bit: Java's murmur2
//! (`Utils.murmur2`, `Utils.java` L492-530), the standard CRC-32 librdkafka's `consistent`
//! partitioners use (`rdcrc32.h`), and FNV-1a 32 as Go's `hash/fnv` computes it for Sarama.

/// Java's `Utils.murmur2`: seed `0x9747b28c`, 4-byte little-endian blocks, tail fall-through.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h = SEED ^ data.len() as u32;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let mut k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = blocks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if let Some(&first) = tail.first() {
        h ^= u32::from(first);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: clears the sign bit (not `abs`, which overflows on `MIN`).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// CRC-32 (IEEE, reflected, as zlib), librdkafka's `rd_crc32`.
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// FNV-1a, 32 bits (Go's `fnv.New32a`).
pub fn fnv1a(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in data {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    const LONG: &[u8] = b"this is another string with more length to it perhaps";

    #[test]
    fn murmur2_matches_kafka_utils_test() {
        for (input, expected) in [
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58_897_971,
            ),
            ("abc", 479_470_107),
        ] {
            assert_eq!(murmur2(input.as_bytes()), expected, "{input}");
        }
    }

    #[test]
    fn murmur2_matches_librdkafka_and_sarama() {
        for (input, expected) in [
            ("kafka", 0xd067_cf64_u32),
            ("giberish123456789", 0x8f55_2b0c),
            ("1234", 0x9fc9_7b14),
            ("", 0x106e_08d9),
            ("foo", 597_841_616),
            ("bar", 988_958_145),
            ("baz", 1_973_573_280),
            ("sarama", 770_765_511),
            ("kafka", 3_496_464_228),
        ] {
            assert_eq!(murmur2(input.as_bytes()) as u32, expected, "{input}");
        }
        // librdkafka tests/0048-partitioner.c, already masked.
        for (input, expected) in [
            (&b""[..], 0x106e_08d9),
            (b"23456", 0x058d_780f),
            (LONG, 0x4f77_03da),
            (b"hejsan", 0x5ec1_9395),
        ] {
            assert_eq!(to_positive(murmur2(input)), expected);
        }
    }

    #[test]
    fn crc32_matches_librdkafka() {
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b"23456"), 0xb1b4_51d7);
        assert_eq!(crc32(LONG), 0xb015_0df7);
        assert_eq!(crc32(b"hejsan"), 0xd077_037e);
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"SheetJS"), 2_647_669_026);
    }

    #[test]
    fn fnv1a_matches_librdkafka_after_abs() {
        let abs = |b: &[u8]| (fnv1a(b) as i32).unsigned_abs();
        assert_eq!(abs(b""), 0x7ee3_623b);
        assert_eq!(abs(b"23456"), 0x27e6_f469);
        assert_eq!(abs(LONG), 0x155e_3e5f);
        assert_eq!(abs(b"hejsan"), 0x17b1_e27a);
        assert_eq!(abs(b"kafka"), 0x0d33_c4e1);
        assert_eq!(abs(b"giberish123456789"), 0x77a5_8295);
        assert_eq!(abs(b"1234"), 0x023b_dd03);
        assert_eq!(fnv1a(b"kafka"), 0x0d33_c4e1);
        assert_eq!(fnv1a(b"foo"), 0xa9f3_7ed7);
        assert_eq!(fnv1a(b"hejsan"), 0xe84e_1d86);
        assert_eq!(fnv1a(b"1468509572224"), 0x8000_0000);
    }
}
