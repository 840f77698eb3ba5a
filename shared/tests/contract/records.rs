//! The records beside the orders, on both backends: dedupe claims, batches, counts, idempotency,
//! the audit trail, the shared rate budget, cursors, conditional removal and leases.

use super::*;

pub async fn a_dedupe_key_is_claimed_once_until_it_expires(b: &Backend) {
    let s = &*b.store;
    let hour = Duration::hours(1);
    assert!(!s.seen("wh-1").await.unwrap());
    assert!(s.claim_once("wh-1", hour).await.unwrap());
    assert!(s.seen("wh-1").await.unwrap(), "a claim is seen");
    assert!(!s.claim_once("wh-1", hour).await.unwrap());
    assert!(s.claim_once("wh-2", hour).await.unwrap());
    b.clock.advance(Duration::hours(2));
    assert!(
        !s.seen("wh-1").await.unwrap(),
        "an expired claim is not seen"
    );
    assert!(
        s.claim_once("wh-1", hour).await.unwrap(),
        "an expired key can be claimed again"
    );
    let (x, y) = tokio::join!(s.claim_once("wh-3", hour), s.claim_once("wh-3", hour));
    assert_eq!([x.unwrap(), y.unwrap()].iter().filter(|w| **w).count(), 1);
}

pub async fn a_batch_reads_in_one_go_and_writes_all_or_nothing(b: &Backend) {
    use orderbridge::store::{Found, ItemKey, Write};
    let s = &*b.store;
    let hour = Duration::hours(1);
    let a = order(Channel::Genstore, "b-1", UnifiedStatus::Paid, 0);
    let x = order(Channel::Zonos, "b-x", UnifiedStatus::Paid, 0);
    orders::save_newer(s, x.clone()).await.unwrap();
    s.claim_once("old", hour).await.unwrap();
    s.advance("rec", None, "v1").await.unwrap();
    b.clock.advance(Duration::hours(2));
    s.claim_once("fresh", hour).await.unwrap();
    let keys = [
        ItemKey::Claim("fresh".into()),
        ItemKey::Order(OrderKey::of(&a)),
        ItemKey::Claim("old".into()),
        ItemKey::Order(OrderKey::of(&x)),
        ItemKey::Record("rec".into()),
        ItemKey::Claim("fresh".into()),
    ];
    let got = s.read_batch(&keys).await.unwrap();
    assert_eq!(got.len(), keys.len(), "one answer per key, in order");
    assert_eq!(got[0], Some(Found::Claim));
    assert_eq!(got[1], None, "absent order");
    assert_eq!(got[2], None, "an expired claim reads as absent");
    assert!(matches!(&got[3], Some(Found::Order(o)) if o.order == x && o.version == 1));
    assert!(matches!(&got[4], Some(Found::Record(c)) if c.value == "v1"));
    assert_eq!(
        got[5],
        Some(Found::Claim),
        "a key asked twice is answered twice"
    );

    // One stale expectation fails the whole batch: nothing of it is written.
    let mut linked = x.clone();
    linked.genstore_order_id = Some("b-1".into());
    let stale = [
        Write::Order {
            order: Box::new(a.clone()),
            expected: Expected::Absent,
        },
        Write::Claim {
            key: "wh-b".into(),
            ttl: hour,
        },
        Write::Order {
            order: Box::new(linked.clone()),
            expected: Expected::Version(7),
        },
    ];
    assert!(!s.write_batch(&stale).await.unwrap());
    assert!(s.get(&OrderKey::of(&a)).await.unwrap().is_none());
    assert!(!s.seen("wh-b").await.unwrap());
    // A claim held by another fails it too; an expired one does not.
    let held = [
        Write::Order {
            order: Box::new(a.clone()),
            expected: Expected::Absent,
        },
        Write::Claim {
            key: "fresh".into(),
            ttl: hour,
        },
    ];
    assert!(!s.write_batch(&held).await.unwrap());
    assert!(s.get(&OrderKey::of(&a)).await.unwrap().is_none());
    // So does a record that must be absent and is there ("rec"); it is left as it was.
    let recorded = [
        Write::Order {
            order: Box::new(a.clone()),
            expected: Expected::Absent,
        },
        Write::NoRecord { name: "rec".into() },
    ];
    assert!(!s.write_batch(&recorded).await.unwrap());
    assert!(s.get(&OrderKey::of(&a)).await.unwrap().is_none());
    assert_eq!(s.read("rec").await.unwrap().unwrap().value, "v1");
    let good = [
        Write::Order {
            order: Box::new(a.clone()),
            expected: Expected::Absent,
        },
        Write::Claim {
            key: "old".into(),
            ttl: hour,
        },
        Write::Order {
            order: Box::new(linked.clone()),
            expected: Expected::Version(1),
        },
        Write::Mark {
            key: "fresh".into(),
            ttl: Duration::days(2),
        },
        Write::NoRecord {
            name: "no-such-record".into(),
        },
    ];
    assert!(s.write_batch(&good).await.unwrap());
    assert_eq!(
        s.read("no-such-record").await.unwrap(),
        None,
        "a check writes nothing"
    );
    let stored_a = s.get(&OrderKey::of(&a)).await.unwrap().unwrap();
    assert_eq!((stored_a.order, stored_a.version), (a.clone(), 1));
    let stored_x = s.get(&OrderKey::of(&x)).await.unwrap().unwrap();
    assert_eq!((stored_x.order, stored_x.version), (linked, 2));
    assert_eq!(
        s.find_by_genstore_id(&"b-1".into()).await.unwrap().len(),
        1,
        "the index follows a batch write"
    );
    assert!(s.seen("old").await.unwrap());
    b.clock.advance(Duration::hours(3));
    assert!(s.seen("fresh").await.unwrap(), "a mark rewrites the expiry");
    // Written again on a stale read: refused, the stored version stays.
    assert!(!s.write_batch(&good[..1]).await.unwrap());
    assert_eq!(s.get(&OrderKey::of(&a)).await.unwrap().unwrap().version, 1);
    assert!(
        s.write_batch(&[]).await.unwrap(),
        "an empty batch writes nothing"
    );
}

