use super::scalar::{Read, Scalar};
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

impl Scalar for DateTime<Utc> {
    const EXPECTING: &'static str = "an RFC 3339 timestamp";
    fn text(v: &str) -> Read<DateTime<Utc>> {
        parse_text(v).map_or(Read::BadValue, Read::Value)
    }
}

/// Deserialises a lenient optional timestamp.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    super::scalar::deserialize(d)
}

/// Serialises a timestamp as RFC 3339 UTC with seconds.
pub fn serialize<S: Serializer>(v: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(&v.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        None => s.serialize_none(),
    }
}
