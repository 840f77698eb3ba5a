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
    pub number: Option<String>,
    /// The carrier's name.
    pub company: Option<String>,
    /// A tracking page.
    pub url: Option<String>,
}

/// One line of a new fulfillment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// The order line's id.
    pub id: Option<String>,
    /// Units, a number or a numeric string.
    pub quantity: Option<Value>,
}

impl Line {
    /// The quantity, when it is a whole number.
    pub fn units(&self) -> Option<u32> {
        super::model::numeric(self.quantity.as_ref()?)
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
    pub tracking_info: Option<Tracking>,
    /// Whether Genstore tells the customer.
    pub notify_customer: Option<Value>,
}

/// `PUT /fulfillments/{id}/update_tracking`'s `fulfillment`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrackingChange {
    /// The new tracking.
    pub tracking_info: Tracking,
    /// Whether Genstore tells the customer.
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

/// The order shape of seed 001 (`GET /orders/{orderId}`), which `POST /orders` takes as `{"order": …}`
/// (`platforms.md` §1): the keys of each object, by where it sits.
const ORDER_KEYS: &[&str] = &[
    "billingAddress",
    "buyerAcceptsMarketing",
    "cancelReason",
    "cancelledAt",
    "closedAt",
    "createdAt",
    "currency",
    "currentSubtotalPrice",
    "currentTotalDiscounts",
    "currentTotalPrice",
    "currentTotalTax",
    "customer",
    "discountCodes",
    "dutiesIncluded",
    "email",
    "financialStatus",
    "fulfillmentStatus",
    "fulfillments",
    "lineItems",
    "note",
    "orderId",
    "paymentGatewayNames",
    "paymentTerms",
    "phone",
    "presentmentCurrency",
    "shippingAddress",
    "sourceIdentifier",
    "sourceName",
    "subtotalPrice",
    "tags",
    "taxesIncluded",
    "totalDiscounts",
    "totalLineItemsPrice",
    "totalOutstanding",
    "totalPrice",
    "totalTax",
    "totalWeight",
    "updatedAt",
];
const LINE_KEYS: &[&str] = &[
    "currentQuantity",
    "fulfillableQuantity",
    "fulfillmentStatus",
    "giftCard",
    "grams",
    "id",
    "price",
    "productId",
    "quantity",
    "requiresShipping",
    "sku",
    "taxable",
    "title",
    "totalDiscount",
    "variantId",
    "variantTitle",
];
const ADDRESS_KEYS: &[&str] = &[
    "address1",
    "address2",
    "city",
    "country",
    "countryCode",
    "firstName",
    "lastName",
    "latitude",
    "longitude",
    "name",
    "phone",
    "province",
    "provinceCode",
    "zip",
];
const CUSTOMER_KEYS: &[&str] = &[
    "createdAt",
    "currency",
    "defaultAddress",
    "email",
    "firstName",
    "id",
    "lastName",
    "note",
    "phone",
    "state",
    "tags",
    "taxExempt",
    "taxExemptions",
    "updatedAt",
    "verifiedEmail",
];
const DISCOUNT_KEYS: &[&str] = &["amount", "code", "type"];
const TERMS_KEYS: &[&str] = &["amount", "currency"];
const FULFILLMENT_KEYS: &[&str] = &["createdAt", "fulfillId", "orderId", "status", "updatedAt"];

/// The fulfillment object of `platforms.md` §1 as answers carry it (seed 001's keys, `lineItems` and
/// `trackingInfo` as the create body has them), and `shipmentStatus`: the project's decision that a
/// fulfillment says how the carrier reports it (`delivered` is how Genstore says a package arrived).
const ANSWER_FULFILLMENT_KEYS: &[&str] = &[
    "createdAt",
    "fulfillId",
    "lineItems",
    "orderId",
    "shipmentStatus",
    "status",
    "trackingInfo",
    "updatedAt",
];
const LINE_QUANTITY_KEYS: &[&str] = &["id", "quantity"];
const TRACKING_KEYS: &[&str] = &["company", "number", "url"];

type Object = serde_json::Map<String, Value>;
/// A check of what an object holds, given where it sits.
type Inner<'a> = &'a dyn Fn(&Object, &str) -> Result<(), String>;

fn known(obj: &Object, keys: &[&str], at: &str) -> Result<(), String> {
    match obj.keys().find(|k| !keys.contains(&k.as_str())) {
        Some(k) => Err(format!("{at}: unknown field {k:?}")),
        None => Ok(()),
    }
}

fn no_more(_: &Object, _: &str) -> Result<(), String> {
    Ok(())
}

/// Each object of `parent[key]` (one, or a list) checked against `keys`, then by `inner`. Anything else
/// there is passed over: Genstore writes `""` or `"null"` for an absent object.
fn each_of(
    parent: &Object,
    key: &str,
    keys: &[&str],
    at: &str,
    inner: Inner<'_>,
) -> Result<(), String> {
    let (items, listed): (Vec<&Value>, bool) = match parent.get(key) {
        Some(Value::Array(items)) => (items.iter().collect(), true),
        Some(one) => (vec![one], false),
        None => (Vec::new(), false),
    };
    for (i, item) in items.iter().enumerate() {
        let Some(o) = item.as_object() else { continue };
        let here = if listed {
            format!("{at}.{key}[{i}]")
        } else {
            format!("{at}.{key}")
        };
        known(o, keys, &here)?;
        inner(o, &here)?;
    }
    Ok(())
}

/// The order object's keys and those of what it holds, seed 001's shape; its fulfillments against
/// `fulfillment_keys`, then `fulfillment`.
fn check_order_shape(
    order: &Object,
    fulfillment_keys: &[&str],
    fulfillment: Inner<'_>,
) -> Result<(), String> {
    known(order, ORDER_KEYS, "order")?;
    for (key, keys) in [
        ("lineItems", LINE_KEYS),
        ("shippingAddress", ADDRESS_KEYS),
        ("billingAddress", ADDRESS_KEYS),
        ("customer", CUSTOMER_KEYS),
        ("discountCodes", DISCOUNT_KEYS),
        ("paymentTerms", TERMS_KEYS),
    ] {
        each_of(order, key, keys, "order", &no_more)?;
    }
    each_of(
        order,
        "fulfillments",
        fulfillment_keys,
        "order",
        fulfillment,
    )
}

/// Refuses a key of `POST /orders`' body that the documented order shape does not have, naming where it
/// is. (The values are read by the order's own rules after this.)
pub fn check_order_keys(body: &Value) -> Result<(), String> {
    let top = body
        .as_object()
        .ok_or("the body must be {\"order\": {...}}")?;
    if let Some(k) = top.keys().find(|k| k.as_str() != "order") {
        return Err(format!("unknown field {k:?}"));
    }
    let Some(order) = top.get("order").and_then(Value::as_object) else {
        return Err("order: expected an object".into());
    };
    check_order_shape(order, FULFILLMENT_KEYS, &no_more)
}

/// What a fulfillment of an answer holds (its own keys checked already): its lines and its tracking.
fn fulfillment_parts(f: &Object, at: &str) -> Result<(), String> {
    each_of(f, "lineItems", LINE_QUANTITY_KEYS, at, &no_more)?;
    each_of(f, "trackingInfo", TRACKING_KEYS, at, &no_more)
}

/// An order the sandbox answers (`GET`, lists, creates, webhook bodies), against seed 001's order shape
/// and the documented fulfillment object, so a slip in the sandbox's own names
/// ([`super::model`]) is caught here rather than taught to the client.
pub fn check_order_answer(order: &Value) -> Result<(), String> {
    let o = order.as_object().ok_or("order: expected an object")?;
    check_order_shape(o, ANSWER_FULFILLMENT_KEYS, &fulfillment_parts)
}

/// A fulfillment the sandbox answers on its own (`POST /fulfillments`, `update_tracking`, cancel, and each
/// of `GET /orders/{id}/fulfillments`), against the documented fulfillment object.
pub fn check_fulfillment_answer(fulfillment: &Value) -> Result<(), String> {
    let f = fulfillment
        .as_object()
        .ok_or("fulfillment: expected an object")?;
    known(f, ANSWER_FULFILLMENT_KEYS, "fulfillment")?;
    fulfillment_parts(f, "fulfillment")
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

    #[test]
    fn an_order_the_sandbox_sends_has_the_documented_shape_only() {
        let good = serde_json::json!({"orderId": "1001", "lineItems": [{"id": "l1", "quantity": "1"}],
            "fulfillments": [{"fulfillId": "f1", "status": "success", "shipmentStatus": "delivered",
            "lineItems": [{"id": "l1", "quantity": 1}], "trackingInfo": {"number": "1Z", "company": "UPS"}}]});
        assert_eq!(check_order_answer(&good), Ok(()));
        let mut refunds = good.clone();
        refunds["refunds"] = serde_json::json!([]);
        assert_eq!(
            check_order_answer(&refunds),
            Err("order: unknown field \"refunds\"".into())
        );
        let mut tracking = good.clone();
        tracking["fulfillments"][0]["trackingInfo"]["trackingNumber"] = serde_json::json!("1Z");
        assert!(check_order_answer(&tracking)
            .unwrap_err()
            .contains("order.fulfillments[0].trackingInfo"));
    }

    #[test]
    fn an_order_create_takes_the_documented_order_shape_only() {
        let good = serde_json::json!({"order": {"sourceName": "zonos", "sourceIdentifier": "999-1",
            "currency": "USD", "lineItems": [{"title": "Mug", "quantity": 1, "price": "10.00"}],
            "shippingAddress": {"name": "x", "countryCode": "FR"}, "customer": "", "totalPrice": "25.00"}});
        assert_eq!(check_order_keys(&good), Ok(()));
        let mut shipping = good.clone();
        shipping["order"]["shippingLines"] = serde_json::json!([{"price": "15.00"}]);
        assert_eq!(
            check_order_keys(&shipping),
            Err("order: unknown field \"shippingLines\"".into())
        );
        let mut line = good.clone();
        line["order"]["lineItems"][0]["qty"] = serde_json::json!(1);
        assert!(check_order_keys(&line)
            .unwrap_err()
            .contains("order.lineItems[0]"));
    }

    #[test]
    fn a_fulfillment_answer_takes_the_documented_fulfillment_only() {
        let good = serde_json::json!({"fulfillId": "50001", "orderId": "1001", "status": "success",
            "shipmentStatus": "inTransit", "lineItems": [{"id": "10001", "quantity": "1"}],
            "trackingInfo": {"number": "1Z", "company": "UPS"},
            "createdAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"});
        assert_eq!(check_fulfillment_answer(&good), Ok(()));
        let mut misspelt = good.clone();
        misspelt["trackingInfo"]["trackingNumber"] = serde_json::json!("1Z");
        assert_eq!(
            check_fulfillment_answer(&misspelt),
            Err("fulfillment.trackingInfo: unknown field \"trackingNumber\"".into())
        );
        let mut extra = good.clone();
        extra["fulfillmentId"] = serde_json::json!("50001");
        assert!(check_fulfillment_answer(&extra)
            .unwrap_err()
            .contains("fulfillmentId"));
    }
}
