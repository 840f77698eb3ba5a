//! Metrics as CloudWatch Embedded Metric Format (EMF) lines: no API call, no agent; CloudWatch Logs
//! turns each line into metrics in the `orderbridge` namespace.
//!
//! Code counts and records as it goes ([`count`], [`record`]); a function calls [`flush`] at the end of
//! each invocation, which writes one JSON line per set of dimensions to stdout and empties the
//! registry. So a batch of a hundred platform calls is one line, not a hundred.
//!
//! Every metric carries the `Function` dimension ([`init`]), and is also published by each of its other
//! dimensions alone, across functions (`PlatformThrottled` by `Function` and `Platform`, and by
//! `Platform` alone; `Webhooks` by `Function`, `Topic` and `Outcome`, by `Topic`, and by `Outcome`):
//! the rollups are what the dashboard and the alarms read. Work done for a shop ([`in_shop`]) also
//! carries the `Shop` dimension, published alone and beside each other dimension (`Webhooks` by `Shop`
//! and `Outcome`), for the dashboard's rows per shop.
//!
//! The metrics (names are the contract the dashboard and alarms in `infra/template.yaml` rely on):
//!
//! | Metric | Unit | Dimensions | From |
//! |---|---|---|---|
//! | `Webhooks` | Count | `Topic`, `Outcome` | webhook-ingest |
//! | `OrdersImported` | Count | `Channel` | order-poller (new orders), fulfillment-push (parked imports) |
//! | `OrdersMirrored` | Count | `Channel` | fulfillment-push |
//! | `Jobs` | Count | `Kind`, `Outcome` (`done`, `retry`, `failed`, `waiting`) | fulfillment-push |
//! | `PlatformCalls` | Count | `Platform` | every function |
//! | `PlatformThrottled` | Count | `Platform` (answers 429) | every function |
//! | `PlatformServerErrors` | Count | `Platform` (answers 5xx) | every function |
//! | `HandlerLatency` | Milliseconds | — | every function |
//! | `PollLag` | Seconds | `Channel`: time since the channel last completed a poll | order-poller |

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The CloudWatch namespace.
pub const NAMESPACE: &str = "orderbridge";

crate::named_enum! {
    /// A metric's unit, named as CloudWatch names it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    pub enum Unit {
        /// A count.
        Count => "Count",
        /// Milliseconds.
        Milliseconds => "Milliseconds",
        /// Seconds.
        Seconds => "Seconds",
    }
}

type Dims = Vec<(&'static str, String)>;

/// Where flushed lines go in a test (none: stdout).
pub type Capture = Arc<Mutex<Vec<String>>>;

#[derive(Default)]
struct Registry {
    function: String,
    /// By dimensions, then metric: the unit and the values (counts are summed into one value).
    series: BTreeMap<Dims, BTreeMap<&'static str, (Unit, Vec<f64>)>>,
    captured: Option<Capture>,
}

fn registry() -> &'static Mutex<Registry> {
    static R: OnceLock<Mutex<Registry>> = OnceLock::new();
    R.get_or_init(|| Mutex::new(Registry::default()))
}

fn with<T>(f: impl FnOnce(&mut Registry) -> T) -> T {
    let mut guard = match registry().lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    f(&mut guard)
}

/// Names the function every metric is published under (its `Function` dimension).
pub fn init(function: &str) {
    with(|r| r.function = function.to_owned());
}

tokio::task_local! {
    static SHOP: String;
}

/// Runs `work` as the work of `shop`: every metric counted or recorded inside carries its `Shop`
/// dimension, so the dashboard shows each shop on its own.
pub async fn in_shop<F: std::future::Future>(shop: &crate::shop::ShopId, work: F) -> F::Output {
    SHOP.scope(shop.to_string(), work).await
}

fn dims(d: &[(&'static str, &str)]) -> Dims {
    let mut out: Dims = d.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
    if let Ok(shop) = SHOP.try_with(Clone::clone) {
        if !out.iter().any(|(k, _)| *k == "Shop") {
            out.push(("Shop", shop));
        }
    }
    out
}

/// Adds `n` to a count.
pub fn count(metric: &'static str, dimensions: &[(&'static str, &str)], n: u64) {
    if n == 0 {
        return;
    }
    // Counts are precise well past any one invocation's (f64 holds integers to 2^53).
    let add = n as f64;
    with_values(metric, Unit::Count, dimensions, |values| {
        match values.first_mut() {
            Some(v) => *v += add,
            None => values.push(add),
        }
    });
}

