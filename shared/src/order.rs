//! A channel order: one order as one channel knows it, in orderbridge's own terms.
//!
//! Every platform's order converts into a [`ChannelOrder`]; the order table stores it keyed by channel and
//! the channel's order id. Personal data (customer contact, addresses) is wrapped in [`Personal`] so it
//! never prints, and can be erased for the compliance webhooks. Times are UTC; money is decimal.

use crate::carrier::Carrier;
use crate::channel::Channel;
use crate::ids::{
    ChannelOrderId, CustomerId, GenstoreOrderId, LineItemId, MerchantOrderId, ProductId, RefundId,
    ShipmentId, Sku,
};
use crate::money::{CurrencyCode, Money};
use crate::personal::Personal;
use crate::status::UnifiedStatus;
use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// One order as one channel knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelOrder {
    /// The channel the order lives on.
    pub channel: Channel,
    /// Its id there.
    pub order_id: ChannelOrderId,
    /// The Genstore order it is mirrored as (for a Genstore order: itself).
    pub genstore_order_id: Option<GenstoreOrderId>,
    /// The merchant order id the channel records.
    pub merchant_order_id: Option<MerchantOrderId>,
    /// For a Genstore order, the channel it came from (`sourceName` / `sourceIdentifier`).
    pub source: Option<OrderSource>,
    /// The customer's id on the channel (kept through erasure, to find what to erase).
    pub customer_id: Option<CustomerId>,
    /// The customer's name and contact details.
    pub customer: Option<Personal<Contact>>,
    /// Where it ships.
    pub shipping_address: Option<Personal<Address>>,
    /// Where it bills.
    pub billing_address: Option<Personal<Address>>,
    /// What was ordered.
    pub line_items: Vec<LineItem>,
    /// The order's money.
    pub totals: Totals,
    /// The channel's own status, verbatim.
    pub raw_status: String,
    /// The channel's status in orderbridge's terms.
    pub status: UnifiedStatus,
    /// Packages sent, with tracking.
    pub shipments: Vec<Shipment>,
    /// Money given back.
    pub refunds: Vec<Refund>,
    /// A channel test order (Zonos `testOrder`, Google sandbox orders).
    pub test_order: bool,
    /// The channel's tags.
    pub tags: Vec<String>,
    /// When the customer placed it.
    pub placed_at: DateTime<Utc>,
    /// When the channel last changed it (as the channel says, or derived from its dated events).
    pub updated_at: DateTime<Utc>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Why it (or its last cancelled line) was cancelled, where the channel says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<CancelReason>,
    /// True once personal data was erased on request; later updates must not bring it back.
    #[serde(default)]
    pub personal_data_erased: bool,
}

/// The channel and id an order came from, as Genstore records it (`sourceName`, `sourceIdentifier`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderSource {
    /// `sourceName`, e.g. `zonos`, `google`, `instagram`.
    pub name: String,
    /// `sourceIdentifier`: the order's id on that channel.
    pub identifier: Option<String>,
}

impl OrderSource {
    /// The external order this names, when the source is a channel orderbridge syncs.
    pub fn external_order(&self) -> Option<(Channel, ChannelOrderId)> {
        let channel: Channel = self.name.parse().ok()?;
        let id = self.identifier.as_deref()?.trim();
        (channel.is_external() && !id.is_empty()).then(|| (channel, ChannelOrderId::new(id)))
    }
}

/// A person's name and contact details.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Contact {
    /// Full name.
    pub name: Option<String>,
    /// Email address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    /// Recipient's name.
    pub name: Option<String>,
    /// Street lines.
    pub lines: Vec<String>,
    /// City or locality.
    pub city: Option<String>,
    /// Region, state or province name.
    pub region: Option<String>,
    /// Region code (e.g. `ON`).
    pub region_code: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Country name.
    pub country: Option<String>,
    /// ISO country code.
    pub country_code: Option<String>,
    /// Phone number at the address.
    pub phone: Option<String>,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// The line's id on its channel.
    pub id: LineItemId,
    /// Stock keeping unit.
    pub sku: Option<Sku>,
    /// Product id on the channel.
    pub product_id: Option<ProductId>,
    /// Product title.
    pub title: String,
    /// How many ordered, shipped, cancelled, delivered.
    pub quantities: Quantities,
    /// Price of one unit, in the order's currency.
    pub unit_price: Decimal,
}

