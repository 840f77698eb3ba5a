//! Genstore's wire format: the seed order parses to exactly its values, variants parse alike, garbage is
//! reported by field, and orders map into the domain.

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use chrono::{TimeZone, Utc};
use orderbridge::carrier::Carrier;
use orderbridge::channels::genstore::{self, mapping, wire};
use orderbridge::order::ShipmentStatus;
use orderbridge::{Channel, UnifiedStatus};
use rust_decimal::Decimal;
use std::str::FromStr;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/genstore/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[test]
fn seed_001_order_parses_to_exactly_its_values() {
    let o = genstore::parse_order_envelope(&fixture("order-seed-001.json")).unwrap();

    assert_eq!(o.order_id, some("1001"));
    assert_eq!(
        o.note.as_ref().map(|n| n.expose().as_str()),
        Some("Customer changed their mind.")
    );
    assert_eq!(o.source_identifier, some("ORDERID-123"));
    assert_eq!(o.source_name, some("instagram"));
    assert_eq!(o.total_outstanding, Some(dec("5.00")));
    assert_eq!(o.current_total_discounts, Some(dec("10.00")));
    assert_eq!(o.total_price, Some(dec("409.94")));
    assert_eq!(o.total_discounts, Some(dec("0.00")));
    assert_eq!(
        o.payment_gateway_names,
        vec!["authorize_net", "Cash on Delivery (COD)"]
    );
    assert_eq!(o.current_total_tax, Some(dec("10.00")));
    assert_eq!(o.fulfillment_status, some("partial"));
    assert_eq!(o.current_total_price, Some(dec("10.00")));
    assert_eq!(o.current_subtotal_price, Some(dec("10.00")));
    assert_eq!(o.total_tax, Some(dec("11.94")));
    assert_eq!(
        o.created_at,
        Some(Utc.with_ymd_and_hms(2008, 1, 10, 16, 0, 0).unwrap())
    );
    assert_eq!(o.presentment_currency, some("CAD"));
    assert_eq!(o.duties_included, Some(false));
    assert_eq!(o.currency, some("USD"));
    assert_eq!(o.cancel_reason, some("customer"));
    assert_eq!(
        o.closed_at,
        Some(Utc.with_ymd_and_hms(2008, 1, 10, 16, 0, 0).unwrap())
    );
    assert_eq!(o.subtotal_price, Some(dec("398.00")));
    assert_eq!(
        o.email.as_ref().map(|e| e.expose().as_str()),
        Some("[email protected]")
    );
    let terms = o.payment_terms.as_ref().unwrap();
    assert_eq!(
        (terms.amount, terms.currency.as_deref()),
        (Some(dec("70")), Some("CAD"))
    );
    assert_eq!(
        o.updated_at,
        Some(Utc.with_ymd_and_hms(2012, 8, 24, 18, 2, 15).unwrap())
    );
    assert_eq!(o.taxes_included, Some(false));
    assert_eq!(o.discount_codes.len(), 1);
    assert_eq!(o.discount_codes[0].amount, Some(dec("30.00")));
    assert_eq!(o.discount_codes[0].code, some("SPRING30"));
    assert_eq!(o.discount_codes[0].kind, some("fixed_amount"));
    assert_eq!(o.cancelled_at, None);
    assert_eq!(o.tags, some("imported, vip"));
    assert_eq!(o.buyer_accepts_marketing, Some(false));
    assert_eq!(
        o.phone.as_ref().map(|p| p.expose().as_str()),
        Some("+557734881234")
    );
    assert_eq!(o.total_line_items_price, Some(dec("398.00")));
    assert_eq!(o.financial_status, some("paid"));
    assert_eq!(o.total_weight, Some(dec("300")));

    assert_eq!(o.line_items.len(), 1);
    let l = &o.line_items[0];
    assert_eq!(l.variant_title, some("Pink"));
    assert_eq!(l.quantity, Some(1));
    assert_eq!(l.product_id, some("7513594"));
    assert_eq!(l.taxable, Some(true));
    assert_eq!(l.title, some("IPod Nano"));
    assert_eq!(l.fulfillable_quantity, Some(1));
    assert_eq!(l.fulfillment_status, some("fulfilled"));
    assert_eq!(l.requires_shipping, Some(true));
    assert_eq!(l.price, Some(dec("199.99")));
    assert_eq!(l.gift_card, Some(false));
    assert_eq!(l.total_discount, Some(dec("5.00")));
    assert_eq!(l.id, some("669751112"));
    assert_eq!(l.variant_id, some("4264112"));
    assert_eq!(l.grams, Some(dec("500")));
    assert_eq!(l.sku, some("IPOD-342-N"));
    assert_eq!(l.current_quantity, Some(1));

    assert_eq!(o.fulfillments.len(), 1);
    let f = &o.fulfillments[0];
    assert_eq!(
        f.created_at,
        Some(Utc.with_ymd_and_hms(2022, 1, 1, 12, 0, 0).unwrap())
    );
    assert_eq!(f.order_id, some("3183479"));
    assert_eq!(f.fulfill_id, some("255858046"));
    assert_eq!(f.status, some("failure"));
    // The seed's stray trailing quote is trimmed, not refused.
    assert_eq!(
        f.updated_at,
        Some(Utc.with_ymd_and_hms(2022, 1, 1, 12, 0, 0).unwrap())
    );

    let ship = o.shipping_address.as_ref().unwrap().expose();
    assert_eq!(ship.zip, some("K2P0V6"));
    assert_eq!(ship.country, some("Canada"));
    assert_eq!(ship.last_name, some("Bobsen"));
    assert_eq!(ship.address2, some("Amoebobacterieae"));
    assert_eq!(ship.city, some("Ottawa"));
    assert_eq!(ship.address1, some("123 Amoebobacterieae St"));
    assert_eq!(ship.province_code, some("ON"));
    assert_eq!(ship.latitude, Some(dec("45.41634")));
    assert_eq!(ship.first_name, some("Bob"));
    assert_eq!(ship.province, some("Ontario"));
    assert_eq!(ship.phone, some("555-625-1199"));
    assert_eq!(ship.country_code, some("CA"));
    assert_eq!(ship.name, some("Bob Bobsen"));
    assert_eq!(ship.longitude, Some(dec("-75.6868")));

    let bill = o.billing_address.as_ref().unwrap().expose();
    assert_eq!(bill.zip, some("T0E 0M0"));
    assert_eq!(bill.address1, some("2259 Park Ct"));
    assert_eq!(bill.address2, some("Apartment 5"));
    assert_eq!(bill.city, some("Drayton Valley"));
    assert_eq!(bill.province_code, some("AB"));
    assert_eq!(bill.phone, some("(555)555-5555"));
    assert_eq!(bill.name, some("Christopher Gorski"));

    let c = o.customer.as_ref().unwrap();
    assert_eq!(c.id, some("207119551"));
    assert_eq!(c.last_name.as_ref().unwrap().expose(), "Norman");
    assert_eq!(c.first_name.as_ref().unwrap().expose(), "John");
    assert_eq!(c.tax_exempt, Some(true));
    assert_eq!(
        c.tax_exemptions,
        vec!["CA_STATUS_CARD_EXEMPTION", "CA_BC_RESELLER_EXEMPTION"]
    );
    assert_eq!(c.tags, some("loyal"));
    assert_eq!(c.phone.as_ref().unwrap().expose(), "16135551111");
    assert_eq!(c.currency, some("JPY"));
    assert_eq!(c.state, some("disabled"));
    assert_eq!(c.verified_email, Some(true));
    assert_eq!(c.default_address, None, "\"\" is no address");
    assert_eq!(
        c.created_at,
        Some(Utc.with_ymd_and_hms(2013, 6, 27, 12, 48, 27).unwrap())
    );
}

