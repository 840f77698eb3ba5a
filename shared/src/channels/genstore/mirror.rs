//! An external order as Genstore is sent it: the mirror's create body (lines, money, addresses, the
//! source), and what the channel's later changes make of it — a hold, refunds and returns — as a change
//! to the mirror's payment state, tags and note (pure; no I/O).
//!
//! **Decisions** (Genstore documents no hold, no refund call and no shipping line):
//!
//! - *Money.* The mirror carries the documented money fields of seed 001's order: `totalLineItemsPrice`
//!   (its lines), `totalDiscounts` with one `discountCodes` entry for what the channel took off,
//!   `subtotalPrice` (lines less discounts), `totalTax` (for Zonos, duties and taxes, with
//!   `dutiesIncluded: true`) and `totalPrice`, the channel's total. Genstore's order has no shipping
//!   field, so shipping is what `totalPrice` holds beyond `subtotalPrice` and `totalTax`, and the note
//!   states it.
//! - *Hold.* A mirror its channel holds (fraud review, a hold, a Google order not yet confirmed) is
//!   unpaid (`financialStatus: pending`), tagged [`HOLD_TAG`], and its note says not to ship it; once the
//!   channel releases the order it becomes `paid` and loses the tag.
//! - *Refunds and returns made on the channel.* Genstore has no call that records a refund made
//!   elsewhere, so the mirror's payment state follows (`partially_refunded`, `refunded`: never lowered
//!   from a refund state Genstore holds itself), it is tagged [`REFUNDED_TAG`], [`RETURN_OPEN_TAG`] while
//!   a return is on its way back and [`RETURNED_TAG`] once units are received, and the note lists each
//!   refund and return. Refunds that are echoes of Genstore's own ([`Refund::echo_of`]) are left out.
//! - The note is orderbridge's: it is written whole from the channel's order each time. Tags the
//!   merchant added stay; orderbridge changes only its own (`orderbridge-…`).

use super::wire;
use crate::channel::Channel;
use crate::order::{Address, ChannelOrder};
use crate::personal::Personal;
use rust_decimal::Decimal;

fn from_address(a: &Address) -> wire::Address {
    let mut lines = a.lines.iter().cloned();
    wire::Address {
        name: a.name.clone(),
        address1: lines.next(),
        address2: {
            let rest: Vec<String> = lines.collect();
            (!rest.is_empty()).then(|| rest.join(", "))
        },
        city: a.city.clone(),
        province: a.region.clone(),
        province_code: a.region_code.clone(),
        country: a.country.clone(),
        country_code: a.country_code.clone(),
        zip: a.postal_code.clone(),
        phone: a.phone.clone(),
        ..wire::Address::default()
    }
}

/// The tag on a mirror its channel holds (fraud review, a hold, an order not yet confirmed).
pub const HOLD_TAG: &str = "orderbridge-hold";
/// The tag on a mirror whose channel refunded money.
pub const REFUNDED_TAG: &str = "orderbridge-refunded";
/// The tag on a mirror with a return on its way back to the merchant.
pub const RETURN_OPEN_TAG: &str = "orderbridge-return-open";
/// The tag on a mirror some of whose units came back.
pub const RETURNED_TAG: &str = "orderbridge-returned";

/// True when the channel holds the order, so its mirror must not ship.
pub fn held(order: &ChannelOrder) -> bool {
    order.status == crate::status::UnifiedStatus::OnHold
}

/// A Genstore order's comma-separated tags, one by one.
pub(super) fn tags_of(tags: Option<&str>) -> impl Iterator<Item = &str> {
    tags.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// True when a Genstore order carries [`HOLD_TAG`].
pub fn is_held(order: &wire::Order) -> bool {
    tags_of(order.tags.as_deref()).any(|t| t == HOLD_TAG)
}

/// Whether the channel refunded any of the order itself, and how much in the order's currency.
fn refunded_on_channel(order: &ChannelOrder) -> (bool, Decimal) {
    let sum = order
        .own_refunds()
        .filter_map(|r| r.amount.as_ref())
        .filter(|m| m.currency == order.totals.currency)
        .fold(Decimal::ZERO, |acc, m| {
            acc.checked_add(m.amount).unwrap_or(acc)
        });
    (order.own_refunds().next().is_some(), sum)
}

/// The payment state the mirror should show; `current` is the one it shows now, if it exists.
fn financial_status(order: &ChannelOrder, current: Option<&str>) -> &'static str {
    if held(order) {
        return "pending";
    }
    let (any, sum) = refunded_on_channel(order);
    let wanted = if !any {
        "paid"
    } else if sum >= order.totals.total && sum > Decimal::ZERO {
        "refunded"
    } else {
        "partially_refunded"
    };
    // A refund state Genstore holds of its own (a refund made there) is never lowered.
    match (current, wanted) {
        (Some("refunded"), _) => "refunded",
        (Some("partially_refunded"), "paid") => "partially_refunded",
        _ => wanted,
    }
}

