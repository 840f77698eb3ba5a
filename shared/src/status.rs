//! The unified order status, every platform's mapping table, and the rule that combines the channels of
//! one linked order.
//!
//! Lifecycle: `placed → paid → in_progress → partially_shipped → shipped → partially_delivered →
//! delivered`; side states `on_hold`, `cancelled`, `partially_refunded`, `refunded`,
//! `partially_returned`, `returned`; and `unknown` for a platform status orderbridge has not seen (the raw
//! text is always kept beside the unified status, so nothing is lost).
//!
//! ## Combining channels ([`aggregate`])
//!
//! A Genstore order and the external order it mirrors each have a status; the unified status of the pair
//! (and of Genstore's own three fields) is decided in this order:
//!
//! 1. `unknown` is ignored unless every status is unknown.
//! 2. A terminal side state on any channel wins, strongest first: `cancelled`, `refunded`, `returned`,
//!    `partially_returned`. Whichever side learnt it first is right; the push makes the other agree.
//! 3. Otherwise the furthest lifecycle step wins. Genstore says `fulfilled` and Google says
//!    `partiallyShipped` → `shipped`: the merchant has shipped everything, and Google is behind until the
//!    tracking push lands.
//! 4. `on_hold` (fraud review, a hold) on any channel wins over a lifecycle step before anything shipped:
//!    nothing should ship while one side holds the order. Once goods have shipped, the step wins.
//! 5. `partially_refunded` wins over `placed` / `paid`; once work has started the step wins (the refund
//!    stays visible in the order's refunds).

use serde::{Deserialize, Serialize};

crate::named_enum! {
    /// One canonical status for an order, whatever channel it lives on. Its name (snake_case) is
    /// the one in the table and in output.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum UnifiedStatus {
        /// Placed, not yet paid or confirmed.
        Placed => "placed",
        /// Paid or confirmed; nothing prepared yet.
        Paid => "paid",
        /// The merchant or channel is preparing it.
        InProgress => "in_progress",
        /// Some items shipped.
        PartiallyShipped => "partially_shipped",
        /// Every item shipped.
        Shipped => "shipped",
        /// Some shipments delivered.
        PartiallyDelivered => "partially_delivered",
        /// Everything delivered.
        Delivered => "delivered",
        /// Held: fraud review or a hold on the order.
        OnHold => "on_hold",
        /// Cancelled (or a cancellation requested by the merchant).
        Cancelled => "cancelled",
        /// Part of the money refunded.
        PartiallyRefunded => "partially_refunded",
        /// All of the money refunded.
        Refunded => "refunded",
        /// Some items returned.
        PartiallyReturned => "partially_returned",
        /// Returned.
        Returned => "returned",
        /// A platform status orderbridge does not know; the raw status says what it was.
        Unknown => "unknown",
    }
}

impl UnifiedStatus {
    /// The position on the main lifecycle, for the states that are on it.
    pub fn lifecycle_step(self) -> Option<u8> {
        Some(match self {
            UnifiedStatus::Placed => 0,
            UnifiedStatus::Paid => 1,
            UnifiedStatus::InProgress => 2,
            UnifiedStatus::PartiallyShipped => 3,
            UnifiedStatus::Shipped => 4,
            UnifiedStatus::PartiallyDelivered => 5,
            UnifiedStatus::Delivered => 6,
            _ => return None,
        })
    }

    /// A rank that only grows as an order moves on, used to order two versions of an order that carry the
    /// same timestamp. Terminal states rank above the whole lifecycle.
    pub fn progress_rank(self) -> u8 {
        match self {
            UnifiedStatus::Unknown => 0,
            UnifiedStatus::OnHold => 1,
            UnifiedStatus::PartiallyRefunded => 8,
            UnifiedStatus::PartiallyReturned => 9,
            UnifiedStatus::Returned => 10,
            UnifiedStatus::Refunded => 11,
            UnifiedStatus::Cancelled => 12,
            s => s.lifecycle_step().map_or(0, |step| step.saturating_add(1)),
        }
    }

    /// True once nothing more will be shipped for the order.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            UnifiedStatus::Cancelled | UnifiedStatus::Refunded | UnifiedStatus::Returned
        )
    }
}

/// Combines statuses (of Genstore's own fields, or of the channels of one linked order) by the rules in
/// the module documentation.
pub fn aggregate<I: IntoIterator<Item = UnifiedStatus>>(statuses: I) -> UnifiedStatus {
    use UnifiedStatus as S;
    let known: Vec<S> = statuses.into_iter().filter(|s| *s != S::Unknown).collect();
    if known.is_empty() {
        return S::Unknown;
    }
    for terminal in [S::Cancelled, S::Refunded, S::Returned, S::PartiallyReturned] {
        if known.contains(&terminal) {
            return terminal;
        }
    }
    let furthest = known
        .iter()
        .filter_map(|s| s.lifecycle_step().map(|step| (step, *s)))
        .max_by_key(|(step, _)| *step);
    let step = furthest.map_or(0, |(step, _)| step);
    if known.contains(&S::OnHold) && step < 3 {
        return S::OnHold;
    }
    if known.contains(&S::PartiallyRefunded) && step <= 1 {
        return S::PartiallyRefunded;
    }
    furthest.map_or(S::Unknown, |(_, s)| s)
}

