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
use crate::secrets::Secret;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The store id and API secret that authenticate every call (sent in the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Store id (an integer; Zonos' examples also send it as a string).
    pub store: u64,
    /// API secret (a GUID).
    pub secret: Secret,
}

impl Credentials {
    fn write<M: SerializeMap>(&self, m: &mut M) -> Result<(), M::Error> {
        m.serialize_entry("store", &self.store)?;
        m.serialize_entry("secret", self.secret.expose())
    }

    fn read(obj: &Map<String, Value>) -> Result<Credentials, RequestError> {
        let store = match obj.get("store").or_else(|| obj.get("storeId")) {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        }
        .ok_or(RequestError::InvalidCredentials)?;
        let secret = match obj.get("secret") {
            Some(Value::String(s)) if !s.trim().is_empty() => Secret::new(s.trim()),
            _ => return Err(RequestError::InvalidCredentials),
        };
        Ok(Credentials { store, secret })
    }
}

/// Why a request body is not one Zonos accepts. The texts are Zonos' own error messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The body is not JSON or a key has the wrong shape.
    #[error("could not parse input")]
    CouldNotParseInput,
    /// Store or secret missing or wrong.
    #[error("Invalid security credentials")]
    InvalidCredentials,
    /// `sinceDate` and `sinceOrderId` (or another pair of selectors) together.
    #[error("sinceDate and sinceOrderId cannot be sent together")]
    TwoSelectors,
    /// No selector at all.
    #[error("One of sinceOrderId, sinceDate or missingMerchantOrderId is required")]
    NoSelector,
    /// `throughDate` without `sinceDate`.
    #[error("throughDate must be sent with sinceDate")]
    ThroughDateAlone,
    /// A date that is not `yyyymmdd`, or a range that ends before it starts.
    #[error("invalid date {0:?}: expected yyyymmdd")]
    InvalidDate(String),
    /// An order id that is not `999-99999` or `99999`.
    #[error("orderId: {0} is not a valid orderId")]
    InvalidOrderId(String),
}

/// Which orders `orderNumbers` returns: exactly one selector, so an invalid combination cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderSelector {
    /// Orders after this Zonos order id (`999-99999` or `99999`).
    SinceOrderId(String),
    /// Orders placed on or after `since` (UTC), up to `through` when given.
    SinceDate {
        /// First day.
        since: NaiveDate,
        /// Last day.
        through: Option<NaiveDate>,
    },
    /// Orders of the last two weeks that have no merchant order id yet.
    MissingMerchantOrderId,
}

const DATE_FORMAT: &str = "%Y%m%d";

/// Reads a `yyyymmdd` date.
pub fn parse_date(raw: &str) -> Result<NaiveDate, RequestError> {
    let t = raw.trim();
    if t.len() != 8 {
        return Err(RequestError::InvalidDate(raw.to_owned()));
    }
    NaiveDate::parse_from_str(t, DATE_FORMAT).map_err(|_| RequestError::InvalidDate(raw.to_owned()))
}

/// True for a Zonos order id with or without its store prefix: `999-99999` or `99999`.
pub fn is_valid_order_id(id: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match id.split_once('-') {
        Some((store, number)) => digits(store) && digits(number),
        None => digits(id),
    }
}

impl OrderSelector {
    /// Orders after a Zonos order id.
    pub fn since_order_id(id: impl Into<String>) -> Result<Self, RequestError> {
        let id = id.into();
        if is_valid_order_id(id.trim()) {
            Ok(OrderSelector::SinceOrderId(id.trim().to_owned()))
        } else {
            Err(RequestError::InvalidOrderId(id))
        }
    }

    /// Orders in a date range (UTC days); `through` may not be before `since`.
    pub fn since_date(since: NaiveDate, through: Option<NaiveDate>) -> Result<Self, RequestError> {
        match through {
            Some(t) if t < since => {
                Err(RequestError::InvalidDate(t.format(DATE_FORMAT).to_string()))
            }
            _ => Ok(OrderSelector::SinceDate { since, through }),
        }
    }
}

/// `POST /v1/orderNumbers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderNumbersRequest {
    /// Who asks.
    pub credentials: Credentials,
    /// Which orders.
    pub selector: OrderSelector,
    /// Include `merchantOrderId` and the status fields in the answer.
    pub statuses: bool,
}

impl Serialize for OrderNumbersRequest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        self.credentials.write(&mut m)?;
        match &self.selector {
            OrderSelector::SinceOrderId(id) => m.serialize_entry("sinceOrderId", id)?,
            OrderSelector::SinceDate { since, through } => {
                m.serialize_entry("sinceDate", &since.format(DATE_FORMAT).to_string())?;
                if let Some(t) = through {
                    m.serialize_entry("throughDate", &t.format(DATE_FORMAT).to_string())?;
                }
            }
            OrderSelector::MissingMerchantOrderId => {
                m.serialize_entry("missingMerchantOrderId", &true)?
            }
        }
        if self.statuses {
            m.serialize_entry("statuses", &true)?;
        }
        m.end()
    }
}