/// A line's quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Quantities {
    /// Ordered.
    pub ordered: u32,
    /// Shipped so far.
    pub shipped: u32,
    /// Cancelled.
    pub cancelled: u32,
    /// Delivered.
    pub delivered: u32,
    /// Returned: received back by the channel (Google `quantityReturned`).
    #[serde(default)]
    pub returned: u32,
    /// Asked to be returned (Google: the quantities of the line's `returns`), received or not.
    #[serde(default)]
    pub return_requested: u32,
}

impl Quantities {
    /// Units asked back that the channel has not received yet: a return in progress.
    pub fn returns_open(&self) -> u32 {
        self.return_requested.saturating_sub(self.returned)
    }

    /// Units still to ship: ordered less shipped less cancelled, never below zero.
    pub fn left_to_ship(&self) -> u32 {
        self.ordered
            .saturating_sub(self.shipped)
            .saturating_sub(self.cancelled)
    }
}

/// The order's money, in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Currency of every amount here and of line prices.
    pub currency: CurrencyCode,
    /// Sum of the lines before shipping, tax and discounts.
    pub subtotal: Option<Decimal>,
    /// Shipping charged.
    pub shipping: Option<Decimal>,
    /// Tax (and duties) charged.
    pub tax: Option<Decimal>,
    /// Discounts given.
    pub discounts: Option<Decimal>,
    /// What the customer pays.
    pub total: Decimal,
}

impl Totals {
    /// A total without its parts (subtotal, shipping, tax and discounts unknown).
    pub fn whole(currency: CurrencyCode, total: Decimal) -> Totals {
        Totals {
            currency,
            subtotal: None,
            shipping: None,
            tax: None,
            discounts: None,
            total,
        }
    }

    /// The total as money.
    pub fn total_money(&self) -> Money {
        Money::new(self.total, self.currency.clone())
    }
}

/// Where a package is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    /// Created, not yet handed to the carrier.
    Pending,
    /// With the carrier.
    Shipped,
    /// Delivered.
    Delivered,
    /// The carrier could not deliver it, or creating it failed.
    Failed,
    /// Cancelled.
    Cancelled,
}

impl ShipmentStatus {
    /// True for a shipment that counts towards what was shipped.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            ShipmentStatus::Pending | ShipmentStatus::Shipped | ShipmentStatus::Delivered
        )
    }
}

/// A package: what it carries and how to track it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    /// The shipment's id on its channel.
    pub id: ShipmentId,
    /// The carrier.
    pub carrier: Option<Carrier>,
    /// One or more tracking numbers.
    pub tracking_numbers: Vec<String>,
    /// A tracking page.
    pub tracking_url: Option<String>,
    /// Which lines and how many of each it carries.
    pub line_items: Vec<ShipmentLine>,
    /// Where it is.
    pub status: ShipmentStatus,
    /// When it was shipped.
    pub shipped_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A quantity of one line in a shipment or refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentLine {
    /// The line.
    pub line_item_id: LineItemId,
    /// How many of it.
    pub quantity: u32,
    /// In a refund: the money given back for it, as the channel states it (none: not stated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Decimal>,
}

impl ShipmentLine {
    /// `quantity` of the line `line_item_id`, no money stated.
    pub fn new(line_item_id: impl Into<LineItemId>, quantity: u32) -> ShipmentLine {
        ShipmentLine {
            line_item_id: line_item_id.into(),
            quantity,
            amount: None,
        }
    }
}

