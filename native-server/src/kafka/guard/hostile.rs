//! Hostile request frames built from the schema table: a minimal valid request of any API and
//! version, poisoned at the first field where a poison applies. Used by the guard's unit tests,
//! the hostile-client test (`tests/tests/hostile_client.rs`) and the fuzz seeds.

use super::schema::{F, Message, Ty};
use super::{REQUEST_HEADER, header_version};

/// What a hostile frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poison {
    /// The first array's count is 2^31 - 1 (compact: 2^32 - 2), with nothing behind it.
    HugeCount,
    /// Nested arrays of one element each, the innermost with a huge count.
    DeepHugeCount,
    /// The first string's or bytes' length is negative (compact forms cannot be: a huge one).
    NegativeLength,
    /// The first string claims 32767 bytes, a few are there.
    OversizeString,
    /// The frame ends inside the first length or count (a varint cut after a continuation byte).
    TruncatedVarint,
    /// The body's tagged fields claim one field of 256 MiB (flexible versions only).
    HugeTaggedSize,
}

impl Poison {
    pub const ALL: [Poison; 6] = [
        Poison::HugeCount,
        Poison::DeepHugeCount,
        Poison::NegativeLength,
        Poison::OversizeString,
        Poison::TruncatedVarint,
        Poison::HugeTaggedSize,
    ];
}

/// The request frame (without its 4-byte length) of `message` at `version`, poisoned, or `None`
/// when the poison has nowhere to go in that version (no array, no string, not flexible).
pub fn poisoned_request(
    message: &Message,
    version: i16,
    poison: Poison,
    correlation_id: i32,
) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    out.extend_from_slice(&message.api_key.to_be_bytes());
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&correlation_id.to_be_bytes());
    out.extend_from_slice(&7i16.to_be_bytes());
    out.extend_from_slice(b"hostile");
    if REQUEST_HEADER
        .flexible
        .contains(header_version(message, version))
    {
        out.push(0); // no tagged fields in the header
    }
    let flexible = message.flexible.contains(version);
    let mut writer = Writer {
        out,
        version,
        poison,
    };
    match writer.fields(message.fields, flexible, true) {
        Done::Poisoned => Some(writer.out),
        Done::Clean => None,
    }
}

#[derive(PartialEq, Eq)]
enum Done {
    Clean,
    Poisoned,
}

struct Writer {
    out: Vec<u8>,
    version: i16,
    poison: Poison,
}

impl Writer {
    fn fields(&mut self, fields: &[F], flexible: bool, top: bool) -> Done {
        let version = self.version;
        for field in fields.iter().filter(|f| f.in_body(version)) {
            if self.value(field.ty, flexible && !field.never_flexible) == Done::Poisoned {
                return Done::Poisoned;
            }
        }
        if !flexible {
            return Done::Clean;
        }
        if top && self.poison == Poison::HugeTaggedSize {
            self.out.push(1); // one tagged field
            self.uvarint(0x7fff_ffff); // an unknown tag
            self.uvarint(256 << 20);
            return Done::Poisoned;
        }
        self.out.push(0);
        Done::Clean
    }

    fn uvarint(&mut self, mut v: u32) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    /// A count or length: `i32`/`i16` or compact (`n + 1` as an unsigned varint).
    fn length(&mut self, n: u32, flexible: bool, wide: bool) {
        if flexible {
            self.uvarint(n.saturating_add(1));
        } else if wide {
            self.out.extend_from_slice(&(n as i32).to_be_bytes());
        } else {
            self.out.extend_from_slice(&(n as i16).to_be_bytes());
        }
    }

    fn truncate(&mut self, flexible: bool) -> Done {
        if flexible {
            self.out.extend_from_slice(&[0xff, 0xff]);
        } else {
            self.out.push(0x7f);
        }
        Done::Poisoned
    }

    fn value(&mut self, ty: Ty, flexible: bool) -> Done {
        if let Some(size) = ty.fixed_size() {
            self.out.resize(self.out.len() + size, 0);
            return Done::Clean;
        }
        let wide = !matches!(ty, Ty::String);
        match (self.poison, ty) {
            (Poison::TruncatedVarint, _) => return self.truncate(flexible),
            (Poison::NegativeLength, Ty::String | Ty::Bytes | Ty::Records) => {
                if flexible {
                    self.uvarint(u32::MAX);
                } else if wide {
                    self.out.extend_from_slice(&(-5i32).to_be_bytes());
                } else {
                    self.out.extend_from_slice(&(-5i16).to_be_bytes());
                }
                return Done::Poisoned;
            }
            (Poison::OversizeString, Ty::String) => {
                self.length(i16::MAX as u32, flexible, false);
                self.out.extend_from_slice(b"short");
                return Done::Poisoned;
            }
            _ => {}
        }
        match ty {
            Ty::String | Ty::Bytes | Ty::Records => {
                self.length(0, flexible, wide);
                Done::Clean
            }
            Ty::Struct(fields) => self.fields(fields, flexible, false),
            Ty::ArrayOf(_) => self.array(None, flexible),
            Ty::Array(fields) => self.array(Some(fields), flexible),
            _ => unreachable!("fixed-size types are handled above"),
        }
    }

    fn array(&mut self, fields: Option<&[F]>, flexible: bool) -> Done {
        let huge = if flexible {
            u32::MAX - 1
        } else {
            i32::MAX as u32
        };
        let nested = fields.is_some_and(|fields| {
            fields
                .iter()
                .any(|f| f.in_body(self.version) && matches!(f.ty, Ty::Array(_) | Ty::ArrayOf(_)))
        });
        match (self.poison, fields) {
            (Poison::HugeCount, _) => {
                self.length(huge, flexible, true);
                Done::Poisoned
            }
            (Poison::DeepHugeCount, Some(fields)) if nested => {
                self.length(1, flexible, true);
                self.fields(fields, flexible, false)
            }
            (Poison::DeepHugeCount, _) => {
                self.length(huge, flexible, true);
                Done::Poisoned
            }
            _ => {
                self.length(0, flexible, true);
                Done::Clean
            }
        }
    }
}
