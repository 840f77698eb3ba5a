//! Lenient scalar parsing for platform JSON that sends numbers, booleans and nulls in more than one form.
//!
//! Genstore writes `"quantity": "1"` as readily as `"quantity": 1`, `"taxable": "true"` beside `true`,
//! the string `"null"` for null and `""` for a missing object. Each submodule here is a
//! `#[serde(with = "...")]` pair for one `Option<T>` field: it accepts every form the platform is known to
//! send, rejects anything else with an error that says what it got, and serialises in the platform's own
//! form (strings for money, quantities and flags, as seed 001 shows).
//!
//! Money never passes through `f64` when it arrives as a string. A native JSON number is turned into its
//! shortest round-trip decimal text first, which is exact for up to 15 significant digits — more than any
//! order total has.

use serde::de::{self, Deserializer, Unexpected, Visitor};
use serde::Serializer;
use std::fmt;

/// A visitor's three ways of meeting "nothing" — JSON null, an absent option, unit — answered with
/// `$nothing`; an option's content is read by the same visitor.
macro_rules! nothing_is {
    ($nothing:expr) => {
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok($nothing)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok($nothing)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    };
}
pub(crate) use nothing_is;

/// True for the forms a platform uses to say "no value": the string `null`, an empty or blank string.
fn is_null_text(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || t == "null"
}

/// Strips whitespace and stray quote characters around a scalar written as text.
///
/// Genstore's own documentation shows `"updatedAt": "2022-01-01T11:00:00-01:00\""`; the value inside is
/// unambiguous, so the stray quote is dropped rather than the field refused.
fn trim_text(s: &str) -> &str {
    s.trim().trim_matches(|c| c == '"' || c == '\'').trim()
}

/// `Option<String>`: strings, numbers and booleans are kept as text; null, `"null"` and `""` are none.
pub mod string {
    use super::*;

    use super::scalar::{Read, Scalar};

    /// Text is kept as it is; numbers and booleans as their text.
    impl Scalar for String {
        const EXPECTING: &'static str = "a string, number, boolean or null";
        fn text(v: &str) -> Read<String> {
            Read::Value(Some(v.to_owned()))
        }
        fn unsigned(v: u64) -> Read<String> {
            Read::Value(Some(v.to_string()))
        }
        fn signed(v: i64) -> Read<String> {
            Read::Value(Some(v.to_string()))
        }
        fn float(v: f64) -> Read<String> {
            Read::Value(Some(v.to_string()))
        }
        fn boolean(v: bool) -> Read<String> {
            Read::Value(Some(v.to_string()))
        }
    }

    /// Deserialises a lenient optional string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        super::scalar::deserialize(d)
    }

    /// Serialises an optional string as itself (none as null; pair with `skip_serializing_if`).
    pub fn serialize<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(v),
            None => s.serialize_none(),
        }
    }
}

/// The reader every scalar below shares.
pub mod scalar;

/// `Option<u32>` quantities: `1`, `"1"`, `" 1 "` and `1.0` are one; negative, fractional or other text is
/// an error; null, `"null"` and `""` are none. Serialised as a string, as Genstore sends it.
pub mod quantity;

/// A required `u32` quantity in any of [`quantity`]'s forms; null forms are an error here.
pub mod quantity_required {
    use super::*;

    /// Deserialises a lenient quantity that must be present.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
        super::quantity::deserialize(d)?.ok_or_else(|| de::Error::custom("a quantity is required"))
    }

    /// Serialises a quantity as a number.
    pub fn serialize<S: Serializer>(v: &u32, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(*v)
    }
}

/// `Option<i64>` such as epoch milliseconds: a number or its text; null forms are none.
pub mod integer;

/// `Option<bool>`: `true`, `"true"`, `"TRUE"`, `"1"` / `1` and their opposites; anything else is an
/// error. Serialised as `"true"` / `"false"`.
pub mod flag;

/// `Option<Decimal>` money and measures: `"409.94"`, `409.94`, `"1e2"`; never through `f64` for text.
/// Serialised as a decimal string.
pub mod decimal;

/// `Option<DateTime<Utc>>` from RFC 3339 text with any offset (stray quotes trimmed); null forms are none.
/// Serialised as RFC 3339 in UTC.
pub mod timestamp;

/// `Option<T>` for objects where a platform writes `""` or `"null"` instead of leaving the key out.
/// Serialised as the object itself. Streams into `T`, so error paths reach inside the object.
pub mod object;

/// `Vec<String>` that may arrive as an array, as a JSON array encoded in a string
/// (`"[\"a\",\"b\"]"`, seen for `paymentGatewayNames`), as one plain string, or as null.
pub mod string_list;

/// `Option<Personal<String>>`: a lenient string that is personal data (email, phone, name).
pub mod personal {
    use super::*;
    use crate::personal::Personal;

    /// Deserialises a lenient optional string and marks it personal.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Personal<String>>, D::Error> {
        super::string::deserialize(d).map(|v| v.map(Personal::new))
    }

    /// Serialises the string itself.
    pub fn serialize<S: Serializer>(v: &Option<Personal<String>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(v.expose()),
            None => s.serialize_none(),
        }
    }
}

/// Names a JSON value's kind for error messages, never its content (which may be personal data).
pub fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// `Vec<T>` where null, `""` or `"null"` mean an empty list. Streams into the elements, so error
/// paths reach inside them.
pub mod list;

#[cfg(test)]
mod tests;
