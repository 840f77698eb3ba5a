//! The sync queue on both backends (and the table's size limit): batched sends, partial refusals,
//! redelivery after the visibility timeout, dead letters after the receive limit.

use super::*;

pub async fn too_large_an_order_is_refused_with_a_clear_error(b: &Backend) {
    let mut o = order(Channel::Google, "G-big", UnifiedStatus::Paid, 0);
    o.tags = (0..5000)
        .map(|i| format!("tag-{i:04}-{}", "x".repeat(80)))
        .collect();
    match orders::save_newer(&*b.store, o).await {
        Err(StoreError::TooLarge { bytes, limit }) => assert!(bytes > limit),
        // SQLite holds it; the table adapters guard DynamoDB's 400 KB limit.
        Ok(_) if !b.real_time_queue => {}
        other => panic!("expected too large, got {other:?}"),
    }
}

pub async fn a_send_of_25_jobs_goes_out_as_3_requests(b: &Backend) {
    let jobs: Vec<SyncJob> = (0..25).map(job).collect();
    let before = b.requests.as_ref().map(|t| t.queue());
    let report = b.queue.send(&jobs).await.unwrap();
    assert_eq!((report.sent, report.requests), (25, 3));
    assert!(report.all_sent());
    if let (Some(tally), Some(before)) = (&b.requests, before) {
        assert_eq!(tally.queue() - before, 3, "requests on the wire");
    }
}

pub async fn a_job_the_queue_refuses_is_reported_and_the_rest_are_sent(b: &Backend) {
    let mut jobs: Vec<SyncJob> = (0..25).map(job).collect();
    jobs[12] = SyncJob::from(Job::MirrorOrder {
        channel: Channel::Zonos,
        order_id: "9".repeat(300 * 1024).into(),
    });
    let report = b.queue.send(&jobs).await.unwrap();
    // The queue refuses a message over 256 KiB (SQS refuses the batch carrying it); whatever it
    // refuses is named, and every other batch still goes out.
    assert!(
        report.failed.iter().any(|f| f.job == jobs[12]),
        "{} failed",
        report.failed.len()
    );
    assert!(
        report.failed.len() <= 10,
        "only the batch with the oversized job"
    );
    assert_eq!(report.sent + report.failed.len(), 25);
    let depth = b.queue.depth().await.unwrap();
    assert_eq!(
        usize::try_from(depth).unwrap(),
        report.sent,
        "sent means on the queue"
    );
}

pub async fn the_queue_delivers_every_job_and_redelivers_after_the_visibility_timeout(b: &Backend) {
    let jobs: Vec<SyncJob> = (0..12).map(job).collect();
    b.queue.send(&jobs).await.unwrap();
    let mut got = Vec::new();
    for _ in 0..20 {
        let batch = b.queue.receive(10, Duration::seconds(30)).await.unwrap();
        if batch.is_empty() && got.len() >= 12 {
            break;
        }
        for m in batch {
            assert_eq!(m.receive_count, 1);
            got.push(m.job().unwrap());
            b.queue.delete(&m.receipt).await.unwrap();
        }
    }
    got.sort_by_key(|j| j.to_body());
    let mut want = jobs.clone();
    want.sort_by_key(|j| j.to_body());
    assert_eq!(got, want, "every job, once each here");

    b.queue.send(&[job(99)]).await.unwrap();
    let first = b.queue.receive(10, Duration::seconds(1)).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(
        b.queue
            .receive(10, Duration::seconds(1))
            .await
            .unwrap()
            .is_empty(),
        "hidden while in flight"
    );
    b.pass(Duration::milliseconds(1500)).await;
    let again = b.received(&*b.queue, 10).await;
    assert_eq!(again.len(), 1, "redelivered after the visibility timeout");
    assert_eq!(again[0].message_id, first[0].message_id);
    assert_eq!(again[0].receive_count, 2);

    // A reader that only looked hands the message back at once.
    b.queue.unhide(&again[0].receipt).await.unwrap();
    let back = b.queue.receive(10, Duration::seconds(30)).await.unwrap();
    assert_eq!(
        back.len(),
        1,
        "visible again without waiting out the timeout"
    );
    assert_eq!(back[0].message_id, first[0].message_id);
    b.queue.delete(&back[0].receipt).await.unwrap();
}

pub async fn a_message_is_dead_lettered_after_its_receive_limit(b: &Backend) {
    b.queue.send(&[job(7)]).await.unwrap();
    let mut receives = 0;
    let limit = usize::try_from(QUEUE.max_receive_count).unwrap();
    for _ in 0..(limit * 4) {
        let batch = b.queue.receive(10, Duration::seconds(0)).await.unwrap();
        receives += batch.len();
        if batch.is_empty() && receives >= limit {
            break;
        }
        if b.real_time_queue {
            b.pass(Duration::milliseconds(100)).await;
        }
    }
    assert_eq!(receives, limit, "received up to the limit, then moved");
    let dead = b.received(&*b.dlq, 20).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].job().unwrap(), job(7));
    // Replay: back to the main queue.
    assert_eq!(b.queue.send_raw(&[dead[0].body.clone()]).await.unwrap(), 1);
    b.dlq.delete(&dead[0].receipt).await.unwrap();
    let back = b.queue.receive(10, Duration::seconds(30)).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].job().unwrap(), job(7));
}
