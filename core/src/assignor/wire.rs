//! Big-endian primitives of Kafka's non-flexible message encoding, as the consumer protocol and
//! the records of the offsets topic use them: `int16`/`int32`/`int64`, strings with an `int16`
//! length (-1 for null), bytes and arrays with an `int32` length (-1 for null).

use thiserror::Error;

/// Why bytes that should hold a consumer-protocol message could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("truncated: needed {needed} more bytes at offset {at}")]
    Truncated { at: usize, needed: usize },
    #[error("negative length {length} for a non-nullable field at offset {at}")]
    NegativeLength { at: usize, length: i32 },
    #[error("string at offset {at} is not UTF-8")]
    InvalidUtf8 { at: usize },
    #[error("unsupported version {0}")]
    UnsupportedVersion(i16),
}

#[derive(Default)]
pub(crate) struct Writer {
    bytes: Vec<u8>,
}

impl Writer {
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub(crate) fn i8(&mut self, value: i8) {
        self.bytes.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn i16(&mut self, value: i16) {
        self.bytes.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn i32(&mut self, value: i32) {
        self.bytes.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn i64(&mut self, value: i64) {
        self.bytes.extend_from_slice(&value.to_be_bytes());
    }

    /// An `int32` length prefix. Longer values cannot be encoded; passing one is a caller bug.
    fn i32_length(&mut self, length: usize) {
        self.i32(i32::try_from(length).expect("length fits in an int32"));
    }

    pub(crate) fn string(&mut self, value: &str) {
        self.i16(i16::try_from(value.len()).expect("string length fits in an int16"));
        self.bytes.extend_from_slice(value.as_bytes());
    }

    pub(crate) fn nullable_string(&mut self, value: Option<&str>) {
        match value {
            Some(value) => self.string(value),
            None => self.i16(-1),
        }
    }

    pub(crate) fn nullable_bytes(&mut self, value: Option<&[u8]>) {
        match value {
            Some(value) => {
                self.i32_length(value.len());
                self.bytes.extend_from_slice(value);
            }
            None => self.i32(-1),
        }
    }

    pub(crate) fn array_length(&mut self, length: usize) {
        self.i32_length(length);
    }
}

pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], DecodeError> {
        let available = self.bytes.len() - self.at;
        if count > available {
            return Err(DecodeError::Truncated {
                at: self.at,
                needed: count - available,
            });
        }
        let slice = &self.bytes[self.at..self.at + count];
        self.at += count;
        Ok(slice)
    }

    pub(crate) fn i8(&mut self) -> Result<i8, DecodeError> {
        Ok(i8::from_be_bytes([self.take(1)?[0]]))
    }

    pub(crate) fn i16(&mut self) -> Result<i16, DecodeError> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn i32(&mut self) -> Result<i32, DecodeError> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, DecodeError> {
        let b = self.take(8)?;
        Ok(i64::from_be_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    }

    /// A length that may be -1 (null): `None` for null.
    fn nullable_length(&mut self, length: i32) -> Result<Option<usize>, DecodeError> {
        match length {
            -1 => Ok(None),
            length if length < 0 => Err(DecodeError::NegativeLength {
                at: self.at,
                length,
            }),
            length => Ok(Some(length as usize)),
        }
    }

    pub(crate) fn nullable_string(&mut self) -> Result<Option<String>, DecodeError> {
        let length = self.i16()?;
        let Some(length) = self.nullable_length(i32::from(length))? else {
            return Ok(None);
        };
        let at = self.at;
        let bytes = self.take(length)?;
        let text = std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { at })?;
        Ok(Some(text.to_owned()))
    }

    pub(crate) fn string(&mut self) -> Result<String, DecodeError> {
        let at = self.at;
        self.nullable_string()?
            .ok_or(DecodeError::NegativeLength { at, length: -1 })
    }

    pub(crate) fn nullable_bytes(&mut self) -> Result<Option<Vec<u8>>, DecodeError> {
        let length = self.i32()?;
        match self.nullable_length(length)? {
            Some(length) => Ok(Some(self.take(length)?.to_vec())),
            None => Ok(None),
        }
    }

    /// An array length; a null array (which these schemas do not allow) is an error.
    pub(crate) fn array_length(&mut self) -> Result<usize, DecodeError> {
        let at = self.at;
        let length = self.i32()?;
        match self.nullable_length(length)? {
            // Each element takes at least one byte: a length beyond the rest is a lie, caught
            // here before anything is allocated for it.
            Some(length) if length > self.bytes.len() - self.at => Err(DecodeError::Truncated {
                at,
                needed: length - (self.bytes.len() - self.at),
            }),
            Some(length) => Ok(length),
            None => Err(DecodeError::NegativeLength { at, length }),
        }
    }
}
