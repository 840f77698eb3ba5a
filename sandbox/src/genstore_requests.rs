//! The sandbox's own reading of Genstore's fulfillment request bodies, written from `platforms.md` §1
//! (the Shopify shape in camelCase, the project's recorded decision), never from the client's types: a
//! field the client names wrongly is a 400 here instead of being agreed with (issue 18).
//!
//! - `POST /fulfillments`: `{"fulfillment": {"orderId", "lineItems": [{"id", "quantity"}],
//!   "trackingInfo": {"number", "company", "url"}, "notifyCustomer"}}`.
//! - `PUT /fulfillments/{id}/update_tracking`: `{"fulfillment": {"trackingInfo": {...},
//!   "notifyCustomer"}}` (Shopify's update takes `notify_customer` too).
//!
//! Values follow Genstore's habits: a quantity may be a number or a numeric string, `notifyCustomer` a
//! boolean or `"true"` / `"false"`. Any other key, at any depth, is refused by name.

use serde::Deserialize;
use serde_json::Value;

/// `trackingInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tracking {
    /// The tracking number.
    #[serde(default)]
    pub number: Option<String>,
    /// The carrier's name.
    #[serde(default)]
    pub company: Option<String>,
    /// A tracking page.
    #[serde(default)]
    pub url: Option<String>,
}

/// One line of a new fulfillment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// The order line's id.
    #[serde(default)]
    pub id: Option<String>,
    /// Units, a number or a numeric string.
    #[serde(default)]
    pub quantity: Option<Value>,
}

impl Line {
    /// The quantity, when it is a whole number.
    pub fn units(&self) -> Option<u32> {
        match self.quantity.as_ref()? {
            Value::Number(n) => n.as_u64().and_then(|q| u32::try_from(q).ok()),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// `POST /fulfillments`'s `fulfillment`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewFulfillment {
    /// The order.
    pub order_id: String,
    /// The lines; none means everything still fulfillable.
    #[serde(default)]
    pub line_items: Vec<Line>,
    /// Tracking, if any.
    #[serde(default)]
    pub tracking_info: Option<Tracking>,
    /// Whether Genstore tells the customer.
    #[serde(default)]
    pub notify_customer: Option<Value>,
}

/// `PUT /fulfillments/{id}/update_tracking`'s `fulfillment`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrackingChange {
    /// The new tracking.
    pub tracking_info: Tracking,
    /// Whether Genstore tells the customer.
    #[serde(default)]
    pub notify_customer: Option<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<T> {
    fulfillment: T,
}

/// Reads a body `{"fulfillment": …}`; the error names the path and the field.
fn envelope<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let read: Envelope<T> =
        serde_path_to_error::deserialize(&mut de).map_err(|e| match e.path().to_string() {
            p if p == "." => e.inner().to_string(),
            p => format!("{p}: {}", e.inner()),
        })?;
    if !notify_ok(&serde_json::from_slice::<Value>(body).unwrap_or_default()) {
        return Err("fulfillment.notifyCustomer: expected true or false".into());
    }
    Ok(read.fulfillment)
}

fn notify_ok(v: &Value) -> bool {
    match v.pointer("/fulfillment/notifyCustomer") {
        None | Some(Value::Null) | Some(Value::Bool(_)) => true,
        Some(Value::String(s)) => s == "true" || s == "false",
        Some(_) => false,
    }
}

/// Reads `POST /fulfillments`.
pub fn new_fulfillment(body: &[u8]) -> Result<NewFulfillment, String> {
    envelope(body)
}

/// Reads `PUT /fulfillments/{id}/update_tracking`.
pub fn tracking_change(body: &[u8]) -> Result<TrackingChange, String> {
    envelope(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_bodies_are_read_and_anything_else_is_named() {
        let f = new_fulfillment(
            br#"{"fulfillment": {"orderId": "1001", "lineItems": [{"id": "l1", "quantity": "2"}],
            "trackingInfo": {"number": "1Z", "company": "UPS"}, "notifyCustomer": "true"}}"#,
        )
        .unwrap();
        assert_eq!(f.line_items[0].units(), Some(2));
        let e = new_fulfillment(
            br#"{"fulfillment": {"orderId": "1001", "trackingInfo": {"number": "1Z", "carrier": "UPS"}}}"#,
        )
        .unwrap_err();
        assert!(
            e.contains("fulfillment.trackingInfo") && e.contains("carrier"),
            "{e}"
        );
        let e = tracking_change(br#"{"fulfillment": {"tracking_info": {"number": "1Z"}}}"#)
            .unwrap_err();
        assert!(e.contains("tracking_info"), "{e}");
        let e = tracking_change(
            br#"{"fulfillment": {"trackingInfo": {"number": "1Z"}, "notifyCustomer": 3}}"#,
        )
        .unwrap_err();
        assert!(e.contains("notifyCustomer"), "{e}");
    }
}
