//! Source positions attached to manifest values.
//!
//! Validation runs long after parsing, yet every error must point at file:line:col. So each value
//! that a rule may complain about is wrapped in [`Sp`], which keeps the position serde-saphyr saw
//! while remaining transparent to serde and to the JSON Schema (the schema describes `T` only).

use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer};

/// Index of a source file in [`crate::Sources`].
pub type FileId = usize;

/// A position inside one source file (the file is known from the enclosing top-level entry).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Loc {
    /// 1-based line; 0 when unknown.
    pub line: u32,
    /// 1-based column; 0 when unknown.
    pub col: u32,
    /// Byte offset of the value in the file.
    pub offset: usize,
    /// Byte length of the value (0 for a point).
    pub len: usize,
}

impl Loc {
    /// True when the parser could not tell where the value came from.
    pub fn is_unknown(&self) -> bool {
        self.line == 0
    }

    pub(crate) fn from_location(location: serde_saphyr::Location) -> Self {
        let span = location.span();
        Loc {
            line: u32::try_from(location.line()).unwrap_or(u32::MAX),
            col: u32::try_from(location.column()).unwrap_or(u32::MAX),
            offset: span
                .byte_offset()
                .and_then(|o| usize::try_from(o).ok())
                .unwrap_or(0),
            len: span
                .byte_len()
                .and_then(|l| usize::try_from(l).ok())
                .unwrap_or(0),
        }
    }
}

/// A value with the place it was written. Equality and hashing look at the value only, so a
/// spanned string works as a map key.
#[derive(Clone, Default)]
pub struct Sp<T> {
    /// The value itself.
    pub value: T,
    /// Where it was written.
    pub loc: Loc,
}

impl<T> Sp<T> {
    /// A value that did not come from a file (defaults, tests).
    pub fn detached(value: T) -> Self {
        Sp {
            value,
            loc: Loc::default(),
        }
    }
}

impl<T> Deref for Sp<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: fmt::Debug> fmt::Debug for Sp<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} @{}:{}", self.value, self.loc.line, self.loc.col)
    }
}

impl<T: fmt::Display> fmt::Display for Sp<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Sp<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}
impl<T: Eq> Eq for Sp<T> {}
impl<T: Hash> Hash for Sp<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sp<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        Ok(Sp {
            loc: Loc::from_location(spanned.referenced),
            value: spanned.value,
        })
    }
}

impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}
