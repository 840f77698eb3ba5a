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
        crate::lenient::nothing_is!(None);
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
