//! Genstore's JSON exactly as it travels: orders, line items, fulfillments, refunds, webhook bodies and
//! the request bodies orderbridge sends (API version `202412`).
//!
//! Genstore writes numbers and booleans as strings or natively, `"null"` for null and `""` for a missing
//! object; every scalar here goes through [`crate::lenient`], and serialises back in Genstore's string
//! form (seed 001). Unknown keys are ignored: Genstore may add fields at any time.
//!
//! **Decisions** (the public docs are silent; see `platforms.md`): fulfillments mirror Shopify's shape in
//! camelCase; a fulfillment may carry `shipmentStatus` (`inTransit`, `delivered`, …) as the carrier
//! reports it, which is how Genstore says a package was delivered; order bodies of `orders/*` webhooks
//! are the order object itself; a refund is `{refundId, orderId, createdAt, note, refundLineItems,
//! transactions}`.

use crate::lenient;
use crate::personal::Personal;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

mod events;
mod requests;

pub use events::*;
pub use requests::*;

/// A Genstore order (`GET /orders/{orderId}` → `{"order": …}`, and every `orders/*` webhook body).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Order {
    /// The order id.
    #[serde(with = "lenient::string")]
    pub order_id: Option<String>,
    /// Merchant's note: free text that can name the customer, so personal.
    #[serde(with = "lenient::personal")]
    pub note: Option<Personal<String>>,
    /// The channel the order came from (`instagram`, `zonos`, `google`).
    #[serde(with = "lenient::string")]
    pub source_name: Option<String>,
    /// The order's id on that channel.
    #[serde(with = "lenient::string")]
    pub source_identifier: Option<String>,
    /// Payment state: `pending`, `authorized`, `paid`, `partially_refunded`, `refunded`, `voided`, ….
    #[serde(with = "lenient::string")]
    pub financial_status: Option<String>,
    /// Shipping state: null / `unfulfilled`, `partial`, `fulfilled`, `restocked`.
    #[serde(with = "lenient::string")]
    pub fulfillment_status: Option<String>,
    /// Shop currency.
    #[serde(with = "lenient::string")]
    pub currency: Option<String>,
    /// Currency shown to the customer.
    #[serde(with = "lenient::string")]
    pub presentment_currency: Option<String>,
    /// Total price.
    #[serde(with = "lenient::decimal")]
    pub total_price: Option<Decimal>,
    /// Subtotal (lines after discounts, before shipping and tax).
    #[serde(with = "lenient::decimal")]
    pub subtotal_price: Option<Decimal>,
    /// Sum of line prices.
    #[serde(with = "lenient::decimal")]
    pub total_line_items_price: Option<Decimal>,
    /// Total tax.
    #[serde(with = "lenient::decimal")]
    pub total_tax: Option<Decimal>,
    /// Total discounts.
    #[serde(with = "lenient::decimal")]
    pub total_discounts: Option<Decimal>,
    /// Amount still owed.
    #[serde(with = "lenient::decimal")]
    pub total_outstanding: Option<Decimal>,
    /// Current total after edits.
    #[serde(with = "lenient::decimal")]
    pub current_total_price: Option<Decimal>,
    /// Current subtotal after edits.
    #[serde(with = "lenient::decimal")]
    pub current_subtotal_price: Option<Decimal>,
    /// Current tax after edits.
    #[serde(with = "lenient::decimal")]
    pub current_total_tax: Option<Decimal>,
    /// Current discounts after edits.
    #[serde(with = "lenient::decimal")]
    pub current_total_discounts: Option<Decimal>,
    /// Total weight in grams.
    #[serde(with = "lenient::decimal")]
    pub total_weight: Option<Decimal>,
    /// Whether prices include tax.
    #[serde(with = "lenient::flag")]
    pub taxes_included: Option<bool>,
    /// Whether duties are included.
    #[serde(with = "lenient::flag")]
    pub duties_included: Option<bool>,
    /// Whether the buyer accepts marketing.
    #[serde(with = "lenient::flag")]
    pub buyer_accepts_marketing: Option<bool>,
    /// Payment gateways used (an array, or an array encoded in a string).
    #[serde(with = "lenient::string_list", skip_serializing_if = "Vec::is_empty")]
    pub payment_gateway_names: Vec<String>,
    /// Payment terms.
    #[serde(with = "lenient::object")]
    pub payment_terms: Option<PaymentTerms>,
    /// Discount codes applied.
    #[serde(with = "lenient::list", skip_serializing_if = "Vec::is_empty")]
    pub discount_codes: Vec<DiscountCode>,
    /// Shipping charged, by method.
    #[serde(with = "lenient::list", skip_serializing_if = "Vec::is_empty")]
    pub shipping_lines: Vec<ShippingLine>,
    /// Comma-separated tags.
    #[serde(with = "lenient::string")]
    pub tags: Option<String>,
    /// Why it was cancelled.
    #[serde(with = "lenient::string")]
    pub cancel_reason: Option<String>,
    /// Created.
    #[serde(with = "lenient::timestamp")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last changed (one-second resolution).
    #[serde(with = "lenient::timestamp")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Cancelled (`"null"` when not).
    #[serde(with = "lenient::timestamp")]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Closed.
    #[serde(with = "lenient::timestamp")]
    pub closed_at: Option<DateTime<Utc>>,
    /// Buyer's email.
    #[serde(with = "lenient::personal")]
    pub email: Option<Personal<String>>,
    /// Buyer's phone.
    #[serde(with = "lenient::personal")]
    pub phone: Option<Personal<String>>,
    /// Lines.
    #[serde(with = "lenient::list", skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItem>,
    /// Fulfillments (packages).
    #[serde(with = "lenient::list", skip_serializing_if = "Vec::is_empty")]
    pub fulfillments: Vec<Fulfillment>,
    /// Refunds.
    #[serde(with = "lenient::list", skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<Refund>,
    /// Where it ships.
    #[serde(with = "lenient::object")]
    pub shipping_address: Option<Personal<Address>>,
    /// Where it bills.
    #[serde(with = "lenient::object")]
    pub billing_address: Option<Personal<Address>>,
    /// The customer.
    #[serde(with = "lenient::object")]
    pub customer: Option<Customer>,
}