#[test]
fn seed_001_order_maps_into_the_domain() {
    let o = genstore::parse_order_envelope(&fixture("order-seed-001.json")).unwrap();
    let d = genstore::to_channel_order(&o).unwrap();
    assert_eq!(d.channel, Channel::Genstore);
    assert_eq!(d.order_id.as_str(), "1001");
    assert_eq!(
        d.genstore_order_id.as_ref().map(|g| g.as_str()),
        Some("1001")
    );
    assert_eq!(d.totals.total, dec("409.94"));
    assert_eq!(d.totals.currency.as_str(), "USD");
    assert_eq!(d.totals.subtotal, Some(dec("398.00")));
    assert_eq!(d.totals.tax, Some(dec("11.94")));
    assert_eq!(d.line_items.len(), 1);
    assert_eq!(d.line_items[0].quantities.ordered, 1);
    assert_eq!(
        d.line_items[0].quantities.shipped, 0,
        "the only fulfillment failed"
    );
    assert_eq!(d.line_items[0].unit_price, dec("199.99"));
    assert_eq!(d.line_items[0].sku.as_ref().unwrap().as_str(), "IPOD-342-N");
    assert_eq!(d.shipments.len(), 1);
    assert_eq!(d.shipments[0].status, ShipmentStatus::Failed);
    assert_eq!(d.cancelled_at, None);
    assert_eq!(d.tags, vec!["imported", "vip"]);
    assert_eq!(d.status, UnifiedStatus::PartiallyShipped);
    assert_eq!(
        d.raw_status,
        "financialStatus=paid; fulfillmentStatus=partial"
    );
    let src = d.source.as_ref().unwrap();
    assert_eq!(
        (src.name.as_str(), src.identifier.as_deref()),
        ("instagram", Some("ORDERID-123"))
    );
    assert_eq!(
        src.external_order(),
        None,
        "instagram is not a synced channel"
    );
    assert_eq!(d.customer_id.as_ref().unwrap().as_str(), "207119551");
    let contact = d.customer.as_ref().unwrap().expose();
    assert_eq!(contact.name.as_deref(), Some("John Norman"));
    assert_eq!(contact.phone.as_deref(), Some("+557734881234"));
    let ship = d.shipping_address.as_ref().unwrap().expose();
    assert_eq!(
        ship.lines,
        vec!["123 Amoebobacterieae St", "Amoebobacterieae"]
    );
    assert!(d.billing_address.is_some());
}

