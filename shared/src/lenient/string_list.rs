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