/// An order line.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LineItem {
    /// Line id.
    #[serde(with = "lenient::string")]
    pub id: Option<String>,
    /// Product title.
    #[serde(with = "lenient::string")]
    pub title: Option<String>,
    /// Variant title.
    #[serde(with = "lenient::string")]
    pub variant_title: Option<String>,
    /// SKU.
    #[serde(with = "lenient::string")]
    pub sku: Option<String>,
    /// Product id.
    #[serde(with = "lenient::string")]
    pub product_id: Option<String>,
    /// Variant id.
    #[serde(with = "lenient::string")]
    pub variant_id: Option<String>,
    /// Ordered quantity.
    #[serde(with = "lenient::quantity")]
    pub quantity: Option<u32>,
    /// Quantity after removals (ordered less cancelled).
    #[serde(with = "lenient::quantity")]
    pub current_quantity: Option<u32>,
    /// Quantity still to fulfill.
    #[serde(with = "lenient::quantity")]
    pub fulfillable_quantity: Option<u32>,
    /// The line's fulfillment state.
    #[serde(with = "lenient::string")]
    pub fulfillment_status: Option<String>,
    /// Unit price.
    #[serde(with = "lenient::decimal")]
    pub price: Option<Decimal>,
    /// Discount on the line.
    #[serde(with = "lenient::decimal")]
    pub total_discount: Option<Decimal>,
    /// Weight in grams.
    #[serde(with = "lenient::decimal")]
    pub grams: Option<Decimal>,
    /// Taxable.
    #[serde(with = "lenient::flag")]
    pub taxable: Option<bool>,
    /// Needs shipping.
    #[serde(with = "lenient::flag")]
    pub requires_shipping: Option<bool>,
    /// A gift card.
    #[serde(with = "lenient::flag")]
    pub gift_card: Option<bool>,
}

/// A fulfillment: one package with its lines and tracking.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Fulfillment {
    /// Fulfillment id.
    #[serde(with = "lenient::string")]
    pub fulfill_id: Option<String>,
    /// The order it belongs to.
    #[serde(with = "lenient::string")]
    pub order_id: Option<String>,
    /// `pending`, `open`, `success`, `cancelled`, `error`, `failure`.
    #[serde(with = "lenient::string")]
    pub status: Option<String>,
    /// The carrier's view: `labelPrinted`, `inTransit`, `outForDelivery`, `delivered`, `failure`, ….
    #[serde(with = "lenient::string")]
    pub shipment_status: Option<String>,
    /// Lines and quantities in the package.
    #[serde(with = "lenient::list", skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineQuantity>,
    /// Tracking.
    #[serde(with = "lenient::object")]
    pub tracking_info: Option<TrackingInfo>,
    /// Created.
    #[serde(with = "lenient::timestamp")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last changed.
    #[serde(with = "lenient::timestamp")]
    pub updated_at: Option<DateTime<Utc>>,
}

/// A line and a quantity of it.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LineQuantity {
    /// The order line's id.
    #[serde(with = "lenient::string")]
    pub id: Option<String>,
    /// How many.
    #[serde(with = "lenient::quantity")]
    pub quantity: Option<u32>,
}

/// Tracking of a fulfillment.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TrackingInfo {
    /// Tracking number.
    #[serde(with = "lenient::string")]
    pub number: Option<String>,
    /// Carrier name.
    #[serde(with = "lenient::string")]
    pub company: Option<String>,
    /// Tracking page.
    #[serde(with = "lenient::string")]
    pub url: Option<String>,
}