/// Records one value of a measured metric (a latency, a lag): each value is kept, so CloudWatch has
/// their distribution. EMF takes at most 100 values a line; past that the oldest are dropped.
pub fn record(metric: &'static str, unit: Unit, dimensions: &[(&'static str, &str)], value: f64) {
    with_values(metric, unit, dimensions, |values| {
        if values.len() >= 100 {
            values.remove(0);
        }
        values.push(value);
    });
}

/// The values of `metric` under `dimensions` so far in this invocation, handed to `f`.
fn with_values(
    metric: &'static str,
    unit: Unit,
    dimensions: &[(&'static str, &str)],
    f: impl FnOnce(&mut Vec<f64>),
) {
    let key = dims(dimensions);
    with(|r| {
        let entry = r
            .series
            .entry(key)
            .or_default()
            .entry(metric)
            .or_insert((unit, Vec::new()));
        f(&mut entry.1);
    });
}

/// Records the time a handler took since `started` (`HandlerLatency`, milliseconds).
pub fn handler_latency(started: std::time::Instant) {
    #[allow(clippy::cast_precision_loss)]
    let ms = started.elapsed().as_millis() as f64;
    record("HandlerLatency", Unit::Milliseconds, &[], ms);
}

/// The EMF lines for what was counted and recorded, emptying the registry.
fn drain(timestamp_ms: i64) -> (Vec<String>, Option<Capture>) {
    with(|r| {
        let function = if r.function.is_empty() {
            "orderbridge".to_owned()
        } else {
            r.function.clone()
        };
        let series = std::mem::take(&mut r.series);
        let mut lines = Vec::with_capacity(series.len());
        for (dims, metrics) in series {
            let names: Vec<&str> = dims.iter().map(|(k, _)| *k).collect();
            let mut sets = vec![std::iter::once("Function")
                .chain(names.iter().copied())
                .collect::<Vec<_>>()];
            for n in &names {
                sets.push(vec![n]);
            }
            // By shop: each other dimension beside the shop, so a shop's rows can say what they count.
            if names.contains(&"Shop") {
                for n in names.iter().filter(|n| **n != "Shop") {
                    sets.push(vec!["Shop", n]);
                }
            }
            let mut doc = Map::new();
            doc.insert("Function".into(), Value::String(function.clone()));
            for (k, v) in &dims {
                doc.insert((*k).to_owned(), Value::String(v.clone()));
            }
            let mut defs = Vec::new();
            for (name, (unit, values)) in &metrics {
                defs.push(json!({"Name": name, "Unit": unit.as_str()}));
                let value = match (unit, values.as_slice()) {
                    (_, [one]) => json!(one),
                    (_, many) => json!(many),
                };
                doc.insert((*name).to_owned(), value);
            }
            doc.insert(
                "_aws".into(),
                json!({
                    "Timestamp": timestamp_ms,
                    "CloudWatchMetrics": [{
                        "Namespace": NAMESPACE,
                        "Dimensions": sets,
                        "Metrics": defs,
                    }],
                }),
            );
            lines.push(Value::Object(doc).to_string());
        }
        (lines, r.captured.clone())
    })
}

/// Writes what was counted and recorded since the last flush as EMF lines (to stdout, or to the
/// capture a test installed), and empties the registry.
pub fn flush() {
    let (lines, captured) = drain(chrono::Utc::now().timestamp_millis());
    match captured {
        Some(c) => {
            let mut guard = match c.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            guard.extend(lines);
        }
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            for l in lines {
                // A lost metric line is not worth failing an invocation over.
                let _ = writeln!(out, "{l}");
            }
        }
    }
}

/// For tests: from now on, flushed lines go to the returned buffer instead of stdout. One process
/// has one registry, so a test that reads metrics runs alone in its binary.
pub fn capture() -> Capture {
    let buf = Arc::new(Mutex::new(Vec::new()));
    with(|r| r.captured = Some(buf.clone()));
    buf
}

/// Sums a metric over EMF lines, where every dimension in `matching` has the given value (for tests
/// and operators reading logs).
pub fn sum(lines: &[String], metric: &str, matching: &[(&str, &str)]) -> f64 {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| {
            matching
                .iter()
                .all(|(k, want)| v.get(*k).and_then(Value::as_str) == Some(*want))
        })
        .filter_map(|v| match v.get(metric) {
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::Array(a)) => Some(a.iter().filter_map(Value::as_f64).sum()),
            _ => None,
        })
        .sum()
}