/// Normalises a platform's status text for table lookup: case, `_`, `-` and spaces do not matter, so
/// `partially_refunded`, `partiallyRefunded` and `PARTIALLY-REFUNDED` are one key.
fn key(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn lookup(table: &[(&str, UnifiedStatus)], raw: &str) -> Option<UnifiedStatus> {
    let k = key(raw);
    table
        .iter()
        .find(|(name, _)| key(name) == k)
        .map(|(_, s)| *s)
}

/// Genstore `financialStatus` values.
pub const GENSTORE_FINANCIAL: &[(&str, UnifiedStatus)] = &[
    ("pending", UnifiedStatus::Placed),
    ("authorized", UnifiedStatus::Placed),
    ("partially_paid", UnifiedStatus::Placed),
    ("paid", UnifiedStatus::Paid),
    ("partially_refunded", UnifiedStatus::PartiallyRefunded),
    ("refunded", UnifiedStatus::Refunded),
    ("voided", UnifiedStatus::Cancelled),
    ("expired", UnifiedStatus::Cancelled),
];

/// Genstore `fulfillmentStatus` values (null / `unfulfilled` mean nothing shipped and add nothing).
pub const GENSTORE_FULFILLMENT: &[(&str, UnifiedStatus)] = &[
    ("in_progress", UnifiedStatus::InProgress),
    ("scheduled", UnifiedStatus::InProgress),
    ("on_hold", UnifiedStatus::OnHold),
    ("partial", UnifiedStatus::PartiallyShipped),
    ("fulfilled", UnifiedStatus::Shipped),
    ("restocked", UnifiedStatus::Returned),
];

/// Genstore `fulfillmentStatus` values that say nothing has shipped.
pub const GENSTORE_UNFULFILLED: &[&str] = &["unfulfilled", "null", ""];

/// Every Zonos order status (Zonos may add more; an unlisted one maps to `unknown`).
pub const ZONOS: &[(&str, UnifiedStatus)] = &[
    ("IGLOBAL_FRAUD_REVIEW", UnifiedStatus::OnHold),
    ("IGLOBAL_ORDER_IN_PROCESS", UnifiedStatus::Paid),
    ("IGLOBAL_ORDER_ON_HOLD", UnifiedStatus::OnHold),
    ("IGLOBAL_ORDER_CANCELLED", UnifiedStatus::Cancelled),
    ("IGLOBAL_ORDER_CANCELED", UnifiedStatus::Cancelled),
    ("IGLOBAL_LABELS_PROCESSING", UnifiedStatus::InProgress),
    ("VENDOR_PREPARING_ORDER", UnifiedStatus::InProgress),
    ("VENDOR_SHIPMENT_READY", UnifiedStatus::InProgress),
    ("VENDOR_LABELS_PRINTED_DATE", UnifiedStatus::InProgress),
    ("VENDOR_CANCELLATION_REQUEST", UnifiedStatus::Cancelled),
    ("VENDOR_END_OF_DAY_COMPLETE", UnifiedStatus::Shipped),
];

/// Every Google `Order.status`.
pub const GOOGLE: &[(&str, UnifiedStatus)] = &[
    // Not yet confirmed: Google's walkthrough ships only from `pendingShipment`, so until then the
    // order is held, and its mirror with it.
    ("inProgress", UnifiedStatus::OnHold),
    ("pendingShipment", UnifiedStatus::Paid),
    ("partiallyShipped", UnifiedStatus::PartiallyShipped),
    ("shipped", UnifiedStatus::Shipped),
    ("partiallyDelivered", UnifiedStatus::PartiallyDelivered),
    ("delivered", UnifiedStatus::Delivered),
    ("partiallyReturned", UnifiedStatus::PartiallyReturned),
    ("returned", UnifiedStatus::Returned),
    ("canceled", UnifiedStatus::Cancelled),
];

/// How much of a Genstore order's shipments the carrier has delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Deliveries {
    /// No shipment is delivered (or there are none).
    #[default]
    None,
    /// Some shipments are delivered, some not.
    Some,
    /// Every live shipment is delivered.
    All,
}

/// Genstore's three status fields (and what its fulfillments say of delivery) as one unified status.
pub fn from_genstore(
    financial: Option<&str>,
    fulfillment: Option<&str>,
    cancelled: bool,
    deliveries: Deliveries,
) -> UnifiedStatus {
    if cancelled {
        return UnifiedStatus::Cancelled;
    }
    let financial = match financial {
        Some(raw) => match lookup(GENSTORE_FINANCIAL, raw) {
            Some(s) => Some(s),
            None => return UnifiedStatus::Unknown,
        },
        None => None,
    };
    let fulfillment = match fulfillment {
        Some(raw) if GENSTORE_UNFULFILLED.contains(&key(raw).as_str()) => None,
        Some(raw) => match lookup(GENSTORE_FULFILLMENT, raw) {
            Some(s) => Some(s),
            None => return UnifiedStatus::Unknown,
        },
        None => None,
    };
    let delivered = match (fulfillment, deliveries) {
        (Some(UnifiedStatus::Shipped), Deliveries::All) => Some(UnifiedStatus::Delivered),
        (
            Some(UnifiedStatus::Shipped | UnifiedStatus::PartiallyShipped),
            Deliveries::All | Deliveries::Some,
        ) => Some(UnifiedStatus::PartiallyDelivered),
        _ => None,
    };
    match (financial, fulfillment, delivered) {
        (None, None, _) => UnifiedStatus::Placed,
        (f, g, d) => aggregate(f.into_iter().chain(g).chain(d)),
    }
}

/// A Zonos order status as a unified status; an unlisted status is `unknown`, never an error.
pub fn from_zonos(raw: &str) -> UnifiedStatus {
    ZONOS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(raw.trim()))
        .map_or(UnifiedStatus::Unknown, |(_, s)| *s)
}

/// A Google `Order.status` as a unified status; an unlisted status is `unknown`.
pub fn from_google(raw: &str) -> UnifiedStatus {
    GOOGLE
        .iter()
        .find(|(name, _)| *name == raw.trim())
        .map_or(UnifiedStatus::Unknown, |(_, s)| *s)
}

#[cfg(test)]
mod tests;
