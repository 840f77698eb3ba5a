use super::*;
use crate::ids::ChannelOrderId;
use crate::order::{Shipment, ShipmentStatus};

/// A mirror with nothing cancelled.
fn mirror() -> ChannelOrder {
    let mut order = ChannelOrder {
        channel: Channel::Genstore,
        order_id: "5001".into(),
        ..crate::order::tests::sample()
    };
    for line in &mut order.line_items {
        line.quantities.cancelled = 0;
    }
    order
}

fn shipped(mut order: ChannelOrder) -> ChannelOrder {
    order.shipments = vec![Shipment {
        id: "f-1".into(),
        carrier: None,
        tracking_numbers: vec!["1Z999".into()],
        tracking_url: None,
        line_items: Vec::new(),
        status: ShipmentStatus::Shipped,
        shipped_at: None,
        delivered_at: None,
    }];
    order
}

fn decide(
    outcome: Outcome,
    link: Link,
    before: Before<'_>,
    now: &ChannelOrder,
) -> (Outcome, Vec<&'static str>) {
    let (external_id, genstore_id) = (ChannelOrderId::new("G-1"), GenstoreOrderId::new("5001"));
    let ids = MirrorIds {
        channel: Channel::Google,
        external_id: &external_id,
        genstore_id: &genstore_id,
    };
    let (answer, jobs) = mirror_decision(outcome, link, before, now, &ids);
    (answer, jobs.iter().map(Job::kind).collect())
}

#[test]
fn a_mirror_linked_now_writes_the_merchant_id_back_and_pushes_what_it_shows() {
    let now = shipped(mirror());
    assert_eq!(
        decide(Outcome::Created, Link::Linked, Before::Unknown, &now),
        (
            Outcome::Created,
            vec!["write_merchant_order_id", "push_tracking_to_channel"]
        )
    );
    assert_eq!(
        decide(Outcome::Created, Link::AlreadyLinked, Before::Unknown, &now),
        (Outcome::Created, vec!["push_tracking_to_channel"])
    );
}

#[test]
fn only_what_changed_follows_a_state_whose_jobs_are_known() {
    let before = mirror();
    let now = shipped(mirror());
    assert_eq!(
        decide(
            Outcome::Updated,
            Link::AlreadyLinked,
            Before::Replaced(&before),
            &now
        ),
        (Outcome::Updated, vec!["push_tracking_to_channel"])
    );
    assert_eq!(
        decide(
            Outcome::Updated,
            Link::AlreadyLinked,
            Before::Replaced(&now),
            &now
        ),
        (Outcome::Updated, vec![])
    );
    // A replay of a state whose jobs are queued queues nothing; one whose jobs may not be, all.
    assert_eq!(
        decide(Outcome::Stale, Link::AlreadyLinked, Before::Queued, &now),
        (Outcome::Stale, vec![])
    );
    assert_eq!(
        decide(Outcome::Stale, Link::AlreadyLinked, Before::Unknown, &now),
        (Outcome::Stale, vec!["push_tracking_to_channel"])
    );
}

#[test]
fn a_cancellation_follows_once() {
    let before = mirror();
    let mut now = mirror();
    now.line_items[0].quantities.cancelled = 1;
    assert_eq!(
        decide(
            Outcome::Updated,
            Link::AlreadyLinked,
            Before::Replaced(&before),
            &now
        ),
        (Outcome::Updated, vec!["push_cancellation"])
    );
    assert_eq!(
        decide(Outcome::Stale, Link::AlreadyLinked, Before::Queued, &now),
        (Outcome::Stale, vec![])
    );
}

#[test]
fn nothing_follows_an_external_order_not_imported_or_linked_elsewhere() {
    let now = shipped(mirror());
    assert_eq!(
        decide(Outcome::Created, Link::NotFound, Before::Unknown, &now),
        (Outcome::Created, vec![])
    );
    assert_eq!(
        decide(
            Outcome::Updated,
            Link::LinkedElsewhere(GenstoreOrderId::new("4999")),
            Before::Unknown,
            &now
        ),
        (Outcome::Conflict, vec![])
    );
}
