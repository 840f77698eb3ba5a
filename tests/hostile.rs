//! The pipeline held against a hostile sender and platforms that quote their customers: a captured
//! signed order body resent as a compliance request erases nothing; a genuine request erases the
//! customer everywhere orderbridge keeps data; and platform error text naming a customer never reaches
//! the logs, the audit trail or the idempotency records.

use orderbridge::channel::Channel;
use orderbridge::channels::genstore::signature;
use orderbridge::channels::genstore::webhook::{
    HMAC_HEADER, SHOP_DOMAIN_HEADER, TOPIC_HEADER, WEBHOOK_ID_HEADER,
};
use orderbridge::compliance::{self, Scope};
use orderbridge::order::ChannelOrder;
use orderbridge::secrets::Secret;
use orderbridge::store::{AuditLog, AuditOutcome, OrderKey};
use orderbridge_cli::start;
use orderbridge_e2e::{
    captured_logs, config, dir, google_order, mirror_of, ship, stored, until, zonos_order,
};
use orderbridge_sandbox::{Faults, SandboxConfig};
use serde_json::json;
use std::sync::Arc;

/// The personal values an order holds (name, email, phone, street, postal code).
fn personal_values(o: &ChannelOrder) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(c) = &o.customer {
        let c = c.expose();
        out.extend(
            [c.name.clone(), c.email.clone(), c.phone.clone()]
                .into_iter()
                .flatten(),
        );
    }
    for a in [&o.shipping_address, &o.billing_address]
        .into_iter()
        .flatten()
    {
        let a = a.expose();
        out.extend(a.lines.iter().cloned());
        out.extend(
            [a.name.clone(), a.postal_code.clone(), a.phone.clone()]
                .into_iter()
                .flatten(),
        );
    }
    out.retain(|v| v.trim().len() >= 5);
    out.sort();
    out.dedup();
    out
}

/// Where `text` quotes `value` as a value of its own: an occurrence not run into by letters or
/// digits on either side, returned with some context. A plain `contains` would also match a
/// five-digit postal code inside a timestamp's microseconds (`08:54:01.941052Z`) or an epoch time,
/// which is how this check once failed with nothing personal logged.
fn quoted<'a>(text: &'a str, value: &str) -> Option<&'a str> {
    let alnum = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    text.match_indices(value).find_map(|(at, _)| {
        let end = at + value.len();
        let standalone =
            !alnum(text[..at].chars().next_back()) && !alnum(text[end..].chars().next());
        standalone.then(|| {
            let from = text.floor_char_boundary(at.saturating_sub(80));
            let to = text.ceil_char_boundary((end + 80).min(text.len()));
            &text[from..to]
        })
    })
}

#[test]
fn a_value_counts_as_quoted_only_when_it_stands_on_its_own() {
    let logs = r#"{"timestamp":"2026-11-28T08:54:01.941052Z","postal":"94105","at":1764320094105}"#;
    assert_eq!(quoted(logs, "94105"), Some(logs));
    assert_eq!(
        quoted(r#"{"at":1764320094105,"t":"01.941052Z"}"#, "94105"),
        None
    );
    assert!(quoted(
        "for customer ann@example.com (Ann Lee), 94105-1234",
        "Ann Lee"
    )
    .is_some());
    assert!(quoted(
        "for customer ann@example.com (Ann Lee), 94105-1234",
        "94105"
    )
    .is_some());
}

/// Every value of every row of the named tables of the embedded database (all tables when `None`).
fn table_text(data_dir: &std::path::Path, only: Option<&[&str]>) -> String {
    let db = rusqlite::Connection::open(data_dir.join("orderbridge.sqlite3")).unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut text = String::new();
    for t in tables
        .iter()
        .filter(|t| only.is_none_or(|o| o.contains(&t.as_str())))
    {
        let mut stmt = db.prepare(&format!("SELECT * FROM \"{t}\"")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => {
                        text.push_str(&String::from_utf8_lossy(b));
                        text.push('\n');
                    }
                    _ => {}
                }
            }
        }
    }
    text
}

