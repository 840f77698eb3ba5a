use super::scalar::{Read, Scalar};
use super::*;

impl Scalar for u32 {
    const EXPECTING: &'static str = "a whole non-negative quantity as a number or string";
    const TEXT_EXPECTING: &'static str = "a whole non-negative quantity";
    fn text(v: &str) -> Read<u32> {
        trim_text(v)
            .parse::<u32>()
            .map_or(Read::BadValue, |q| Read::Value(Some(q)))
    }
    fn unsigned(v: u64) -> Read<u32> {
        u32::try_from(v).map_or(Read::BadValue, |q| Read::Value(Some(q)))
    }
    fn signed(v: i64) -> Read<u32> {
        u32::try_from(v).map_or(Read::BadValue, |q| Read::Value(Some(q)))
    }
    fn float(v: f64) -> Read<u32> {
        if v.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&v) {
            // The range check above makes the cast exact.
            Read::Value(Some(v as u32))
        } else {
            Read::BadValue
        }
    }
}

/// Deserialises a lenient optional quantity.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    super::scalar::deserialize(d)
}

/// Serialises a quantity as a decimal string.
pub fn serialize<S: Serializer>(v: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}
