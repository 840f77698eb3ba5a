//! Operator commands over the order table and the queues: what an engineer on call needs to look inside.
//! Output is for people by default; `--json` gives the same facts to scripts.

use orderbridge::channel::Channel;
use orderbridge::order::ChannelOrder;
use orderbridge::status::{self, UnifiedStatus};
use orderbridge::store::{AuditOutcome, OrderKey, PageRequest, RecordName, Storage, SyncQueue};
use serde_json::{json, Value};

/// An order for display: its own facts, the orders linked to it, the combined status, its audit trail.
pub async fn order_view(store: &dyn Storage, key: &OrderKey) -> Result<Option<Value>, String> {
    let Some(stored) = store.get(key).await.map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let o = stored.order;
    let linked: Vec<ChannelOrder> = match &o.genstore_order_id {
        Some(g) => store
            .find_by_genstore_id(g)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|s| s.order)
            .collect(),
        None => vec![o.clone()],
    };
    let unified = status::aggregate(linked.iter().map(|l| l.status));
    let mut audit = Vec::new();
    for l in &linked {
        for e in store
            .entries(&OrderKey::of(l))
            .await
            .map_err(|e| e.to_string())?
        {
            audit.push(json!({
                "order": format!("{}:{}", l.channel, l.order_id), "at": e.at, "target": e.target,
                "action": e.action, "operation_id": e.operation_id, "outcome": e.outcome,
                "cause": e.cause,
            }));
        }
    }
    audit.sort_by(|a, b| a["at"].as_str().cmp(&b["at"].as_str()));
    Ok(Some(json!({
        "order": format!("{}:{}", o.channel, o.order_id),
        "unified_status": unified,
        "version": stored.version,
        "channels": linked.iter().map(|l| json!({
            "channel": l.channel, "order_id": l.order_id, "status": l.status, "raw_status": l.raw_status,
            "merchant_order_id": l.merchant_order_id, "genstore_order_id": l.genstore_order_id,
            "total": l.totals.total_money().to_string(), "updated_at": l.updated_at,
            "lines": l.line_items.iter().map(|li| json!({
                "id": li.id, "sku": li.sku, "ordered": li.quantities.ordered, "shipped": li.quantities.shipped,
                "delivered": li.quantities.delivered, "cancelled": li.quantities.cancelled,
            })).collect::<Vec<_>>(),
            "shipments": l.shipments.iter().map(|s| json!({
                "id": s.id, "status": s.status, "carrier": s.carrier.as_ref().map(|c| c.to_string()),
                "tracking": s.tracking_numbers,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "audit": audit,
    })))
}

/// Renders an order view for a person.
pub fn render_order(v: &Value) -> String {
    let mut out = format!(
        "{}  unified status: {}\n",
        v["order"].as_str().unwrap_or("?"),
        v["unified_status"].as_str().unwrap_or("?")
    );
    for c in v["channels"].as_array().into_iter().flatten() {
        let text = |k: &str| c[k].as_str().unwrap_or("");
        let [channel, id, status, raw] = ["channel", "order_id", "status", "raw_status"].map(text);
        let merchant = c["merchant_order_id"].as_str().unwrap_or("-");
        out.push_str(&format!(
            "  {channel:<9} {id:<22} {status:<20} raw {raw:<45} merchant id {merchant}\n"
        ));
        for s in c["shipments"].as_array().into_iter().flatten() {
            let [id, status] = ["id", "status"].map(|k| s[k].as_str().unwrap_or(""));
            let carrier = s["carrier"].as_str().unwrap_or("-");
            let numbers: Vec<&str> = s["tracking"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let numbers = numbers.join(",");
            out.push_str(&format!(
                "            shipment {id} {status} {carrier} {numbers}\n"
            ));
        }
    }
    let audit = v["audit"].as_array().cloned().unwrap_or_default();
    if !audit.is_empty() {
        out.push_str("  writes:\n");
        for a in audit {
            out.push_str(&format!(
                "    {} {:<8} {:<24} {:<10} {}\n",
                a["at"].as_str().unwrap_or(""),
                a["target"].as_str().unwrap_or(""),
                a["action"].as_str().unwrap_or(""),
                a["outcome"]["result"].as_str().unwrap_or(""),
                a["cause"].as_str().unwrap_or("")
            ));
        }
    }
    out
}

/// What `orders list` shows.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only orders from this channel (`genstore` for Genstore's own orders).
    pub channel: Option<Channel>,
    /// Only this unified status (of both sides together).
    pub status: Option<UnifiedStatus>,
    /// Only orders that need someone: a job in the DLQ, a side missing, or a push failing.
    pub stuck: bool,
    /// The shop whose orders these are (the store given is its part of the table): only its dead
    /// letters mark its rows. None: the default shop.
    pub shop: Option<orderbridge::shop::ShopId>,
}

/// How long an external order may go without its Genstore mirror before it counts as stuck (the
/// mirror job is normally done within a poll interval).
pub const MIRROR_GRACE_MINUTES: i64 = 30;

/// Orders as a person thinks of them: one row per order, its external side and its Genstore side
/// together (a Genstore mirror is folded into the row of the order it mirrors), newest first, with the
/// unified status, the last write made for it and why it is stuck if it is. One page of the table at a
/// time: the answer's `next` goes back in as `after` for the next page.
pub async fn order_rows(
    store: &dyn Storage,
    dlq: Option<&dyn SyncQueue>,
    filter: &ListFilter,
    limit: usize,
    after: Option<String>,
) -> Result<(Vec<Value>, Option<String>), String> {
    let after_was_none = after.is_none();
    let page = store
        .scan(PageRequest {
            token: after,
            limit,
        })
        .await
        .map_err(|e| e.to_string())?;
    let shop = filter.shop.clone().unwrap_or_default();
    let dead: Vec<String> = match dlq {
        Some(q) => orderbridge::dead_letters::list(q)
            .await?
            .into_iter()
            .filter(|l| l.shop.as_ref() == Some(&shop))
            .filter_map(|l| l.order)
            .collect(),
        None => Vec::new(),
    };
    // Deliveries webhook-ingest holds (they could never be applied as they were): named on their
    // order's row, or on a row of their own when the order is not in the table (first page only).
    let held = webhook_ingest::held::list(store)
        .await
        .map_err(|e| e.to_string())?;
    let mut held_unseen: Vec<&webhook_ingest::held::HeldWebhook> = held.iter().collect();
    let first_page = after_was_none;
    let mut rows = Vec::new();
    for stored in page.items {
        let o = stored.order;
        // A mirror is shown in its external order's row, unless that order is not in the table.
        if o.channel == Channel::Genstore {
            if let Some((ch, id)) = o.source.as_ref().and_then(|s| s.external_order()) {
                let external = store
                    .get(&OrderKey::new(ch, id))
                    .await
                    .map_err(|e| e.to_string())?;
                if external.is_some() {
                    continue;
                }
            }
        }
        let genstore = match (&o.channel, &o.genstore_order_id) {
            (Channel::Genstore, _) => None,
            (_, Some(g)) => store
                .get(&OrderKey::new(Channel::Genstore, g.as_str()))
                .await
                .map_err(|e| e.to_string())?
                .map(|s| s.order),
            (_, None) => None,
        };
        let key = format!("{}:{}", o.channel, o.order_id);
        let mut statuses = vec![o.status];
        statuses.extend(genstore.as_ref().map(|g| g.status));
        let unified = status::aggregate(statuses);
        let mut trail = store
            .entries(&OrderKey::of(&o))
            .await
            .map_err(|e| e.to_string())?;
        if let Some(g) = &genstore {
            trail.extend(
                store
                    .entries(&OrderKey::of(g))
                    .await
                    .map_err(|e| e.to_string())?,
            );
        }
        trail.sort_by_key(|e| e.at);
        let last = trail.last();
        let mut stuck = Vec::new();
        if dead.contains(&key) {
            stuck.push("dead letter".to_owned());
        }
        if o.channel == Channel::Genstore {
            held_unseen.retain(|h| {
                let about = h.order_id.as_deref() == Some(o.order_id.as_str());
                if about {
                    stuck.push(format!("held webhook {}", h.topic));
                }
                !about
            });
        }
        let external = o.channel != Channel::Genstore;
        let cancelled = unified == UnifiedStatus::Cancelled;
        if external
            && o.genstore_order_id.is_none()
            && !cancelled
            && chrono::Utc::now() - o.placed_at.max(o.updated_at)
                > chrono::Duration::minutes(MIRROR_GRACE_MINUTES)
        {
            stuck.push("no Genstore mirror".to_owned());
        }
        // The merchant fulfilled a mirror its channel holds (marked not to ship): the push waits, and
        // someone must look.
        if external
            && orderbridge::channels::genstore::mapping::held(&o)
            && genstore
                .as_ref()
                .is_some_and(|g| g.shipments.iter().any(|s| s.status.is_live()))
        {
            stuck.push(format!(
                "fulfilled in Genstore while {} holds it",
                o.channel
            ));
        }
        if let Some(e) = last {
            if matches!(e.outcome, AuditOutcome::Failed { .. }) {
                stuck.push(format!("{} {} failing", e.target, e.action));
            }
        }
        if filter.channel.is_some_and(|c| c != o.channel)
            || filter.status.is_some_and(|st| st != unified)
            || (filter.stuck && stuck.is_empty())
        {
            continue;
        }
        rows.push(json!({
            "order": key,
            "genstore_order_id": if o.channel == Channel::Genstore { None } else { o.genstore_order_id.as_ref().map(|g| g.as_str().to_owned()) },
            "unified_status": unified,
            "sides": std::iter::once(&o).chain(genstore.as_ref()).map(|x| json!({
                "channel": x.channel, "status": x.status, "raw_status": x.raw_status,
            })).collect::<Vec<_>>(),
            "updated_at": genstore.as_ref().map_or(o.updated_at, |g| g.updated_at.max(o.updated_at)),
            "last_write": last.map(|e| json!({"at": e.at, "target": e.target, "action": e.action, "outcome": e.outcome})),
            "stuck": stuck,
        }));
    }
    rows.sort_by(|a, b| b["updated_at"].as_str().cmp(&a["updated_at"].as_str()));
    if first_page
        && filter.channel.is_none_or(|c| c == Channel::Genstore)
        && filter.status.is_none()
    {
        for h in held_unseen {
            rows.push(json!({
                "order": h.order_id.as_ref().map_or_else(|| format!("webhook:{}", h.key), |id| format!("genstore:{id}")),
                "genstore_order_id": null,
                "unified_status": null,
                "sides": [],
                "updated_at": h.held_at,
                "last_write": null,
                "stuck": [format!("held webhook {}: {}", h.topic, h.reason)],
            }));
        }
    }
    Ok((rows, page.next))
}

/// One row of [`order_rows`] for people.
pub fn render_row(r: &Value) -> String {
    let last = r["last_write"]
        .as_object()
        .map(|w| {
            format!(
                "{} {} {}",
                w.get("target").and_then(Value::as_str).unwrap_or(""),
                w.get("action").and_then(Value::as_str).unwrap_or(""),
                w.get("outcome")
                    .and_then(|o| o.get("result"))
                    .and_then(Value::as_str)
                    .unwrap_or("")
            )
        })
        .unwrap_or_else(|| "-".into());
    let stuck: Vec<&str> = r["stuck"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    format!(
        "{:<28} {:<10} {:<20} {:<36} {}",
        r["order"].as_str().unwrap_or(""),
        r["genstore_order_id"].as_str().unwrap_or("-"),
        r["unified_status"].as_str().unwrap_or(""),
        last,
        if stuck.is_empty() {
            String::new()
        } else {
            format!("STUCK: {}", stuck.join(", "))
        }
    )
}

/// Applies the deliveries webhook-ingest holds (see [`webhook_ingest::held`]) as the function would
/// have: for `dlq replay`, once their cause is fixed. The sync queue gets their follow-up jobs.
pub async fn replay_held(
    store: std::sync::Arc<dyn Storage>,
    queue: std::sync::Arc<dyn SyncQueue>,
) -> Result<webhook_ingest::held::Replayed, String> {
    // Held deliveries were verified when they came; nothing is verified again.
    let deps = webhook_ingest::Deps::build(
        store,
        queue,
        webhook_ingest::ShopKeys::single(Vec::new(), None),
        webhook_ingest::DEFAULT_MAX_BODY,
    );
    webhook_ingest::held::replay(&deps).await
}

/// Reads `channel:id`.
pub fn parse_key(text: &str) -> Result<OrderKey, String> {
    let (c, id) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?}: expected channel:order-id, e.g. zonos:999-10001"))?;
    let channel: Channel = c
        .parse()
        .map_err(|e: orderbridge::channel::UnknownChannel| e.to_string())?;
    Ok(OrderKey::new(channel, id))
}

/// The channels `status` reports on.
const CHANNELS: [Channel; 3] = [Channel::Zonos, Channel::Google, Channel::Genstore];

/// The health screen: per channel its cursor, how far the poller is behind it, how its last run ended
/// and the platform's 429s in the last two UTC hours; the sync queue's and the dead-letter queue's
/// depth; when the last signed webhook arrived (to within a minute); webhooks in the last hour by
/// outcome. `store` is the shop's part of the table, `root` the deployment's (where Zonos' and Google's
/// 429s are counted: their budgets are per account, not per shop). From the table and the queues, so the same on the
/// embedded store and on AWS; with `deployed` (AWS credentials and region), the webhooks are also read
/// from CloudWatch (`Webhooks` by `Outcome`), where the deployed functions count them. CloudWatch
/// failing to answer is shown on the screen, not an error of the command.
pub async fn status(
    store: &dyn Storage,
    root: &dyn Storage,
    queue: &dyn SyncQueue,
    dlq: &dyn SyncQueue,
    deployed: Option<&orderbridge::secrets::Direct>,
) -> Result<Value, String> {
    let now = chrono::Utc::now();
    let read = |name: String| async move {
        store
            .read(&name)
            .await
            .map(|c| c.map(|c| c.value))
            .map_err(|e| e.to_string())
    };
    let mut channels = Vec::new();
    for ch in CHANNELS {
        let name = ch.as_str();
        let cursor = read(RecordName::PollCursor(ch).to_string()).await?;
        let progressed = read(RecordName::PollCompleted(name).to_string()).await?;
        let last: Option<Value> = read(RecordName::LastRun(name).to_string())
            .await?
            .and_then(|v| serde_json::from_str(&v).ok());
        let behind = progressed
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| (now - t.with_timezone(&chrono::Utc)).num_seconds().max(0));
        // 429s from the platform, counted in the table as they happen: this UTC hour and the last.
        let counted_in = if ch == Channel::Genstore { store } else { root };
        let throttled = orderbridge::store::throttled_recent(counted_in, name, now)
            .await
            .map_err(|e| e.to_string())?;
        channels.push(json!({
            "channel": name, "cursor": cursor, "last_progress": progressed,
            "behind_secs": behind, "last_run": last, "throttled_recent": throttled,
        }));
    }
    let waiting = queue.depth().await.map_err(|e| e.to_string())?;
    let dead = dlq.depth().await.map_err(|e| e.to_string())?;
    let last_webhook = orderbridge::store::last_webhook(store)
        .await
        .map_err(|e| e.to_string())?;
    Ok(json!({
        "at": now,
        "channels": channels,
        "last_webhook": last_webhook,
        "last_webhook_secs_ago": last_webhook.map(|t| (now - t).num_seconds().max(0)),
        "sync_queue": waiting,
        "dead_letters": dead,
        "webhooks_last_hour": webhooks_last_hour(store, deployed, now).await?,
    }))
}

/// Webhooks by outcome in the last hour: the one-machine runner's counts in the table, plus (deployed)
/// CloudWatch's.
async fn webhooks_last_hour(
    store: &dyn Storage,
    deployed: Option<&orderbridge::secrets::Direct>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Value, String> {
    let mut outcomes: std::collections::BTreeMap<String, u64> =
        orderbridge::store::webhooks_last_hour(store, now)
            .await
            .map_err(|e| e.to_string())?;
    let mut unavailable = None;
    if let Some(direct) = deployed {
        let http = orderbridge::https::client_builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        match orderbridge::metrics::recent_sums(
            direct,
            &http,
            "Webhooks",
            "Outcome",
            &webhook_ingest::Outcome::NAMES,
            chrono::Duration::hours(1),
        )
        .await
        {
            Ok(sums) => {
                for (k, v) in sums {
                    // Counts are whole numbers; a sum from CloudWatch is one.
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let v = v.max(0.0).round() as u64;
                    let n = outcomes.entry(k).or_insert(0);
                    *n = n.saturating_add(v);
                }
            }
            Err(e) => unavailable = Some(e),
        }
    }
    outcomes.retain(|_, n| *n > 0);
    Ok(json!({ "outcomes": outcomes, "cloudwatch_unavailable": unavailable }))
}

/// [`status`] for people.
pub fn render_status(v: &Value) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<10} {:<14} {:>10} {:>9}  {:<30} last run\n",
        "channel", "cursor", "behind", "429s/2h", "last progress"
    ));
    for c in v["channels"].as_array().cloned().unwrap_or_default() {
        let behind = c["behind_secs"]
            .as_i64()
            .map(|s| format!("{s} s"))
            .unwrap_or_else(|| "never".into());
        let last = &c["last_run"];
        let run = if last.is_null() {
            "no run yet".to_owned()
        } else {
            let how = match (last["stalled"].as_bool(), last["error"].as_str()) {
                (Some(true), Some(e)) => format!("STALLED: {e}"),
                (_, Some(e)) => format!("failed (transient): {e}"),
                _ => "ok".to_owned(),
            };
            format!(
                "{} {} (new {}, failed {}, parked {})",
                last["at"].as_str().unwrap_or(""),
                how,
                last["new"],
                last["failed"],
                last["parked"]
            )
        };
        out.push_str(&format!(
            "{:<10} {:<14} {:>10} {:>9}  {:<30} {}\n",
            c["channel"].as_str().unwrap_or(""),
            c["cursor"].as_str().unwrap_or("-"),
            behind,
            c["throttled_recent"],
            c["last_progress"].as_str().unwrap_or("-"),
            run
        ));
    }
    out.push_str(&format!(
        "last webhook: {}\n",
        match (
            v["last_webhook"].as_str(),
            v["last_webhook_secs_ago"].as_i64()
        ) {
            (Some(at), Some(ago)) => format!("{at} ({ago} s ago)"),
            _ => "none yet".to_owned(),
        }
    ));
    let hooks = &v["webhooks_last_hour"];
    let counted: Vec<String> = hooks["outcomes"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    out.push_str(&format!(
        "webhooks, last hour: {}{}\n",
        if counted.is_empty() {
            "none".to_owned()
        } else {
            counted.join(", ")
        },
        hooks["cloudwatch_unavailable"]
            .as_str()
            .map(|e| format!(" (CloudWatch unavailable: {e})"))
            .unwrap_or_default()
    ));
    out.push_str(&format!(
        "sync queue: {} jobs waiting; dead letters: {}{}\n",
        v["sync_queue"],
        v["dead_letters"],
        if v["dead_letters"].as_u64().unwrap_or(0) > 0 {
            " (orderbridge dlq list)"
        } else {
            ""
        }
    ));
    out
}