/// Posts a delivery signed with `secret` to the local endpoint; the answer's status.
async fn post(url: &str, topic: &str, body: &[u8], secret: &str) -> u16 {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let id = format!(
        "fresh-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    reqwest::Client::new()
        .post(url)
        .header(TOPIC_HEADER, topic)
        .header(SHOP_DOMAIN_HEADER, SandboxConfig::default().genstore_shop)
        .header(WEBHOOK_ID_HEADER, id)
        .header(HMAC_HEADER, signature::sign(body, &Secret::new(secret)))
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_order_body_erases_nothing_and_a_genuine_redaction_erases_everywhere() {
    let _ = captured_logs();
    let d = dir("redact");
    let cfg = config(d.clone());
    let secret = cfg.webhook_secret.clone();
    let running = start(cfg).await.unwrap();
    let sb = running.sandbox.as_ref().unwrap().0.clone();
    let z = zonos_order(&sb, 1);
    until("the Zonos order mirrored and linked", || async {
        mirror_of(&running, Channel::Zonos, &z).await.is_some()
    })
    .await;
    let gid = mirror_of(&running, Channel::Zonos, &z).await.unwrap();
    until("the mirror's webhook stored", || async {
        stored(&*running.store, Channel::Genstore, &gid)
            .await
            .is_some()
    })
    .await;
    let zonos = stored(&*running.store, Channel::Zonos, &z).await.unwrap();
    let personal = personal_values(&zonos);
    assert!(
        personal.len() >= 3,
        "the order carries personal data: {}",
        personal.len()
    );
    let before = table_text(&d, None);
    assert!(personal.iter().all(|p| before.contains(p.as_str())));

    // The body Genstore signed for the mirror, resent as each compliance topic with a fresh id.
    let body = serde_json::to_vec(sb.lock().genstore.order(&gid).unwrap()).unwrap();
    for topic in ["customers/redact", "customers/data_request", "shop/redact"] {
        assert_eq!(
            post(&running.webhook_url, topic, &body, &secret).await,
            400,
            "{topic}"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    for (channel, id) in [
        (Channel::Zonos, z.as_str()),
        (Channel::Genstore, gid.as_str()),
    ] {
        let o = stored(&*running.store, channel, id).await.unwrap();
        assert!(
            o.customer.is_some() && o.shipping_address.is_some() && !o.personal_data_erased,
            "{channel}:{id} keeps its customer"
        );
    }

    // A genuine data request is recorded on both sides' trails; the operator's export (what
    // `orderbridge customer-data` prints) produces the stored data.
    let shop = SandboxConfig::default().genstore_shop;
    let ask = serde_json::to_vec(&json!({"shopDomain": shop, "ordersRequested": [gid]})).unwrap();
    assert_eq!(
        post(
            &running.webhook_url,
            "customers/data_request",
            &ask,
            &secret
        )
        .await,
        200
    );
    let zkey = OrderKey::new(Channel::Zonos, z.as_str());
    until("the data request on the trail", || async {
        running
            .store
            .entries(&zkey)
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == "customer_data_request")
    })
    .await;
    let scope = Scope {
        genstore_order_ids: vec![gid.as_str().into()],
        ..Scope::default()
    };
    let data = compliance::export_customer_data(&*running.store, &scope, "wh-export")
        .await
        .unwrap();
    assert_eq!(data.orders.len(), 2, "the mirror and the Zonos order");
    let exported = serde_json::to_string(&data).unwrap();
    assert!(personal.iter().all(|p| exported.contains(p.as_str())));
    assert!(running
        .store
        .entries(&zkey)
        .await
        .unwrap()
        .iter()
        .any(|e| e.action == "customer_data_export"));

    // A genuine request for this shop erases the customer on both sides of the link.
    let request = json!({
        "shopDomain": SandboxConfig::default().genstore_shop,
        "ordersToRedact": [gid],
    });
    let request = serde_json::to_vec(&request).unwrap();
    assert_eq!(
        post(&running.webhook_url, "customers/redact", &request, &secret).await,
        200
    );
    until("both sides erased", || async {
        let z = stored(&*running.store, Channel::Zonos, &z).await.unwrap();
        let g = stored(&*running.store, Channel::Genstore, &gid)
            .await
            .unwrap();
        z.personal_data_erased && g.personal_data_erased
    })
    .await;
    // A later poll of the same order does not bring it back.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let after = table_text(&d, None);
    for p in &personal {
        assert!(
            quoted(&after, p).is_none(),
            "a personal value is still stored: {p:?} in {:?}",
            quoted(&after, p)
        );
    }
    let trail = running
        .store
        .entries(&OrderKey::new(Channel::Zonos, z.as_str()))
        .await
        .unwrap();
    assert!(
        trail.iter().any(|e| e.action == "redact_personal_data"),
        "the redaction is on the trail"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_errors_quoting_a_customer_reach_no_log_audit_entry_or_idempotency_record() {
    let logs = captured_logs();
    let d = dir("pii-errors");
    let running = start(config(d.clone())).await.unwrap();
    let sb = running.sandbox.as_ref().unwrap().0.clone();
    let z = zonos_order(&sb, 1);
    let g = google_order(&sb);
    until("both orders mirrored and linked", || async {
        mirror_of(&running, Channel::Zonos, &z).await.is_some()
            && mirror_of(&running, Channel::Google, &g).await.is_some()
    })
    .await;
    let zg = mirror_of(&running, Channel::Zonos, &z).await.unwrap();
    let gg = mirror_of(&running, Channel::Google, &g).await.unwrap();
    let mut personal = personal_values(&stored(&*running.store, Channel::Zonos, &z).await.unwrap());
    personal.extend(personal_values(
        &stored(&*running.store, Channel::Google, &g).await.unwrap(),
    ));
    let phone = "+1 555 010 7788".to_owned();
    personal.push(phone.clone());
    assert!(personal.len() >= 5);

    // From now on every platform refuses every request, quoting the customer back.
    let quote = format!(
        "Invalid shipment for customer {} ({}), {}, phone {phone}",
        personal[0],
        personal[1],
        personal[2..].join(", ")
    );
    for p in [Channel::Genstore, Channel::Zonos, Channel::Google] {
        sb.set_faults(
            p,
            Faults {
                reject_rate: 1.0,
                reject_message: Some(quote.clone()),
                ..Faults::default()
            },
        );
    }
    // The merchant ships both mirrors: the pushes to Zonos and Google are refused.
    ship(&sb, &zg, 1, "1Z999AA10000000001");
    ship(&sb, &gg, 2, "1Z999AA10000000002");
    let keys = [
        OrderKey::new(Channel::Zonos, z.as_str()),
        OrderKey::new(Channel::Google, g.as_str()),
        OrderKey::new(Channel::Genstore, zg.as_str()),
        OrderKey::new(Channel::Genstore, gg.as_str()),
    ];
    // Zonos' refusal of the tracking is audited on its order; Google refuses the read before the
    // write, which fails the job for good and is kept in its idempotency record.
    until("both refusals recorded", || async {
        let zonos_trail = running.store.entries(&keys[0]).await.unwrap();
        zonos_trail
            .iter()
            .any(|e| e.target == Channel::Zonos && matches!(e.outcome, AuditOutcome::Failed { .. }))
            && table_text(&d, Some(&["idempotency"])).contains("google getOrder")
    })
    .await;
    // A few poller runs meet the refusals too.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    running.stop().await;

    let mut trail = String::new();
    for k in &keys {
        let entries = running_entries(&d, k).await;
        trail.push_str(&entries);
    }
    let stored_elsewhere = table_text(
        &d,
        Some(&[
            "audit",
            "idempotency",
            "dedupe",
            "cursors",
            "leases",
            "messages",
        ]),
    );
    let logs =
        String::from_utf8_lossy(&logs.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(
        logs.contains("platform call") && logs.contains("\"status\":400"),
        "the refusals were logged"
    );
    assert!(
        trail.contains("Invalid shipment for customer"),
        "the refusal was audited"
    );
    assert!(
        stored_elsewhere.contains("Invalid shipment for customer"),
        "the refusal was kept in an idempotency record"
    );
    for p in &personal {
        assert_eq!(
            quoted(&logs, p),
            None,
            "a log line quotes a customer's value: {p:?}"
        );
        assert_eq!(
            quoted(&trail, p),
            None,
            "an audit entry quotes a customer's value: {p:?}"
        );
        assert_eq!(
            quoted(&stored_elsewhere, p),
            None,
            "an idempotency record, cursor or job quotes a customer's value: {p:?}"
        );
    }
}

/// An order's audit trail, read from the embedded database after the pipeline stopped.
async fn running_entries(data_dir: &std::path::Path, key: &OrderKey) -> String {
    let db = orderbridge::store::embedded::Db::open(data_dir.join("orderbridge.sqlite3")).unwrap();
    let store = orderbridge::store::embedded::EmbeddedStore::new(
        db,
        Arc::new(orderbridge::clock::SystemClock),
    );
    serde_json::to_string(&store.entries(key).await.unwrap()).unwrap()
}
