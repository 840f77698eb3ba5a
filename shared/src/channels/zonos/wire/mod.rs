//! Zonos Classic (iGlobal) JSON as it travels: `orderNumbers`, `orderDetail`, `updateMerchantOrderId`,
//! `setShipmentTracking`, `updateVendorOrderStatus`, and the HTTP-200 `{"error": …}` answer.
//!
//! Credentials travel in the body (`store`, `secret`). A 200 is not a success until the body says so:
//! [`parse_reply`] turns every answer into [`Reply::Ok`] or [`Reply::Error`].
//!
//! **Decision** (`orderDetail`'s full schema is not in the seeds): the order carries `id`, `orderDate`,
//! `orderStatus`, `orderStatusDate` (epoch ms), `merchantOrderId`, `testOrder`, `currencyCode`,
//! `items[{sku, productId, description, quantity, unitPrice}]`, `shippingCarrierServiceLevel`, the
//! shipping contact and address as flat `shipping*` keys, `email`, totals (`itemsTotal`,
//! `shippingTotal`, `dutyTaxesTotal`, `grandTotal`) and, once set, `trackingList[{number}]`. Keys Zonos
//! adds later are ignored.

use crate::channel::Channel;
use crate::error::MappingError;
use crate::lenient;
use crate::personal::Personal;
use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod requests;

pub use requests::*;

/// `orderNumbers`' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderNumbersResponse {
    /// Live and test orders.
    pub total_count: u32,
    /// Live orders.
    pub order_count: u32,
    /// Test orders.
    pub test_order_count: u32,
    /// The orders.
    #[serde(default, with = "lenient::list")]
    pub orders: Vec<OrderNumber>,
}

/// One order in `orderNumbers`' answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderNumber {
    /// Full Zonos order id, `999-99991`.
    pub id: String,
    /// A test order.
    #[serde(default)]
    pub test_order: bool,
    /// When it was placed (UTC), as Zonos writes it: `2015-01-01 00:33:14.0`.
    pub timestamp: String,
    /// Present when the request asked for `statuses`.
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderNumberStatus>,
}

/// The status fields of an `orderNumbers` entry (with `statuses`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderNumberStatus {
    /// The merchant order id, null until set.
    pub merchant_order_id: Option<String>,
    /// The current status, verbatim.
    pub order_status: String,
    /// When the status last changed, epoch milliseconds.
    pub order_status_date: i64,
    /// The same as UTC text.
    pub order_status_date_string: String,
}

impl OrderNumber {
    /// When it was placed.
    pub fn placed_at(&self) -> Result<DateTime<Utc>, String> {
        parse_timestamp(&self.timestamp)
    }
}

impl From<OrderNumber> for crate::jobs::Listing {
    fn from(n: OrderNumber) -> Self {
        crate::jobs::Listing {
            id: n.id,
            test_order: n.test_order,
            timestamp: n.timestamp,
            status: n.status.map(|s| crate::jobs::ListedStatus {
                merchant_order_id: s.merchant_order_id,
                status: s.order_status,
                changed_at_ms: s.order_status_date,
                changed_at_text: s.order_status_date_string,
            }),
        }
    }
}

impl From<crate::jobs::Listing> for OrderNumber {
    fn from(l: crate::jobs::Listing) -> Self {
        OrderNumber {
            id: l.id,
            test_order: l.test_order,
            timestamp: l.timestamp,
            status: l.status.map(|s| OrderNumberStatus {
                merchant_order_id: s.merchant_order_id,
                order_status: s.status,
                order_status_date: s.changed_at_ms,
                order_status_date_string: s.changed_at_text,
            }),
        }
    }
}

/// Reads Zonos' UTC timestamp text (`2015-01-01 00:33:14.0`); RFC 3339 is accepted too.
pub fn parse_timestamp(raw: &str) -> Result<DateTime<Utc>, String> {
    let t = raw.trim();
    NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
        .map(|n| n.and_utc())
        .or_else(|_| DateTime::parse_from_rfc3339(t).map(|d| d.with_timezone(&Utc)))
        .map_err(|_| format!("{raw:?} is not a timestamp like 2015-01-01 00:33:14.0"))
}

/// Writes a timestamp as Zonos does (Java's `Timestamp.toString()`): `2015-01-01 00:33:14.0`.
pub fn format_timestamp(t: DateTime<Utc>) -> String {
    let nanos = t.timestamp_subsec_nanos();
    let fraction = if nanos == 0 {
        "0".to_owned()
    } else {
        format!("{nanos:09}").trim_end_matches('0').to_owned()
    };
    format!("{}.{fraction}", t.format("%Y-%m-%d %H:%M:%S"))
}

/// `{"success": "Updated Order: …"}`: the answer of the three writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessReply {
    /// What Zonos did.
    pub success: String,
}

/// `{"order": …}`: `orderDetail`'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderDetailResponse {
    /// The order.
    pub order: Order,
}

