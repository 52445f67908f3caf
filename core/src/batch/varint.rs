//! Zigzag varints, the integer encoding of fields inside a record (protobuf's scheme).

/// Appends `value` as a zigzag varint (at most 5 bytes).
pub(super) fn put_varint(out: &mut Vec<u8>, value: i32) {
    put_unsigned(out, ((value << 1) ^ (value >> 31)) as u32 as u64);
}

/// Appends `value` as a zigzag varlong (at most 10 bytes).
pub(super) fn put_varlong(out: &mut Vec<u8>, value: i64) {
    put_unsigned(out, ((value << 1) ^ (value >> 63)) as u64);
}

/// How many bytes [`put_varint`] writes for `value`.
pub(super) fn varint_len(value: i32) -> usize {
    unsigned_len(((value << 1) ^ (value >> 31)) as u32 as u64)
}

/// How many bytes [`put_varlong`] writes for `value`.
pub(super) fn varlong_len(value: i64) -> usize {
    unsigned_len(((value << 1) ^ (value >> 63)) as u64)
}

fn put_unsigned(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn unsigned_len(value: u64) -> usize {
    let bits = 64 - value.leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

/// Reads a zigzag varint at `*pos`, advancing it; `None` if truncated or longer than 5 bytes.
pub(super) fn get_varint(bytes: &[u8], pos: &mut usize) -> Option<i32> {
    let raw = get_unsigned(bytes, pos, 5)?;
    let raw = u32::try_from(raw).ok()?;
    Some(((raw >> 1) as i32) ^ -((raw & 1) as i32))
}

/// Reads a zigzag varlong at `*pos`, advancing it; `None` if truncated or longer than 10 bytes.
pub(super) fn get_varlong(bytes: &[u8], pos: &mut usize) -> Option<i64> {
    let raw = get_unsigned(bytes, pos, 10)?;
    Some(((raw >> 1) as i64) ^ -((raw & 1) as i64))
}

fn get_unsigned(bytes: &[u8], pos: &mut usize, max_len: usize) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..max_len {
        let byte = *bytes.get(*pos + i)?;
        value |= u64::from(byte & 0x7f).checked_shl(7 * i as u32)?;
        if byte & 0x80 == 0 {
            *pos += i + 1;
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_varint(value: i32, expect: &[u8]) {
        let mut out = Vec::new();
        put_varint(&mut out, value);
        assert_eq!(out, expect, "encoding {value}");
        assert_eq!(varint_len(value), expect.len());
        let mut pos = 0;
        assert_eq!(get_varint(&out, &mut pos), Some(value));
        assert_eq!(pos, expect.len());
    }

    #[test]
    fn zigzag_varints() {
        check_varint(0, &[0x00]);
        check_varint(-1, &[0x01]);
        check_varint(1, &[0x02]);
        check_varint(-2, &[0x03]);
        check_varint(63, &[0x7e]);
        check_varint(64, &[0x80, 0x01]);
        check_varint(300, &[0xd8, 0x04]);
        check_varint(i32::MAX, &[0xfe, 0xff, 0xff, 0xff, 0x0f]);
        check_varint(i32::MIN, &[0xff, 0xff, 0xff, 0xff, 0x0f]);
    }

    #[test]
    fn varlongs_round_trip() {
        for value in [0, -1, 1, i64::MAX, i64::MIN, 1_700_000_000_000, -5] {
            let mut out = Vec::new();
            put_varlong(&mut out, value);
            assert_eq!(varlong_len(value), out.len());
            let mut pos = 0;
            assert_eq!(get_varlong(&out, &mut pos), Some(value));
        }
    }

    #[test]
    fn truncated_and_overlong_varints_are_rejected() {
        let mut pos = 0;
        assert_eq!(get_varint(&[0x80], &mut pos), None);
        assert_eq!(
            get_varint(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01], &mut pos),
            None
        );
        assert_eq!(pos, 0);
    }
}
