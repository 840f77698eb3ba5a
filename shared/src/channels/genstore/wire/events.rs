//! The webhook bodies that are not orders: a refund (`refunds/create`) and the compliance requests.

use crate::lenient;
use crate::personal::Personal;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A refund (`refunds/create` webhook body). An order's `refunds`, where Genstore lists them, are read in
/// the same shape; the documented order does not promise them.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Refund {
    /// Refund id.
    #[serde(with = "lenient::string")]
    pub refund_id: Option<String>,
    /// The order refunded.
    #[serde(with = "lenient::string")]
    pub order_id: Option<String>,
    /// When.
    #[serde(with = "lenient::timestamp")]
    pub created_at: Option<DateTime<Utc>>,
    /// Why: free text that can name the customer, so personal.
    #[serde(with = "lenient::personal")]
    pub note: Option<Personal<String>>,
    /// Lines refunded.
    #[serde(with = "lenient::list", skip_serializing_if = "Vec::is_empty")]
    pub refund_line_items: Vec<RefundLineItem>,
    /// Money moved.
    #[serde(with = "lenient::list", skip_serializing_if = "Vec::is_empty")]
    pub transactions: Vec<RefundTransaction>,
}

/// A line refunded.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RefundLineItem {
    /// The order line.
    #[serde(with = "lenient::string")]
    pub line_item_id: Option<String>,
    /// How many.
    #[serde(with = "lenient::quantity")]
    pub quantity: Option<u32>,
    /// Amount for the line.
    #[serde(with = "lenient::decimal")]
    pub subtotal: Option<Decimal>,
}

/// Money moved by a refund.
pub type RefundTransaction = super::Amount;

/// The body of the compliance topics `customers/data_request`, `customers/redact` and `shop/redact`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ComplianceRequest {
    /// The shop.
    #[serde(with = "lenient::string")]
    pub shop_domain: Option<String>,
    /// The customer concerned (absent for `shop/redact`).
    #[serde(with = "lenient::object")]
    pub customer: Option<ComplianceCustomer>,
    /// Orders whose personal data must go.
    #[serde(with = "lenient::string_list", skip_serializing_if = "Vec::is_empty")]
    pub orders_to_redact: Vec<String>,
    /// Orders whose data a `customers/data_request` asks for.
    #[serde(with = "lenient::string_list", skip_serializing_if = "Vec::is_empty")]
    pub orders_requested: Vec<String>,
}

/// The customer named by a compliance request.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ComplianceCustomer {
    /// Customer id.
    #[serde(with = "lenient::string")]
    pub id: Option<String>,
    /// Email.
    #[serde(with = "lenient::personal")]
    pub email: Option<Personal<String>>,
    /// Phone.
    #[serde(with = "lenient::personal")]
    pub phone: Option<Personal<String>>,
}