/// A Zonos order as `orderDetail` returns it (see the module's decision note).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Order {
    /// Full Zonos order id, `999-99991`.
    #[serde(with = "lenient::string")]
    pub id: Option<String>,
    /// When it was placed (UTC).
    #[serde(with = "lenient::string")]
    pub order_date: Option<String>,
    /// Current status, verbatim.
    #[serde(with = "lenient::string")]
    pub order_status: Option<String>,
    /// When the status last changed, epoch milliseconds.
    #[serde(with = "lenient::integer")]
    pub order_status_date: Option<i64>,
    /// The merchant order id, once set.
    #[serde(with = "lenient::string")]
    pub merchant_order_id: Option<String>,
    /// A test order.
    #[serde(with = "lenient::flag")]
    pub test_order: Option<bool>,
    /// Currency of every amount.
    #[serde(with = "lenient::string")]
    pub currency_code: Option<String>,
    /// Lines.
    #[serde(with = "lenient::list", skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    /// Carrier and service, e.g. `UPS_EXPEDITED`.
    #[serde(with = "lenient::string")]
    pub shipping_carrier_service_level: Option<String>,
    /// Recipient.
    #[serde(with = "lenient::personal")]
    pub shipping_name: Option<Personal<String>>,
    /// Street line 1.
    #[serde(with = "lenient::personal")]
    pub shipping_address1: Option<Personal<String>>,
    /// Street line 2.
    #[serde(with = "lenient::personal")]
    pub shipping_address2: Option<Personal<String>>,
    /// City.
    #[serde(with = "lenient::personal")]
    pub shipping_city: Option<Personal<String>>,
    /// State or province.
    #[serde(with = "lenient::personal")]
    pub shipping_state: Option<Personal<String>>,
    /// Postal code.
    #[serde(with = "lenient::personal")]
    pub shipping_zip: Option<Personal<String>>,
    /// Country (ISO code).
    #[serde(with = "lenient::string")]
    pub shipping_country: Option<String>,
    /// Phone.
    #[serde(with = "lenient::personal")]
    pub shipping_phone: Option<Personal<String>>,
    /// Buyer's email.
    #[serde(with = "lenient::personal")]
    pub email: Option<Personal<String>>,
    /// Sum of the lines.
    #[serde(with = "lenient::decimal")]
    pub items_total: Option<Decimal>,
    /// Shipping charged.
    #[serde(with = "lenient::decimal")]
    pub shipping_total: Option<Decimal>,
    /// Duties and taxes charged.
    #[serde(with = "lenient::decimal")]
    pub duty_taxes_total: Option<Decimal>,
    /// What the customer paid.
    #[serde(with = "lenient::decimal")]
    pub grand_total: Option<Decimal>,
    /// Tracking numbers set by `setShipmentTracking`.
    #[serde(with = "lenient::list", skip_serializing_if = "Vec::is_empty")]
    pub tracking_list: Vec<TrackingNumber>,
}

/// A line of a Zonos order.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Item {
    /// SKU.
    #[serde(with = "lenient::string")]
    pub sku: Option<String>,
    /// Product id.
    #[serde(with = "lenient::string")]
    pub product_id: Option<String>,
    /// Title.
    #[serde(with = "lenient::string")]
    pub description: Option<String>,
    /// Quantity.
    #[serde(with = "lenient::quantity")]
    pub quantity: Option<u32>,
    /// Unit price.
    #[serde(with = "lenient::decimal")]
    pub unit_price: Option<Decimal>,
}

/// Every Zonos answer is one of these: the call's body, or a 200 carrying `{"error": …}`.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply<T> {
    /// The call worked.
    Ok(T),
    /// Zonos refused; the message is Zonos' own.
    Error(ZonosError),
}

/// A refusal Zonos sent as `{"error": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ZonosError {
    /// Zonos' message.
    pub message: String,
}

/// What kind of refusal a Zonos error message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZonosErrorKind {
    /// "Invalid security credentials": fix the configuration.
    InvalidCredentials,
    /// "could not parse input": the request was malformed.
    CouldNotParseInput,
    /// "orderId: … is not a valid orderId".
    InvalidOrderId,
    /// "orderId or referenceId parameter is required".
    OrderIdRequired,
    /// "Cannot specify both orderId and referenceId parameters".
    OrderIdAndReferenceId,
    /// "Unable to process order detail": a failure on Zonos' side.
    CannotProcessOrderDetail,
    /// "Couldn't find order for sinceOrderId: …".
    OrderNotFound,
    /// Anything else.
    Other,
}

impl ZonosError {
    /// Classifies the message.
    pub fn kind(&self) -> ZonosErrorKind {
        let m = self.message.to_ascii_lowercase();
        if m.contains("security credentials") {
            ZonosErrorKind::InvalidCredentials
        } else if m.contains("parse input") {
            ZonosErrorKind::CouldNotParseInput
        } else if m.contains("not a valid orderid") {
            ZonosErrorKind::InvalidOrderId
        } else if m.contains("both orderid and referenceid") {
            ZonosErrorKind::OrderIdAndReferenceId
        } else if m.contains("referenceid") && m.contains("required") {
            ZonosErrorKind::OrderIdRequired
        } else if m.contains("process order detail") {
            ZonosErrorKind::CannotProcessOrderDetail
        } else if m.contains("couldn't find order") || m.contains("could not find order") {
            ZonosErrorKind::OrderNotFound
        } else {
            ZonosErrorKind::Other
        }
    }

    /// Whether trying the same call again later can help (only a failure on Zonos' side can).
    pub fn retryable(&self) -> bool {
        matches!(
            self.kind(),
            ZonosErrorKind::CannotProcessOrderDetail | ZonosErrorKind::Other
        )
    }
}

/// Reads a Zonos answer: `{"error": …}` (whatever the HTTP status) is [`Reply::Error`]; anything else
/// must parse as `T`, or the body is garbage and that is an error naming the field.
pub fn parse_reply<T: DeserializeOwned>(body: &[u8]) -> Result<Reply<T>, MappingError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        MappingError::new(
            Channel::Zonos,
            "?",
            "(body)",
            format!("is not valid JSON: {e}"),
        )
    })?;
    if let Some(err) = value.as_object().and_then(|o| o.get("error")) {
        let message = match err {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        return Ok(Reply::Error(ZonosError { message }));
    }
    crate::error::parse_value(Channel::Zonos, "id", value).map(Reply::Ok)
}
