//! Genstore's orders as the sandbox keeps and sends them, and the order-create body it reads: names from
//! seed 001 and `platforms.md` §1, written here and never taken from the client
//! (`orderbridge::channels::genstore`), so a name the client gets wrong is refused rather than agreed
//! with. Only what the sandbox sets or reads is here. Numbers travel in Genstore's string form (seed 001:
//! `"quantity": "1"`, `"price": "10.00"`), times as RFC 3339 UTC. Every order is still checked against
//! the documented shape before it leaves (`genstore::order_json`), and every create body's keys before
//! it is read (`genstore::requests::check_order_keys`).

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::fmt::Display;
use std::str::FromStr;

/// A number (or anything with a text form) as Genstore writes it: a string.
fn text<T: Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

fn text_opt<T: Display, S: Serializer>(v: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

fn time<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn time_opt<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => time(t, s),
        None => s.serialize_none(),
    }
}

/// A number sent as a JSON number or as its text, as Genstore itself accepts both; none for anything
/// else, or a value `T` cannot hold.
pub(crate) fn numeric<T: FromStr>(v: &Value) -> Option<T> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

/// [`numeric`], for a field that must hold one.
fn number<'de, T: FromStr, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let v = Value::deserialize(d)?;
    numeric(&v).ok_or_else(|| serde::de::Error::custom(format!("expected a number, got {v}")))
}

fn flag_opt<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(b) => s.serialize_str(if *b { "true" } else { "false" }),
        None => s.serialize_none(),
    }
}

/// A flag sent as a JSON boolean or as `"true"` / `"false"`.
fn flag_in<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(b)),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
        Some(v) => Err(serde::de::Error::custom(format!(
            "expected true or false, got {v}"
        ))),
    }
}

fn number_opt<'de, T: FromStr, D: Deserializer<'de>>(d: D) -> Result<Option<T>, D::Error> {
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(v) => number(v).map(Some).map_err(serde::de::Error::custom),
    }
}

/// An order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// Genstore's id.
    pub order_id: String,
    /// The merchant's note.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `web`, or the channel that created it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// The creating channel's own id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_identifier: Option<String>,
    /// `pending`, `paid`, `partially_refunded`, ….
    pub financial_status: String,
    /// `fulfilled`, `partial`, or none yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfillment_status: Option<String>,
    /// ISO 4217 (a test may take it away).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Total.
    #[serde(serialize_with = "text")]
    pub total_price: Decimal,
    /// Subtotal.
    #[serde(serialize_with = "text")]
    pub subtotal_price: Decimal,
    /// The lines' total.
    #[serde(serialize_with = "text")]
    pub total_line_items_price: Decimal,
    /// Tax.
    #[serde(serialize_with = "text_opt", skip_serializing_if = "Option::is_none")]
    pub total_tax: Option<Decimal>,
    /// Discounts.
    #[serde(serialize_with = "text_opt", skip_serializing_if = "Option::is_none")]
    pub total_discounts: Option<Decimal>,
    /// The discounts, itemised as they were sent (keys checked against the documents).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub discount_codes: Vec<Map<String, Value>>,
    /// Whether the tax includes duties (`"true"` / `"false"`, Genstore's way).
    #[serde(serialize_with = "flag_opt", skip_serializing_if = "Option::is_none")]
    pub duties_included: Option<bool>,
    /// Comma-separated tags.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    /// Why it was cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    /// Created.
    #[serde(serialize_with = "time")]
    pub created_at: DateTime<Utc>,
    /// Last changed.
    #[serde(serialize_with = "time")]
    pub updated_at: DateTime<Utc>,
    /// Cancelled.
    #[serde(serialize_with = "time_opt", skip_serializing_if = "Option::is_none")]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// The buyer's email.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The lines.
    pub line_items: Vec<LineItem>,
    /// The fulfillments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fulfillments: Vec<Fulfillment>,
    /// The shipping address as it was sent (its keys checked against the documents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Map<String, Value>>,
    /// The refunds: kept beside the order (its financial status follows them) but not part of the
    /// documented order; a refund reaches a client as `refunds/create`.
    #[serde(skip)]
    pub refunds: Vec<Refund>,
}

/// A line of an order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// Its id.
    pub id: String,
    /// Title.
    pub title: String,
    /// SKU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// The product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    /// Ordered.
    #[serde(serialize_with = "text")]
    pub quantity: u32,
    /// Ordered, less removals.
    #[serde(serialize_with = "text")]
    pub current_quantity: u32,
    /// Not yet in a live fulfillment.
    #[serde(serialize_with = "text")]
    pub fulfillable_quantity: u32,
    /// `fulfilled`, `partial`, `unfulfilled`.
    pub fulfillment_status: String,
    /// Unit price.
    #[serde(serialize_with = "text")]
    pub price: Decimal,
    /// Needs shipping.
    #[serde(serialize_with = "text")]
    pub requires_shipping: bool,
}

