//! What the simulated Google keeps: its orders and what it keeps beside them, the access tokens it
//! handed out, and the test-order templates.

use super::model as g;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashSet};

/// A Google order with what the sandbox keeps beside it.
#[derive(Debug, Clone)]
pub struct GoogleOrder {
    /// The order.
    pub order: g::Order,
    /// Operation ids applied to it.
    pub operations: HashSet<String>,
    /// Placement order.
    pub seq: u64,
}

/// Google's orders.
#[derive(Debug, Default)]
pub struct GoogleState {
    /// Orders by id.
    pub orders: BTreeMap<String, GoogleOrder>,
    next: u64,
    /// Access tokens handed out by the token endpoint.
    pub(super) tokens: HashSet<String>,
}

pub(crate) fn price(v: Decimal, currency: &str) -> g::Price {
    g::Price::new(v, currency)
}

/// A line of a test order template: offer id, title, unit price, quantity.
pub(crate) type TemplateLine = (&'static str, &'static str, i64, u32);

pub(crate) fn template(name: &str) -> Option<Vec<TemplateLine>> {
    Some(match name {
        "template1" => vec![("SKU-MUG", "Mug", 1000, 2), ("SKU-PLATE", "Plate", 500, 1)],
        "template1a" => vec![("SKU-MUG", "Mug", 1000, 1)],
        "template1b" => vec![("SKU-LAMP", "Lamp", 4000, 1), ("SKU-BULB", "Bulb", 250, 4)],
        "template2" => vec![("SKU-CHAIR", "Chair", 12000, 2)],
        "template3" => vec![
            ("SKU-RUG", "Rug", 9900, 1),
            ("SKU-MUG", "Mug", 1000, 3),
            ("SKU-PLATE", "Plate", 500, 2),
        ],
        _ => return None,
    })
}

impl GoogleState {
    /// Creates a test order from a template, `inProgress` and unacknowledged; returns its id.
    pub fn create_test_order(
        &mut self,
        merchant_id: &str,
        template_name: &str,
        placed: DateTime<Utc>,
    ) -> Option<String> {
        let lines = template(template_name)?;
        self.next += 1;
        let n = self.next;
        let id = format!("TEST-{n:06}");
        let currency = "USD";
        let line_items: Vec<g::LineItem> = lines
            .iter()
            .enumerate()
            .map(|(i, (offer, title, cents, qty))| {
                let unit = Decimal::new(*cents, 2);
                g::LineItem {
                    id: format!("{id}-L{}", i + 1),
                    product: g::Product {
                        id: format!("online:en:US:{offer}"),
                        offer_id: (*offer).to_owned(),
                        title: (*title).to_owned(),
                        price: price(unit, currency),
                    },
                    price: price(unit * Decimal::from(*qty), currency),
                    quantity_ordered: *qty,
                    quantity_pending: *qty,
                    quantity_shipped: 0,
                    quantity_delivered: 0,
                    quantity_canceled: 0,
                    cancellations: Vec::new(),
                    quantity_returned: 0,
                    returns: Vec::new(),
                }
            })
            .collect();
        let net: Decimal = line_items.iter().map(|l| l.price.value).sum();
        let order = g::Order {
            kind: "content#order",
            id: id.clone(),
            merchant_id: merchant_id.to_owned(),
            merchant_order_id: None,
            acknowledged: false,
            status: "inProgress".into(),
            payment_status: "paymentSecured".into(),
            placed_date: Some(placed.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            customer: g::Customer {
                full_name: format!("Sandbox Shopper {n}"),
                invoice_receiving_email: format!("shopper{n}@example.com"),
            },
            delivery_details: g::DeliveryDetails {
                address: g::Address {
                    recipient_name: format!("Sandbox Shopper {n}"),
                    street_address: vec![format!("{n} Market St")],
                    locality: "San Francisco".into(),
                    region: "CA".into(),
                    postal_code: "94105".into(),
                    country: "US".into(),
                },
                phone_number: "+1 415-555-0100".into(),
            },
            line_items,
            shipments: Vec::new(),
            refunds: Vec::new(),
            net_price_amount: price(net, currency),
            net_tax_amount: price(Decimal::ZERO, currency),
            shipping_cost: price(Decimal::new(499, 2), currency),
        };
        self.orders.insert(
            id.clone(),
            GoogleOrder {
                order,
                operations: HashSet::new(),
                seq: n,
            },
        );
        Some(id)
    }

    /// A test order from a template, created and advanced (`testorders/{id}/advance`): confirmed and
    /// ready to ship, as Google's walkthrough has it before the first shipment. Its id.
    pub fn create_advanced_test_order(
        &mut self,
        merchant_id: &str,
        template_name: &str,
        placed: DateTime<Utc>,
    ) -> Option<String> {
        let id = self.create_test_order(merchant_id, template_name, placed)?;
        self.advance_test_order(&id).ok()?;
        Some(id)
    }

    /// Moves a test order from `inProgress` to `pendingShipment`; Google's refusal otherwise.
    pub fn advance_test_order(&mut self, id: &str) -> Result<(), &'static str> {
        let rec = self.orders.get_mut(id).ok_or("Order not found")?;
        if rec.order.status != "inProgress" {
            return Err("Only orders in inProgress can be advanced");
        }
        rec.order.status = "pendingShipment".into();
        Ok(())
    }