/// Why an order or line was cancelled, in orderbridge's terms; each platform's reason codes map to and
/// from it (Genstore `cancelReason`, Google cancellation reasons). Decision: the few reasons every
/// channel can say; anything else is `Other`, and the channel's own code is kept beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// The customer asked.
    Customer,
    /// Suspected fraud.
    Fraud,
    /// Out of stock.
    Inventory,
    /// Payment declined or not captured.
    Payment,
    /// Anything else: the channel's own code.
    Other(String),
}

impl CancelReason {
    /// Genstore's `cancelReason` (Shopify's values: `customer`, `fraud`, `inventory`, `declined`,
    /// `other`).
    pub fn from_genstore(code: &str) -> CancelReason {
        match code.trim().to_ascii_lowercase().as_str() {
            "customer" => CancelReason::Customer,
            "fraud" => CancelReason::Fraud,
            "inventory" => CancelReason::Inventory,
            "declined" => CancelReason::Payment,
            other => CancelReason::Other(other.to_owned()),
        }
    }

    /// The `reason` Genstore's cancel call takes.
    pub fn genstore_code(&self) -> &'static str {
        match self {
            CancelReason::Customer => "customer",
            CancelReason::Fraud => "fraud",
            CancelReason::Inventory => "inventory",
            CancelReason::Payment => "declined",
            CancelReason::Other(_) => "other",
        }
    }

    /// A Google cancellation's `reason` (`OrderCancellation.reason`, 29 values).
    pub fn from_google(code: &str) -> CancelReason {
        match code.trim() {
            "customerCanceled" | "customerInitiatedCancel" | "customerRequested" => {
                CancelReason::Customer
            }
            "noInventory" | "noInventoryToShip" => CancelReason::Inventory,
            "paymentDeclined" | "failedToCaptureFunds" | "paymentAbuse" => CancelReason::Payment,
            "fraudRisk" | "fraud" => CancelReason::Fraud,
            other => CancelReason::Other(other.to_owned()),
        }
    }

    /// The `reason` Google's `cancel` and `cancelLineItem` take (one of eleven values; fraud has none
    /// of its own and goes as `other`, with the reason text saying so).
    pub fn google_code(&self) -> &'static str {
        match self {
            CancelReason::Customer => "customerInitiatedCancel",
            CancelReason::Inventory => "noInventory",
            CancelReason::Payment => "failedToCaptureFunds",
            CancelReason::Fraud | CancelReason::Other(_) => "other",
        }
    }

    /// Words for a reason text.
    pub fn describe(&self) -> String {
        match self {
            CancelReason::Customer => "the customer asked".into(),
            CancelReason::Fraud => "suspected fraud".into(),
            CancelReason::Inventory => "out of stock".into(),
            CancelReason::Payment => "payment declined".into(),
            CancelReason::Other(code) if code.is_empty() => "no reason given".into(),
            CancelReason::Other(code) => format!("reason {code}"),
        }
    }
}

/// Money given back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refund {
    /// The refund's id on its channel, where it has one.
    pub id: Option<RefundId>,
    /// How much.
    pub amount: Option<Money>,
    /// Which lines, how many of each.
    pub line_items: Vec<ShipmentLine>,
    /// Why, as the channel says: free text (a refund note can name the customer), so personal.
    pub reason: Option<Personal<String>>,
    /// When.
    pub created_at: Option<DateTime<Utc>>,
    /// The refund on the other side of the linked pair this one was pushed from (Google: a refund whose
    /// `reasonText` names the Genstore refund orderbridge pushed). Such a refund is an echo, and is not
    /// brought back to where it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo_of: Option<RefundId>,
}

