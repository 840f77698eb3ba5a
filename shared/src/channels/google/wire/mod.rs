//! Google Content API for Shopping, Orders v2.1: the JSON as it travels (per
//! `reference/google-content-orders-v2.1.json`).
//!
//! Google types its JSON natively (quantities are numbers, prices are `{value, currency}` with a decimal
//! string). Fields orderbridge does not use are left out and ignored on read. Every write carries an
//! `operationId`, unique per order; the answer's `executionStatus` is `executed` or `duplicate`, and a
//! duplicate is a success (the write was applied before).

use crate::lenient;
use crate::personal::Personal;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

mod requests;

pub use requests::*;

/// An amount with its currency: `{"value": "20.00", "currency": "USD"}`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Price {
    /// The amount as decimal text.
    #[serde(with = "lenient::decimal")]
    pub value: Option<Decimal>,
    /// ISO currency code.
    pub currency: Option<String>,
}

/// An order.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Order {
    /// `content#order`.
    pub kind: Option<String>,
    /// The order's REST id, globally unique.
    pub id: Option<String>,
    /// The merchant account.
    pub merchant_id: Option<String>,
    /// The merchant's own order id.
    pub merchant_order_id: Option<String>,
    /// Whether the order was acknowledged.
    pub acknowledged: Option<bool>,
    /// `inProgress`, `pendingShipment`, `partiallyShipped`, `shipped`, `partiallyDelivered`,
    /// `delivered`, `partiallyReturned`, `returned`, `canceled`.
    pub status: Option<String>,
    /// `paymentCaptured`, `paymentRejected`, `paymentSecured`, `pendingAuthorization`.
    pub payment_status: Option<String>,
    /// When it was placed (ISO 8601).
    pub placed_date: Option<String>,
    /// `marketplaceFacilitator` or `merchant`.
    pub tax_collector: Option<String>,
    /// The buyer.
    pub customer: Option<Customer>,
    /// Delivery address and phone.
    pub delivery_details: Option<Personal<DeliveryDetails>>,
    /// Billing address.
    pub billing_address: Option<Personal<Address>>,
    /// Lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItem>,
    /// Shipments.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shipments: Vec<Shipment>,
    /// Refunds.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<Refund>,
    /// Net amount (price part), after refunds.
    pub net_price_amount: Option<Price>,
    /// Net tax, after refunds.
    pub net_tax_amount: Option<Price>,
    /// Shipping charged.
    pub shipping_cost: Option<Price>,
    /// Tax on shipping.
    pub shipping_cost_tax: Option<Price>,
}

/// The buyer (`OrderCustomer`).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Customer {
    /// Full name.
    pub full_name: Option<Personal<String>>,
    /// Where invoices go.
    pub invoice_receiving_email: Option<Personal<String>>,
}

/// `OrderDeliveryDetails`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DeliveryDetails {
    /// Address.
    pub address: Option<Address>,
    /// Phone.
    pub phone_number: Option<String>,
}

/// `OrderAddress`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Address {
    /// Recipient.
    pub recipient_name: Option<String>,
    /// Street lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub street_address: Vec<String>,
    /// City.
    pub locality: Option<String>,
    /// Region.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// CLDR country code.
    pub country: Option<String>,
    /// The whole address, line by line.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub full_address: Vec<String>,
    /// A post office box.
    pub is_post_office_box: Option<bool>,
}

/// `OrderLineItem`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LineItem {
    /// Line id.
    pub id: Option<String>,
    /// The product.
    pub product: Option<Product>,
    /// Total price of the line (2 × $10 = $20).
    pub price: Option<Price>,
    /// Tax of the line.
    pub tax: Option<Price>,
    /// Ordered.
    pub quantity_ordered: Option<u32>,
    /// Shipped.
    pub quantity_shipped: Option<u32>,
    /// Delivered.
    pub quantity_delivered: Option<u32>,
    /// Cancelled.
    pub quantity_canceled: Option<u32>,
    /// Pending.
    pub quantity_pending: Option<u32>,
    /// Returned.
    pub quantity_returned: Option<u32>,
    /// Undeliverable.
    pub quantity_undeliverable: Option<u32>,
    /// Cancellations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cancellations: Vec<Cancellation>,
    /// Returns the customer asked for (`OrderReturn`), received or not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<Return>,
    /// Shipping details.
    pub shipping_details: Option<ShippingDetails>,
}

/// `OrderLineItemProduct`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Product {
    /// REST id in the products service.
    pub id: Option<String>,
    /// The merchant's offer id (the merchant's SKU).
    pub offer_id: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Brand.
    pub brand: Option<String>,
    /// GTIN.
    pub gtin: Option<String>,
    /// MPN.
    pub mpn: Option<String>,
    /// Condition.
    pub condition: Option<String>,
    /// Content language.
    pub content_language: Option<String>,
    /// Target country.
    pub target_country: Option<String>,
    /// Unit price.
    pub price: Option<Price>,
    /// Image.
    pub image_link: Option<String>,
}