    /// Recomputes an order's status from its lines (keeps `inProgress` / `canceled` as they are).
    pub(crate) fn recompute(order: &mut g::Order) {
        if order.status == "inProgress" {
            return;
        }
        let mut ordered = 0;
        let mut shipped = 0;
        let mut delivered = 0;
        let mut cancelled = 0;
        for l in &mut order.line_items {
            l.quantity_pending = l.left();
            ordered += l.quantity_ordered;
            shipped += l.quantity_shipped;
            delivered += l.quantity_delivered;
            cancelled += l.quantity_canceled;
        }
        let live = ordered.saturating_sub(cancelled);
        let returned: u32 = order.line_items.iter().map(|l| l.quantity_returned).sum();
        order.status = if live == 0 {
            "canceled"
        } else if returned >= live {
            "returned"
        } else if returned > 0 {
            "partiallyReturned"
        } else if delivered >= live {
            "delivered"
        } else if delivered > 0 {
            "partiallyDelivered"
        } else if shipped >= live {
            "shipped"
        } else if shipped > 0 {
            "partiallyShipped"
        } else {
            "pendingShipment"
        }
        .into();
    }
}

impl GoogleOrder {
    /// A refund the merchant makes on Google's side (in Merchant Center), taken off the net amount.
    pub fn refund_on_google(&mut self, amount: Decimal, reason: &str) -> Result<(), String> {
        if amount <= Decimal::ZERO {
            return Err("amount must be positive".into());
        }
        if amount > self.order.net_price_amount.value {
            return Err("amount is more than the order's net amount".into());
        }
        let currency = self.order.currency();
        self.order.refunds.push(g::Refund {
            actor: "merchant".into(),
            amount: price(amount, &currency),
            creation_date: now_text(),
            reason: reason.to_owned(),
            reason_text: None,
        });
        self.order.net_price_amount.value -= amount;
        Ok(())
    }

    /// The customer asks to send `quantity` units of a line back (an `OrderReturn`).
    pub fn ask_return(&mut self, line: &str, quantity: u32) -> Result<(), String> {
        let l = self.line_mut(line, quantity)?;
        let asked: u32 = l.returns.iter().map(|r| r.quantity).sum();
        if asked + quantity > l.quantity_shipped {
            return Err("more asked back than shipped".into());
        }
        l.returns.push(g::Return {
            actor: "customer".into(),
            creation_date: now_text(),
            quantity,
            reason: "customerDiscretionaryReturn".into(),
        });
        Ok(())
    }

    /// Units asked back arrive: `quantityReturned` grows and the order's status follows.
    pub fn receive_return(&mut self, line: &str, quantity: u32) -> Result<(), String> {
        let l = self.line_mut(line, quantity)?;
        let asked: u32 = l.returns.iter().map(|r| r.quantity).sum();
        if l.quantity_returned + quantity > asked {
            return Err("more received than asked back".into());
        }
        l.quantity_returned += quantity;
        GoogleState::recompute(&mut self.order);
        Ok(())
    }

    fn line_mut(&mut self, line: &str, quantity: u32) -> Result<&mut g::LineItem, String> {
        if quantity == 0 {
            return Err("quantity must be at least 1".into());
        }
        self.order
            .line_items
            .iter_mut()
            .find(|l| l.id == line)
            .ok_or_else(|| "lineItemId names no line".into())
    }
}

/// Now, as Google writes dates.
fn now_text() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An RFC 3339 date-time, as the reference writes `placedDate` and the list's date filters; a bare date
/// is read as its midnight UTC.
pub(crate) fn rfc3339(v: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}