/// Sums of `metric` over the last `window`, one per value of `dimension` asked for (the rollup by that
/// dimension alone), read from CloudWatch with `GetMetricData` (AWS JSON 1.0, signed with `direct`'s
/// credentials): what `orderbridge status` shows of a deployment, e.g. webhooks by outcome in the last
/// hour. A value with no data sums to 0.
pub async fn recent_sums(
    direct: &crate::secrets::Direct,
    http: &reqwest::Client,
    metric: &str,
    dimension: &str,
    values: &[&str],
    window: chrono::Duration,
) -> Result<BTreeMap<String, f64>, String> {
    let end = chrono::Utc::now();
    let start = end.checked_sub_signed(window).unwrap_or(end);
    let queries: Vec<Value> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            json!({
                "Id": format!("m{i}"),
                "MetricStat": {
                    "Metric": {
                        "Namespace": NAMESPACE,
                        "MetricName": metric,
                        "Dimensions": [{"Name": dimension, "Value": v}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
                "ReturnData": true,
            })
        })
        .collect();
    let body = json!({
        "StartTime": start.timestamp(),
        "EndTime": end.timestamp(),
        "MetricDataQueries": queries,
    });
    let (status, answer) = direct
        .post_json(
            http,
            "monitoring",
            "GraniteServiceVersion20100801.GetMetricData",
            "application/x-amz-json-1.0",
            body.to_string(),
        )
        .await?;
    if !status.is_success() {
        return Err(format!(
            "CloudWatch answered HTTP {} {}",
            status.as_u16(),
            crate::secrets::error_type(&answer)
        )
        .trim_end()
        .to_owned());
    }
    let read: Value = serde_json::from_slice(&answer)
        .map_err(|_| "CloudWatch's answer is not JSON".to_owned())?;
    let mut sums: BTreeMap<String, f64> = values.iter().map(|v| ((*v).to_owned(), 0.0)).collect();
    let results = read.get("MetricDataResults").and_then(Value::as_array);
    for result in results.into_iter().flatten() {
        let index = result
            .get("Id")
            .and_then(Value::as_str)
            .and_then(|id| id.strip_prefix('m'))
            .and_then(|i| i.parse::<usize>().ok());
        let Some(name) = index.and_then(|i| values.get(i)) else {
            continue;
        };
        let total: f64 = result
            .get("Values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_f64)
            .sum();
        sums.insert((*name).to_owned(), total);
    }
    Ok(sums)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_summed_per_dimension_set_and_written_as_one_emf_line_each() {
        init("webhook-ingest");
        count(
            "Webhooks",
            &[("Topic", "orders/create"), ("Outcome", "created")],
            1,
        );
        count(
            "Webhooks",
            &[("Topic", "orders/create"), ("Outcome", "created")],
            2,
        );
        count(
            "Webhooks",
            &[("Topic", "orders/paid"), ("Outcome", "stale")],
            1,
        );
        record("HandlerLatency", Unit::Milliseconds, &[], 12.0);
        record("HandlerLatency", Unit::Milliseconds, &[], 30.0);
        let (all, _) = drain(1_700_000_000_000);
        // Other tests in this binary may count platform calls meanwhile: look at these metrics only.
        let lines: Vec<String> = all
            .into_iter()
            .filter(|l| l.contains("\"Webhooks\"") || l.contains("\"HandlerLatency\""))
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(sum(&lines, "Webhooks", &[("Outcome", "created")]), 3.0);
        assert_eq!(sum(&lines, "HandlerLatency", &[]), 42.0);
        let line = lines.iter().find(|l| l.contains("orders/create")).unwrap();
        let v: Value = serde_json::from_str(line).unwrap();
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "orderbridge");
        assert_eq!(
            directive["Dimensions"],
            json!([["Function", "Topic", "Outcome"], ["Topic"], ["Outcome"]])
        );
        assert_eq!(
            directive["Metrics"][0],
            json!({"Name": "Webhooks", "Unit": "Count"})
        );
        assert_eq!(v["Function"], "webhook-ingest");
        assert_eq!(v["_aws"]["Timestamp"], 1_700_000_000_000i64);
        assert!(
            !drain(0).0.iter().any(|l| l.contains("\"Webhooks\"")),
            "a flush empties the registry"
        );
    }
}
