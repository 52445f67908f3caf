//! The pre-decode guard: every request frame is walked against Kafka's message schema for its
//! API and version (`schemas.rs`, generated from Kafka's specs) before the codec sees it, and
//! refused when a count or length says more than the frame holds.
//!
//! Why: kafka-protocol (0.18) reserves `count × element size` for an array and `vec![0; n]` for
//! some byte fields from a count read off the wire, before decoding any element; an allocation
//! failure aborts the process (no panic to catch). A 20-byte Metadata request with a topics
//! count of 2^31-1 asked for 154 GB (issue 17). After this walk every array count, string, bytes
//! and compact length and tagged-field size in the frame is known to be backed by real bytes, so
//! what the codec reserves is bounded by the frame's own length (times the in-memory size of one
//! element), whatever the codec does. The walk allocates nothing but the error, and its work is
//! linear in the frame: every element it visits takes at least one byte, and an array of
//! zero-width elements is bounded by the bytes left as well.
//!
//! The client (`crate::client`) walks every response the same way (`check_response`), so a
//! hostile broker cannot abort `partita consume` either.
//!
//! The guard checks layout only; values (UTF-8, nullability, enums) stay the codec's and the
//! handlers' business.

#[rustfmt::skip]
mod schemas;
pub mod hostile;
mod schema;
#[cfg(test)]
mod tests;

pub use schema::{F, Message, Ty, V};
pub use schemas::{
    PEER_REQUESTS, PEER_RESPONSES, REQUEST_HEADER, REQUESTS, RESPONSE_HEADER, RESPONSES,
};

/// Nesting deeper than this is refused. Kafka's request schemas nest at most four structs deep;
/// the walk recurses only along the schema, so this is a backstop, not a reachable limit.
pub const NESTING_MAX: usize = 16;

/// The most array elements one frame may hold, over all its arrays. Each decoded element costs
/// the codec up to ~100 bytes of memory for as little as one byte on the wire (a flexible struct
/// of empty fields), so bytes alone would let a 100 MiB frame ask for ~10 GB; this caps what one
/// request can decode to near 100 MB. Real clients stay far below: a Produce or OffsetCommit to
/// every partition of a 200,000-partition cluster (KRaft's tested scale) fits.
pub const ARRAY_ELEMENTS_MAX: u64 = 1_000_000;

/// Why a frame was refused: the request, its version, the field (a dotted path) and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused {message} v{version}: {field}: {problem}")]
pub struct Refusal {
    pub message: &'static str,
    pub version: i16,
    pub field: String,
    pub problem: Problem,
}

/// What was wrong with the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("no schema for API key {api_key} version {version}")]
    NoSchema { api_key: i16, version: i16 },
    #[error("needs {need} bytes, {left} left")]
    Truncated { need: usize, left: usize },
    #[error("count {count} is larger than the {left} bytes left")]
    CountTooLarge { count: u64, left: usize },
    #[error("length {length} is larger than the {left} bytes left")]
    LengthTooLarge { length: u64, left: usize },
    #[error("negative length {0}")]
    NegativeLength(i64),
    #[error("malformed unsigned varint")]
    BadVarint,
    #[error("tagged field {tag} declares {size} bytes but its value takes {used}")]
    TaggedSizeMismatch { tag: u32, size: usize, used: usize },
    /// A tag Java's `int` cannot hold. Kafka's tags are small non-negative ints; the codec
    /// (kafka-protocol 0.18) keeps such a tag as a negative `i32`, counts it, but never writes
    /// it back, so a frame carrying one does not survive a decode and encode (a fuzz finding).
    #[error("tag {0} is larger than i32::MAX")]
    TagTooLarge(u32),
    #[error("nested deeper than {NESTING_MAX}")]
    TooDeep,
    #[error("{0} array elements in one frame, more than {ARRAY_ELEMENTS_MAX}")]
    TooManyElements(u64),
}

/// The request schema of `api_key` at `version`, if the broker speaks it.
pub fn schema(api_key: i16, version: i16) -> Option<&'static Message> {
    find(REQUESTS, api_key, version)
}

/// The response schema of `api_key` at `version`, if the broker speaks it.
pub fn response_schema(api_key: i16, version: i16) -> Option<&'static Message> {
    find(RESPONSES, api_key, version)
}