/// orderbridge's tags for the order as it now is.
fn own_tags(order: &ChannelOrder) -> Vec<String> {
    let (returned, open) = order.returns();
    let mut tags = vec!["orderbridge".to_owned(), order.channel.as_str().to_owned()];
    for (on, tag) in [
        (held(order), HOLD_TAG),
        (order.own_refunds().next().is_some(), REFUNDED_TAG),
        (open > 0, RETURN_OPEN_TAG),
        (returned > 0, RETURNED_TAG),
    ] {
        if on {
            tags.push(tag.to_owned());
        }
    }
    tags
}

/// The mirror's tags: the merchant's own as they are, then orderbridge's as the order now is.
fn tags(order: &ChannelOrder, current: Option<&str>) -> String {
    let mine = own_tags(order);
    let mut all: Vec<String> = tags_of(current)
        .filter(|t| !t.starts_with("orderbridge-") && !mine.iter().any(|m| m == t))
        .map(str::to_owned)
        .collect();
    all.extend(mine);
    all.join(", ")
}

fn money(amount: Decimal, order: &ChannelOrder) -> String {
    format!("{} {}", amount.round_dp(2), order.totals.currency)
}

/// The note: where the order came from, its money, then what the channel did since.
fn note(order: &ChannelOrder, released: bool) -> String {
    let ch = order.channel;
    let mut lines = vec![format!(
        "Imported by orderbridge from {ch} order {}.",
        order.order_id
    )];
    if held(order) {
        lines.push(format!(
            "ON HOLD on {ch} ({}): do not ship; orderbridge releases it when {ch} does.",
            order.raw_status
        ));
    } else if released {
        lines.push(format!(
            "Held on {ch} earlier; released by {ch} ({}).",
            order.raw_status
        ));
    }
    let t = &order.totals;
    let mut parts = Vec::new();
    if let Some(s) = t.subtotal {
        parts.push(format!("lines {}", money(s, order)));
    }
    if let Some(d) = t.discounts.filter(|d| *d > Decimal::ZERO) {
        parts.push(format!("discounts -{}", money(d, order)));
    }
    if let Some(s) = t.shipping {
        parts.push(format!("shipping {}", money(s, order)));
    }
    if let Some(x) = t.tax {
        let what = if ch == Channel::Zonos {
            "duties and taxes"
        } else {
            "tax"
        };
        parts.push(format!("{what} {}", money(x, order)));
    }
    parts.push(format!("total {}", money(t.total, order)));
    lines.push(format!("Paid on {ch}: {}.", parts.join(", ")));
    for r in order.own_refunds() {
        let amount = r
            .amount
            .as_ref()
            .map_or_else(|| "an unstated amount".to_owned(), ToString::to_string);
        let when = r
            .created_at
            .map(|d| format!(" on {}", d.format("%Y-%m-%d")))
            .unwrap_or_default();
        lines.push(format!("Refunded on {ch}: {amount}{when}."));
    }
    for l in &order.line_items {
        let q = &l.quantities;
        if q.return_requested == 0 {
            continue;
        }
        let name = l.sku.as_ref().map_or(l.id.as_str(), |s| s.as_str());
        lines.push(format!(
            "Return on {ch}: {} of {} × {name} asked back, {} received.",
            q.return_requested, q.ordered, q.returned
        ));
    }
    lines.join("\n")
}

/// What the mirror of `order` should be changed to, as the channel's order now is, given the mirror
/// as Genstore holds it; `None` when it already shows all of it. Its payment state, orderbridge's tags
/// and the note follow the order's hold, its refunds and its returns (see the module's decisions).
pub fn mirror_update(order: &ChannelOrder, mirror: &wire::Order) -> Option<wire::OrderUpdate> {
    let current_financial = mirror.financial_status.as_deref();
    let financial = financial_status(order, current_financial);
    let tags = tags(order, mirror.tags.as_deref());
    let same_tags = {
        let mut a: Vec<&str> = tags_of(Some(&tags)).collect();
        let mut b: Vec<&str> = tags_of(mirror.tags.as_deref()).collect();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    };
    let note = note(order, is_held(mirror) || mirror_was_released(mirror));
    let current_note = mirror.note.as_ref().map(|n| n.expose().as_str());
    if current_financial == Some(financial) && same_tags && current_note == Some(note.as_str()) {
        return None;
    }
    Some(wire::OrderUpdate {
        financial_status: (current_financial != Some(financial)).then(|| financial.to_owned()),
        tags: (!same_tags).then_some(tags),
        note: (current_note != Some(note.as_str())).then_some(note),
    })
}