pub async fn webhook_outcomes_are_summed_over_the_last_hour(b: &Backend) {
    use orderbridge::store::{note_webhook, webhooks_last_hour};
    let s = &*b.store;
    let t0 = b.clock.now_utc();
    let at = |mins: i64| t0 + Duration::minutes(mins);
    note_webhook(s, "created", at(0)).await.unwrap();
    note_webhook(s, "created", at(5)).await.unwrap();
    note_webhook(s, "duplicate", at(30)).await.unwrap();
    let hour = webhooks_last_hour(s, at(40)).await.unwrap();
    assert_eq!(hour.get("created"), Some(&2));
    assert_eq!(hour.get("duplicate"), Some(&1));
    assert_eq!(hour.get("rejected"), None, "not yet");
    note_webhook(s, "rejected", at(80)).await.unwrap();
    let (x, y) = tokio::join!(
        note_webhook(s, "stale", at(81)),
        note_webhook(s, "stale", at(81))
    );
    x.unwrap();
    y.unwrap();
    let later = webhooks_last_hour(s, at(85)).await.unwrap();
    assert_eq!(later.get("created"), None, "more than an hour ago");
    assert_eq!(later.get("duplicate"), Some(&1));
    assert_eq!(later.get("rejected"), Some(&1));
    assert_eq!(later.get("stale"), Some(&2), "concurrent counts both land");
    // One record, holding only the last hour's slots: a day of webhooks leaves nothing behind.
    let slots = || async {
        let kept = s
            .read(&RecordName::WebhookCounts.to_string())
            .await
            .unwrap();
        let text = kept.map(|c| c.value).unwrap_or_default();
        let map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
        (map.len(), text)
    };
    let (n, text) = slots().await;
    assert!((2..=3).contains(&n) && !text.contains("created"), "{text}");
    for hour in 2..26 {
        note_webhook(s, "created", at(hour * 60)).await.unwrap();
    }
    let (n, text) = slots().await;
    assert_eq!(n, 2, "{text}");
}

