//! Orders that cannot be read parked, cursors that hold or fall back, reconciliation overlaps, and
//! several shops polled into their own parts of the table.

use super::*;

fn imports(jobs: &[SyncJob]) -> Vec<(Channel, String, bool)> {
    jobs.iter()
        .filter_map(|j| match &j.job {
            Job::ImportOrder {
                channel,
                order_id,
                listing,
            } => Some((*channel, order_id.to_string(), listing.is_some())),
            _ => None,
        })
        .collect()
}

fn zonos_index(s: &Setup, id: &str) -> usize {
    s.sandbox.lock().zonos.find(999, id).unwrap()
}

pub async fn a_zonos_order_that_cannot_be_read_is_parked_and_the_cursor_moves_on(aws: bool) {
    let s = setup(aws).await;
    let ids = add_zonos(&s.sandbox, 4);
    {
        let (garbled, unmappable) = (zonos_index(&s, &ids[1]), zonos_index(&s, &ids[3]));
        let mut st = s.sandbox.lock();
        // Garbage from Zonos for one order, while the orders after it read fine.
        st.zonos.orders[garbled].garbled = true;
        // And one whose detail can never map (an item without its quantity), last in the listing.
        st.zonos.orders[unmappable].order["items"][0]
            .as_object_mut()
            .unwrap()
            .remove("quantity");
    }
    let z = polled(&s, "zonos").await;
    assert_eq!((z.new, z.parked, z.failed), (2, 2, 0), "{z:?}");
    assert_eq!(z.cursor_after.as_deref(), Some(ids[3].as_str()), "{z:?}");
    assert!(z.error.is_none(), "{z:?}");
    let jobs = drain(&*s.queue).await;
    assert_eq!(
        imports(&jobs),
        vec![
            (Channel::Zonos, ids[1].clone(), true),
            (Channel::Zonos, ids[3].clone(), true)
        ]
    );
    let m = mirrors(&jobs);
    assert_eq!(m.get(&format!("zonos:{}", ids[0])), Some(&1));
    assert_eq!(m.get(&format!("zonos:{}", ids[2])), Some(&1));
    assert!(!stored(&s, Channel::Zonos, &ids[1]).await);

    // The next run starts after them: nothing is parked or imported twice.
    let z2 = polled(&s, "zonos").await;
    assert_eq!((z2.new, z2.parked, z2.failed), (0, 0, 0), "{z2:?}");
    assert!(imports(&drain(&*s.queue).await).is_empty());
}

pub async fn an_order_failing_alone_holds_the_cursor_a_few_runs_then_is_parked(aws: bool) {
    let s = setup(aws).await;
    let ids = add_zonos(&s.sandbox, 2);
    let last = zonos_index(&s, &ids[1]);
    s.sandbox.lock().zonos.orders[last].garbled = true;
    // Nothing after it succeeds: it may be Zonos' passing trouble, so the cursor waits for it...
    for run in 1..=3 {
        let r = poll(&s).await;
        let z = r.channel("zonos").unwrap();
        assert_eq!((z.failed, z.parked), (1, 0), "run {run}: {z:?}");
        assert_eq!(z.cursor_after.as_deref(), Some(ids[0].as_str()));
    }
    // ...for `park_after_runs` runs; then it is parked and the cursor moves past it.
    let z = polled(&s, "zonos").await;
    assert_eq!((z.failed, z.parked), (0, 1), "{z:?}");
    assert_eq!(z.cursor_after.as_deref(), Some(ids[1].as_str()));
    let parked = imports(&drain(&*s.queue).await);
    assert_eq!(parked, vec![(Channel::Zonos, ids[1].clone(), true)]);
}

pub async fn reconciliation_queues_a_missed_push_once_not_on_every_overlap(aws: bool) {
    let s = setup(aws).await;
    let ids = add_zonos(&s.sandbox, 1);
    poll(&s).await;
    drain(&*s.queue).await;
    // The mirror is created and shipped in Genstore, and every webhook about it is lost.
    let gid = add_mirror(&s.sandbox, "zonos", &ids[0]);
    ship_all(&s.sandbox, &gid);
    let g = polled(&s, "genstore").await;
    assert_eq!(
        (g.missed, g.jobs),
        (1, 2),
        "link written back, tracking pushed: {g:?}"
    );
    let pushes = |jobs: &[SyncJob]| {
        jobs.iter()
            .filter(|j| j.job.kind() == "push_tracking_to_channel")
            .count()
    };
    assert_eq!(pushes(&drain(&*s.queue).await), 1);
    // The overlap re-reads it on every run; its jobs are on the queue already. (Zonos' own sweep
    // keeps asking for the merchant id until the consumer writes it; no consumer runs here.)
    for _ in 0..2 {
        let g = polled(&s, "genstore").await;
        assert_eq!((g.unchanged, g.jobs), (1, 0), "{g:?}");
    }
    assert_eq!(pushes(&drain(&*s.queue).await), 0);
}

