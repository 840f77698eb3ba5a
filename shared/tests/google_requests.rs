//! What orderbridge asks of Google, decided without I/O (`channels::google::requests`): shipments from
//! Genstore fulfillments, their corrections and deliveries, and cancellations, against the two-shipment
//! fixture (MUG-1: 3 ordered, 2 shipped; PLATE-1: 2 ordered, 1 cancelled).

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use chrono::{TimeZone, Utc};
use orderbridge::carrier::Carrier;
use orderbridge::channels::google::requests::RefundRequest;
use orderbridge::channels::google::{self, operation_id, requests, wire as g};
use orderbridge::ids::{LineItemId, RefundId, ShipmentId};
use orderbridge::money::Money;
use orderbridge::order::{
    CancelReason, ChannelOrder, Refund, Shipment, ShipmentLine, ShipmentStatus,
};
use orderbridge::Channel;

const ORDER: &str = "G-PLA-7877-86-2240";
const MUG: &str = "CYBIDQWXDKCZEYE";
const PLATE: &str = "PLATEITEM00002";

fn google_order() -> g::Order {
    let path = format!(
        "{}/tests/fixtures/google/order-two-shipments.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The Genstore side: the same lines (same SKUs), with `shipments` of its own.
fn genstore_order(shipments: Vec<Shipment>) -> ChannelOrder {
    let mut o = google::to_channel_order(&google_order()).unwrap();
    o.channel = Channel::Genstore;
    o.shipments = shipments;
    o
}

fn fulfillment(
    id: &str,
    status: ShipmentStatus,
    numbers: &[&str],
    lines: &[(&str, u32)],
) -> Shipment {
    Shipment {
        id: ShipmentId::new(id),
        carrier: Some(Carrier::Ups),
        tracking_numbers: numbers.iter().map(|n| (*n).to_owned()).collect(),
        tracking_url: None,
        line_items: lines
            .iter()
            .map(|(l, q)| ShipmentLine::new(*l, *q))
            .collect(),
        status,
        shipped_at: None,
        delivered_at: Some(Utc.with_ymd_and_hms(2024, 5, 6, 12, 0, 0).unwrap()),
    }
}

/// Google's order with one more shipment, as orderbridge would have made it.
fn with_shipment(id: &str, number: &str, status: &str) -> g::Order {
    let mut o = google_order();
    o.shipments.push(g::Shipment {
        id: Some(id.into()),
        carrier: Some("ups".into()),
        tracking_id: Some(number.into()),
        status: Some(status.into()),
        ..g::Shipment::default()
    });
    o
}

#[test]
fn a_fulfillment_ships_as_gs_id_with_a_shipment_info_per_number_and_no_more_than_is_left() {
    let f = fulfillment("F1", ShipmentStatus::Shipped, &["1Z1", "1Z2"], &[(MUG, 5)]);
    let source = genstore_order(vec![f.clone()]);
    let req = requests::ship(ORDER, &source, &f, &google_order())
        .unwrap()
        .expect("something to ship");
    assert_eq!(req.operation_id, operation_id(ORDER, "ship", "F1"));
    assert_eq!(req.line_items.len(), 1);
    assert_eq!(req.line_items[0].line_item_id.as_deref(), Some(MUG));
    assert_eq!(
        req.line_items[0].quantity, 1,
        "3 ordered, 2 shipped: 1 left"
    );
    let infos: Vec<(&str, Option<&str>, Option<&str>)> = req
        .shipment_infos
        .iter()
        .map(|i| {
            (
                i.shipment_id.as_str(),
                i.tracking_id.as_deref(),
                i.carrier.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        infos,
        vec![
            ("gs-F1", Some("1Z1"), Some("ups")),
            ("gs-F1-1", Some("1Z2"), Some("ups"))
        ]
    );
    assert!(requests::is_from_genstore("gs-F1-1"));
    assert!(!requests::is_from_genstore("shipment-1"));
}

#[test]
fn nothing_is_shipped_twice_nor_beyond_what_is_left() {
    let f = fulfillment("F1", ShipmentStatus::Shipped, &["1Z1"], &[(MUG, 1)]);
    let source = genstore_order(vec![f.clone()]);
    let google = with_shipment("gs-F1", "1Z1", "shipped");
    assert_eq!(requests::ship(ORDER, &source, &f, &google).unwrap(), None);
    let second_number_only = with_shipment("gs-F1-1", "1Z1", "shipped");
    assert_eq!(
        requests::ship(ORDER, &source, &f, &second_number_only).unwrap(),
        None
    );
    // PLATE-1: 2 ordered, 1 cancelled, so 1 left; a fulfillment of 1 ships it, and once Google
    // counts it shipped, nothing is left.
    let plate = fulfillment("F2", ShipmentStatus::Shipped, &["1Z3"], &[(PLATE, 1)]);
    let mut google = google_order();
    assert!(requests::ship(ORDER, &source, &plate, &google)
        .unwrap()
        .is_some());
    google.line_items[1].quantity_shipped = Some(1);
    assert_eq!(
        requests::ship(ORDER, &source, &plate, &google).unwrap(),
        None
    );
    let cancelled = fulfillment("F3", ShipmentStatus::Cancelled, &["1Z4"], &[(MUG, 1)]);
    assert_eq!(
        requests::ship(ORDER, &source, &cancelled, &google_order()).unwrap(),
        None
    );
}

#[test]
fn a_line_google_does_not_have_fails_for_good() {
    let f = fulfillment("F1", ShipmentStatus::Shipped, &["1Z1"], &[(MUG, 1)]);
    let mut source = genstore_order(vec![f.clone()]);
    source.line_items[0].sku = Some("OTHER-SKU".into());
    source.line_items[0].product_id = None;
    let err = requests::ship(ORDER, &source, &f, &google_order()).unwrap_err();
    assert!(err.contains(MUG), "{err}");
}

#[test]
fn a_corrected_number_or_carrier_goes_as_update_shipment_and_an_unchanged_one_does_not() {
    let f = fulfillment("F1", ShipmentStatus::Shipped, &["1Z-NEW"], &[(MUG, 1)]);
    let google = with_shipment("gs-F1", "1Z-OLD", "shipped");
    let req = requests::correction(ORDER, &f, &google).expect("a correction");
    assert_eq!(req.shipment_id, "gs-F1");
    assert_eq!(req.tracking_id.as_deref(), Some("1Z-NEW"));
    assert_eq!(req.carrier.as_deref(), Some("ups"));
    assert_eq!(req.status, None);
    let same = with_shipment("gs-F1", "1Z-NEW", "shipped");
    assert_eq!(requests::correction(ORDER, &f, &same), None);
    let mut fedex = f.clone();
    fedex.carrier = Some(Carrier::Fedex);
    let req = requests::correction(ORDER, &fedex, &same).expect("a carrier correction");
    assert_eq!(req.carrier.as_deref(), Some("fedex"));
    assert_ne!(
        req.operation_id,
        requests::correction(ORDER, &f, &google)
            .unwrap()
            .operation_id,
        "each correction has its own operation id"
    );
    assert_eq!(requests::correction(ORDER, &f, &google_order()), None);
}

#[test]
fn a_delivery_goes_once_google_has_the_shipment_and_not_after_google_says_delivered() {
    let f = fulfillment("F1", ShipmentStatus::Delivered, &["1Z1"], &[(MUG, 1)]);
    assert_eq!(requests::delivery(ORDER, &f, &google_order()), None);
    let req = requests::delivery(ORDER, &f, &with_shipment("gs-F1", "1Z1", "shipped"))
        .expect("a delivery");
    assert_eq!(req.status.as_deref(), Some(requests::DELIVERED));
    assert_eq!(req.delivery_date.as_deref(), Some("2024-05-06"));
    assert_eq!(req.operation_id, operation_id(ORDER, "deliver", "F1"));
    assert_eq!(
        requests::delivery(ORDER, &f, &with_shipment("gs-F1", "1Z1", "delivered")),
        None
    );
    let shipped = fulfillment("F1", ShipmentStatus::Shipped, &["1Z1"], &[(MUG, 1)]);
    assert_eq!(
        requests::delivery(ORDER, &shipped, &with_shipment("gs-F1", "1Z1", "shipped")),
        None
    );
}

#[test]
fn a_cancelled_fulfillment_is_withdrawn_only_when_google_has_it() {
    let f = fulfillment("F1", ShipmentStatus::Cancelled, &["1Z1"], &[(MUG, 1)]);
    assert!(requests::withdrawn(
        &f,
        &with_shipment("gs-F1", "1Z1", "shipped")
    ));
    assert!(!requests::withdrawn(&f, &google_order()));
    let live = fulfillment("F1", ShipmentStatus::Shipped, &["1Z1"], &[(MUG, 1)]);
    assert!(!requests::withdrawn(
        &live,
        &with_shipment("gs-F1", "1Z1", "shipped")
    ));
}

#[test]
fn a_whole_cancellation_is_order_level_only_while_nothing_shipped() {
    let reason = CancelReason::Customer;
    // MUG-1 has shipped 2: line by line, what is left of each.
    assert_eq!(
        requests::cancel_order(ORDER, &reason, &google_order()),
        None
    );
    let source = genstore_order(Vec::new());
    let lines = requests::cancel_lines(ORDER, &source, true, &reason, &google_order());
    let got: Vec<(Option<&str>, u32)> = lines
        .iter()
        .map(|l| (l.line_item_id.as_deref(), l.quantity))
        .collect();
    assert_eq!(got, vec![(Some(MUG), 1), (Some(PLATE), 1)]);
    assert!(lines.iter().all(|l| l.reason == reason.google_code()));
    let mut unshipped = google_order();
    for l in &mut unshipped.line_items {
        l.quantity_shipped = Some(0);
    }
    let req = requests::cancel_order(ORDER, &reason, &unshipped).expect("order-level cancel");
    assert_eq!(req.operation_id, operation_id(ORDER, "cancel", "order"));
    assert!(req
        .reason_text
        .starts_with("Cancelled in the merchant's store"));
}

#[test]
fn a_partial_cancellation_sends_what_genstore_cancelled_beyond_google() {
    let mut source = genstore_order(Vec::new());
    // Genstore cancelled 1 mug (Google: none) and 1 plate (Google has counted that one already).
    source.line_items[0].quantities.cancelled = 1;
    source.line_items[1].quantities.cancelled = 1;
    let reason = CancelReason::Inventory;
    let lines = requests::cancel_lines(ORDER, &source, false, &reason, &google_order());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].line_item_id.as_deref(), Some(MUG));
    assert_eq!(lines[0].quantity, 1);
    assert_eq!(
        lines[0].operation_id,
        operation_id(ORDER, "cancel", &format!("{MUG}:1")),
        "the id names the line's cancelled total"
    );
    // Never more than Google has left to ship.
    source.line_items[0].quantities.cancelled = 3;
    let lines = requests::cancel_lines(ORDER, &source, false, &reason, &google_order());
    assert_eq!(lines[0].quantity, 1);
}

fn genstore_refund(lines: &[(&str, u32, Option<&str>)], amount: Option<&str>) -> Refund {
    let source = genstore_order(Vec::new());
    Refund {
        id: Some(RefundId::new("R1")),
        amount: amount.map(|a| Money::new(a.parse().unwrap(), source.totals.currency.clone())),
        line_items: lines
            .iter()
            .map(|(l, q, a)| ShipmentLine {
                line_item_id: LineItemId::new(*l),
                quantity: *q,
                amount: a.map(|a| a.parse().unwrap()),
            })
            .collect(),
        reason: None,
        created_at: None,
        echo_of: None,
    }
}

#[test]
fn a_refund_of_lines_goes_at_their_stated_amounts_with_the_rest_as_shipping() {
    let source = genstore_order(Vec::new());
    // One mug at its stated 9.00, one plate at unit price (5.00); the refund moved 20.00 in all.
    let r = genstore_refund(&[(MUG, 1, Some("9.00")), (PLATE, 1, None)], Some("20.00"));
    let RefundRequest::Items(req) =
        requests::refund(ORDER, "R1", &source, &r, &google_order()).unwrap()
    else {
        panic!("a refund of lines");
    };
    let amounts: Vec<(Option<&str>, String)> = req
        .items
        .iter()
        .map(|i| {
            let v = i.amount.as_ref().unwrap().price_amount.value.unwrap();
            (i.line_item_id.as_deref(), v.to_string())
        })
        .collect();
    assert_eq!(
        amounts,
        vec![(Some(MUG), "9.00".into()), (Some(PLATE), "5.00".into())]
    );
    let shipping = req.shipping.unwrap().amount.unwrap().value.unwrap();
    assert_eq!(shipping.to_string(), "6.00");
    assert_eq!(req.reason, "adjustment");
    assert_eq!(req.operation_id, operation_id(ORDER, "refund", "R1"));
}

#[test]
fn a_refund_without_lines_goes_whole_by_its_amount_or_not_at_all() {
    let source = genstore_order(Vec::new());
    let r = genstore_refund(&[], Some("12.50"));
    let RefundRequest::Order(req, amount) =
        requests::refund(ORDER, "R1", &source, &r, &google_order()).unwrap()
    else {
        panic!("a refund of the order");
    };
    assert_eq!(amount.to_string(), "12.50");
    assert_eq!(req.reason, "courtesyAdjustment");
    let none = genstore_refund(&[], None);
    assert_eq!(
        requests::refund(ORDER, "R1", &source, &none, &google_order()).unwrap(),
        RefundRequest::Nothing
    );
    let mut other = source.clone();
    other.line_items[0].sku = Some("OTHER".into());
    other.line_items[0].product_id = None;
    let r = genstore_refund(&[(MUG, 1, None)], None);
    assert!(requests::refund(ORDER, "R1", &other, &r, &google_order()).is_err());
}
