//! Decoding a Raft message from a peer's bytes, every declared length bounded by those bytes.
//!
//! rust-protobuf 2's `Message::parse_from_bytes` reads the top-level message with no length
//! limit, so a length-delimited field's declared length is checked only against "no limit" and
//! its buffer is reserved at that length (up to `READ_RAW_BYTES_MAX_ALLOC`, 10 MB) before the
//! bytes turn out to be missing: in the `peer` fuzz target a 188-byte frame made the node
//! allocate 2 MB (issue 17: no frame may allocate more than a bound derived from its length).
//! Two things close it, each for one of rust-protobuf's read paths:
//! - the frame's own length pushed as the stream's limit: `Vec<u8>` fields and nested messages
//!   (which push their own limits inside it) are checked against the bytes really there before
//!   anything is reserved;
//! - reading from a `bytes::Bytes` (`from_carllerche_bytes`): raft-rs's `Bytes` fields (an
//!   entry's data and context) are then slices of the frame, checked against its end, where
//!   reading from a plain slice would reserve the declared length first.

use bytes::Bytes;
use protobuf::{CodedInputStream, Message as _, ProtobufResult};
use raft::eraftpb::Message;

/// Decodes one raft-rs message (`eraftpb.Message`, protobuf) from exactly `bytes`.
///
/// Errors: rust-protobuf's, for truncated or malformed input, a length past the end of
/// `bytes`, or bytes left over after the message.
pub fn decode_message(bytes: &[u8]) -> ProtobufResult<Message> {
    // One copy of the frame, the fields' slices point into it.
    let frame = Bytes::copy_from_slice(bytes);
    let mut input = CodedInputStream::from_carllerche_bytes(&frame);
    let outer = input.push_limit(bytes.len() as u64)?;
    let mut message = Message::new();
    message.merge_from(&mut input)?;
    input.pop_limit(outer);
    input.check_eof()?;
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tag` (a length-delimited field) declaring `len` bytes, followed by `body`.
    fn field(tag: u8, len: u32, body: &[u8]) -> Vec<u8> {
        let mut bytes = vec![tag << 3 | 2];
        let mut len = len;
        while len >= 0x80 {
            bytes.push((len as u8) | 0x80);
            len >>= 7;
        }
        bytes.push(len as u8);
        bytes.extend_from_slice(body);
        bytes
    }

    /// Field 12 (`context`) declaring 2,000,000 bytes with none following.
    fn lying_context() -> Vec<u8> {
        field(12, 2_000_000, &[])
    }

    /// Field 7 (an entry) whose field 4 (`data`) declares 2,000,000 bytes: the fuzz finding's
    /// shape (`fuzz/regressions/peer/fuzz-raft-context-length-past-the-frame.bin`).
    fn entry_with_lying_data() -> Vec<u8> {
        let data = field(4, 2_000_000, &[1, 2, 3]);
        field(7, data.len() as u32, &data)
    }

    #[test]
    fn a_message_round_trips() {
        let mut message = Message::new();
        message.term = 7;
        message.commit = 3;
        message.context = b"ctx".to_vec().into();
        let bytes = message.write_to_bytes().unwrap();
        assert_eq!(decode_message(&bytes).unwrap(), message);
    }

    #[test]
    fn a_length_past_the_end_is_refused_at_any_depth() {
        assert!(decode_message(&lying_context()).is_err());
        assert!(decode_message(&entry_with_lying_data()).is_err());
    }

    #[test]
    fn an_entry_s_data_is_read_whole() {
        let mut message = Message::new();
        let mut entry = raft::eraftpb::Entry::new();
        entry.data = vec![7u8; 300].into();
        message.entries.push(entry);
        let bytes = message.write_to_bytes().unwrap();
        assert_eq!(decode_message(&bytes).unwrap().entries[0].data.len(), 300);
    }

    #[test]
    fn trailing_garbage_after_a_truncated_field_is_refused() {
        let mut bytes = Message::new().write_to_bytes().unwrap();
        bytes.extend_from_slice(&[0x22, 0x05, 1]);
        assert!(decode_message(&bytes).is_err());
    }
}
