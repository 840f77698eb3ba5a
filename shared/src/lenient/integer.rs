use super::scalar::{Read, Scalar};
use super::*;

impl Scalar for i64 {
    const EXPECTING: &'static str = "a whole number as a number or string";
    fn text(v: &str) -> Read<i64> {
        trim_text(v)
            .parse::<i64>()
            .map_or(Read::BadValue, |n| Read::Value(Some(n)))
    }
    fn unsigned(v: u64) -> Read<i64> {
        i64::try_from(v).map_or(Read::BadValue, |n| Read::Value(Some(n)))
    }
    fn signed(v: i64) -> Read<i64> {
        Read::Value(Some(v))
    }
}

/// Deserialises a lenient optional integer.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    super::scalar::deserialize(d)
}

/// Serialises the integer as a number.
pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_i64(*v),
        None => s.serialize_none(),
    }
}
