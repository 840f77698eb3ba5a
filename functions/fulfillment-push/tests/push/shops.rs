//! Several shops in one deployment (issue 28): a job is worked in its shop's part of the table with its
//! shop's Genstore and channels, and a job of a shop the deployment does not know waits.

use super::*;
use orderbridge::config::ShopClients;
use orderbridge::shop::ShopId;

/// Each shop's clients, as fulfillment-push is given them.
fn clients(s: &Setup) -> orderbridge::config::Clients {
    orderbridge::config::Clients {
        genstore: s.deps.genstore.clone(),
        zonos: s.deps.zonos.clone(),
        google: s.deps.google.clone(),
    }
}

/// A Zonos order of the other shop (its own Zonos store and Genstore) is mirrored into that shop's
/// Genstore and linked in that shop's part of the table; the default shop's Genstore and rows are not
/// touched, though its Zonos store has an order of the same id. A job naming a shop not configured
/// goes back to the queue.
pub async fn a_shops_job_uses_its_shops_table_part_and_platforms(aws: bool) {
    let s = setup(aws).await;
    let mut other = setup(aws).await;
    let eu: ShopId = "eu".parse().unwrap();
    let deps = Deps {
        shops: Arc::new(vec![
            ShopClients {
                id: ShopId::default_shop(),
                clients: clients(&s),
            },
            ShopClients {
                id: eu.clone(),
                clients: clients(&other),
            },
        ]),
        ..s.deps.clone()
    };
    let ours = zonos_order(&s, 1).await;
    // The other shop's order lives in its own Zonos store, and in its part of this table.
    other.store = orderbridge::store::ShopStore::scoped(s.store.clone(), &eu);
    let theirs = zonos_order(&other, 3).await;
    assert_eq!(ours, theirs, "the same Zonos id in both stores");

    let job = SyncJob::from(Job::MirrorOrder {
        channel: Channel::Zonos,
        order_id: theirs.as_str().into(),
    })
    .in_shop(&eu);
    let out = handle_record(&deps, &job.to_body()).await;
    assert!(matches!(out, Outcome::Done(_)), "{out:?}");
    assert_eq!(executed(&other, "genstore.createOrder"), 1);
    assert_eq!(
        executed(&s, "genstore.createOrder"),
        0,
        "not the other shop's Genstore"
    );
    let linked = stored(&other, Channel::Zonos, &theirs).await;
    let gid = linked.genstore_order_id.expect("linked in its shop");
    let mirror = genstore_order(&other, gid.as_str());
    assert_eq!(mirror.line_items[0].quantity, 3, "the other shop's order");
    assert!(
        stored(&s, Channel::Zonos, &ours)
            .await
            .genstore_order_id
            .is_none(),
        "the default shop's order of the same id is not linked"
    );
    assert_eq!(
        other.sandbox.lock().zonos.orders[0].merchant_order_id(),
        Some(gid.as_str()),
        "written back to the other shop's Zonos store"
    );

    let unknown = SyncJob::from(Job::MirrorOrder {
        channel: Channel::Zonos,
        order_id: ours.as_str().into(),
    })
    .in_shop(&"us".parse().unwrap());
    let out = handle_record(&deps, &unknown.to_body()).await;
    assert!(
        matches!(&out, Outcome::Retry(why) if why.contains("shop us")),
        "{out:?}"
    );
}
