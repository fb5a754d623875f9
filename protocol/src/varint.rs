//! Zigzag varints and varlongs, as Kafka writes them in records (`ByteUtils.writeVarint`):
//! `(v << 1) ^ (v >> 31)` (or `>> 63`), then unsigned LEB128.

use crate::ProtocolError;

/// Bytes needed to write `value` as a zigzag varint (1 to 5).
#[inline]
pub fn varint_len(value: i32) -> usize {
    varlong_len(i64::from(value))
}

/// Bytes needed to write `value` as a zigzag varlong (1 to 10).
#[inline]
pub fn varlong_len(value: i64) -> usize {
    let zigzag = ((value << 1) ^ (value >> 63)) as u64;
    let bits = 64 - (zigzag | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Appends `value` as a zigzag varint.
#[inline]
pub fn put_varint(out: &mut Vec<u8>, value: i32) {
    put_unsigned(out, ((value << 1) ^ (value >> 31)) as u32 as u64);
}

/// Appends `value` as a zigzag varlong.
#[inline]
pub fn put_varlong(out: &mut Vec<u8>, value: i64) {
    put_unsigned(out, ((value << 1) ^ (value >> 63)) as u64);
}

#[inline]
fn put_unsigned(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a zigzag varint from the front of `input`: the value and the bytes it took.
///
/// ```
/// use ktrial_protocol::varint::get_varint;
/// assert_eq!(get_varint(&[0xd8, 0x04]), Ok((300, 2)));
/// ```
#[inline]
pub fn get_varint(input: &[u8]) -> Result<(i32, usize), ProtocolError> {
    let (raw, used) = get_unsigned(input, 5, "varint")?;
    let raw = u32::try_from(raw).map_err(|_| ProtocolError::Invalid {
        what: "varint",
        detail: "value exceeds 32 bits".into(),
    })?;
    Ok((zigzag32(raw), used))
}

/// Reads a zigzag varlong from the front of `input`: the value and the bytes it took.
#[inline]
pub fn get_varlong(input: &[u8]) -> Result<(i64, usize), ProtocolError> {
    let (raw, used) = get_unsigned(input, 10, "varlong")?;
    Ok((zigzag64(raw), used))
}

#[inline]
fn get_unsigned(
    input: &[u8],
    max_bytes: usize,
    what: &'static str,
) -> Result<(u64, usize), ProtocolError> {
    match read_unsigned(input, max_bytes) {
        (_, 0) => Err(unsigned_error(input, max_bytes, what)),
        (value, used) => Ok((value, used)),
    }
}

/// The unsigned LEB128 value at the front of `input` and the bytes it took, or 0 bytes when
/// the input ends first or the value runs past `max_bytes`. Two words, so that the record
/// decoder's hot path keeps it in registers.
#[inline(always)]
pub(crate) fn read_unsigned(input: &[u8], max_bytes: usize) -> (u64, usize) {
    // Most varints in a batch (deltas, short lengths) are one byte.
    if let Some(&byte) = input.first()
        && byte < 0x80
    {
        return (u64::from(byte), 1);
    }
    let mut value = 0u64;
    for (i, &byte) in input.iter().take(max_bytes).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return (value, i + 1);
        }
    }
    (0, 0)
}

/// Why [`read_unsigned`] found no value in `input`.
#[cold]
pub(crate) fn unsigned_error(input: &[u8], max_bytes: usize, what: &'static str) -> ProtocolError {
    if input.len() >= max_bytes {
        ProtocolError::Invalid {
            what,
            detail: format!("longer than {max_bytes} bytes"),
        }
    } else {
        ProtocolError::Truncated { what }
    }
}

/// Undoes the zigzag mapping of a varint.
#[inline(always)]
pub(crate) fn zigzag32(raw: u32) -> i32 {
    ((raw >> 1) as i32) ^ -((raw & 1) as i32)
}

/// Undoes the zigzag mapping of a varlong.
#[inline(always)]
pub(crate) fn zigzag64(raw: u64) -> i64 {
    ((raw >> 1) as i64) ^ -((raw & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(v: i32) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint(&mut out, v);
        out
    }

    #[test]
    fn reference_vectors() {
        // Computed from Kafka's `ByteUtils.writeVarint` (zigzag, then unsigned LEB128).
        let vectors: [(i32, &[u8]); 6] = [
            (0, &[0x00]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (63, &[0x7e]),
            (64, &[0x80, 0x01]),
            (300, &[0xd8, 0x04]),
        ];
        for (value, bytes) in vectors {
            assert_eq!(encoded(value), bytes, "encode {value}");
            assert_eq!(
                get_varint(bytes),
                Ok((value, bytes.len())),
                "decode {value}"
            );
            assert_eq!(varint_len(value), bytes.len());
        }
    }

    #[test]
    fn extremes_round_trip() {
        for v in [i32::MIN, i32::MAX, -64, -65] {
            let bytes = encoded(v);
            assert_eq!(get_varint(&bytes), Ok((v, bytes.len())));
            assert_eq!(varint_len(v), bytes.len());
        }
        for v in [i64::MIN, i64::MAX, 0, -1] {
            let mut bytes = Vec::new();
            put_varlong(&mut bytes, v);
            assert_eq!(get_varlong(&bytes), Ok((v, bytes.len())));
            assert_eq!(varlong_len(v), bytes.len());
        }
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(
            get_varint(&[]),
            Err(ProtocolError::Truncated { .. })
        ));
        assert!(matches!(
            get_varint(&[0x80]),
            Err(ProtocolError::Truncated { .. })
        ));
        assert!(matches!(
            get_varint(&[0xff; 6]),
            Err(ProtocolError::Invalid { .. })
        ));
        assert!(matches!(
            get_varint(&[0xff, 0xff, 0xff, 0xff, 0x7f]),
            Err(ProtocolError::Invalid { .. })
        ));
    }
}