#[test]
fn native_types_parse_to_the_same_order_as_strings() {
    let strings = genstore::parse_order_envelope(&fixture("order-seed-001.json")).unwrap();
    let native = genstore::parse_order_envelope(&fixture("order-native-types.json")).unwrap();
    assert_eq!(native, strings);
}

#[test]
fn missing_optional_fields_are_none() {
    let o = genstore::parse_order_envelope(&fixture("order-minimal.json")).unwrap();
    let d = genstore::to_channel_order(&o).unwrap();
    assert_eq!(d.order_id.as_str(), "2002");
    assert_eq!(
        d.updated_at, d.placed_at,
        "updatedAt falls back to createdAt"
    );
    assert!(d.customer.is_none() && d.shipping_address.is_none() && d.source.is_none());
    assert_eq!(d.status, UnifiedStatus::Placed);
    assert_eq!(d.raw_status, "financialStatus=null; fulfillmentStatus=null");
}

#[test]
fn unknown_fields_are_ignored_and_unknown_statuses_kept() {
    let o =
        genstore::parse_order_envelope(&fixture("order-unknown-fields-and-status.json")).unwrap();
    let d = genstore::to_channel_order(&o).unwrap();
    assert_eq!(d.status, UnifiedStatus::Unknown);
    assert!(d.raw_status.contains("paid_in_gold"), "{}", d.raw_status);
}

#[test]
fn garbage_is_reported_with_platform_order_and_field() {
    let e = genstore::parse_order_envelope(&fixture("order-garbage-quantity.json")).unwrap_err();
    assert_eq!(e.platform, Channel::Genstore);
    assert_eq!(e.order, "1001");
    assert_eq!(e.field, "order.lineItems[0].quantity");
    let e = genstore::parse_order_envelope(&fixture("order-garbage-money.json")).unwrap_err();
    assert_eq!(
        (e.order.as_str(), e.field.as_str()),
        ("1001", "order.totalPrice")
    );
    let e = genstore::parse_order_envelope(b"{\"order\": ").unwrap_err();
    assert_eq!(e.field, "(body)");
}

#[test]
fn missing_required_fields_are_named_by_the_mapping() {
    let mut o = genstore::parse_order_envelope(&fixture("order-minimal.json")).unwrap();
    o.line_items[0].price = None;
    let e = genstore::to_channel_order(&o).unwrap_err();
    assert_eq!(
        (e.order.as_str(), e.field.as_str()),
        ("2002", "lineItems[0].price")
    );
    o.currency = Some("dollars".into());
    let e = genstore::to_channel_order(&o).unwrap_err();
    assert_eq!(e.field, "currency");
    o.order_id = None;
    assert_eq!(genstore::to_channel_order(&o).unwrap_err().field, "orderId");
}

#[test]
fn partial_fulfillments_give_per_line_quantities_and_tracking() {
    let o = genstore::parse_order(&fixture("webhook-orders-partially-fulfilled.json")).unwrap();
    let d = genstore::to_channel_order(&o).unwrap();
    let l1 = &d.line_items[0].quantities;
    assert_eq!(
        (l1.ordered, l1.shipped, l1.delivered, l1.cancelled),
        (3, 2, 1, 0)
    );
    let l2 = &d.line_items[1].quantities;
    assert_eq!(
        (l2.ordered, l2.shipped, l2.cancelled),
        (3, 0, 1),
        "a cancelled fulfillment ships nothing"
    );
    assert_eq!(d.shipments.len(), 3);
    let f1 = &d.shipments[0];
    assert_eq!(f1.carrier, Some(Carrier::Ups));
    assert_eq!(f1.tracking_numbers, vec!["1Z999AA10123456784"]);
    assert_eq!(f1.status, ShipmentStatus::Delivered);
    assert!(
        f1.tracking_url.as_deref().unwrap().contains("ups.com"),
        "blank url gets the carrier's"
    );
    assert_eq!(d.shipments[1].status, ShipmentStatus::Shipped);
    assert_eq!(d.shipments[2].status, ShipmentStatus::Cancelled);
    assert_eq!(d.status, UnifiedStatus::PartiallyDelivered);
    assert_eq!(d.refunds.len(), 1);
    assert_eq!(d.refunds[0].amount.as_ref().unwrap().amount, dec("10.00"));
    let (channel, id) = d.source.as_ref().unwrap().external_order().unwrap();
    assert_eq!(
        (channel, id.as_str()),
        (Channel::Google, "G-PLA-1111-22-3333")
    );
}

