use super::*;

fn headers(topic: &str) -> WebhookHeaders<'_> {
    WebhookHeaders {
        topic: Some(topic),
        shop_domain: Some("demo.genmystore.com"),
        webhook_id: Some("wh-1"),
        triggered_at: Some("2024-05-01T10:00:00.123Z"),
    }
}

#[test]
fn topics_parse_and_print_as_genstore_writes_them() {
    for t in Topic::KNOWN {
        assert_eq!(Topic::parse(t.as_str()), t);
    }
    assert_eq!(
        Topic::parse("products/update"),
        Topic::Other("products/update".into())
    );
}

#[test]
fn an_order_topic_carries_an_order() {
    let w = Webhook::parse(
        headers("orders/paid"),
        br#"{"orderId":"1001","financialStatus":"paid"}"#,
    )
    .unwrap();
    assert_eq!(w.topic, Topic::OrdersPaid);
    assert!(
        w.dedupe_key().starts_with("genstore-webhook#wh-1#"),
        "{}",
        w.dedupe_key()
    );
    assert_eq!(w.id_key().as_deref(), Some("genstore-webhook-id#wh-1"));
    assert!(w.triggered_at.is_some());
    match w.body {
        WebhookBody::Order(o) => assert_eq!(o.order_id.as_deref(), Some("1001")),
        other => panic!("expected an order, got {other:?}"),
    }
}

#[test]
fn missing_headers_and_bad_bodies_are_named() {
    let body = br#"{"orderId":"1"}"#;
    let no_topic = WebhookHeaders {
        topic: Some(" "),
        ..headers("x")
    };
    assert_eq!(
        Webhook::parse(no_topic, body),
        Err(WebhookError::MissingHeader(TOPIC_HEADER))
    );
    let no_shop = WebhookHeaders {
        shop_domain: None,
        ..headers("orders/create")
    };
    assert_eq!(
        Webhook::parse(no_shop, body),
        Err(WebhookError::MissingHeader(SHOP_DOMAIN_HEADER))
    );
    let err = Webhook::parse(
        headers("orders/create"),
        br#"{"orderId":"1","lineItems":[{"quantity":"two"}]}"#,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("lineItems[0].quantity"), "{err}");
    assert!(Webhook::parse(headers("orders/create"), b"{not json").is_err());
    assert!(Webhook::parse(headers("orders/create"), br#"{"note":"no id"}"#).is_err());
    assert!(Webhook::parse(headers("orders/create"), br#"[1,2]"#).is_err());
}

#[test]
fn without_a_webhook_id_the_body_hash_dedupes() {
    let h = WebhookHeaders {
        webhook_id: None,
        ..headers("orders/update")
    };
    let a = Webhook::parse(h, br#"{"orderId":"1"}"#).unwrap();
    let b = Webhook::parse(h, br#"{"orderId":"1"}"#).unwrap();
    let c = Webhook::parse(h, br#"{"orderId":"2"}"#).unwrap();
    assert_eq!(a.dedupe_key(), b.dedupe_key());
    assert_ne!(a.dedupe_key(), c.dedupe_key());
}

/// The webhook id is not signed: the key names the topic and body too, so the same id with another
/// topic or body is another key (webhook-ingest refuses it by the id's own claim); a compliance
/// request is keyed by topic and body alone, whatever id it comes under.
#[test]
fn the_key_names_what_was_signed_not_only_the_id() {
    let order = br#"{"orderId":"1"}"#;
    let a = Webhook::parse(headers("orders/update"), order).unwrap();
    let b = Webhook::parse(headers("orders/paid"), order).unwrap();
    let c = Webhook::parse(headers("orders/update"), br#"{"orderId":"2"}"#).unwrap();
    assert_ne!(a.dedupe_key(), b.dedupe_key());
    assert_ne!(a.dedupe_key(), c.dedupe_key());
    assert_eq!(a.id_key(), b.id_key());
    let redact = br#"{"shopDomain":"demo.genmystore.com","ordersToRedact":["7"]}"#;
    let r1 = Webhook::parse(headers("customers/redact"), redact).unwrap();
    let r2 = Webhook::parse(
        WebhookHeaders {
            webhook_id: Some("another-id"),
            ..headers("customers/redact")
        },
        redact,
    )
    .unwrap();
    assert_eq!(r1.dedupe_key(), r2.dedupe_key());
    assert!(r1.dedupe_key().starts_with("genstore-compliance#"));
    assert_eq!(r1.id_key(), None);
}

#[test]
fn unknown_topics_are_not_read() {
    let w = Webhook::parse(headers("products/update"), b"garbage").unwrap();
    assert_eq!(w.body, WebhookBody::Unread);
}
