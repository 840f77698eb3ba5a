//! Simulated Zonos Classic (`/zonos`): the five endpoints, `Accept` / `Content-Type` enforcement (406 /
//! 415 with HTML bodies), credentials in the body, HTTP 200 with `{"error": …}` for every documented
//! error, `orderNumbers` selector rules (two selectors → error; `missingMerchantOrderId` covers two
//! weeks), statuses, test orders, vendor-status blocking, and tracking numbers stored.
//!
//! The orders are kept as the JSON `orderDetail` answers, written here from `platforms.md` §2 and the
//! seed documents; nothing of the client's (`orderbridge::channels::zonos`) is used, so a name the
//! client gets wrong is not agreed with.

pub mod requests;
mod routes;

use crate::now_seconds;
use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

/// The statuses a vendor may set (`platforms.md` §2).
pub(crate) const VENDOR_STATUSES: &[&str] = &[
    "VENDOR_PREPARING_ORDER",
    "VENDOR_SHIPMENT_READY",
    "VENDOR_LABELS_PRINTED_DATE",
    "VENDOR_CANCELLATION_REQUEST",
    "VENDOR_END_OF_DAY_COMPLETE",
];

/// The statuses during which the vendor status cannot be changed (`platforms.md` §2; both spellings of
/// the cancelled status, as some plugins write it with one L).
pub(crate) const BLOCKING_STATUSES: &[&str] = &[
    "IGLOBAL_LABELS_PROCESSING",
    "IGLOBAL_ORDER_ON_HOLD",
    "IGLOBAL_FRAUD_REVIEW",
    "IGLOBAL_ORDER_CANCELLED",
    "IGLOBAL_ORDER_CANCELED",
    "VENDOR_CANCELLATION_REQUEST",
    "VENDOR_END_OF_DAY_COMPLETE",
];

/// Zonos' timestamp form, `2015-01-01 00:33:14.0` (the seed's `orderDate`), in UTC.
pub(crate) fn zonos_time(t: DateTime<Utc>) -> String {
    let millis = t.timestamp_subsec_millis();
    let fraction = if millis == 0 {
        "0".to_owned()
    } else {
        format!("{millis:03}").trim_end_matches('0').to_owned()
    };
    format!("{}.{fraction}", t.format("%Y-%m-%d %H:%M:%S"))
}

/// A Zonos order with the times the sandbox keeps.
#[derive(Debug, Clone)]
pub struct ZonosOrder {
    /// The order as `orderDetail` returns it.
    pub order: Map<String, Value>,
    /// When it was placed.
    pub placed_at: DateTime<Utc>,
    /// When its status last changed.
    pub status_at: DateTime<Utc>,
    /// `orderDetail` answers this order with a body that is not JSON (a platform answering garbage),
    /// for tests of what orderbridge does with one order it cannot read.
    pub garbled: bool,
}

impl ZonosOrder {
    fn text(&self, key: &str) -> Option<&str> {
        self.order.get(key).and_then(Value::as_str)
    }

    /// `999-12345`.
    pub fn id(&self) -> &str {
        self.text("id").unwrap_or_default()
    }

    /// `orderStatus`.
    pub fn status(&self) -> &str {
        self.text("orderStatus").unwrap_or_default()
    }

    /// `merchantOrderId`, once the merchant has set one.
    pub fn merchant_order_id(&self) -> Option<&str> {
        self.text("merchantOrderId")
    }

    /// `testOrder`.
    pub fn test_order(&self) -> bool {
        self.order.get("testOrder").and_then(Value::as_bool) == Some(true)
    }