pub async fn throttled_calls_are_summed_over_two_hours_in_one_small_record(b: &Backend) {
    use orderbridge::store::{count_throttled, throttled_recent};
    let s = &*b.store;
    let t0 = b.clock.now_utc();
    let at = |hours: i64| t0 + Duration::hours(hours);
    count_throttled(s, "google", at(0)).await.unwrap();
    let (x, y) = tokio::join!(
        count_throttled(s, "google", at(0)),
        count_throttled(s, "google", at(0))
    );
    x.unwrap();
    y.unwrap();
    count_throttled(s, "google", at(1)).await.unwrap();
    count_throttled(s, "zonos", at(1)).await.unwrap();
    assert_eq!(throttled_recent(s, "google", at(1)).await.unwrap(), 4);
    assert_eq!(throttled_recent(s, "google", at(2)).await.unwrap(), 1);
    assert_eq!(throttled_recent(s, "zonos", at(1)).await.unwrap(), 1);
    assert_eq!(throttled_recent(s, "genstore", at(1)).await.unwrap(), 0);
    // A day of throttling keeps two hours.
    for hour in 2..26 {
        count_throttled(s, "google", at(hour)).await.unwrap();
    }
    let kept = s
        .read(&RecordName::Throttled("google").to_string())
        .await
        .unwrap()
        .unwrap();
    let hours: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&kept.value).unwrap();
    assert_eq!(hours.len(), 2, "{}", kept.value);
    assert_eq!(throttled_recent(s, "google", at(25)).await.unwrap(), 2);
}