pub async fn a_late_change_to_an_order_older_than_the_window_is_found_by_the_recheck(aws: bool) {
    let s = setup(aws).await;
    let ids = add_zonos(&s.sandbox, 1);
    let gid = add_mirror(&s.sandbox, "zonos", &ids[0]);
    add_genstore(&s.sandbox, 6);
    poll(&s).await;
    let g = polled(&s, "genstore").await;
    let behind = |c: &Option<String>| {
        c.as_deref()
            .and_then(|c| c.parse::<u64>().ok())
            .is_some_and(|c| c > gid.parse::<u64>().unwrap())
    };
    assert!(
        behind(&g.cursor_after),
        "the window moved past the mirror: {g:?}"
    );
    drain(&*s.queue).await;

    // A rotation position the table does not take (say, from another backend) is started over.
    let position = s.store.read("genstore-recheck").await.unwrap();
    assert!(s
        .store
        .advance(
            "genstore-recheck",
            position.as_ref().map(|p| p.value.as_str()),
            r#"{"status": 1, "token": "not-a-token"}"#,
        )
        .await
        .unwrap());

    // Days later the merchant ships it, and the webhooks are lost.
    ship_all(&s.sandbox, &gid);
    let g = polled(&s, "genstore").await;
    assert!(g.rechecked >= 1, "{g:?}");
    assert_eq!(g.missed, 1, "{g:?}");
    let push = SyncJob::from(Job::PushTrackingToChannel {
        channel: Channel::Zonos,
        order_id: ids[0].as_str().into(),
        genstore_order_id: gid.as_str().into(),
    });
    let queued = drain(&*s.queue).await;
    assert_eq!(
        queued.iter().filter(|j| **j == push).count(),
        1,
        "{queued:?}"
    );

    // Later laps read it again and queue nothing more.
    for _ in 0..2 {
        poll(&s).await;
    }
    assert!(!drain(&*s.queue).await.contains(&push));
}

pub async fn a_genstore_order_that_does_not_map_is_parked(aws: bool) {
    let s = setup(aws).await;
    add_genstore(&s.sandbox, 3);
    s.sandbox
        .lock()
        .genstore
        .orders
        .get_mut(&1002)
        .unwrap()
        .currency = None;
    let g = polled(&s, "genstore").await;
    assert_eq!(
        (g.seen, g.missed, g.parked, g.failed),
        (3, 2, 1, 0),
        "{g:?}"
    );
    assert!(stored(&s, Channel::Genstore, "1003").await);
    assert_eq!(
        imports(&drain(&*s.queue).await),
        vec![(Channel::Genstore, "1002".to_owned(), false)]
    );
}

