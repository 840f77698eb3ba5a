//! Google's orders as the sandbox keeps and answers them, and the write bodies it reads: names from the
//! v2.1 reference (`../shared/reference/google-content-orders-v2.1.json`), written here and never taken
//! from the client (`orderbridge::channels::google`), so a name the client gets wrong is refused rather
//! than agreed with. Only what the sandbox sets or reads is here; every answer is still checked against
//! the reference before it leaves (`google::answer`), and every body before it is read
//! (`google::json_body`).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `Price`: a decimal string and an ISO 4217 code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Price {
    /// `value`.
    pub value: Decimal,
    /// `currency`.
    pub currency: String,
}

impl Price {
    /// `value` in `currency`.
    pub fn new(value: Decimal, currency: &str) -> Self {
        Self {
            value,
            currency: currency.to_owned(),
        }
    }
}

/// `Order`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    /// `content#order`.
    pub kind: &'static str,
    /// The order id.
    pub id: String,
    /// The merchant (account) id.
    pub merchant_id: String,
    /// The merchant's own id, once set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_order_id: Option<String>,
    /// Acknowledged by the merchant.
    pub acknowledged: bool,
    /// `inProgress`, `pendingShipment`, ….
    pub status: String,
    /// `paymentSecured`, ….
    pub payment_status: String,
    /// RFC 3339 (always set by the sandbox; a test may take it away).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placed_date: Option<String>,
    /// The buyer.
    pub customer: Customer,
    /// Where it goes.
    pub delivery_details: DeliveryDetails,
    /// The lines.
    pub line_items: Vec<LineItem>,
    /// The packages shipped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub shipments: Vec<Shipment>,
    /// Money returned.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<Refund>,
    /// What the lines cost, less refunds.
    pub net_price_amount: Price,
    /// Their tax.
    pub net_tax_amount: Price,
    /// Shipping.
    pub shipping_cost: Price,
}

impl Order {
    /// The order's currency.
    pub fn currency(&self) -> String {
        self.net_price_amount.currency.clone()
    }
}

/// `OrderCustomer`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    /// `fullName`.
    pub full_name: String,
    /// `invoiceReceivingEmail`.
    pub invoice_receiving_email: String,
}

/// `OrderDeliveryDetails`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryDetails {
    /// `address`.
    pub address: Address,
    /// `phoneNumber`.
    pub phone_number: String,
}

/// `OrderAddress`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// `recipientName`.
    pub recipient_name: String,
    /// `streetAddress`.
    pub street_address: Vec<String>,
    /// `locality`.
    pub locality: String,
    /// `region`.
    pub region: String,
    /// `postalCode`.
    pub postal_code: String,
    /// `country`.
    pub country: String,
}

/// `OrderLineItem`, its quantities always present (Google sends zeros).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// The line's id.
    pub id: String,
    /// What was bought.
    pub product: Product,
    /// The line's total.
    pub price: Price,
    /// Ordered.
    pub quantity_ordered: u32,
    /// Not yet shipped nor cancelled.
    pub quantity_pending: u32,
    /// Shipped.
    pub quantity_shipped: u32,
    /// Delivered.
    pub quantity_delivered: u32,
    /// Cancelled.
    pub quantity_canceled: u32,
    /// The cancellations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cancellations: Vec<Cancellation>,
    /// Received back.
    pub quantity_returned: u32,
    /// The returns the customer asked for (`OrderReturn`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub returns: Vec<Return>,
}

/// `OrderReturn`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Return {
    /// Who asked: `customer`.
    pub actor: String,
    /// RFC 3339.
    pub creation_date: String,
    /// How many.
    pub quantity: u32,
    /// One of the reference's return reasons.
    pub reason: String,
}

impl LineItem {
    /// What may still be shipped or cancelled.
    pub fn left(&self) -> u32 {
        self.quantity_ordered
            .saturating_sub(self.quantity_shipped)
            .saturating_sub(self.quantity_canceled)
    }
}

/// `OrderLineItemProduct`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    /// `online:en:US:{offerId}`.
    pub id: String,
    /// The merchant's offer id (its SKU).
    pub offer_id: String,
    /// Title.
    pub title: String,
    /// Unit price.
    pub price: Price,
}