pub async fn idempotency_claim_complete_release_expiry_and_mismatch(b: &Backend) {
    let ttl = IdempotencyTtl {
        in_progress: Duration::seconds(30),
        record: Duration::days(1),
    };
    let s = &*b.store;
    let acquired = |c: Claim| match c {
        Claim::Acquired { owner } => owner,
        other => panic!("not acquired: {other:?}"),
    };
    let owner = acquired(s.claim("op-1", "h1", ttl).await.unwrap());
    assert!(matches!(
        s.claim("op-1", "h1", ttl).await.unwrap(),
        Claim::InProgress { .. }
    ));
    assert!(matches!(
        s.claim("op-1", "other", ttl).await,
        Err(IdempotencyError::PayloadMismatch { .. })
    ));
    let result = WorkResult::Done("5001".into());
    assert!(s.complete("op-1", &owner, &result, ttl).await.unwrap());
    assert_eq!(
        s.claim("op-1", "h1", ttl).await.unwrap(),
        Claim::Completed(result.clone())
    );
    s.release("op-1", &owner).await.unwrap();
    assert_eq!(
        s.claim("op-1", "h1", ttl).await.unwrap(),
        Claim::Completed(result.clone()),
        "release keeps done work"
    );

    // A run slower than its claim's lifetime: its record is claimed again by another run, and the
    // slow run's complete or release touches nothing of that claim.
    let slow = acquired(s.claim("op-5", "h5", ttl).await.unwrap());
    b.clock.advance(Duration::seconds(31));
    let fresh = acquired(s.claim("op-5", "h5", ttl).await.unwrap());
    assert_ne!(slow, fresh);
    s.release("op-5", &slow).await.unwrap();
    assert!(
        matches!(
            s.claim("op-5", "h5", ttl).await.unwrap(),
            Claim::InProgress { .. }
        ),
        "the slow run's release left the new claim"
    );
    assert!(!s.complete("op-5", &slow, &result, ttl).await.unwrap());
    assert!(matches!(
        s.claim("op-5", "h5", ttl).await.unwrap(),
        Claim::InProgress { .. }
    ));
    let done = WorkResult::Done("by the new run".into());
    assert!(s.complete("op-5", &fresh, &done, ttl).await.unwrap());
    assert_eq!(
        s.claim("op-5", "h5", ttl).await.unwrap(),
        Claim::Completed(done)
    );

    // A failure recorded for good is forgotten on request (a replay), and only a failure.
    assert!(!s.forget_failure("op-1").await.unwrap(), "a success stays");
    assert_eq!(
        s.claim("op-1", "h1", ttl).await.unwrap(),
        Claim::Completed(WorkResult::Done("5001".into()))
    );
    let owner4 = acquired(s.claim("op-4", "h4", ttl).await.unwrap());
    assert!(
        !s.forget_failure("op-4").await.unwrap(),
        "work in progress stays"
    );
    assert!(matches!(
        s.claim("op-4", "h4", ttl).await.unwrap(),
        Claim::InProgress { .. }
    ));
    let failed = WorkResult::Failed("Google said 400".into());
    assert!(s.complete("op-4", &owner4, &failed, ttl).await.unwrap());
    assert_eq!(
        s.claim("op-4", "h4", ttl).await.unwrap(),
        Claim::Completed(failed)
    );
    assert!(s.forget_failure("op-4").await.unwrap());
    acquired(s.claim("op-4", "h4", ttl).await.unwrap());
    assert!(!s.forget_failure("no-such-op").await.unwrap());

    // A failed run releases: the retry claims at once.
    let owner2 = acquired(s.claim("op-2", "h2", ttl).await.unwrap());
    s.release("op-2", &owner2).await.unwrap();
    acquired(s.claim("op-2", "h2", ttl).await.unwrap());

    // A crashed run never releases: its claim expires after the in-progress TTL, not the record's.
    b.clock.advance(Duration::seconds(31));
    let owner2 = acquired(s.claim("op-2", "h2", ttl).await.unwrap());

    // A completed record expires after its own TTL.
    assert!(s
        .complete("op-2", &owner2, &WorkResult::Done(String::new()), ttl)
        .await
        .unwrap());
    b.clock.advance(Duration::days(2));
    acquired(s.claim("op-2", "h2", ttl).await.unwrap());

    // Records made before claims had owners: a lapsed claim is claimed like any, and a failure is
    // forgotten like any.
    let now = b.clock.now();
    let legacy = |state, result: Option<&str>| IdempotencyRecord {
        state,
        payload_hash: "h6".into(),
        owner: None,
        result: result.map(str::to_owned),
        in_progress_until: now - Duration::seconds(1),
        until: now + Duration::days(1),
    };
    let lapsed = legacy(RecordState::InProgress, None);
    assert!(s.swap_record("op-6", None, &lapsed).await.unwrap());
    assert!(
        !s.swap_record("op-6", None, &lapsed).await.unwrap(),
        "a record is there: nothing is written over it"
    );
    acquired(s.claim("op-6", "h6", ttl).await.unwrap());
    let failed = legacy(RecordState::Completed, Some(r#"{"failed":"old"}"#));
    assert!(s.swap_record("op-7", None, &failed).await.unwrap());
    assert_eq!(
        s.claim("op-7", "h6", ttl).await.unwrap(),
        Claim::Completed(WorkResult::Failed("old".into()))
    );
    assert!(s.forget_failure("op-7").await.unwrap());
    acquired(s.claim("op-7", "h6", ttl).await.unwrap());

    // Two racing claims: one acquires.
    let (x, y) = tokio::join!(s.claim("op-3", "h", ttl), s.claim("op-3", "h", ttl));
    let acquired = [x.unwrap(), y.unwrap()]
        .iter()
        .filter(|c| matches!(c, Claim::Acquired { .. }))
        .count();
    assert_eq!(acquired, 1);
}

pub async fn the_audit_trail_reads_back_in_order(b: &Backend) {
    let key = OrderKey::new(Channel::Google, "G-PLA-1");
    let t0 = b.clock.now_utc();
    for (i, outcome) in [
        AuditOutcome::Failed {
            reason: "timeout".into(),
            retryable: true,
        },
        AuditOutcome::Executed,
        AuditOutcome::Duplicate,
        AuditOutcome::Skipped {
            reason: "IGLOBAL_FRAUD_REVIEW blocks vendor updates".into(),
        },
    ]
    .into_iter()
    .enumerate()
    {
        let entry = AuditEntry {
            operation_id: format!("ob-ship-{i}"),
            target: Channel::Google,
            action: "shipLineItems".into(),
            outcome,
            at: t0 + Duration::seconds(i64::try_from(i).unwrap()),
            cause: Some(format!("webhook:test-{i}")),
        };
        b.store.append(&key, &entry).await.unwrap();
    }
    let entries = b.store.entries(&key).await.unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(
        entries[0].outcome,
        AuditOutcome::Failed {
            reason: "timeout".into(),
            retryable: true
        }
    );
    assert_eq!(entries[3].operation_id, "ob-ship-3");
    assert!(b
        .store
        .entries(&OrderKey::new(Channel::Google, "other"))
        .await
        .unwrap()
        .is_empty());

    // A redaction rewrites the free text, and only that; a second one finds nothing left.
    assert_eq!(b.store.redact(&key).await.unwrap(), 2);
    assert_eq!(b.store.redact(&key).await.unwrap(), 0);
    let redacted = b.store.entries(&key).await.unwrap();
    assert_eq!(redacted.len(), 4);
    assert_eq!(
        redacted[0].outcome,
        AuditOutcome::Failed {
            reason: REDACTED.into(),
            retryable: true
        }
    );
    assert_eq!(redacted[1].outcome, AuditOutcome::Executed);
    assert_eq!(
        redacted[3].outcome,
        AuditOutcome::Skipped {
            reason: REDACTED.into()
        }
    );
    assert_eq!(redacted[3].operation_id, "ob-ship-3");
}

pub async fn the_rate_budget_grants_its_burst_then_its_refill_and_keeps_a_reserve(b: &Backend) {
    let shape = BucketShape {
        per_second: 2.0,
        burst: 10.0,
    };
    let s = &*b.store;
    let mut taken = 0;
    for _ in 0..5 {
        taken += s.take("genstore", shape, 4, 0.0).await.unwrap().tokens;
    }
    assert_eq!(taken, 10, "a full bucket grants its burst, no more");
    let empty = s.take("genstore", shape, 4, 0.0).await.unwrap();
    assert_eq!(empty.tokens, 0);
    assert!(empty.retry_in > std::time::Duration::ZERO);
    assert!(
        empty.retry_in <= std::time::Duration::from_millis(500),
        "{empty:?}"
    );
    // Another bucket is another platform's.
    assert_eq!(s.take("zonos", shape, 1, 0.0).await.unwrap().tokens, 1);
    // Two seconds refill four tokens.
    b.clock.advance(Duration::seconds(2));
    assert_eq!(s.take("genstore", shape, 10, 0.0).await.unwrap().tokens, 4);
    // A lower-priority taker leaves the reserve alone.
    b.clock.advance(Duration::seconds(3));
    assert_eq!(s.take("genstore", shape, 10, 5.0).await.unwrap().tokens, 1);
    assert_eq!(s.take("genstore", shape, 10, 5.0).await.unwrap().tokens, 0);
    assert_eq!(s.take("genstore", shape, 10, 0.0).await.unwrap().tokens, 5);
}

/// Instances' clocks differ: a take by a clock that is behind never sets the bucket back in time,
/// or the next take by a clock that is not would refill it again for the same seconds.
pub async fn a_clock_behind_never_sets_the_rate_budget_back(b: &Backend) {
    let shape = BucketShape {
        per_second: 1.0,
        burst: 3.0,
    };
    let s = &*b.store;
    assert_eq!(s.take("genstore", shape, 1, 0.0).await.unwrap().tokens, 1);
    // Another instance, its clock a minute behind, takes the rest.
    b.clock.advance(Duration::seconds(-60));
    assert_eq!(s.take("genstore", shape, 2, 0.0).await.unwrap().tokens, 2);
    // Back at the true time, nothing has refilled: three tokens in all, the burst.
    b.clock.advance(Duration::seconds(60));
    assert_eq!(s.take("genstore", shape, 3, 0.0).await.unwrap().tokens, 0);
    b.clock.advance(Duration::seconds(1));
    assert_eq!(s.take("genstore", shape, 3, 0.0).await.unwrap().tokens, 1);
}

/// Times are added checked: a record kept "for good" (chrono's largest span) is completed without
/// a panic, and read back as completed.
pub async fn an_idempotency_record_kept_for_good_completes_without_overflow(b: &Backend) {
    let s = &*b.store;
    let ttl = IdempotencyTtl {
        in_progress: Duration::seconds(60),
        record: Duration::MAX,
    };
    let Claim::Acquired { owner } = s.claim("op-max", "h", ttl).await.unwrap() else {
        panic!("op-max is claimed already")
    };
    assert!(s
        .complete("op-max", &owner, &WorkResult::Done("max".into()), ttl)
        .await
        .unwrap());
    assert!(matches!(
        s.claim("op-max", "h", ttl).await.unwrap(),
        Claim::Completed(_)
    ));
}

pub async fn a_cursor_advances_only_from_the_value_read(b: &Backend) {
    let s = &*b.store;
    assert_eq!(s.read("zonos").await.unwrap(), None);
    assert!(s.advance("zonos", None, "999-100").await.unwrap());
    assert!(
        !s.advance("zonos", None, "999-101").await.unwrap(),
        "it was set already"
    );
    assert!(
        !s.advance("zonos", Some("999-050"), "999-101")
            .await
            .unwrap(),
        "stale expected value"
    );
    assert_eq!(s.read("zonos").await.unwrap().unwrap().value, "999-100");
    assert!(s
        .advance("zonos", Some("999-100"), "999-200")
        .await
        .unwrap());
    assert_eq!(s.read("zonos").await.unwrap().unwrap().value, "999-200");
}

pub async fn a_record_is_removed_only_while_it_holds_what_was_read(b: &Backend) {
    let s = &*b.store;
    assert!(s.advance("parked", None, "[1]").await.unwrap());
    // Someone added to it after it was read: the stale removal leaves it.
    assert!(s.advance("parked", Some("[1]"), "[1,2]").await.unwrap());
    s.remove("parked", "[1]").await.unwrap();
    assert_eq!(s.read("parked").await.unwrap().unwrap().value, "[1,2]");
    s.remove("parked", "[1,2]").await.unwrap();
    assert_eq!(s.read("parked").await.unwrap(), None);
    // Gone already: no effect, no error; and it can be set afresh.
    s.remove("parked", "[1,2]").await.unwrap();
    assert!(s.advance("parked", None, "[3]").await.unwrap());
}

pub async fn a_second_lease_is_refused_until_the_first_expires(b: &Backend) {
    let s = &*b.store;
    let ttl = Duration::minutes(5);
    assert!(matches!(
        s.acquire_lease("poll:zonos", "run-a", ttl).await.unwrap(),
        Lease::Acquired { .. }
    ));
    match s.acquire_lease("poll:zonos", "run-b", ttl).await.unwrap() {
        Lease::Held { owner, .. } => assert_eq!(owner, "run-a"),
        other => panic!("expected held, got {other:?}"),
    }
    assert!(
        matches!(
            s.acquire_lease("poll:zonos", "run-a", ttl).await.unwrap(),
            Lease::Acquired { .. }
        ),
        "renewal"
    );
    assert!(matches!(
        s.acquire_lease("poll:google", "run-b", ttl).await.unwrap(),
        Lease::Acquired { .. }
    ));
    b.clock.advance(Duration::minutes(6));
    assert!(matches!(
        s.acquire_lease("poll:zonos", "run-b", ttl).await.unwrap(),
        Lease::Acquired { .. }
    ));
    s.release_lease("poll:zonos", "run-a").await.unwrap();
    assert!(
        matches!(
            s.acquire_lease("poll:zonos", "run-a", ttl).await.unwrap(),
            Lease::Held { .. }
        ),
        "only the owner releases"
    );
    s.release_lease("poll:zonos", "run-b").await.unwrap();
    assert!(matches!(
        s.acquire_lease("poll:zonos", "run-a", ttl).await.unwrap(),
        Lease::Acquired { .. }
    ));
}