/// Zonos promises no order for its listing: listed newest first, the cursor still ends on the
/// newest id (not on the oldest, the last one listed), and a second run imports nothing again.
/// Two shops, each fed by its own Zonos store that numbers orders the same way: one run polls both,
/// each shop's orders, cursor and jobs its own, even under the same order ids.
pub async fn two_shops_poll_into_their_own_parts_of_the_table(aws: bool) {
    use orderbridge::shop::ShopId;
    let s = setup(aws).await;
    let (other, other_base) = spawn(SandboxConfig::default()).await.unwrap();
    let eu: ShopId = "eu".parse().unwrap();
    let deps = two_shops(&s, &other_base);
    let ours = add_zonos(&s.sandbox, 2);
    let theirs = add_zonos(&other, 3);
    assert_eq!(ours[0], theirs[0], "the same id in both stores");
    let r = order_poller::run(&deps, PollRequest::default(), &Forever).await;
    let zonos = |shop: &str| {
        r.channels
            .iter()
            .find(|c| c.channel == "zonos" && c.shop.as_deref() == Some(shop))
            .unwrap_or_else(|| panic!("{r:?}"))
            .new
    };
    assert_eq!((zonos("default"), zonos("eu")), (2, 3));
    let eu_store = orderbridge::store::ShopStore::scoped(s.store.clone(), &eu);
    let placed = |sb: &Sandbox, id: &str| {
        let st = sb.lock();
        st.zonos.orders[st.zonos.find(999, id).unwrap()].placed_at
    };
    let key = OrderKey::new(Channel::Zonos, ours[0].as_str());
    let a = s.store.get(&key).await.unwrap().unwrap().order;
    let b = eu_store.get(&key).await.unwrap().unwrap().order;
    assert_eq!(a.placed_at, placed(&s.sandbox, &ours[0]));
    assert_eq!(b.placed_at, placed(&other, &theirs[0]));
    let only_theirs = OrderKey::new(Channel::Zonos, theirs[2].as_str());
    assert!(s.store.get(&only_theirs).await.unwrap().is_none());
    assert!(eu_store.get(&only_theirs).await.unwrap().is_some());
    assert_eq!(s.store.read("zonos").await.unwrap().unwrap().value, ours[1]);
    assert_eq!(
        eu_store.read("zonos").await.unwrap().unwrap().value,
        theirs[2]
    );
    let jobs = drain(&*s.queue).await;
    let mirrors = |shop: &ShopId| {
        jobs.iter()
            .filter(|j| &j.shop == shop && j.job.kind() == "mirror_order")
            .count()
    };
    assert_eq!((mirrors(&ShopId::default_shop()), mirrors(&eu)), (2, 3));
}

/// A one-shop deployment upgraded to several shops, its shop listed as `default`: what it stored
/// is still its shop's (nothing imported again, the cursor goes on from where it was), and a new
/// shop starts from nothing beside it.
pub async fn a_one_shop_deployment_upgrades_to_several_shops_losing_nothing(aws: bool) {
    let s = setup(aws).await;
    let before = add_zonos(&s.sandbox, 3);
    let r = poll(&s).await;
    assert_eq!(r.channel("zonos").unwrap().new, 3);
    drain(&*s.queue).await;
    let (other, other_base) = spawn(SandboxConfig::default()).await.unwrap();
    let upgraded = two_shops(&s, &other_base);
    let after = add_zonos(&s.sandbox, 1);
    add_zonos(&other, 2);
    let r = order_poller::run(&upgraded, PollRequest::default(), &Forever).await;
    let new = |shop: &str| {
        r.channels
            .iter()
            .find(|c| c.channel == "zonos" && c.shop.as_deref() == Some(shop))
            .unwrap()
            .new
    };
    assert_eq!((new("default"), new("eu")), (1, 2), "{r:?}");
    for id in before.iter().chain(&after) {
        assert!(stored(&s, Channel::Zonos, id).await, "{id}");
    }
    assert_eq!(
        s.store.read("zonos").await.unwrap().unwrap().value,
        after[0],
        "the one-shop cursor went on"
    );
    let jobs = drain(&*s.queue).await;
    let default_mirrors: Vec<&SyncJob> = jobs
        .iter()
        .filter(|j| j.shop.is_default() && j.job.kind() == "mirror_order")
        .collect();
    assert_eq!(default_mirrors.len(), 1, "only the new order: {jobs:?}");
}

/// Zonos answering only what the documents promise (no id, dates, currency or email in
/// `orderDetail`): every order is imported with the listing's dates and the store's currency, and a
/// status change is picked up all the same.
pub async fn bare_zonos_answers_import_and_a_status_change_is_picked_up(aws: bool) {
    let s = setup(aws).await;
    s.sandbox.lock().zonos.bare = true;
    let ids = add_zonos(&s.sandbox, 3);
    let r = poll(&s).await;
    let z = r.channel("zonos").unwrap();
    assert_eq!((z.new, z.failed, z.error.as_deref()), (3, 0, None), "{z:?}");
    let idx = s.sandbox.lock().zonos.find(999, &ids[0]).unwrap();
    let placed = s.sandbox.lock().zonos.orders[idx].placed_at;
    let order = order_of(&s, Channel::Zonos, ids[0].as_str()).await;
    assert_eq!(order.order_id.as_str(), ids[0], "the id asked for");
    assert_eq!(
        order.totals.currency.as_str(),
        "USD",
        "the store's currency"
    );
    assert_eq!(order.placed_at, placed, "the listing's timestamp");
    assert!(order
        .customer
        .as_ref()
        .is_none_or(|c| c.expose().email.is_none()));
    s.sandbox
        .lock()
        .zonos
        .set_status(idx, "IGLOBAL_ORDER_CANCELLED");
    let r = poll(&s).await;
    assert_eq!(r.channel("zonos").unwrap().changed, 1, "{r:?}");
    let order = order_of(&s, Channel::Zonos, ids[0].as_str()).await;
    assert_eq!(order.status, orderbridge::UnifiedStatus::Cancelled);
}

