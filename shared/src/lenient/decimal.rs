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
            parse_text(&v.to_string()).map_err(|_| E::invalid_value(Unexpected::Float(v), &self))
        }
        crate::lenient::nothing_is!(None);
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
