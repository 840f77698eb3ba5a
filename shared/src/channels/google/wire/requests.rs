//! The bodies of the order writes (`orders/{id}/{action}`) and the test-order calls, as the v2.1
//! reference names them; every write carries an operation id.

use super::{LineItemShipment, Price};
use serde::{Deserialize, Serialize};

/// `OrdersAcknowledgeRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcknowledgeRequest {
    /// Operation id, unique per order.
    pub operation_id: String,
}

/// `OrdersUpdateMerchantOrderIdRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMerchantOrderIdRequest {
    /// Operation id, unique per order.
    pub operation_id: String,
    /// The merchant order id; unique per merchant.
    pub merchant_order_id: String,
}

/// `OrdersShipLineItemsRequest`: several `shipmentInfos` when one line ships in several packages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipLineItemsRequest {
    /// Operation id, unique per order.
    pub operation_id: String,
    /// Lines and quantities shipped.
    pub line_items: Vec<LineItemShipment>,
    /// Shipment group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipment_group_id: Option<String>,
    /// One entry per package.
    pub shipment_infos: Vec<ShipmentInfo>,
}

/// `OrdersCustomBatchRequestEntryShipLineItemsShipmentInfo`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentInfo {
    /// Shipment id, the merchant's, unique per shipment.
    pub shipment_id: String,
    /// Carrier code.
    pub carrier: Option<String>,
    /// Tracking id.
    pub tracking_id: Option<String>,
}

/// `OrdersUpdateShipmentRequest`; fields left out are not changed.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateShipmentRequest {
    /// Operation id, unique per order.
    pub operation_id: String,
    /// Which shipment.
    pub shipment_id: String,
    /// `delivered`, `undeliverable` or `readyForPickup`.
    pub status: Option<String>,
    /// New carrier.
    pub carrier: Option<String>,
    /// New tracking id.
    pub tracking_id: Option<String>,
    /// When delivered (only with `delivered`).
    pub delivery_date: Option<String>,
}

/// `OrdersCancelLineItemRequest`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelLineItemRequest {
    /// Operation id, unique per order.
    pub operation_id: String,
    /// The line.
    pub line_item_id: Option<String>,
    /// Or the product.
    pub product_id: Option<String>,
    /// How many.
    pub quantity: u32,
    /// `customerInitiatedCancel`, `noInventory`, `other`, ….
    pub reason: String,
    /// Why, in words.
    pub reason_text: String,
}

/// `OrdersCancelRequest`: cancels every line item of an order, making a full refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelOrderRequest {
    /// Operation id, unique per order.
    pub operation_id: String,
    /// `customerInitiatedCancel`, `noInventory`, `other`, … (the same eleven values as a line's).
    pub reason: String,
    /// Why, in words.
    pub reason_text: String,
}

/// `OrdersRefundOrderRequest`: a refund of the order as a whole (no lines named).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundOrderRequest {
    /// Operation id, unique per order.
    pub operation_id: String,
    /// The newly refunded amount.
    pub amount: Option<MonetaryAmount>,
    /// Everything, shipping included (the amount is then ignored).
    pub full_refund: Option<bool>,
    /// `courtesyAdjustment` or `other`.
    pub reason: String,
    /// Why, in words.
    pub reason_text: String,
}

/// `OrdersRefundItemRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundItemRequest {
    /// Operation id, unique per order.
    pub operation_id: String,
    /// Lines refunded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<RefundItem>,
    /// Shipping refunded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<RefundShipping>,
    /// Why.
    pub reason: String,
    /// Why, in words.
    pub reason_text: String,
}

/// `OrdersCustomBatchRequestEntryRefundItemItem`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundItem {
    /// The line.
    pub line_item_id: Option<String>,
    /// Or the product.
    pub product_id: Option<String>,
    /// How many.
    pub quantity: u32,
    /// Total amount refunded for them.
    pub amount: Option<MonetaryAmount>,
    /// Refund them in full (amount ignored).
    pub full_refund: Option<bool>,
}

/// `OrdersCustomBatchRequestEntryRefundItemShipping`.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundShipping {
    /// Amount.
    pub amount: Option<Price>,
    /// Refund shipping in full.
    pub full_refund: Option<bool>,
}

/// `MonetaryAmount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonetaryAmount {
    /// Price part.
    pub price_amount: Price,
    /// Tax part, where prices exclude tax.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_amount: Option<Price>,
}

/// `OrdersCreateTestOrderRequest` (sandbox).
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CreateTestOrderRequest {
    /// `template1`, `template1a`, `template1b`, `template2`, `template3`.
    pub template_name: Option<String>,
    /// `US` or `FR`.
    pub country: Option<String>,
}

/// `OrdersCancelTestOrderByCustomerRequest` (sandbox).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelTestOrderByCustomerRequest {
    /// `changedMind`, `orderedWrongItem`, `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