pub async fn the_zonos_cursor_follows_the_ids_whatever_the_listing_order(aws: bool) {
    let s = setup(aws).await;
    s.sandbox.lock().zonos.list_newest_first = true;
    let ids: Vec<String> = (0..4)
        .map(|_| s.sandbox.lock().zonos.create(999, &zonos_order(false)))
        .collect();
    let z = polled(&s, "zonos").await;
    assert_eq!((z.new, z.error.as_deref()), (4, None), "{z:?}");
    let newest = ids.iter().max_by_key(|id| (id.len(), id.as_str())).unwrap();
    assert_eq!(z.cursor_after.as_deref(), Some(newest.as_str()));
    let z = polled(&s, "zonos").await;
    assert_eq!((z.seen, z.new), (0, 0), "{z:?}");
}

/// The cursor's order gone from Zonos ("Couldn't find order for sinceOrderId") does not stall the
/// poll for good: the orders since the cursor last moved are listed by date, and those after the
/// cursor imported.
pub async fn a_zonos_cursor_whose_order_vanished_falls_back_to_a_date(aws: bool) {
    let s = setup(aws).await;
    let first: Vec<String> = (0..2)
        .map(|_| s.sandbox.lock().zonos.create(999, &zonos_order(false)))
        .collect();
    poll(&s).await;
    assert_eq!(
        s.store
            .read("zonos")
            .await
            .unwrap()
            .map(|c| c.value)
            .as_deref(),
        Some(first[1].as_str())
    );
    {
        let mut sb = s.sandbox.lock();
        let at = sb.zonos.find(999, &first[1]).unwrap();
        sb.zonos.orders.remove(at);
    }
    let later: Vec<String> = (0..2)
        .map(|_| s.sandbox.lock().zonos.create(999, &zonos_order(false)))
        .collect();
    let z = polled(&s, "zonos").await;
    assert_eq!((z.new, z.error.as_deref()), (2, None), "{z:?}");
    assert_eq!(z.cursor_after.as_deref(), Some(later[1].as_str()));
    for id in &later {
        assert!(stored(&s, Channel::Zonos, id).await);
    }
}

/// A write the table refuses for good (on DynamoDB, an order over the 400 KB item limit) would hold
/// the reconciliation's cursor on that order forever: the order is parked instead (its import job
/// ends in the DLQ for a look) and the orders after it are stored. The embedded table has no such
/// limit and stores it.
pub async fn a_genstore_order_the_table_refuses_for_good_is_parked(aws: bool) {
    let s = setup(aws).await;
    add_genstore(&s.sandbox, 3);
    {
        let mut sb = s.sandbox.lock();
        let o = sb.genstore.orders.get_mut(&1002).unwrap();
        let line = o.line_items[0].clone();
        o.line_items = (0..3000)
            .map(|i| gw::LineItem {
                id: format!("{}-{i}", line.id),
                ..line.clone()
            })
            .collect();
    }
    let g = polled(&s, "genstore").await;
    assert!(stored(&s, Channel::Genstore, "1003").await, "{g:?}");
    assert_eq!(g.failed, 0, "{g:?}");
    if aws {
        assert_eq!((g.seen, g.missed, g.parked), (3, 2, 1), "{g:?}");
        assert!(!stored(&s, Channel::Genstore, "1002").await);
        assert_eq!(
            imports(&drain(&*s.queue).await),
            vec![(Channel::Genstore, "1002".to_owned(), false)]
        );
    } else {
        assert_eq!((g.seen, g.missed, g.parked), (3, 3, 0), "{g:?}");
    }
}