/// `OrderLineItemShippingDetails`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ShippingDetails {
    /// Ship by (ISO 8601).
    pub ship_by_date: Option<String>,
    /// Deliver by (ISO 8601).
    pub deliver_by_date: Option<String>,
    /// `delivery` or `pickup`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The method.
    pub method: Option<ShippingMethod>,
}

/// `OrderLineItemShippingDetailsMethod`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ShippingMethod {
    /// Carrier code.
    pub carrier: Option<String>,
    /// Method name.
    pub method_name: Option<String>,
    /// Fewest days in transit.
    pub min_days_in_transit: Option<u32>,
    /// Most days in transit.
    pub max_days_in_transit: Option<u32>,
}

/// `OrderCancellation`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Cancellation {
    /// Who cancelled.
    pub actor: Option<String>,
    /// When (ISO 8601).
    pub creation_date: Option<String>,
    /// How many.
    pub quantity: Option<u32>,
    /// Why.
    pub reason: Option<String>,
    /// Why, in words.
    pub reason_text: Option<String>,
}

/// `OrderReturn`: a return of some units of a line.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Return {
    /// Who asked.
    pub actor: Option<String>,
    /// When (ISO 8601).
    pub creation_date: Option<String>,
    /// How many.
    pub quantity: Option<u32>,
    /// Why (`customerDiscretionaryReturn`, `productArrivedDamaged`, …).
    pub reason: Option<String>,
    /// Why, in words.
    pub reason_text: Option<String>,
}

/// `OrderRefund`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Refund {
    /// Who refunded.
    pub actor: Option<String>,
    /// How much.
    pub amount: Option<Price>,
    /// When (ISO 8601).
    pub creation_date: Option<String>,
    /// Why.
    pub reason: Option<String>,
    /// Why, in words.
    pub reason_text: Option<String>,
}

/// `OrderShipment`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Shipment {
    /// Shipment id (the merchant's).
    pub id: Option<String>,
    /// Carrier code.
    pub carrier: Option<String>,
    /// Tracking id.
    pub tracking_id: Option<String>,
    /// `shipped`, `delivered`, `undeliverable`, `readyForPickup`.
    pub status: Option<String>,
    /// Created (ISO 8601).
    pub creation_date: Option<String>,
    /// Delivered (ISO 8601), only when delivered.
    pub delivery_date: Option<String>,
    /// Shipment group.
    pub shipment_group_id: Option<String>,
    /// Lines and quantities.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<LineItemShipment>,
}

/// `OrderShipmentLineItemShipment`: a line (by `lineItemId` or `productId`) and a quantity.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItemShipment {
    /// The line.
    pub line_item_id: Option<String>,
    /// Or the product.
    pub product_id: Option<String>,
    /// How many.
    pub quantity: u32,
}

/// `OrdersListResponse`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OrdersListResponse {
    /// `content#ordersListResponse`.
    pub kind: Option<String>,
    /// Token of the next page.
    pub next_page_token: Option<String>,
    /// The orders.
    pub resources: Vec<Order>,
}

/// `OrdersGetByMerchantOrderIdResponse`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetByMerchantOrderIdResponse {
    /// `content#ordersGetByMerchantOrderIdResponse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The order.
    pub order: Order,
}

/// Whether a write was applied now or before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ExecutionStatus {
    /// Applied by this request.
    Executed,
    /// Applied by an earlier request with the same operation id: a success.
    Duplicate,
}

/// The answer of every write (`OrdersAcknowledgeResponse`, `OrdersShipLineItemsResponse`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionResponse {
    /// e.g. `content#ordersAcknowledgeResponse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Executed or duplicate.
    pub execution_status: ExecutionStatus,
}

/// `OrdersCreateTestOrderResponse` (sandbox).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateTestOrderResponse {
    /// `content#ordersCreateTestOrderResponse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The new order's id.
    pub order_id: String,
}

/// The error body: `{"error": {"code", "message", "errors": [{"domain", "reason", "message"}]}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The error's detail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorDetail {
    /// HTTP status of the first error.
    pub code: u16,
    /// Message.
    pub message: String,
    /// The errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorItem>,
}

/// One error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ErrorItem {
    /// Domain, e.g. `global`.
    pub domain: String,
    /// Reason, e.g. `invalid`, `notFound`, `rateLimitExceeded`.
    pub reason: String,
    /// Message.
    pub message: String,
}
