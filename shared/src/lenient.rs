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

    /// Deserialises a lenient optional string.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<String>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number, boolean or null")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(if is_null_text(v) {
                    None
                } else {
                    Some(v.to_owned())
                })
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Some(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Some(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Some(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_any(V)
    }

    /// Serialises an optional string as itself (none as null; pair with `skip_serializing_if`).
    pub fn serialize<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(v),
            None => s.serialize_none(),
        }
    }
}

/// `Option<u32>` quantities: `1`, `"1"`, `" 1 "` and `1.0` are one; negative, fractional or other text is
/// an error; null, `"null"` and `""` are none. Serialised as a string, as Genstore sends it.
pub mod quantity {
    use super::*;

    fn from_text<E: de::Error>(v: &str) -> Result<Option<u32>, E> {
        if is_null_text(v) {
            return Ok(None);
        }
        trim_text(v)
            .parse::<u32>()
            .map(Some)
            .map_err(|_| E::invalid_value(Unexpected::Str(v), &"a whole non-negative quantity"))
    }

    /// Deserialises a lenient optional quantity.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<u32>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole non-negative quantity as a number or string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                from_text(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                u32::try_from(v)
                    .map(Some)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                u32::try_from(v)
                    .map(Some)
                    .map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
                    // The range check above makes the cast exact.
                    Ok(Some(v as u32))
                } else {
                    Err(E::invalid_value(Unexpected::Float(v), &self))
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_any(V)
    }

    /// Serialises a quantity as a decimal string.
    pub fn serialize<S: Serializer>(v: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }
}

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
pub mod integer {
    use super::*;

    /// Deserialises a lenient optional integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<i64>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number as a number or string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if is_null_text(v) {
                    return Ok(None);
                }
                trim_text(v)
                    .parse::<i64>()
                    .map(Some)
                    .map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map(Some)
                    .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_any(V)
    }

    /// Serialises the integer as a number.
    pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_i64(*v),
            None => s.serialize_none(),
        }
    }
}

/// `Option<bool>`: `true`, `"true"`, `"TRUE"`, `"1"` / `1` and their opposites; anything else is an
/// error. Serialised as `"true"` / `"false"`.
pub mod flag {
    use super::*;

    fn from_text<E: de::Error>(v: &str) -> Result<Option<bool>, E> {
        if is_null_text(v) {
            return Ok(None);
        }
        match trim_text(v).to_ascii_lowercase().as_str() {
            "true" | "1" => Ok(Some(true)),
            "false" | "0" => Ok(Some(false)),
            _ => Err(E::invalid_value(Unexpected::Str(v), &"true or false")),
        }
    }

    /// Deserialises a lenient optional boolean.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<bool>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean as a boolean, string or 0/1")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Some(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                from_text(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                match v {
                    0 => Ok(Some(false)),
                    1 => Ok(Some(true)),
                    _ => Err(E::invalid_value(Unexpected::Unsigned(v), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                match v {
                    0 => Ok(Some(false)),
                    1 => Ok(Some(true)),
                    _ => Err(E::invalid_value(Unexpected::Signed(v), &self)),
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_any(V)
    }

    /// Serialises a flag as `"true"` / `"false"`.
    pub fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(true) => s.serialize_str("true"),
            Some(false) => s.serialize_str("false"),
            None => s.serialize_none(),
        }
    }
}

/// `Option<Decimal>` money and measures: `"409.94"`, `409.94`, `"1e2"`; never through `f64` for text.
/// Serialised as a decimal string.
pub mod decimal {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    /// Parses decimal text, accepting scientific notation; none for the null forms.
    pub fn parse_text(v: &str) -> Result<Option<Decimal>, String> {
        if is_null_text(v) {
            return Ok(None);
        }
        let t = trim_text(v);
        Decimal::from_str(t)
            .or_else(|_| Decimal::from_scientific(t))
            .map(Some)
            .map_err(|_| format!("{v:?} is not a decimal number"))
    }

