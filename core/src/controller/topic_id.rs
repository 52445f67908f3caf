//! Topic ids: Kafka's 128-bit `Uuid`, written as Kafka writes it.
//!
//! Kafka prints a `Uuid` as the URL-safe base64 of its 16 big-endian bytes, without padding
//! (22 characters, e.g. `AAAAAAAAAAAAAAAAAAAAAQ`). Partita uses that form for display and in
//! serialized records, so ids read the same in `partita topics --describe`, the JSON API and
//! Kafka's own tools, and survive JavaScript, whose numbers cannot hold 128 bits.

use std::fmt::{self, Write as _};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A topic's id. The controller derives it from its seed and the metadata log's length, so
/// ids are deterministic yet never reused within a cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicId(pub u128);

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Characters in the text form: 128 bits at 6 bits per character.
const TEXT_LENGTH: usize = 22;

impl fmt::Display for TopicId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let char_at = |sextet: u128| char::from(ALPHABET[sextet as usize]);
        // 21 characters carry the top 126 bits; the last one the low two and four zero bits.
        for i in 0..TEXT_LENGTH - 1 {
            f.write_char(char_at((self.0 >> (122 - 6 * i)) & 0x3f))?;
        }
        f.write_char(char_at((self.0 & 0x3) << 4))
    }
}

/// A string that is not a topic id in Kafka's text form.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a topic id (22 characters of URL-safe base64)")]
pub struct ParseTopicIdError(String);

impl FromStr for TopicId {
    type Err = ParseTopicIdError;

    fn from_str(text: &str) -> Result<TopicId, ParseTopicIdError> {
        let invalid = || ParseTopicIdError(text.to_string());
        if text.len() != TEXT_LENGTH {
            return Err(invalid());
        }
        let mut bits: u128 = 0;
        for (i, c) in text.bytes().enumerate() {
            let sextet = ALPHABET.iter().position(|a| *a == c).ok_or_else(invalid)? as u128;
            if i + 1 < TEXT_LENGTH {
                bits = bits << 6 | sextet;
            } else if sextet & 0xf != 0 {
                return Err(invalid()); // the four padding bits must be zero
            } else {
                bits = bits << 2 | sextet >> 4;
            }
        }
        Ok(TopicId(bits))
    }
}

impl Serialize for TopicId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TopicId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TopicId, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(id: u128, expect: &str) {
        assert_eq!(TopicId(id).to_string(), expect);
        assert_eq!(expect.parse(), Ok(TopicId(id)));
    }

    #[test]
    fn text_form_is_kafkas() {
        check(0, "AAAAAAAAAAAAAAAAAAAAAA");
        // Kafka's METADATA_TOPIC_ID.
        check(1, "AAAAAAAAAAAAAAAAAAAAAQ");
        check(u128::MAX, "_____________________w");
        check(
            0xfb3b_4f5c_8d36_4c4d_9d6d_28c4_7f0a_1b2e,
            "-ztPXI02TE2dbSjEfwobLg",
        );
    }

    #[test]
    fn malformed_text_is_refused() {
        assert!("AAAA".parse::<TopicId>().is_err());
        assert!("AAAAAAAAAAAAAAAAAAAAA*".parse::<TopicId>().is_err());
        assert!("AAAAAAAAAAAAAAAAAAAAAB".parse::<TopicId>().is_err());
    }
}