impl OrderNumbersRequest {
    /// Reads a request body as Zonos does, with Zonos' own refusals.
    pub fn from_json(body: &Value) -> Result<Self, RequestError> {
        let obj = body.as_object().ok_or(RequestError::CouldNotParseInput)?;
        let credentials = Credentials::read(obj)?;
        let text = |k: &str| -> Result<Option<String>, RequestError> {
            match obj.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(_) => Err(RequestError::CouldNotParseInput),
            }
        };
        let since_id = text("sinceOrderId")?;
        let since_date = text("sinceDate")?;
        let through = text("throughDate")?;
        let missing = match obj.get("missingMerchantOrderId") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::Bool(true)) => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(_) => return Err(RequestError::CouldNotParseInput),
        };
        let chosen = [since_id.is_some(), since_date.is_some(), missing]
            .iter()
            .filter(|b| **b)
            .count();
        if chosen > 1 {
            return Err(RequestError::TwoSelectors);
        }
        if through.is_some() && since_date.is_none() {
            return Err(RequestError::ThroughDateAlone);
        }
        let selector = if let Some(id) = since_id {
            OrderSelector::since_order_id(id)?
        } else if let Some(d) = since_date {
            OrderSelector::since_date(
                parse_date(&d)?,
                through.as_deref().map(parse_date).transpose()?,
            )?
        } else if missing {
            OrderSelector::MissingMerchantOrderId
        } else {
            return Err(RequestError::NoSelector);
        };
        Ok(OrderNumbersRequest {
            credentials,
            selector,
            statuses: obj.contains_key("statuses"),
        })
    }
}

impl<'de> Deserialize<'de> for OrderNumbersRequest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Self::from_json(&v).map_err(de::Error::custom)
    }
}

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

/// `POST /v2/orderDetail` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderDetailRequest {
    /// Who asks.
    pub credentials: Credentials,
    /// Which order.
    pub order_id: String,
}

/// `POST /v1/updateMerchantOrderId` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateMerchantOrderIdRequest {
    /// Who asks.
    pub credentials: Credentials,
    /// Which order.
    pub order_id: String,
    /// The merchant's order id (orderbridge writes the Genstore order id).
    pub merchant_order_id: String,
}

/// `POST /v2/setShipmentTracking` body (no carrier field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetShipmentTrackingRequest {
    /// Who asks.
    pub credentials: Credentials,
    /// Which order.
    pub order_id: String,
    /// Every tracking number of the order.
    pub tracking_numbers: Vec<String>,
}

/// `POST /v1/updateVendorOrderStatus` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateVendorOrderStatusRequest {
    /// Who asks.
    pub credentials: Credentials,
    /// Which order.
    pub order_id: String,
    /// The vendor status to set (`VENDOR_*`).
    pub order_status: String,
}

/// One tracking number in `trackingList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackingNumber {
    /// The number.
    pub number: String,
}

fn order_id_of(obj: &Map<String, Value>) -> Result<String, RequestError> {
    match obj.get("orderId") {
        Some(Value::String(s)) if is_valid_order_id(s.trim()) => Ok(s.trim().to_owned()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::String(s)) => Err(RequestError::InvalidOrderId(s.clone())),
        _ => Err(RequestError::CouldNotParseInput),
    }
}

fn string_of(obj: &Map<String, Value>, key: &str) -> Result<String, RequestError> {
    match obj.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => Err(RequestError::CouldNotParseInput),
    }
}

macro_rules! request_serde {
    ($ty:ty, |$this:ident, $m:ident| $write:block, |$obj:ident, $creds:ident| $read:expr) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let $this = self;
                let mut $m = s.serialize_map(None)?;
                $this.credentials.write(&mut $m)?;
                $write
                $m.end()
            }
        }

        impl $ty {
            /// Reads a request body as Zonos does, with Zonos' own refusals.
            pub fn from_json(body: &Value) -> Result<Self, RequestError> {
                let $obj = body.as_object().ok_or(RequestError::CouldNotParseInput)?;
                let $creds = Credentials::read($obj)?;
                $read
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = Value::deserialize(d)?;
                Self::from_json(&v).map_err(de::Error::custom)
            }
        }
    };
}

request_serde!(
    OrderDetailRequest,
    |this, m| {
        m.serialize_entry("orderId", &this.order_id)?;
    },
    |obj, credentials| Ok(OrderDetailRequest {
        credentials,
        order_id: order_id_of(obj)?
    })
);

request_serde!(
    UpdateMerchantOrderIdRequest,
    |this, m| {
        m.serialize_entry("orderId", &this.order_id)?;
        m.serialize_entry("merchantOrderId", &this.merchant_order_id)?;
    },
    |obj, credentials| Ok(UpdateMerchantOrderIdRequest {
        credentials,
        order_id: order_id_of(obj)?,
        merchant_order_id: string_of(obj, "merchantOrderId")?,
    })
);

request_serde!(
    SetShipmentTrackingRequest,
    |this, m| {
        m.serialize_entry("orderId", &this.order_id)?;
        let list: Vec<TrackingNumber> = this
            .tracking_numbers
            .iter()
            .map(|n| TrackingNumber { number: n.clone() })
            .collect();
        m.serialize_entry("trackingList", &list)?;
    },
    |obj, credentials| {
        let list: Vec<TrackingNumber> = obj
            .get("trackingList")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|_| RequestError::CouldNotParseInput)?
            .unwrap_or_default();
        if list.is_empty() || list.iter().any(|t| t.number.trim().is_empty()) {
            return Err(RequestError::CouldNotParseInput);
        }
        Ok(SetShipmentTrackingRequest {
            credentials,
            order_id: order_id_of(obj)?,
            tracking_numbers: list.into_iter().map(|t| t.number).collect(),
        })
    }
);

request_serde!(
    UpdateVendorOrderStatusRequest,
    |this, m| {
        m.serialize_entry("orderId", &this.order_id)?;
        m.serialize_entry("orderStatus", &this.order_status)?;
    },
    |obj, credentials| Ok(UpdateVendorOrderStatusRequest {
        credentials,
        order_id: order_id_of(obj)?,
        order_status: string_of(obj, "orderStatus")?,
    })
);

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
