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
    let mirror = Mirror {
        channel: Channel::Google,
        external_id: ChannelOrderId::new("G-1"),
        genstore_id: GenstoreOrderId::new("5001"),
    };
    let (answer, jobs) = mirror_decision(outcome, link, before, now, &mirror);
    (answer, jobs.iter().map(Job::kind).collect())
}

/// The decision's inputs and what it should come to.
type Case<'a> = (
    Outcome,
    Link,
    Before<'a>,
    &'a ChannelOrder,
    (Outcome, Vec<&'static str>),
);

#[test]
fn what_follows_a_mirrors_saved_state() {
    use Before::{Queued, Replaced, Unknown};
    use Link::{AlreadyLinked as Known, Linked, NotFound};
    use Outcome::{Conflict, Created, Stale, Updated};
    let unshipped = mirror();
    let now = shipped(mirror());
    let mut cancelled = mirror();
    cancelled.line_items[0].quantities.cancelled = 1;
    let elsewhere = Link::LinkedElsewhere(GenstoreOrderId::new("4999"));
    let (back, track, cancel) = (
        "write_merchant_order_id",
        "push_tracking_to_channel",
        "push_cancellation",
    );
    let cases: Vec<Case<'_>> = vec![
        // Linked now: the merchant id is written back, and what the state shows is pushed.
        (Created, Linked, Unknown, &now, (Created, vec![back, track])),
        (Created, Known, Unknown, &now, (Created, vec![track])),
        // Only what changed follows a state whose jobs are known.
        (
            Updated,
            Known,
            Replaced(&unshipped),
            &now,
            (Updated, vec![track]),
        ),
        (Updated, Known, Replaced(&now), &now, (Updated, vec![])),
        (
            Updated,
            Known,
            Replaced(&unshipped),
            &cancelled,
            (Updated, vec![cancel]),
        ),
        // A replay of a state whose jobs are queued queues nothing; one whose jobs may not be, all.
        (Stale, Known, Queued, &now, (Stale, vec![])),
        (Stale, Known, Queued, &cancelled, (Stale, vec![])),
        (Stale, Known, Unknown, &now, (Stale, vec![track])),
        // Nothing follows an external order not imported yet, or linked to another mirror.
        (Created, NotFound, Unknown, &now, (Created, vec![])),
        (Updated, elsewhere, Unknown, &now, (Conflict, vec![])),
    ];
    for (outcome, link, before, state, expected) in cases {
        let case = format!("{outcome:?} {link:?} {before:?}");
        assert_eq!(decide(outcome, link, before, state), expected, "{case}");
    }
}
