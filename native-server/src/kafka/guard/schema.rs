//! The shapes of the generated request table (`schemas.rs`): Kafka's message specs reduced to
//! what decides the wire layout (field order, types, versions, tags).

/// The highest version, for Kafka's open ranges ("3+").
pub const MAX: i16 = i16::MAX;

/// An inclusive version range, as Kafka's specs write them ("0-5", "3+").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct V(pub i16, pub i16);

/// Kafka's "none": no version.
pub const NONE: V = V(1, 0);

impl V {
    pub const fn contains(self, version: i16) -> bool {
        self.0 <= version && version <= self.1
    }
}

/// A field's wire type. Arrays of structs carry the struct's fields inline.
#[derive(Clone, Copy, Debug)]
pub enum Ty {
    Bool,
    Int8,
    Int16,
    Uint16,
    Int32,
    Uint32,
    Int64,
    Float64,
    Uuid,
    /// INT16 length (COMPACT: unsigned varint length + 1), then UTF-8.
    String,
    /// INT32 length (COMPACT: unsigned varint length + 1), then bytes.
    Bytes,
    /// A record batch set: laid out as nullable bytes.
    Records,
    /// INT32 count (COMPACT: unsigned varint count + 1), then that many values.
    ArrayOf(&'static Ty),
    /// An array of structs with these fields.
    Array(&'static [F]),
    /// One struct with these fields.
    Struct(&'static [F]),
}

impl Ty {
    /// Bytes on the wire of a fixed-size type.
    pub const fn fixed_size(self) -> Option<usize> {
        match self {
            Ty::Bool | Ty::Int8 => Some(1),
            Ty::Int16 | Ty::Uint16 => Some(2),
            Ty::Int32 | Ty::Uint32 => Some(4),
            Ty::Int64 | Ty::Float64 => Some(8),
            Ty::Uuid => Some(16),
            _ => None,
        }
    }
}

/// One field of a message or struct.
#[derive(Clone, Copy, Debug)]
pub struct F {
    pub name: &'static str,
    pub versions: V,
    pub ty: Ty,
    /// `Some((tag, tagged versions))` for a tagged field (KIP-482).
    pub tag: Option<(u32, V)>,
    /// The header's client id stays an INT16 string even in flexible header versions.
    pub never_flexible: bool,
}

impl F {
    pub const fn new(name: &'static str, versions: V, ty: Ty) -> F {
        F {
            name,
            versions,
            ty,
            tag: None,
            never_flexible: false,
        }
    }

    pub const fn tagged(mut self, tag: u32, versions: V) -> F {
        self.tag = Some((tag, versions));
        self
    }

    pub const fn never_flexible(mut self) -> F {
        self.never_flexible = true;
        self
    }

    /// Whether the field is in the fixed part of `version` (present and not tagged).
    pub fn in_body(&self, version: i16) -> bool {
        self.versions.contains(version) && self.tag.is_none()
    }
}

/// A request (or the request header): its API key, the versions the broker speaks, the versions
/// that use the flexible (compact, tagged) encoding, and its fields.
#[derive(Debug)]
pub struct Message {
    pub name: &'static str,
    /// -1 for the header.
    pub api_key: i16,
    pub versions: V,
    pub flexible: V,
    pub fields: &'static [F],
}
