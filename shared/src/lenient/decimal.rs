use super::scalar::{Read, Scalar};
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

impl Scalar for Decimal {
    const EXPECTING: &'static str = "a decimal number as a string or number";
    fn text(v: &str) -> Read<Decimal> {
        parse_text(v).map_or(Read::BadValue, Read::Value)
    }
    fn unsigned(v: u64) -> Read<Decimal> {
        Read::Value(Some(Decimal::from(v)))
    }
    fn signed(v: i64) -> Read<Decimal> {
        Read::Value(Some(Decimal::from(v)))
    }
    fn float(v: f64) -> Read<Decimal> {
        if !v.is_finite() {
            return Read::BadValue;
        }
        // `Display` for f64 prints the shortest text that reads back to the same f64.
        parse_text(&v.to_string()).map_or(Read::BadValue, Read::Value)
    }
}

/// Deserialises a lenient optional decimal.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    super::scalar::deserialize(d)
}

/// Serialises a decimal as its exact text.
pub fn serialize<S: Serializer>(v: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}
