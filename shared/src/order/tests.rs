use super::*;
use chrono::TimeZone;

pub(crate) fn sample() -> ChannelOrder {
    let at = Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap();
    ChannelOrder {
        channel: Channel::Google,
        order_id: "G-PLA-1".into(),
        genstore_order_id: None,
        merchant_order_id: None,
        source: None,
        customer_id: Some("c-1".into()),
        customer: Some(Personal::new(Contact {
            name: Some("Bob Bobsen".into()),
            email: Some("bob@example.com".into()),
            phone: Some("555-625-1199".into()),
        })),
        shipping_address: Some(Personal::new(Address {
            name: Some("Bob Bobsen".into()),
            lines: vec!["123 Main St".into()],
            city: Some("Ottawa".into()),
            ..Address::default()
        })),
        billing_address: None,
        line_items: vec![LineItem {
            id: "li-1".into(),
            sku: Some("SKU-1".into()),
            product_id: None,
            title: "Widget".into(),
            quantities: Quantities {
                ordered: 3,
                shipped: 1,
                cancelled: 1,
                delivered: 0,
                ..Quantities::default()
            },
            unit_price: Decimal::new(1000, 2),
        }],
        totals: Totals::whole("USD".parse().unwrap(), Decimal::new(3000, 2)),
        raw_status: "partiallyShipped".into(),
        status: UnifiedStatus::PartiallyShipped,
        shipments: vec![],
        refunds: vec![],
        test_order: false,
        tags: vec![],
        placed_at: at,
        updated_at: at,
        cancelled_at: None,
        cancel_reason: None,
        personal_data_erased: false,
    }
}

#[test]
fn left_to_ship_never_goes_below_zero() {
    // (ordered, shipped, cancelled) → left to ship.
    for ((ordered, shipped, cancelled), left) in [((3, 1, 1), 1), ((1, 2, 1), 0)] {
        let q = Quantities {
            ordered,
            shipped,
            cancelled,
            ..Quantities::default()
        };
        assert_eq!(q.left_to_ship(), left, "{q:?}");
    }
}

#[test]
fn debug_output_of_an_order_holds_no_personal_data() {
    let printed = format!("{:?}", sample());
    for secret in [
        "Bob",
        "bob@example.com",
        "555-625-1199",
        "123 Main St",
        "Ottawa",
    ] {
        assert!(!printed.contains(secret), "{secret} leaked: {printed}");
    }
}

#[test]
fn erasure_drops_contact_and_addresses_but_keeps_the_order() {
    let mut o = sample();
    o.refunds.push(Refund {
        id: None,
        amount: None,
        line_items: Vec::new(),
        reason: Some(Personal::new("Bob moved to 1 Main St".into())),
        created_at: None,
        echo_of: None,
    });
    o.erase_personal_data();
    assert!(o.customer.is_none() && o.shipping_address.is_none() && o.billing_address.is_none());
    assert!(
        o.refunds.iter().all(|r| r.reason.is_none()),
        "refund notes too"
    );
    assert!(o.personal_data_erased);
    assert_eq!(o.line_items.len(), 1);
    assert_eq!(o.customer_id, Some("c-1".into()));
    let json = serde_json::to_string(&o).unwrap();
    assert!(!json.contains("bob@example.com") && !json.contains("Main St"));
}

#[test]
fn same_second_versions_are_ordered_by_progress() {
    let before = sample();
    let mut after = sample();
    after.line_items[0].quantities.shipped = 2;
    assert!(after.source_version() > before.source_version());
    assert!(after.source_version().sort_key() > before.source_version().sort_key());
    assert_eq!(sample().source_version(), before.source_version());
}

#[test]
fn a_later_time_beats_more_progress() {
    let mut earlier = sample();
    earlier.status = UnifiedStatus::Delivered;
    let mut later = sample();
    later.updated_at += chrono::Duration::seconds(1);
    assert!(later.source_version() > earlier.source_version());
    assert!(later.source_version().sort_key() > earlier.source_version().sort_key());
}

#[test]
fn the_order_round_trips_through_json() {
    let o = sample();
    let back: ChannelOrder = serde_json::from_str(&serde_json::to_string(&o).unwrap()).unwrap();
    assert_eq!(back, o);
}

#[test]
fn a_source_names_an_external_order_only_for_synced_channels() {
    let zonos = OrderSource {
        name: "zonos".into(),
        identifier: Some("999-1".into()),
    };
    assert_eq!(
        zonos.external_order(),
        Some((Channel::Zonos, "999-1".into()))
    );
    let insta = OrderSource {
        name: "instagram".into(),
        identifier: Some("X".into()),
    };
    assert_eq!(insta.external_order(), None);
    let blank = OrderSource {
        name: "google".into(),
        identifier: Some(" ".into()),
    };
    assert_eq!(blank.external_order(), None);
}
