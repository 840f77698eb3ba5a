//! The scenario's orders, in one place: the products and the orders the standalone sandbox's seed, the
//! demo and the end-to-end tests place on each platform. Each function places one order in the
//! sandbox's state and returns its id (a Genstore order's webhooks are emitted as Genstore would).

use crate::genstore::model as gw;
use crate::genstore::Refusal;
use crate::zonos::{NewZonosItem, NewZonosOrder};
use crate::Sandbox;
use rust_decimal::Decimal;

/// A product the scenario sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product {
    /// Its SKU, the same on every platform.
    pub sku: &'static str,
    /// Its product id.
    pub product_id: &'static str,
    /// What the customer sees.
    pub title: &'static str,
    /// Its unit price in cents (USD).
    pub cents: i64,
}

/// A mug, 10.00.
pub const MUG: Product = Product {
    sku: "SKU-MUG",
    product_id: "p-mug",
    title: "Mug",
    cents: 1000,
};

/// A lamp, 40.00.
pub const LAMP: Product = Product {
    sku: "SKU-LAMP",
    product_id: "p-lamp",
    title: "Lamp",
    cents: 4000,
};

/// A teapot, 35.00: sold in the store itself.
pub const TEAPOT: Product = Product {
    sku: "SKU-TEAPOT",
    product_id: "p-teapot",
    title: "Teapot",
    cents: 3500,
};

/// How a Zonos order is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZonosPlacing {
    /// A test order (the poller skips these unless told otherwise).
    pub test_order: bool,
    /// Zonos' carrier and service level.
    pub service_level: &'static str,
    /// Placed this many hours ago.
    pub placed_hours_ago: i64,
}

impl Default for ZonosPlacing {
    fn default() -> Self {
        ZonosPlacing {
            test_order: false,
            service_level: "UPS_EXPEDITED",
            placed_hours_ago: 0,
        }
    }
}

/// A Zonos order of `quantity` × `product` in the merchant's store `store`.
pub fn zonos_order(
    sb: &Sandbox,
    store: u64,
    product: Product,
    quantity: u32,
    placing: ZonosPlacing,
) -> String {
    sb.lock().zonos.create(
        store,
        &NewZonosOrder {
            items: vec![NewZonosItem {
                sku: product.sku.into(),
                product_id: Some(product.product_id.into()),
                description: Some(product.title.into()),
                quantity,
                unit_price: Decimal::new(product.cents, 2),
            }],
            test_order: placing.test_order,
            status: None,
            shipping_carrier_service_level: Some(placing.service_level.into()),
            placed_hours_ago: placing.placed_hours_ago,
        },
    )
}

/// A Google test order from `template`, ready to ship (`pendingShipment`). With `first_line`, its first
/// line is ordered that many times (and `only_line` drops the others). None if the template is unknown.
pub fn google_order(
    sb: &Sandbox,
    merchant: &str,
    template: &str,
    first_line: Option<u32>,
    only_line: bool,
) -> Option<String> {
    let mut st = sb.lock();
    let id = st
        .google
        .create_test_order(merchant, template, chrono::Utc::now())?;
    let o = &mut st.google.orders.get_mut(&id)?.order;
    o.status = "pendingShipment".into();
    if only_line {
        o.line_items.truncate(1);
    }
    if let (Some(q), Some(line)) = (first_line, o.line_items.first_mut()) {
        line.quantity_ordered = q;
        line.quantity_pending = q;
        // A line's price is its total (2 × $10 = $20).
        line.price.value = line.product.price.value * Decimal::from(q);
    }
    o.net_price_amount.value = o.line_items.iter().map(|l| l.price.value).sum();
    Some(id)
}

/// A paid Genstore order placed in the store itself (`sourceName: web`) of one `product` under `sku`,
/// its webhooks emitted.
pub fn genstore_order(sb: &Sandbox, product: Product, sku: &str) -> Result<String, Refusal> {
    let (order, events) = sb.lock().genstore.create_order(&gw::NewOrder {
        source_name: "web".into(),
        source_identifier: String::new(),
        currency: "USD".into(),
        line_items: vec![gw::NewLineItem {
            title: product.title.into(),
            sku: Some(sku.into()),
            product_id: None,
            quantity: 1,
            price: Decimal::new(product.cents, 2),
        }],
        financial_status: Some("paid".into()),
        ..gw::NewOrder::default()
    })?;
    sb.webhooks.emit_all(events);
    Ok(order.order_id)
}