    /// Deserialises a lenient optional decimal.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<Decimal>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a decimal number as a string or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                parse_text(v).map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Some(Decimal::from(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Some(Decimal::from(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                if !v.is_finite() {
                    return Err(E::invalid_value(Unexpected::Float(v), &self));
                }
                // `Display` for f64 prints the shortest text that reads back to the same f64.
                parse_text(&v.to_string())
                    .map_err(|_| E::invalid_value(Unexpected::Float(v), &self))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_any(V)
    }

    /// Serialises a decimal as its exact text.
    pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.collect_str(v),
            None => s.serialize_none(),
        }
    }
}

/// `Option<DateTime<Utc>>` from RFC 3339 text with any offset (stray quotes trimmed); null forms are none.
/// Serialised as RFC 3339 in UTC.
pub mod timestamp {
    use super::*;
    use chrono::{DateTime, SecondsFormat, Utc};

    /// Parses RFC 3339 text into UTC; none for the null forms.
    pub fn parse_text(v: &str) -> Result<Option<DateTime<Utc>>, String> {
        if is_null_text(v) {
            return Ok(None);
        }
        DateTime::parse_from_rfc3339(trim_text(v))
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| format!("{v:?} is not an RFC 3339 timestamp ({e})"))
    }

    /// Deserialises a lenient optional timestamp.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Option<DateTime<Utc>>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                parse_text(v).map_err(|_| E::invalid_value(Unexpected::Str(v), &self))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_any(V)
    }

    /// Serialises a timestamp as RFC 3339 UTC with seconds.
    pub fn serialize<S: Serializer>(v: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(v) => s.serialize_str(&v.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            None => s.serialize_none(),
        }
    }
}

/// `Option<T>` for objects where a platform writes `""` or `"null"` instead of leaving the key out.
/// Serialised as the object itself. Streams into `T`, so error paths reach inside the object.
pub mod object {
    use super::*;
    use serde::de::value::MapAccessDeserializer;
    use serde::de::MapAccess;
    use serde::{Deserialize, Serialize};
    use std::marker::PhantomData;

    /// Deserialises an object, treating null, `""` and `"null"` as none.
    pub fn deserialize<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Option<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object, null or an empty string")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map)).map(Some)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if is_null_text(v) {
                    Ok(None)
                } else {
                    Err(E::invalid_type(Unexpected::Str("(text)"), &self))
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_any(V(PhantomData))
    }

    /// Serialises the object, none as null.
    pub fn serialize<S: Serializer, T: Serialize>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }
}

/// `Vec<String>` that may arrive as an array, as a JSON array encoded in a string
/// (`"[\"a\",\"b\"]"`, seen for `paymentGatewayNames`), as one plain string, or as null.
pub mod string_list {
    use super::*;
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    fn item(v: Value) -> Option<String> {
        match v {
            Value::String(s) if is_null_text(&s) => None,
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Deserialises a lenient list of strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Vec::new()),
            Value::Array(items) => Ok(items.into_iter().filter_map(item).collect()),
            Value::String(s) if is_null_text(&s) => Ok(Vec::new()),
            Value::String(s) if s.trim_start().starts_with('[') => {
                match serde_json::from_str::<Vec<Value>>(&s) {
                    Ok(items) => Ok(items.into_iter().filter_map(item).collect()),
                    Err(e) => Err(de::Error::custom(format!(
                        "a list encoded in a string did not parse: {e}"
                    ))),
                }
            }
            Value::String(s) => Ok(vec![s]),
            other => Err(de::Error::custom(format!(
                "expected a list of strings, got {}",
                json_kind(&other)
            ))),
        }
    }

    /// Serialises the list as a JSON array.
    pub fn serialize<S: Serializer>(v: &[String], s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }
}

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
pub mod list {
    use super::*;
    use serde::de::SeqAccess;
    use serde::{Deserialize, Serialize};
    use std::marker::PhantomData;

    /// Deserialises a list, treating the null forms as empty.
    pub fn deserialize<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: Deserialize<'de>,
    {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list, null or an empty string")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(out)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                if is_null_text(v) {
                    Ok(Vec::new())
                } else {
                    Err(E::invalid_type(Unexpected::Str("(text)"), &self))
                }
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Vec::new())
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }
        d.deserialize_any(V(PhantomData))
    }

    /// Serialises the list as a JSON array.
    pub fn serialize<S: Serializer, T: Serialize>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        v.serialize(s)
    }
}

#[cfg(test)]
mod tests;