/// A postal address (personal data as a whole).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Address {
    /// Full name.
    #[serde(with = "lenient::string")]
    pub name: Option<String>,
    /// First name.
    #[serde(with = "lenient::string")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(with = "lenient::string")]
    pub last_name: Option<String>,
    /// Street line 1.
    #[serde(with = "lenient::string")]
    pub address1: Option<String>,
    /// Street line 2.
    #[serde(with = "lenient::string")]
    pub address2: Option<String>,
    /// City.
    #[serde(with = "lenient::string")]
    pub city: Option<String>,
    /// Province or state.
    #[serde(with = "lenient::string")]
    pub province: Option<String>,
    /// Province code.
    #[serde(with = "lenient::string")]
    pub province_code: Option<String>,
    /// Country.
    #[serde(with = "lenient::string")]
    pub country: Option<String>,
    /// ISO country code.
    #[serde(with = "lenient::string")]
    pub country_code: Option<String>,
    /// Postal code.
    #[serde(with = "lenient::string")]
    pub zip: Option<String>,
    /// Phone.
    #[serde(with = "lenient::string")]
    pub phone: Option<String>,
    /// Latitude.
    #[serde(with = "lenient::decimal")]
    pub latitude: Option<Decimal>,
    /// Longitude.
    #[serde(with = "lenient::decimal")]
    pub longitude: Option<Decimal>,
}

/// The buyer.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Customer {
    /// Customer id.
    #[serde(with = "lenient::string")]
    pub id: Option<String>,
    /// First name.
    #[serde(with = "lenient::personal")]
    pub first_name: Option<Personal<String>>,
    /// Last name.
    #[serde(with = "lenient::personal")]
    pub last_name: Option<Personal<String>>,
    /// Email.
    #[serde(with = "lenient::personal")]
    pub email: Option<Personal<String>>,
    /// Phone.
    #[serde(with = "lenient::personal")]
    pub phone: Option<Personal<String>>,
    /// Note about the customer.
    #[serde(with = "lenient::personal")]
    pub note: Option<Personal<String>>,
    /// Account state.
    #[serde(with = "lenient::string")]
    pub state: Option<String>,
    /// Tags.
    #[serde(with = "lenient::string")]
    pub tags: Option<String>,
    /// Customer currency.
    #[serde(with = "lenient::string")]
    pub currency: Option<String>,
    /// Tax exempt.
    #[serde(with = "lenient::flag")]
    pub tax_exempt: Option<bool>,
    /// Tax exemptions.
    #[serde(with = "lenient::string_list", skip_serializing_if = "Vec::is_empty")]
    pub tax_exemptions: Vec<String>,
    /// Email verified.
    #[serde(with = "lenient::flag")]
    pub verified_email: Option<bool>,
    /// Created.
    #[serde(with = "lenient::timestamp")]
    pub created_at: Option<DateTime<Utc>>,
    /// Last changed.
    #[serde(with = "lenient::timestamp")]
    pub updated_at: Option<DateTime<Utc>>,
    /// Default address (`""` when there is none).
    #[serde(with = "lenient::object")]
    pub default_address: Option<Personal<Address>>,
}

/// An amount in a currency, the shape of an order's payment terms and of a refund's transaction.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Amount {
    /// Amount.
    #[serde(with = "lenient::decimal")]
    pub amount: Option<Decimal>,
    /// Currency.
    #[serde(with = "lenient::string")]
    pub currency: Option<String>,
}

/// Payment terms.
pub type PaymentTerms = Amount;

/// A discount code applied to the order.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DiscountCode {
    /// The code.
    #[serde(with = "lenient::string")]
    pub code: Option<String>,
    /// Amount.
    #[serde(with = "lenient::decimal")]
    pub amount: Option<Decimal>,
    /// `fixed_amount`, `percentage`, `shipping`.
    #[serde(rename = "type", with = "lenient::string")]
    pub kind: Option<String>,
}

/// Shipping charged for one method.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ShippingLine {
    /// Method title.
    #[serde(with = "lenient::string")]
    pub title: Option<String>,
    /// Method code (a carrier service level, for mirrored orders).
    #[serde(with = "lenient::string")]
    pub code: Option<String>,
    /// Price charged.
    #[serde(with = "lenient::decimal")]
    pub price: Option<Decimal>,
}

/// `{"order": …}`: the body of get order and of create order's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEnvelope {
    /// The order.
    pub order: Order,
}

/// `{"orders": […]}`: a page of the order list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderList {
    /// The orders on this page.
    #[serde(default, with = "lenient::list")]
    pub orders: Vec<Order>,
}

/// `{"fulfillment": …}`: create fulfillment's and update tracking's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfillmentEnvelope {
    /// The fulfillment.
    pub fulfillment: Fulfillment,
}

/// `{"fulfillments": […]}`: an order's fulfillments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FulfillmentList {
    /// The fulfillments.
    #[serde(default, with = "lenient::list")]
    pub fulfillments: Vec<Fulfillment>,
}

/// Any non-2xx answer: `{"error": "…"}` (an object or list in `error` is kept as its JSON text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What Genstore said.
    pub error: serde_json::Value,
}

impl ErrorBody {
    /// The message as text.
    pub fn message(&self) -> String {
        match &self.error {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}
