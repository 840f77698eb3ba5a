//! The request bodies of Zonos Classic's calls: the credentials every call carries, `orderNumbers`' one
//! selector, and the four calls on one order; each written and read exactly as Zonos takes it.

use crate::secrets::Secret;
use chrono::NaiveDate;
use serde::de::{self, Deserializer};
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