#[test]
fn a_refund_webhook_maps_with_its_lines_and_amount() {
    let r: wire::Refund = serde_json::from_slice(&fixture("webhook-refunds-create.json")).unwrap();
    let d = mapping::to_refund(&r, &"USD".parse().unwrap()).unwrap();
    assert_eq!(d.id.as_ref().unwrap().as_str(), "r-77");
    assert_eq!(d.amount.as_ref().unwrap().amount, dec("199.99"));
    assert_eq!(d.line_items[0].line_item_id.as_str(), "669751112");
    assert_eq!(d.line_items[0].quantity, 1);
}

#[test]
fn compliance_bodies_parse() {
    let redact: wire::ComplianceRequest =
        serde_json::from_slice(&fixture("webhook-customers-redact.json")).unwrap();
    assert_eq!(redact.customer.unwrap().id, some("207119551"));
    assert_eq!(redact.orders_to_redact, vec!["1001", "1002"]);
    let shop: wire::ComplianceRequest =
        serde_json::from_slice(&fixture("webhook-shop-redact.json")).unwrap();
    assert_eq!(shop.shop_domain, some("demo.genmystore.com"));
    assert!(shop.customer.is_none());
    let err: wire::ErrorBody = serde_json::from_slice(&fixture("error-422.json")).unwrap();
    assert!(err.message().contains("exceeds fulfillable"));
}

#[test]
fn an_external_order_mirrors_into_a_create_body_genstore_reads_back() {
    let o = genstore::parse_order(&fixture("webhook-orders-partially-fulfilled.json")).unwrap();
    let mut d = genstore::to_channel_order(&o).unwrap();
    d.channel = Channel::Zonos;
    d.order_id = "999-12345".into();
    let body = genstore::mirror_request(&d);
    let json = serde_json::to_value(&body).unwrap();
    assert_eq!(json["order"]["sourceName"], "zonos");
    assert_eq!(json["order"]["sourceIdentifier"], "999-12345");
    assert_eq!(json["order"]["lineItems"][0]["quantity"], 3);
    assert_eq!(json["order"]["lineItems"][0]["price"], "10.00");
    assert_eq!(
        json["order"]["lineItems"][1]["quantity"], 2,
        "cancelled units are not mirrored"
    );
    // What we send, Genstore's own order shape reads.
    let back: wire::Order = serde_json::from_value(json["order"].clone()).unwrap();
    assert_eq!(back.source_identifier, some("999-12345"));
    assert_eq!(back.line_items[1].quantity, Some(2));
    let round: wire::CreateOrderRequest = serde_json::from_value(json).unwrap();
    assert_eq!(round, body);
}

#[test]
fn fulfillment_bodies_have_genstores_shape() {
    let body = wire::CreateFulfillmentRequest {
        fulfillment: wire::NewFulfillment {
            order_id: "1001".into(),
            line_items: vec![wire::LineQuantity {
                id: some("669751112"),
                quantity: Some(1),
            }],
            tracking_info: Some(wire::TrackingInfo {
                number: some("1Z1"),
                company: some("UPS"),
                url: None,
            }),
            notify_customer: false,
        },
    };
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        serde_json::json!({"fulfillment": {"orderId": "1001", "lineItems": [{"id": "669751112", "quantity": "1"}],
            "trackingInfo": {"number": "1Z1", "company": "UPS"}, "notifyCustomer": false}})
    );
    let update = wire::UpdateTrackingRequest {
        fulfillment: wire::TrackingUpdate {
            tracking_info: wire::TrackingInfo {
                number: some("1Z2"),
                company: some("UPS"),
                url: some("https://www.ups.com/track?tracknum=1Z2"),
            },
            notify_customer: true,
        },
    };
    let v = serde_json::to_value(&update).unwrap();
    assert_eq!(v["fulfillment"]["trackingInfo"]["number"], "1Z2");
}