    /// The numbers on `trackingList`, in order.
    pub fn tracking_numbers(&self) -> Vec<&str> {
        self.order
            .get("trackingList")
            .and_then(Value::as_array)
            .map(|l| {
                l.iter()
                    .filter_map(|t| t.get("number").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Zonos' orders, in placement order.
#[derive(Debug, Default)]
pub struct ZonosState {
    /// The orders.
    pub orders: Vec<ZonosOrder>,
    next: u64,
    /// `orderNumbers` lists newest first: the document promises no order for the listing, and a
    /// client must not rely on one.
    pub list_newest_first: bool,
    /// `orderDetail` answers only what the documents promise (`platforms.md` §2: items with sku,
    /// productId, quantity and unitPrice; the shipping name and address; the service level; totals;
    /// `merchantOrderId`, `testOrder`, `orderStatus`), leaving out every field the project only
    /// decided to read where present: `id`, `orderDate`, `orderStatusDate`, `currencyCode`, `email`,
    /// the items' `description`, `shippingPhone` and `trackingList`. The clients must cope with the
    /// bare minimum.
    pub bare: bool,
}

/// The fields of an `orderDetail` order the documents promise (see [`ZonosState::bare`]).
pub const PROMISED_DETAIL_KEYS: &[&str] = &[
    "dutyTaxesTotal",
    "grandTotal",
    "items",
    "itemsTotal",
    "merchantOrderId",
    "orderStatus",
    "shippingAddress1",
    "shippingAddress2",
    "shippingCarrierServiceLevel",
    "shippingCity",
    "shippingCountry",
    "shippingName",
    "shippingState",
    "shippingTotal",
    "shippingZip",
    "testOrder",
];

/// The fields of an `orderDetail` item the documents promise.
pub const PROMISED_ITEM_KEYS: &[&str] = &["productId", "quantity", "sku", "unitPrice"];

/// The fields of an `orderDetail` order the project decided to read where present (the names are its
/// reading of Zonos' order export); a bare answer leaves them out.
pub const DECIDED_DETAIL_KEYS: &[&str] = &[
    "currencyCode",
    "email",
    "id",
    "orderDate",
    "orderStatusDate",
    "shippingPhone",
    "trackingList",
];

/// The fields of an `orderDetail` item the project decided to read where present.
pub const DECIDED_ITEM_KEYS: &[&str] = &["description"];

/// An `orderDetail` order cut down to what the documents promise.
pub fn bare_detail(order: &Map<String, Value>) -> Map<String, Value> {
    let mut out: Map<String, Value> = order
        .iter()
        .filter(|(k, _)| PROMISED_DETAIL_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let Some(Value::Array(items)) = out.get_mut("items") {
        for item in items.iter_mut() {
            if let Value::Object(i) = item {
                i.retain(|k, _| PROMISED_ITEM_KEYS.contains(&k.as_str()));
            }
        }
    }
    out
}

/// A line of an order to create through the control API (the control API's own form).
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewZonosItem {
    /// SKU.
    pub sku: String,
    /// Product id.
    pub product_id: Option<String>,
    /// Title.
    pub description: Option<String>,
    /// Quantity.
    pub quantity: u32,
    /// Unit price.
    pub unit_price: Decimal,
}

/// An order to create through the control API.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewZonosOrder {
    /// Lines.
    pub items: Vec<NewZonosItem>,
    /// A test order.
    #[serde(default)]
    pub test_order: bool,
    /// Initial status (default `IGLOBAL_ORDER_IN_PROCESS`).
    pub status: Option<String>,
    /// Carrier and service, e.g. `UPS_EXPEDITED`.
    pub shipping_carrier_service_level: Option<String>,
    /// Placed this many hours ago (default 0).
    #[serde(default)]
    pub placed_hours_ago: i64,
}

impl NewZonosItem {
    /// `quantity` mugs under `sku` at `unit_price` each, without a product id.
    pub fn mug(sku: &str, quantity: u32, unit_price: Decimal) -> NewZonosItem {
        NewZonosItem {
            sku: sku.to_owned(),
            product_id: None,
            description: Some("Mug".into()),
            quantity,
            unit_price,
        }
    }
}

impl NewZonosOrder {
    /// An order of one line, placed an hour ago in the default status, not a test order.
    pub fn of(item: NewZonosItem) -> NewZonosOrder {
        NewZonosOrder {
            items: vec![item],
            test_order: false,
            status: None,
            shipping_carrier_service_level: None,
            placed_hours_ago: 1,
        }
    }
}

impl ZonosState {
    /// Index of an order by `999-12345` or `12345`.
    pub fn find(&self, store: u64, id: &str) -> Option<usize> {
        let full = if id.contains('-') {
            id.to_owned()
        } else {
            format!("{store}-{id}")
        };
        self.orders.iter().position(|o| o.id() == full)
    }

    /// Creates an order; returns its id.
    pub fn create(&mut self, store: u64, new: &NewZonosOrder) -> String {
        if self.next == 0 {
            self.next = 10_001;
        }
        let id = format!("{store}-{}", self.next);
        self.next += 1;
        let placed_at = now_seconds() - Duration::hours(new.placed_hours_ago);
        let items_total: Decimal = new
            .items
            .iter()
            .map(|i| i.unit_price * Decimal::from(i.quantity))
            .sum();
        let shipping = Decimal::new(1500, 2);
        let duties = (items_total * Decimal::new(10, 2)).round_dp(2);
        let n = self.next;
        let items: Vec<Value> = new
            .items
            .iter()
            .map(|i| {
                let mut item = json!({
                    "sku": i.sku,
                    "quantity": i.quantity,
                    "unitPrice": i.unit_price.to_string(),
                });
                if let Some(p) = &i.product_id {
                    item["productId"] = json!(p);
                }
                if let Some(d) = &i.description {
                    item["description"] = json!(d);
                }
                item
            })
            .collect();
        let order = json!({
            "id": id,
            "orderDate": zonos_time(placed_at),
            "orderStatus": new.status.as_deref().unwrap_or("IGLOBAL_ORDER_IN_PROCESS"),
            "orderStatusDate": placed_at.timestamp_millis(),
            "merchantOrderId": null,
            "testOrder": new.test_order,
            "currencyCode": "USD",
            "items": items,
            "shippingCarrierServiceLevel":
                new.shipping_carrier_service_level.as_deref().unwrap_or("UPS_EXPEDITED"),
            "shippingName": format!("Sandbox Buyer {n}"),
            "shippingAddress1": format!("{n} Rue de la Paix"),
            "shippingCity": "Paris",
            "shippingZip": "75002",
            "shippingCountry": "FR",
            "email": format!("buyer{n}@example.com"),
            "itemsTotal": items_total.to_string(),
            "shippingTotal": shipping.to_string(),
            "dutyTaxesTotal": duties.to_string(),
            "grandTotal": (items_total + shipping + duties).to_string(),
        });
        let Value::Object(order) = order else {
            return id;
        };
        self.orders.push(ZonosOrder {
            order,
            placed_at,
            status_at: placed_at,
            garbled: false,
        });
        id
    }

    /// Sets an order's status (Zonos' side, e.g. a fraud review or a cancellation).
    pub fn set_status(&mut self, idx: usize, status: &str) {
        let now = now_seconds().max(self.orders[idx].status_at + Duration::seconds(1));
        let o = &mut self.orders[idx];
        o.order.insert("orderStatus".into(), json!(status));
        o.order
            .insert("orderStatusDate".into(), json!(now.timestamp_millis()));
        o.status_at = now;
    }

    /// An `orderNumbers` entry, with its `status` fields when asked for them.
    pub(crate) fn listing(o: &ZonosOrder, statuses: bool) -> Value {
        let mut entry = json!({
            "id": o.id(),
            "testOrder": o.test_order(),
            "timestamp": zonos_time(o.placed_at),
        });
        if statuses {
            entry["merchantOrderId"] = json!(o.merchant_order_id());
            entry["orderStatus"] = json!(o.status());
            entry["orderStatusDate"] = json!(o.status_at.timestamp_millis());
            entry["orderStatusDateString"] = json!(zonos_time(o.status_at));
        }
        entry
    }
}

pub use routes::routes;

#[cfg(test)]
mod bare_tests {
    use super::*;

    #[test]
    fn a_bare_answer_keeps_only_what_the_documents_promise() {
        let mut z = ZonosState::default();
        let id = z.create(
            999,
            &NewZonosOrder {
                items: vec![NewZonosItem {
                    sku: "MUG".into(),
                    product_id: Some("p1".into()),
                    description: Some("Mug".into()),
                    quantity: 1,
                    unit_price: Decimal::new(1000, 2),
                }],
                test_order: false,
                status: None,
                shipping_carrier_service_level: None,
                placed_hours_ago: 0,
            },
        );
        let full = &z.orders[z.find(999, &id).unwrap()].order;
        let bare = bare_detail(full);
        for gone in [
            "id",
            "orderDate",
            "orderStatusDate",
            "currencyCode",
            "email",
        ] {
            assert!(
                full.contains_key(gone) && !bare.contains_key(gone),
                "{gone}"
            );
        }
        for kept in PROMISED_DETAIL_KEYS.iter().filter(|k| **k != "items") {
            assert_eq!(bare.get(*kept), full.get(*kept), "{kept}");
        }
        let item = bare["items"][0].as_object().unwrap();
        assert!(!item.contains_key("description"));
        assert_eq!(item["sku"], "MUG");
    }
}