/// `OrderCancellation`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancellation {
    /// `merchant`, `customer`, `googleSabre`, ….
    pub actor: String,
    /// RFC 3339.
    pub creation_date: String,
    /// How many.
    pub quantity: u32,
    /// One of the reference's reasons.
    pub reason: String,
    /// Free text.
    pub reason_text: String,
}

/// `OrderRefund`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Refund {
    /// Who refunded.
    pub actor: String,
    /// How much.
    pub amount: Price,
    /// RFC 3339.
    pub creation_date: String,
    /// Why.
    pub reason: String,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_text: Option<String>,
}

/// `OrderShipment`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    /// The merchant's shipment id.
    pub id: String,
    /// Carrier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    /// Tracking number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    /// `shipped`, `delivered`, `undeliverable`, `readyForPickup`.
    pub status: String,
    /// RFC 3339.
    pub creation_date: String,
    /// RFC 3339, once delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_date: Option<String>,
    /// The request's `shipmentGroupId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipment_group_id: Option<String>,
    /// What it carries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<ShipmentLine>,
}

/// `OrderShipmentLineItemShipment`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentLine {
    /// The line.
    pub line_item_id: String,
    /// How many.
    pub quantity: u32,
}

/// A line a write names: by `lineItemId` or `productId`, and how many.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineRef {
    /// `lineItemId`.
    pub line_item_id: Option<String>,
    /// `productId`.
    pub product_id: Option<String>,
    /// `quantity`.
    #[serde(default)]
    pub quantity: u32,
}

/// `OrdersCustomBatchRequestEntryShipLineItemsShipmentInfo`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipmentInfo {
    /// `shipmentId`.
    #[serde(default)]
    pub shipment_id: String,
    /// `carrier`.
    pub carrier: Option<String>,
    /// `trackingId`.
    pub tracking_id: Option<String>,
}

/// `OrdersShipLineItemsRequest`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShipRequest {
    /// `lineItems`.
    #[serde(default)]
    pub line_items: Vec<LineRef>,
    /// `shipmentInfos`.
    #[serde(default)]
    pub shipment_infos: Vec<ShipmentInfo>,
    /// `shipmentGroupId`.
    pub shipment_group_id: Option<String>,
}

/// `OrdersUpdateShipmentRequest`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateShipmentRequest {
    /// `shipmentId`.
    pub shipment_id: String,
    /// `carrier`.
    pub carrier: Option<String>,
    /// `trackingId`.
    pub tracking_id: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `deliveryDate`.
    pub delivery_date: Option<String>,
}

/// `OrdersCancelLineItemRequest`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelLineRequest {
    /// The line and how many.
    #[serde(flatten)]
    pub line: LineRef,
    /// `reason`.
    pub reason: String,
    /// `reasonText`.
    #[serde(default)]
    pub reason_text: String,
}

/// `MonetaryAmount` of a refund: `priceAmount` and `taxAmount`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Amount {
    /// `priceAmount`.
    pub price_amount: Price,
    /// `taxAmount`.
    pub tax_amount: Option<Price>,
}

/// `OrdersCustomBatchRequestEntryReturnRefundLineItem` / refund item: a line, optionally an amount.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundLine {
    /// The line and how many.
    #[serde(flatten)]
    pub line: LineRef,
    /// `amount`.
    pub amount: Option<Amount>,
    /// `fullRefund`.
    pub full_refund: Option<bool>,
}

/// `OrdersRefundItemRequestShipping`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundShipping {
    /// `amount`.
    pub amount: Option<Price>,
}

/// `OrdersRefundItemRequest`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundItemRequest {
    /// `items`.
    #[serde(default)]
    pub items: Vec<RefundLine>,
    /// `shipping`.
    pub shipping: Option<RefundShipping>,
    /// `reason`.
    pub reason: String,
    /// `reasonText`.
    #[serde(default)]
    pub reason_text: String,
}

/// `OrdersUpdateMerchantOrderIdRequest`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMerchantOrderIdRequest {
    /// `merchantOrderId`.
    pub merchant_order_id: String,
}