/// True when the mirror's note says its channel released it (so a later note keeps saying so).
fn mirror_was_released(mirror: &wire::Order) -> bool {
    mirror
        .note
        .as_ref()
        .is_some_and(|n| n.expose().contains("; released by "))
}

/// The body that creates an external order's mirror in Genstore: `sourceName` = the channel,
/// `sourceIdentifier` = its order id, its lines, shipping address, money, and what the channel did to
/// it so far (see the module's decisions).
pub fn mirror_request(order: &ChannelOrder) -> wire::CreateOrderRequest {
    let line_items: Vec<wire::NewLineItem> = order
        .line_items
        .iter()
        .map(|l| wire::NewLineItem {
            title: l.title.clone(),
            sku: l.sku.as_ref().map(|s| s.as_str().to_owned()),
            product_id: l.product_id.as_ref().map(|p| p.as_str().to_owned()),
            quantity: l.quantities.ordered.saturating_sub(l.quantities.cancelled),
            price: l.unit_price,
        })
        .filter(|l| l.quantity > 0)
        .collect();
    let lines_price = crate::money::checked_sum(
        line_items
            .iter()
            .filter_map(|l| l.price.checked_mul(Decimal::from(l.quantity))),
    );
    let discounts = order.totals.discounts.filter(|d| *d > Decimal::ZERO);
    let subtotal = lines_price.and_then(|p| p.checked_sub(discounts.unwrap_or_default()));
    wire::CreateOrderRequest {
        order: wire::NewOrder {
            source_name: order.channel.as_str().to_owned(),
            source_identifier: order.order_id.as_str().to_owned(),
            currency: order.totals.currency.as_str().to_owned(),
            line_items,
            financial_status: Some(financial_status(order, None).to_owned()),
            total_price: Some(order.totals.total),
            total_line_items_price: lines_price,
            subtotal_price: subtotal,
            total_discounts: discounts,
            discount_codes: discounts
                .map(|d| wire::DiscountCode {
                    code: Some(format!("{}-discounts", order.channel)),
                    amount: Some(d),
                    kind: Some("fixed_amount".into()),
                })
                .into_iter()
                .collect(),
            total_tax: order.totals.tax,
            duties_included: (order.channel == Channel::Zonos
                && order.totals.tax.is_some_and(|t| t > Decimal::ZERO))
            .then_some(true),
            email: order
                .customer
                .as_ref()
                .and_then(|c| c.expose().email.clone())
                .map(Personal::new),
            shipping_address: order
                .shipping_address
                .as_ref()
                .map(|a| Personal::new(from_address(a.expose()))),
            tags: Some(tags(order, None)),
            note: Some(note(order, false)),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::RefundId;
    use crate::money::Money;
    use crate::order::Refund;
    use crate::status::UnifiedStatus;

    fn google_order() -> ChannelOrder {
        let mut o = crate::order::tests::sample();
        o.line_items[0].quantities.cancelled = 0;
        o.totals.subtotal = Some(Decimal::new(3000, 2));
        o.totals.discounts = Some(Decimal::new(500, 2));
        o.totals.shipping = Some(Decimal::new(499, 2));
        o.totals.tax = Some(Decimal::new(200, 2));
        o.totals.total = Decimal::new(3199, 2);
        o.status = UnifiedStatus::Shipped;
        o
    }

    fn mirror_of(o: &ChannelOrder) -> wire::Order {
        let new = mirror_request(o).order;
        wire::Order {
            order_id: Some("1001".into()),
            financial_status: new.financial_status,
            tags: new.tags,
            note: new.note.map(Personal::new),
            ..wire::Order::default()
        }
    }

    fn refund(id: &str, cents: i64, echo: Option<&str>) -> Refund {
        Refund {
            id: Some(RefundId::new(id)),
            amount: Some(Money::new(Decimal::new(cents, 2), "USD".parse().unwrap())),
            line_items: Vec::new(),
            reason: None,
            created_at: None,
            echo_of: echo.map(RefundId::new),
        }
    }

    #[test]
    fn a_mirror_carries_the_channels_money_and_its_sums_add_up() {
        let o = google_order();
        let m = mirror_request(&o).order;
        assert_eq!(m.total_price, Some(o.totals.total));
        assert_eq!(m.total_line_items_price, Some(Decimal::new(3000, 2)));
        assert_eq!(m.total_discounts, Some(Decimal::new(500, 2)));
        assert_eq!(m.discount_codes[0].amount, Some(Decimal::new(500, 2)));
        assert_eq!(m.subtotal_price, Some(Decimal::new(2500, 2)));
        assert_eq!(m.total_tax, Some(Decimal::new(200, 2)));
        assert_eq!(m.duties_included, None, "Google's tax holds no duties");
        let note = m.note.unwrap();
        assert!(note.contains("shipping 4.99 USD"), "{note}");
        assert!(note.contains("total 31.99 USD"), "{note}");
        let mut z = google_order();
        z.channel = Channel::Zonos;
        let zm = mirror_request(&z).order;
        assert_eq!(zm.duties_included, Some(true));
        assert!(zm.note.unwrap().contains("duties and taxes 2.00 USD"));
    }

    #[test]
    fn a_channel_refund_marks_the_mirror_and_its_echo_does_not() {
        let mut o = google_order();
        let mirror = mirror_of(&o);
        assert_eq!(
            mirror_update(&o, &mirror),
            None,
            "the mirror shows the order"
        );
        o.refunds.push(refund("7001", 1000, Some("7001")));
        assert_eq!(
            mirror_update(&o, &mirror),
            None,
            "a refund pushed from Genstore is not brought back"
        );
        o.refunds.push(refund("google-2", 1000, None));
        let u = mirror_update(&o, &mirror).expect("a change");
        assert_eq!(u.financial_status.as_deref(), Some("partially_refunded"));
        assert!(u.tags.as_deref().unwrap().contains(REFUNDED_TAG));
        assert!(u
            .note
            .as_deref()
            .unwrap()
            .contains("Refunded on google: 10.00 USD"));
        let mut applied = mirror.clone();
        applied.financial_status = u.financial_status.clone();
        applied.tags = u.tags.clone();
        applied.note = u.note.clone().map(Personal::new);
        let again = mirror_update(&o, &applied);
        assert_eq!(again, None, "applied once, nothing more");
        o.refunds.push(refund("google-3", 2199, None));
        let full = mirror_update(&o, &applied).expect("a change");
        assert_eq!(full.financial_status.as_deref(), Some("refunded"));
    }

    #[test]
    fn a_refund_state_genstore_holds_itself_is_never_lowered_and_merchant_tags_stay() {
        let o = google_order();
        let mut mirror = mirror_of(&o);
        mirror.financial_status = Some("partially_refunded".into());
        mirror.tags = Some("orderbridge, google, vip".into());
        assert_eq!(mirror_update(&o, &mirror), None);
        let mut returned = o.clone();
        returned.line_items[0].quantities.return_requested = 2;
        returned.line_items[0].quantities.returned = 1;
        let u = mirror_update(&returned, &mirror).expect("a change");
        assert_eq!(u.financial_status, None);
        let tags = u.tags.unwrap();
        assert!(tags.contains("vip"), "{tags}");
        assert!(
            tags.contains(RETURN_OPEN_TAG) && tags.contains(RETURNED_TAG),
            "{tags}"
        );
        let note = u.note.unwrap();
        assert!(
            note.contains("2 of 3 × SKU-1 asked back, 1 received"),
            "{note}"
        );
    }

    #[test]
    fn a_held_order_is_mirrored_unpaid_and_released_later() {
        let mut o = google_order();
        o.status = UnifiedStatus::OnHold;
        o.raw_status = "inProgress".into();
        let mirror = mirror_of(&o);
        assert_eq!(mirror.financial_status.as_deref(), Some("pending"));
        assert!(is_held(&mirror));
        o.status = UnifiedStatus::Paid;
        o.raw_status = "pendingShipment".into();
        let u = mirror_update(&o, &mirror).expect("a release");
        assert_eq!(u.financial_status.as_deref(), Some("paid"));
        assert!(!u.tags.as_deref().unwrap().contains(HOLD_TAG));
        assert!(u
            .note
            .as_deref()
            .unwrap()
            .contains("released by google (pendingShipment)"));
    }
}