/// A fulfillment (Genstore's documented fulfillment object).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fulfillment {
    /// Its id.
    pub fulfill_id: String,
    /// The order's id.
    pub order_id: String,
    /// `success`, `cancelled`, ….
    pub status: String,
    /// `inTransit`, `delivered`, … as the carrier reports it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment_status: Option<String>,
    /// The lines and quantities.
    pub line_items: Vec<LineQuantity>,
    /// The package's tracking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_info: Option<TrackingInfo>,
    /// Created.
    #[serde(serialize_with = "time")]
    pub created_at: DateTime<Utc>,
    /// Last changed.
    #[serde(serialize_with = "time")]
    pub updated_at: DateTime<Utc>,
}

impl Fulfillment {
    /// Not cancelled nor failed: its quantities count as shipped.
    pub fn live(&self) -> bool {
        !matches!(self.status.as_str(), "cancelled" | "failure" | "error")
    }
}

/// A line and quantity of a fulfillment.
#[derive(Debug, Clone, Serialize)]
pub struct LineQuantity {
    /// The line's id.
    pub id: String,
    /// How many.
    #[serde(serialize_with = "text")]
    pub quantity: u32,
}

/// A fulfillment's tracking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingInfo {
    /// Tracking number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Carrier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Tracking page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A refund, as `refunds/create` carries it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    /// Its id.
    pub refund_id: String,
    /// The order's id.
    pub order_id: String,
    /// Created.
    #[serde(serialize_with = "time")]
    pub created_at: DateTime<Utc>,
    /// Why.
    pub note: String,
    /// The lines refunded.
    pub refund_line_items: Vec<RefundLine>,
    /// The money.
    pub transactions: Vec<RefundTransaction>,
}

/// A refunded line.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundLine {
    /// The line.
    pub line_item_id: String,
    /// How many.
    #[serde(serialize_with = "text")]
    pub quantity: u32,
    /// Their price.
    #[serde(serialize_with = "text")]
    pub subtotal: Decimal,
}

/// The money of a refund.
#[derive(Debug, Clone, Serialize)]
pub struct RefundTransaction {
    /// How much.
    #[serde(serialize_with = "text")]
    pub amount: Decimal,
    /// In what.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// `POST /orders`' `order` (and the control API's order): what a caller may set.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrder {
    /// `sourceName`.
    #[serde(default)]
    pub source_name: String,
    /// `sourceIdentifier`.
    #[serde(default)]
    pub source_identifier: String,
    /// `currency`.
    pub currency: String,
    /// `lineItems`.
    pub line_items: Vec<NewLineItem>,
    /// `financialStatus` (default `pending`).
    pub financial_status: Option<String>,
    /// `totalPrice` (default: the lines and tax).
    #[serde(default, deserialize_with = "number_opt")]
    pub total_price: Option<Decimal>,
    /// `totalTax`.
    #[serde(default, deserialize_with = "number_opt")]
    pub total_tax: Option<Decimal>,
    /// `totalLineItemsPrice`: when sent, it must be the lines' sum.
    #[serde(default, deserialize_with = "number_opt")]
    pub total_line_items_price: Option<Decimal>,
    /// `subtotalPrice`: when sent, the lines less `totalDiscounts`.
    #[serde(default, deserialize_with = "number_opt")]
    pub subtotal_price: Option<Decimal>,
    /// `totalDiscounts`: when sent with `discountCodes`, their sum.
    #[serde(default, deserialize_with = "number_opt")]
    pub total_discounts: Option<Decimal>,
    /// `discountCodes`.
    #[serde(default)]
    pub discount_codes: Vec<Map<String, Value>>,
    /// `dutiesIncluded`, a boolean or `"true"` / `"false"`.
    #[serde(default, deserialize_with = "flag_in")]
    pub duties_included: Option<bool>,
    /// `email`.
    pub email: Option<String>,
    /// `shippingAddress`.
    pub shipping_address: Option<Map<String, Value>>,
    /// `tags`.
    pub tags: Option<String>,
    /// `note`.
    pub note: Option<String>,
}

/// A line of a new order.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewLineItem {
    /// `title`.
    pub title: String,
    /// `sku`.
    pub sku: Option<String>,
    /// `productId`.
    pub product_id: Option<String>,
    /// `quantity`.
    #[serde(deserialize_with = "number")]
    pub quantity: u32,
    /// `price`, the unit price.
    #[serde(deserialize_with = "number")]
    pub price: Decimal,
}

/// `POST /orders`' body.
#[derive(Debug, Clone, Deserialize)]
pub struct CreateOrderRequest {
    /// `order`.
    pub order: NewOrder,
}
