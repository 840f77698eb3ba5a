//! Parked imports: an order the poll could not read, read again by fulfillment-push, saved and
//! mirrored as the poll would have; what Zonos garbles or leaves out.

use super::*;
use orderbridge::channels::zonos::wire::OrderSelector;

async fn queued(s: &Setup) -> Vec<Job> {
    let mut out = Vec::new();
    loop {
        let batch = s
            .queue
            .receive(10, chrono::Duration::seconds(300))
            .await
            .unwrap();
        if batch.is_empty() {
            return out;
        }
        for m in batch {
            out.push(m.job().unwrap().job);
            s.queue.delete(&m.receipt).await.unwrap();
        }
    }
}

pub async fn a_parked_import_is_read_saved_and_its_mirror_queued(aws: bool) {
    let s = setup(aws).await;
    let id = s.sandbox.lock().zonos.create(
        999,
        &NewZonosOrder::of(NewZonosItem::mug(
            "SKU-MUG",
            2,
            rust_decimal::Decimal::new(1000, 2),
        )),
    );
    let listing = s
        .deps
        .zonos
        .as_ref()
        .unwrap()
        .order_numbers(
            OrderSelector::SinceDate {
                since: (chrono::Utc::now() - chrono::Duration::days(1)).date_naive(),
                through: None,
            },
            true,
        )
        .await
        .unwrap()
        .orders
        .into_iter()
        .find(|o| o.id == id)
        .unwrap();
    let idx = s.sandbox.lock().zonos.find(999, &id).unwrap();
    let job = SyncJob::from(Job::ImportOrder {
        channel: Channel::Zonos,
        order_id: id.as_str().into(),
        listing: Some(listing.into()),
    })
    .to_body();
    let key = OrderKey::new(Channel::Zonos, id.as_str());

    // Zonos still answers garbage: a retry, nothing saved, nothing queued.
    s.sandbox.lock().zonos.orders[idx].garbled = true;
    let first = handle_record(&s.deps, &job).await;
    assert!(matches!(first, Outcome::Retry(_)), "{first:?}");
    assert!(s.store.get(&key).await.unwrap().is_none());
    assert!(queued(&s).await.is_empty());

    // Zonos recovers: the order is saved and its mirror queued; a repeat changes nothing.
    s.sandbox.lock().zonos.orders[idx].garbled = false;
    for _ in 0..2 {
        let done = handle_record(&s.deps, &job).await;
        assert!(matches!(done, Outcome::Done(_)), "{done:?}");
        assert_eq!(
            queued(&s).await,
            vec![Job::MirrorOrder {
                channel: Channel::Zonos,
                order_id: id.as_str().into()
            }]
        );
    }
    let stored = s.store.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.version, 1, "saved once");
    assert_eq!(stored.order.line_items[0].quantities.ordered, 2);
}

