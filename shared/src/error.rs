//! Errors of turning platform JSON into orderbridge's types.

use crate::channel::Channel;

/// A platform body that could not be read or mapped: which platform, which order, which field, and why.
///
/// Messages name fields and value kinds, never the values of personal fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{platform} order {order}: field `{field}`: {reason}")]
pub struct MappingError {
    /// The platform whose data it was.
    pub platform: Channel,
    /// The order's id on that platform, or `?` where the body did not say.
    pub order: String,
    /// The field's JSON path, e.g. `lineItems[0].quantity`.
    pub field: String,
    /// What was wrong with it.
    pub reason: String,
}

impl MappingError {
    /// A field problem in one platform's order.
    pub fn new(
        platform: Channel,
        order: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        MappingError {
            platform,
            order: order.into(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// A required field that was absent or null.
    pub fn missing(platform: Channel, order: impl Into<String>, field: impl Into<String>) -> Self {
        Self::new(platform, order, field, "is required but missing or null")
    }
}

/// Parses a platform JSON body into `T`, naming the JSON path of the first field that does not fit.
///
/// `order_id_key` names the key that holds the order's id (looked up at the top level and one level
/// down, e.g. `{"order": {...}}`), so even a body that fails to parse says which order it was.
pub fn parse_body<T: serde::de::DeserializeOwned>(
    platform: Channel,
    order_id_key: &str,
    body: &[u8],
) -> Result<T, MappingError> {
    parse_value(platform, order_id_key, parse_json(platform, body)?)
}

/// A platform body read as JSON, or an error that says so without quoting it.
pub fn parse_json(platform: Channel, body: &[u8]) -> Result<serde_json::Value, MappingError> {
    serde_json::from_slice(body).map_err(|e| {
        MappingError::new(
            platform,
            "?",
            "(body)",
            format!(
                "is not valid JSON: {}",
                crate::scrub::parser_message(&e.to_string())
            ),
        )
    })
}

/// [`parse_body`] for a body already read as JSON.
pub fn parse_value<T: serde::de::DeserializeOwned>(
    platform: Channel,
    order_id_key: &str,
    value: serde_json::Value,
) -> Result<T, MappingError> {
    if !value.is_object() {
        return Err(MappingError::new(
            platform,
            "?",
            "(body)",
            format!(
                "expected a JSON object, got {}",
                crate::lenient::json_kind(&value)
            ),
        ));
    }
    let order = find_order_id(&value, order_id_key).unwrap_or_else(|| "?".to_owned());
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "(body)".to_owned()
        } else {
            path
        };
        MappingError::new(
            platform,
            order,
            field,
            crate::scrub::parser_message(&e.into_inner().to_string()),
        )
    })
}

fn find_order_id(value: &serde_json::Value, key: &str) -> Option<String> {
    let scalar = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let obj = value.as_object()?;
    obj.get(key).and_then(scalar).or_else(|| {
        obj.values()
            .filter_map(|v| v.as_object())
            .find_map(|inner| inner.get(key).and_then(scalar))
    })
}
