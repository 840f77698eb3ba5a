use super::scalar::{Read, Scalar};
use super::*;

/// 0 and 1 as false and true; any other number is refused.
fn bit(v: i128) -> Read<bool> {
    match v {
        0 => Read::Value(Some(false)),
        1 => Read::Value(Some(true)),
        _ => Read::BadValue,
    }
}

impl Scalar for bool {
    const EXPECTING: &'static str = "a boolean as a boolean, string or 0/1";
    const TEXT_EXPECTING: &'static str = "true or false";
    fn text(v: &str) -> Read<bool> {
        match trim_text(v).to_ascii_lowercase().as_str() {
            "true" | "1" => Read::Value(Some(true)),
            "false" | "0" => Read::Value(Some(false)),
            _ => Read::BadValue,
        }
    }
    fn boolean(v: bool) -> Read<bool> {
        Read::Value(Some(v))
    }
    fn unsigned(v: u64) -> Read<bool> {
        bit(i128::from(v))
    }
    fn signed(v: i64) -> Read<bool> {
        bit(i128::from(v))
    }
}

/// Deserialises a lenient optional boolean.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    super::scalar::deserialize(d)
}

/// Serialises a flag as `"true"` / `"false"`.
pub fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(true) => s.serialize_str("true"),
        Some(false) => s.serialize_str("false"),
        None => s.serialize_none(),
    }
}