fn find(table: &[&'static Message], api_key: i16, version: i16) -> Option<&'static Message> {
    table
        .iter()
        .copied()
        .find(|m| m.api_key == api_key && m.versions.contains(version))
}

/// The request header version of a request: 2 in flexible request versions, else 1
/// (KIP-482; the header of the one v0-header request, ControlledShutdown v0, is not spoken).
pub fn header_version(message: &Message, version: i16) -> i16 {
    if message.flexible.contains(version) {
        2
    } else {
        1
    }
}

/// The response header version: 1 in flexible versions, else 0; always 0 for ApiVersions, so a
/// client can read the answer before it knows the versions (KIP-511).
pub fn response_header_version(message: &Message, version: i16) -> i16 {
    const API_VERSIONS: i16 = 18;
    if message.api_key != API_VERSIONS && message.flexible.contains(version) {
        1
    } else {
        0
    }
}

/// Walks a whole request frame (header and body, without the 4-byte length) against its
/// schema. `Ok` means every length-prefixed field in it fits in the frame.
pub fn check_request(frame: &[u8]) -> Result<(), Refusal> {
    check_request_in(REQUESTS, frame)
}

/// [`check_request`] for the inter-broker requests one node sends another
/// ([`PEER_REQUESTS`]: WriteTxnMarkers), which the broker does not serve to clients.
pub fn check_peer_request(frame: &[u8]) -> Result<(), Refusal> {
    check_request_in(PEER_REQUESTS, frame)
}

/// [`check_response`] for the answers to [`PEER_REQUESTS`].
pub fn check_peer_response(api_key: i16, version: i16, frame: &[u8]) -> Result<(), Refusal> {
    check_response_in(PEER_RESPONSES, api_key, version, frame)
}

fn check_request_in(table: &[&'static Message], frame: &[u8]) -> Result<(), Refusal> {
    let refusal = |problem| Refusal {
        message: REQUEST_HEADER.name,
        version: 0,
        field: String::new(),
        problem,
    };
    if frame.len() < 4 {
        return Err(refusal(Problem::Truncated {
            need: 4,
            left: frame.len(),
        }));
    }
    let api_key = i16::from_be_bytes([frame[0], frame[1]]);
    let version = i16::from_be_bytes([frame[2], frame[3]]);
    let message =
        find(table, api_key, version).ok_or(refusal(Problem::NoSchema { api_key, version }))?;
    let mut walker = Walker::new(frame);
    walker.message(&REQUEST_HEADER, header_version(message, version))?;
    walker.message(message, version)
}

/// Walks a whole response frame (header and body, without the 4-byte length) to a request of
/// `api_key` at `version`: what a client checks before its codec decodes a broker's answer.
pub fn check_response(api_key: i16, version: i16, frame: &[u8]) -> Result<(), Refusal> {
    check_response_in(RESPONSES, api_key, version, frame)
}

fn check_response_in(
    table: &[&'static Message],
    api_key: i16,
    version: i16,
    frame: &[u8],
) -> Result<(), Refusal> {
    let message = find(table, api_key, version).ok_or(Refusal {
        message: RESPONSE_HEADER.name,
        version: 0,
        field: String::new(),
        problem: Problem::NoSchema { api_key, version },
    })?;
    let mut walker = Walker::new(frame);
    walker.message(&RESPONSE_HEADER, response_header_version(message, version))?;
    walker.message(message, version)
}

/// A cursor over a frame that checks as it goes and allocates only on refusal.
struct Walker<'a> {
    buf: &'a [u8],
    pos: usize,
    /// The end of the region being walked: the frame, or a tagged field's value.
    end: usize,
    path: Vec<&'static str>,
    /// Array elements seen so far in the frame, against `ARRAY_ELEMENTS_MAX`.
    elements: u64,
}

/// A problem found in the current field; `Walker::message` names the request and the field.
type Step<T> = Result<T, Problem>;

impl<'a> Walker<'a> {
    fn new(buf: &'a [u8]) -> Walker<'a> {
        Walker {
            buf,
            pos: 0,
            end: buf.len(),
            path: Vec::with_capacity(NESTING_MAX),
            elements: 0,
        }
    }

    fn message(&mut self, message: &'static Message, version: i16) -> Result<(), Refusal> {
        let flexible = message.flexible.contains(version);
        self.path.clear();
        self.fields(message.fields, version, flexible)
            .map_err(|problem| Refusal {
                message: message.name,
                version,
                field: if self.path.is_empty() {
                    "(tagged fields)".to_string()
                } else {
                    self.path.join(".")
                },
                problem,
            })
    }

    fn left(&self) -> usize {
        self.end - self.pos
    }

    fn take(&mut self, n: usize) -> Step<&'a [u8]> {
        if n > self.left() {
            return Err(Problem::Truncated {
                need: n,
                left: self.left(),
            });
        }
        let taken = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(taken)
    }

    fn int16(&mut self) -> Step<i16> {
        let b = self.take(2)?;
        Ok(i16::from_be_bytes([b[0], b[1]]))
    }

    fn int32(&mut self) -> Step<i32> {
        let b = self.take(4)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Kafka's unsigned varint: at most 5 bytes, fitting in 32 bits.
    fn uvarint(&mut self) -> Step<u32> {
        let mut value: u64 = 0;
        for i in 0..5 {
            let byte = self.take(1).map_err(|_| Problem::BadVarint)?[0];
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return u32::try_from(value).map_err(|_| Problem::BadVarint);
            }
        }
        Err(Problem::BadVarint)
    }

    /// A length in the non-flexible (`i32`/`i16`) or compact (`varint - 1`) form; `None` is null.
    fn length(&mut self, compact: bool, wide: bool) -> Step<Option<u64>> {
        if compact {
            return Ok(self.uvarint()?.checked_sub(1).map(u64::from));
        }
        let n = if wide {
            i64::from(self.int32()?)
        } else {
            i64::from(self.int16()?)
        };
        match n {
            -1 => Ok(None),
            n if n < 0 => Err(Problem::NegativeLength(n)),
            n => Ok(Some(n as u64)),
        }
    }

    /// Skips `length` bytes after checking they are there.
    fn skip(&mut self, length: u64) -> Step<()> {
        let left = self.left();
        if length > left as u64 {
            return Err(Problem::LengthTooLarge { length, left });
        }
        self.pos += length as usize;
        Ok(())
    }

    fn fields(&mut self, fields: &'static [F], version: i16, flexible: bool) -> Step<()> {
        if self.path.len() >= NESTING_MAX {
            return Err(Problem::TooDeep);
        }
        for field in fields.iter().filter(|f| f.in_body(version)) {
            self.path.push(field.name);
            self.value(field.ty, version, flexible && !field.never_flexible)?;
            self.path.pop();
        }
        if flexible {
            self.tagged_fields(fields, version)?;
        }
        Ok(())
    }

    /// KIP-482's tagged fields: a count, then (tag, size, value) each. Known tags are walked
    /// within their declared size; unknown ones are skipped.
    fn tagged_fields(&mut self, fields: &'static [F], version: i16) -> Step<()> {
        let count = u64::from(self.uvarint()?);
        // Each tagged field takes at least two bytes (its tag and its size).
        if count > self.left() as u64 {
            return Err(Problem::CountTooLarge {
                count,
                left: self.left(),
            });
        }
        for _ in 0..count {
            let tag = self.uvarint()?;
            if i32::try_from(tag).is_err() {
                return Err(Problem::TagTooLarge(tag));
            }
            let size = self.uvarint()? as usize;
            if size > self.left() {
                return Err(Problem::LengthTooLarge {
                    length: size as u64,
                    left: self.left(),
                });
            }
            let known = fields.iter().find(|f| {
                f.tag
                    .is_some_and(|(t, tagged)| t == tag && tagged.contains(version))
                    && f.versions.contains(version)
            });
            let Some(field) = known else {
                self.pos += size;
                continue;
            };
            let (start, outer_end) = (self.pos, self.end);
            self.end = start + size;
            self.path.push(field.name);
            self.value(field.ty, version, true)?;
            let used = self.pos - start;
            if used != size {
                return Err(Problem::TaggedSizeMismatch { tag, size, used });
            }
            self.path.pop();
            self.end = outer_end;
        }
        Ok(())
    }

    fn value(&mut self, ty: Ty, version: i16, flexible: bool) -> Step<()> {
        if let Some(size) = ty.fixed_size() {
            return self.take(size).map(drop);
        }
        match ty {
            Ty::String => {
                let length = self.length(flexible, false)?;
                self.skip(length.unwrap_or(0))
            }
            Ty::Bytes | Ty::Records => {
                let length = self.length(flexible, true)?;
                self.skip(length.unwrap_or(0))
            }
            Ty::ArrayOf(element) => self.array(flexible, |w| w.value(*element, version, flexible)),
            Ty::Array(fields) => self.array(flexible, |w| w.fields(fields, version, flexible)),
            Ty::Struct(fields) => self.fields(fields, version, flexible),
            _ => unreachable!("fixed-size types are handled above"),
        }
    }

    fn array(
        &mut self,
        flexible: bool,
        mut element: impl FnMut(&mut Self) -> Step<()>,
    ) -> Step<()> {
        let Some(count) = self.length(flexible, true)? else {
            return Ok(());
        };
        // Every element takes at least one byte, except structs whose fields are all absent in
        // this version: the bound holds for those too, and keeps the walk linear.
        let left = self.left();
        if count > left as u64 {
            return Err(Problem::CountTooLarge { count, left });
        }
        self.elements += count;
        if self.elements > ARRAY_ELEMENTS_MAX {
            return Err(Problem::TooManyElements(self.elements));
        }
        for _ in 0..count {
            element(self)?;
        }
        Ok(())
    }
}
