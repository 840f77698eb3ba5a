//! Fulfillments across platforms, decided without I/O: what a channel's package becomes in Genstore
//! (`channels::genstore::fulfillments`: lines matched and capped, the Zonos no-lines decision, tracking),
//! and what Zonos is told of Genstore's fulfillments (`channels::zonos::requests`).

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use orderbridge::carrier::Carrier;
use orderbridge::channels::genstore::{fulfillments, wire as gw};
use orderbridge::channels::google;
use orderbridge::ids::ShipmentId;
use orderbridge::order::{ChannelOrder, Shipment, ShipmentLine, ShipmentStatus};

/// The external order: Google's two-line fixture (MUG-1 and PLATE-1).
fn external() -> ChannelOrder {
    let path = format!(
        "{}/tests/fixtures/google/order-two-shipments.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let o: google::wire::Order = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    google::to_channel_order(&o).unwrap()
}

fn mirror_line(id: &str, sku: Option<&str>, title: &str, left: u32) -> gw::LineItem {
    gw::LineItem {
        id: Some(id.into()),
        sku: sku.map(Into::into),
        title: Some(title.into()),
        fulfillable_quantity: Some(left),
        ..gw::LineItem::default()
    }
}

/// The mirror in Genstore: 2 mugs and 1 plate still to fulfill.
fn mirror() -> gw::Order {
    gw::Order {
        line_items: vec![
            mirror_line("g-mug", Some("MUG-1"), "Mug", 2),
            mirror_line("g-plate", None, "Plate", 1),
        ],
        ..gw::Order::default()
    }
}

fn package(lines: &[(&str, u32)], carrier: Option<Carrier>) -> Shipment {
    Shipment {
        id: ShipmentId::new("P1"),
        carrier,
        tracking_numbers: vec!["1Z1".into()],
        tracking_url: None,
        line_items: lines
            .iter()
            .map(|(l, q)| ShipmentLine::new(*l, *q))
            .collect(),
        status: ShipmentStatus::Shipped,
        shipped_at: None,
        delivered_at: None,
    }
}

fn taken(lines: &[gw::LineQuantity]) -> Vec<(&str, u32)> {
    lines
        .iter()
        .map(|q| (q.id.as_deref().unwrap_or(""), q.quantity.unwrap_or(0)))
        .collect()
}

#[test]
fn named_lines_match_by_sku_then_title_and_are_capped_at_what_is_left() {
    let ext = external();
    // 5 mugs named, 2 left in Genstore; the plate has no SKU in the mirror and matches by title.
    let p = package(&[("CYBIDQWXDKCZEYE", 5), ("PLATEITEM00002", 1)], None);
    let lines = fulfillments::package_lines(&ext, &p, &mirror(), 0);
    assert_eq!(taken(&lines), vec![("g-mug", 2), ("g-plate", 1)]);
    // The same line named twice in one package never takes more than is left.
    let twice = package(&[("CYBIDQWXDKCZEYE", 2), ("CYBIDQWXDKCZEYE", 2)], None);
    let lines = fulfillments::package_lines(&ext, &twice, &mirror(), 0);
    assert_eq!(taken(&lines), vec![("g-mug", 2)]);
    let unknown = package(&[("NO-SUCH-LINE", 1)], None);
    assert!(fulfillments::package_lines(&ext, &unknown, &mirror(), 0).is_empty());
}

#[test]
fn a_package_naming_no_lines_leaves_a_unit_for_each_later_package() {
    let ext = external();
    let p = package(&[], None);
    // 3 units left, no later package: it takes all.
    let all = fulfillments::package_lines(&ext, &p, &mirror(), 0);
    assert_eq!(taken(&all), vec![("g-mug", 2), ("g-plate", 1)]);
    // One later package: one unit stays for it.
    let some = fulfillments::package_lines(&ext, &p, &mirror(), 1);
    assert_eq!(taken(&some), vec![("g-mug", 2)]);
    // More later packages than units: still at least one unit, so its number reaches the customer.
    let one = fulfillments::package_lines(&ext, &p, &mirror(), 10);
    assert_eq!(taken(&one), vec![("g-mug", 1)]);
    let mut done = mirror();
    for l in &mut done.line_items {
        l.fulfillable_quantity = Some(0);
    }
    assert!(fulfillments::package_lines(&ext, &p, &done, 0).is_empty());
}

#[test]
fn tracking_names_the_carrier_as_genstore_does_and_links_its_page() {
    let ups = fulfillments::tracking_info(&package(&[], Some(Carrier::Ups)), Some("1Z1")).unwrap();
    assert_eq!(ups.number.as_deref(), Some("1Z1"));
    assert_eq!(
        ups.company.as_deref(),
        Some(Carrier::Ups.genstore_company())
    );
    assert!(ups.url.as_deref().is_some_and(|u| u.contains("1Z1")));
    let unknown = fulfillments::tracking_info(&package(&[], None), Some("XY")).unwrap();
    assert_eq!(unknown.company.as_deref(), Some("Other"));
    assert_eq!(fulfillments::tracking_info(&package(&[], None), None), None);
}

#[test]
fn a_number_goes_to_a_live_fulfillment_without_one() {
    let f = |id: &str, status: &str, number: Option<&str>| gw::Fulfillment {
        fulfill_id: Some(id.into()),
        status: Some(status.into()),
        tracking_info: number.map(|n| gw::TrackingInfo {
            number: Some(n.into()),
            ..gw::TrackingInfo::default()
        }),
        ..gw::Fulfillment::default()
    };
    let mut m = mirror();
    m.fulfillments = vec![
        f("F1", "success", Some("1Z0")),
        f("F2", fulfillments::CANCELLED, None),
    ];
    assert_eq!(fulfillments::untracked(&m), None);
    m.fulfillments.push(f("F3", "success", None));
    assert_eq!(fulfillments::untracked(&m).as_deref(), Some("F3"));
    let new = fulfillments::new_fulfillment("1001", Vec::new(), None);
    assert!(new.notify_customer);
    assert_eq!(new.order_id, "1001");
}

/// The other way, Zonos: one list of every live fulfillment's numbers, and the end-of-day status once
/// everything not cancelled has shipped.
#[test]
fn zonos_is_told_every_live_number_once_and_end_of_day_when_all_shipped() {
    use orderbridge::channels::zonos::{requests, ZonosStatus};
    let mut source = external();
    let mut first = package(&[("CYBIDQWXDKCZEYE", 1)], None);
    first.tracking_numbers = vec!["1Z1".into(), "1Z2".into()];
    let mut again = package(&[("CYBIDQWXDKCZEYE", 1)], None);
    again.id = ShipmentId::new("P2");
    again.tracking_numbers = vec!["1Z2".into(), "1Z3".into()];
    let mut cancelled = package(&[], None);
    cancelled.id = ShipmentId::new("P3");
    cancelled.status = ShipmentStatus::Cancelled;
    cancelled.tracking_numbers = vec!["1Z9".into()];
    source.shipments = vec![first, again, cancelled];
    assert_eq!(
        requests::tracking_numbers(&source),
        vec!["1Z1".to_owned(), "1Z2".into(), "1Z3".into()]
    );
    // The fixture's mug has one unit left and the plate one: not all shipped yet.
    assert_eq!(requests::vendor_status(&source), None);
    for l in &mut source.line_items {
        l.quantities.shipped = l.quantities.ordered - l.quantities.cancelled;
    }
    assert_eq!(
        requests::vendor_status(&source),
        Some(ZonosStatus::VendorEndOfDayComplete)
    );
}