/// Which of two versions of one order is newer: the source's time first, then how far the order has come.
///
/// Genstore's `updatedAt` has one-second resolution, so two changes in one second tie on time; the
/// progress part breaks the tie towards the version that has moved further (more shipped, delivered,
/// refunded, a later status), which is the one that happened later. Two versions equal in both carry the
/// same facts, and applying either again is a no-op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceVersion {
    /// The source's `updatedAt` (or the latest dated event of the order).
    pub updated_at: DateTime<Utc>,
    /// How far the order has come.
    pub progress: Progress,
}

/// Measures of how far an order has come, compared field by field in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Progress {
    /// The status's progress rank.
    pub status_rank: u8,
    /// Units shipped across lines.
    pub shipped: u32,
    /// Units delivered across lines.
    pub delivered: u32,
    /// Units cancelled across lines.
    pub cancelled: u32,
    /// Shipments recorded (tracking added in new packages).
    pub shipments: u32,
    /// Refunds recorded.
    pub refunds: u32,
}

impl SourceVersion {
    /// A fixed-width text form whose byte order is the version order, so a database can compare two
    /// versions in a condition expression: `2024-05-01T10:00:00.000000Z#12#0000000003#…`.
    pub fn sort_key(&self) -> String {
        let p = &self.progress;
        format!(
            "{}#{:02}#{:010}#{:010}#{:010}#{:010}#{:010}",
            self.updated_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            p.status_rank,
            p.shipped,
            p.delivered,
            p.cancelled,
            p.shipments,
            p.refunds
        )
    }
}

impl fmt::Display for SourceVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sort_key())
    }
}

impl ChannelOrder {
    /// True when the whole order is cancelled (not one line of it).
    pub fn wholly_cancelled(&self) -> bool {
        self.cancelled_at.is_some() || self.status == crate::status::UnifiedStatus::Cancelled
    }

    /// The version this state of the order represents, for newer-wins writes.
    pub fn source_version(&self) -> SourceVersion {
        let sum = |f: fn(&Quantities) -> u32| {
            self.line_items
                .iter()
                .fold(0u32, |acc, l| acc.saturating_add(f(&l.quantities)))
        };
        SourceVersion {
            updated_at: self.updated_at,
            progress: Progress {
                status_rank: self.status.progress_rank(),
                shipped: sum(|q| q.shipped),
                delivered: sum(|q| q.delivered),
                cancelled: sum(|q| q.cancelled),
                shipments: u32::try_from(self.shipments.len()).unwrap_or(u32::MAX),
                refunds: u32::try_from(self.refunds.len()).unwrap_or(u32::MAX),
            },
        }
    }

    /// Drops the customer's contact details and addresses, for a redaction request. The ids, lines,
    /// money, status and tracking stay: the order is still the merchant's record.
    pub fn erase_personal_data(&mut self) {
        self.customer = None;
        self.shipping_address = None;
        self.billing_address = None;
        for r in &mut self.refunds {
            r.reason = None;
        }
        self.personal_data_erased = true;
    }

    /// The line with this id.
    pub fn line_item(&self, id: &LineItemId) -> Option<&LineItem> {
        self.line_items.iter().find(|l| &l.id == id)
    }

    /// Refunds made on this order's own channel: those that are not echoes of a refund orderbridge
    /// pushed here from the other side.
    pub fn own_refunds(&self) -> impl Iterator<Item = &Refund> {
        self.refunds.iter().filter(|r| r.echo_of.is_none())
    }

    /// Units returned, and units asked back that are not received yet, across lines.
    pub fn returns(&self) -> (u32, u32) {
        self.line_items
            .iter()
            .fold((0u32, 0u32), |(done, open), l| {
                (
                    done.saturating_add(l.quantities.returned),
                    open.saturating_add(l.quantities.returns_open()),
                )
            })
    }

    /// True when every ordered unit that was not cancelled has shipped.
    pub fn fully_shipped(&self) -> bool {
        !self.line_items.is_empty()
            && self
                .line_items
                .iter()
                .all(|l| l.quantities.left_to_ship() == 0)
    }
}

#[cfg(test)]
pub(crate) mod tests;