pub async fn an_import_that_can_never_succeed_fails_for_good(aws: bool) {
    let s = setup(aws).await;
    let body = |channel: Channel, id: &str| {
        SyncJob::from(Job::ImportOrder {
            channel,
            order_id: id.into(),
            listing: None,
        })
        .to_body()
    };
    let missing = handle_record(&s.deps, &body(Channel::Google, "G-NOPE")).await;
    assert!(
        matches!(&missing, Outcome::Permanent(why) if why.contains("no order")),
        "{missing:?}"
    );
    // A Genstore order whose data does not map.
    let gid = {
        let mut st = s.sandbox.lock();
        let o = st
            .genstore
            .create_order(&orderbridge_sandbox::genstore::model::NewOrder {
                source_name: "web".into(),
                source_identifier: "x1".into(),
                currency: "USD".into(),
                line_items: vec![orderbridge_sandbox::genstore::model::NewLineItem {
                    title: "Mug".into(),
                    sku: None,
                    product_id: None,
                    quantity: 1,
                    price: rust_decimal::Decimal::ONE,
                }],
                ..orderbridge_sandbox::genstore::model::NewOrder::default()
            })
            .unwrap();
        let id: u64 = o.0.order_id.parse().unwrap();
        st.genstore.orders.get_mut(&id).unwrap().currency = None;
        id.to_string()
    };
    let unmappable = handle_record(&s.deps, &body(Channel::Genstore, &gid)).await;
    assert!(
        matches!(&unmappable, Outcome::Permanent(why) if why.contains("currency")),
        "{unmappable:?}"
    );
    assert!(queued(&s).await.is_empty());

    // Given a dead-letter queue (as deployed), such a job goes there at once, not back to the
    // sync queue for its thirty receives.
    let deps = Deps {
        dead_letters: Some(s.dead_letters.0.clone()),
        ..s.deps.clone()
    };
    let job = body(Channel::Google, "G-NOPE");
    let handed_back = handle_batch(&deps, vec![Record::new("m-1", job.clone())]).await;
    assert!(handed_back.is_empty(), "{handed_back:?}");
    let letters = s
        .dead_letters
        .1
        .receive(10, chrono::Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(
        letters.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        [job.as_str()]
    );
}

/// The compliance jobs webhook-ingest queues are carried out here: a data request recorded on the
/// trail, a customer's redaction reaching the order a named mirror mirrors, and a shop's redaction
/// reaching every order.
pub async fn compliance_jobs_are_carried_out_on_every_linked_order(aws: bool) {
    use orderbridge::compliance::Scope;
    use orderbridge::ids::GenstoreOrderId;
    let s = setup(aws).await;
    let z = zonos_order(&s, 1).await;
    let gid = mirror(&s, Channel::Zonos, &z).await;
    let other = zonos_order(&s, 2).await;
    for id in [&z, &other] {
        assert!(stored(&s, Channel::Zonos, id).await.customer.is_some());
    }
    let run = |job: Job| {
        let deps = s.deps.clone();
        async move { handle_record(&deps, &SyncJob::from(job).to_body()).await }
    };
    let named = Scope {
        customer_id: Some("c-redact".into()),
        genstore_order_ids: vec![GenstoreOrderId::new(gid.as_str())],
        whole_shop: false,
        arrived_at: Some(chrono::Utc::now()),
    };
    let out = run(Job::RecordDataRequest {
        request_id: "dr-1".into(),
        scope: named.clone(),
    })
    .await;
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    let trail = trail_of(&s, Channel::Zonos, &z).await;
    assert!(
        trail.iter().any(|e| e.action == "customer_data_request"),
        "{trail:?}"
    );

    let out = run(Job::RedactPersonalData {
        request_id: "cr-1".into(),
        scope: named,
    })
    .await;
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    let erased = stored(&s, Channel::Zonos, &z).await;
    assert!(erased.personal_data_erased && erased.customer.is_none());
    assert!(
        stored(&s, Channel::Zonos, &other).await.customer.is_some(),
        "not named"
    );

    let shop = Scope {
        whole_shop: true,
        arrived_at: Some(chrono::Utc::now()),
        ..Scope::default()
    };
    let out = run(Job::RedactPersonalData {
        request_id: "sr-1".into(),
        scope: shop.clone(),
    })
    .await;
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    assert!(
        stored(&s, Channel::Zonos, &other)
            .await
            .personal_data_erased
    );
    // Run again (a retry after a crash): each order's trail has the redaction once, its entry
    // carrying the request's own time.
    orderbridge::compliance::redact(&*s.store, &shop, "sr-1")
        .await
        .unwrap();
    for id in [&z, &other] {
        let trail = trail_of(&s, Channel::Zonos, id).await;
        let entries: Vec<_> = trail
            .iter()
            .filter(|e| e.operation_id == "redact_personal_data:sr-1")
            .collect();
        assert_eq!(entries.len(), 1, "{trail:?}");
        assert_eq!(Some(entries[0].at), shop.arrived_at);
    }

    // A shop's redaction cut off after its first page goes on from its checkpoint, not from the
    // start, and leaves no checkpoint behind.
    let orders = s
        .store
        .scan(orderbridge::store::PageRequest::first(100))
        .await
        .unwrap()
        .items
        .len();
    assert!(orders >= 2, "{orders}");
    // Where a run that got past its first order would have stopped (a page may hold no order: on
    // DynamoDB a page counts every item it read).
    let (mut behind, mut page) = (0, orderbridge::store::PageRequest::first(1));
    let position = loop {
        let p = s.store.scan(page.clone()).await.unwrap();
        behind += p.items.len();
        let next = p.next.expect("more pages after the first order");
        if behind > 0 {
            break next;
        }
        page.token = Some(next);
    };
    let checkpoint = orderbridge::store::RecordName::RedactionCheckpoint("sr-2").to_string();
    assert!(s.store.advance(&checkpoint, None, &position).await.unwrap());
    let resumed = orderbridge::compliance::redact_in_pages(&*s.store, &shop, "sr-2", 1)
        .await
        .unwrap();
    assert_eq!(resumed.orders, orders - behind, "{resumed:?}");
    assert!(s.store.read(&checkpoint).await.unwrap().is_none());
    // An order placed after the request arrived is not the request's.
    let late = Scope {
        arrived_at: Some(chrono::Utc::now() - chrono::Duration::days(30)),
        ..shop
    };
    let none = orderbridge::compliance::redact(&*s.store, &late, "sr-3")
        .await
        .unwrap();
    assert_eq!(none.orders, 0, "{none:?}");
}
