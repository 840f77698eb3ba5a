//! The bodies orderbridge sends Genstore: an order to create (a mirror), a payment-state or hold change,
//! a fulfillment to create, new tracking for one.

use super::{Address, LineQuantity, TrackingInfo};
use crate::lenient;
use crate::personal::Personal;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `POST /orders` body: `{"order": …}` with the order to create (mirroring an external order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateOrderRequest {
    /// The new order.
    pub order: NewOrder,
}

/// An order to create in Genstore.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewOrder {
    /// The channel it comes from (`zonos`, `google`).
    pub source_name: String,
    /// Its id there.
    pub source_identifier: String,
    /// Currency of the prices.
    pub currency: String,
    /// Lines.
    pub line_items: Vec<NewLineItem>,
    /// Payment state to record (`paid` for checkout-paid channel orders).
    pub financial_status: Option<String>,
    /// Total price.
    #[serde(default, with = "lenient::decimal")]
    pub total_price: Option<Decimal>,
    /// Sum of the lines' prices (unit price × quantity), before discounts.
    #[serde(default, with = "lenient::decimal")]
    pub total_line_items_price: Option<Decimal>,
    /// The lines less discounts, before shipping and tax.
    #[serde(default, with = "lenient::decimal")]
    pub subtotal_price: Option<Decimal>,
    /// Discounts given.
    #[serde(default, with = "lenient::decimal")]
    pub total_discounts: Option<Decimal>,
    /// The discounts, itemised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub discount_codes: Vec<super::DiscountCode>,
    /// Total tax.
    #[serde(default, with = "lenient::decimal")]
    pub total_tax: Option<Decimal>,
    /// Whether `totalTax` includes duties (Zonos' duties and taxes come as one amount).
    #[serde(default, with = "lenient::flag")]
    pub duties_included: Option<bool>,
    /// Buyer's email.
    #[serde(default, with = "lenient::personal")]
    pub email: Option<Personal<String>>,
    /// Where it ships.
    #[serde(default, with = "lenient::object")]
    pub shipping_address: Option<Personal<Address>>,
    /// Tags (`orderbridge, zonos`).
    pub tags: Option<String>,
    /// A note for the merchant.
    pub note: Option<String>,
}

/// A change to an order (`PUT /orders/{orderId}` with `{"order": {...}}`): only the fields named are
/// changed. Decision: the documents name the call but not its body; it takes the create body's shape,
/// and orderbridge sends only the three fields it manages on a mirror (payment state, tags, note).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrderUpdate {
    /// Payment state (`pending` while the channel holds the order, `paid` once it releases it).
    pub financial_status: Option<String>,
    /// Tags, comma-separated.
    pub tags: Option<String>,
    /// A note for the merchant.
    pub note: Option<String>,
}

/// The body of `PUT /orders/{orderId}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateOrderRequest {
    /// The change.
    pub order: OrderUpdate,
}

/// A line of an order to create.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewLineItem {
    /// Title.
    pub title: String,
    /// SKU.
    pub sku: Option<String>,
    /// Product id on the source channel.
    pub product_id: Option<String>,
    /// Quantity.
    #[serde(with = "lenient::quantity_required")]
    pub quantity: u32,
    /// Unit price.
    #[serde(with = "rust_decimal::serde::str")]
    pub price: Decimal,
}

/// `POST /fulfillments` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreateFulfillmentRequest {
    /// The fulfillment to create.
    pub fulfillment: NewFulfillment,
}

/// A fulfillment to create. Omitted `lineItems` means everything still fulfillable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewFulfillment {
    /// The order.
    pub order_id: String,
    /// Lines and quantities in the package.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineQuantity>,
    /// Tracking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_info: Option<TrackingInfo>,
    /// Whether Genstore emails the customer.
    #[serde(default)]
    pub notify_customer: bool,
}

/// `PUT /fulfillments/{id}/update_tracking` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpdateTrackingRequest {
    /// The new tracking.
    pub fulfillment: TrackingUpdate,
}

/// New tracking for a fulfillment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrackingUpdate {
    /// Tracking.
    pub tracking_info: TrackingInfo,
    /// Whether Genstore emails the customer.
    #[serde(default)]
    pub notify_customer: bool,
}
