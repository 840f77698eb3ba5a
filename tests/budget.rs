//! One Genstore rate budget for the whole deployment. Four instances' Genstore clients (the poller's and
//! three fulfillment-push consumers', each its own process in production) call flat out against the
//! sandbox's Genstore, whose bucket is the real one's shape on a ten-times faster clock (20 tokens,
//! 20 a second). Drawing on one budget in the table, together they get no 429 and use at least 90 % of
//! the limit; pacing each on its own, as before, they run into 429s.

use orderbridge::channels::genstore::client::{GenstoreClient, GenstoreSettings};
use orderbridge::channels::http::{HttpSettings, RateLimit};
use orderbridge::clock::{Clock, SystemClock};
use orderbridge::secrets::Secret;
use orderbridge::store::RateBudget;
use orderbridge_sandbox::{spawn, SandboxConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PER_SECOND: u32 = 20;
const BURST: u32 = 20;
const RUN: Duration = Duration::from_secs(6);

/// The three runs take turns: each is four clients flat out, and on two cores one run beside another
/// would measure the machine, not the budget.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn client(base: &str) -> GenstoreClient {
    let mut s = GenstoreSettings::new(
        format!("{base}/genstore"),
        Secret::new(SandboxConfig::default().genstore_token),
    );
    s.http = HttpSettings {
        // A 429 is not retried here: the test counts them.
        max_attempts: 1,
        ..HttpSettings::with_rate(RateLimit::new(PER_SECOND, BURST))
    };
    GenstoreClient::new(s).unwrap()
}

/// Runs four clients flat out for [`RUN`]; the calls answered and the 429s the sandbox gave.
async fn flat_out(budget: Option<Arc<dyn RateBudget>>) -> (u64, u64, f64) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let (sb, base) = spawn(SandboxConfig::default()).await.unwrap();
    sb.lock().genstore.set_rate_limit(PER_SECOND, BURST);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let c = match &budget {
            Some(b) => client(&base).with_budget(b.clone(), 0.0),
            None => client(&base),
        };
        tasks.push(tokio::spawn(async move {
            let mut answered = 0u64;
            while started.elapsed() < RUN {
                if c.get_order("1001").await.is_ok() {
                    answered += 1;
                }
            }
            answered
        }));
    }
    let mut answered = 0;
    for t in tasks {
        answered += t.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    let refused = sb
        .counters()
        .rate_limited
        .get("genstore")
        .copied()
        .unwrap_or(0);
    (answered, refused, seconds)
}

async fn shared_budget_keeps_four_instances_within_the_limit(budget: Arc<dyn RateBudget>) {
    let (answered, refused, seconds) = flat_out(Some(budget)).await;
    let allowed = f64::from(BURST) + f64::from(PER_SECOND) * seconds;
    println!(
        "shared budget: {answered} calls in {seconds:.2} s (the limit allows {allowed:.0}), {refused} answered 429"
    );
    assert_eq!(refused, 0, "the sandbox answered 429");
    assert!(
        answered as f64 >= 0.9 * allowed,
        "{answered} calls use less than 90 % of the {allowed:.0} allowed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_the_embedded_store() {
    use orderbridge::store::embedded::{Db, EmbeddedStore};
    let dir = std::env::temp_dir().join(format!("obbudget-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let db = Db::open(dir.join("db.sqlite3")).unwrap();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    shared_budget_keeps_four_instances_within_the_limit(Arc::new(EmbeddedStore::new(db, clock)))
        .await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_dynamodb() {
    use orderbridge::store::dynamo::DynamoStore;
    let (ddb, sqs) = orderbridge_e2e::moto_clients().await;
    let name = format!("budget-{}", std::process::id());
    let p = orderbridge::store::provision::provision(&ddb, &sqs, &name, &name)
        .await
        .unwrap();
    shared_budget_keeps_four_instances_within_the_limit(Arc::new(DynamoStore::new(
        ddb,
        p.table,
        Arc::new(SystemClock),
    )))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_shared_budget_four_instances_overrun_the_limit() {
    let (answered, refused, seconds) = flat_out(None).await;
    println!(
        "each on its own: {answered} calls answered in {seconds:.2} s, {refused} answered 429"
    );
    assert!(
        refused > 0,
        "four instances at the full rate each overrun one bucket"
    );
}
