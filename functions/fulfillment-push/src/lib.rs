//! fulfillment-push: performs every outbound write, one sync-queue job at a time.
//!
//! The queue delivers at least once, platforms time out after applying a write, and the same job can
//! arrive three times; the merchant must see each effect once. So:
//!
//! - each record is parsed on its own (a bad body fails only that record) and records run concurrently
//!   with a bound; the failed message ids go back to SQS (`ReportBatchItemFailures`);
//! - each job claims an idempotency record keyed by what it does (a tracking push: by the Genstore order's
//!   source version, so new packages push again); a completed job is not done twice;
//! - one tracking push per order runs at a time, deployment-wide (a lease in the table, [`serial`]), so a
//!   slower push never writes an older number over a newer one;
//! - Google operation ids derive from the same facts, so a retry after a timeout is answered `duplicate`;
//!   Genstore does not deduplicate creates, so before creating anything twice the job looks for it first;
//! - every write appends to the order's audit trail, and the channel's fresh state is saved afterwards;
//! - a retryable failure goes back to the queue and waits there, longer each time (its visibility is
//!   set to an exponential backoff by its receive count, up to [`Backoff::cap`]); a platform failing every
//!   call opens its breaker, so its jobs wait without calling it. An outage is ridden out, not
//!   dead-lettered: see [`Backoff`] for the figures;
//! - a permanent failure (the platform says the request is invalid) completes the idempotency record as
//!   failed, is audited and logged, and is moved to the DLQ at once (the DLQ holds only what will not
//!   pass by itself). A replay from the DLQ ([`forget_failure`](orderbridge::idempotency::forget_failure)) forgets that record, so the job runs
//!   again once its cause is fixed;
//! - near the Lambda deadline no record is started, and a running one is cut off with the time left:
//!   what was not finished goes back to the queue, visible again at once;
//! - an order the poller could not read arrives as an `import_order` job: read, saved newer-wins, and its
//!   follow-up jobs queued, exactly as the poll would have (a read and an upsert, safe to repeat as is).

mod audit;
mod batch;
pub mod config;
mod inbound;
pub mod lambda;
mod mirror;
mod outbound;
mod reversals;
mod serial;
mod waiting;

use audit::attempt;
pub use batch::{handle_batch, handle_batch_until, Backoff, Record};
use mirror::{
    import, mirror, refresh, refresh_genstore, refresh_google, sync_mirror, write_merchant_id,
};
use orderbridge::channel::Channel;
use orderbridge::channels::genstore::client::GenstoreClient;
use orderbridge::channels::google::client::GoogleClient;
use orderbridge::channels::zonos::client::ZonosClient;
use orderbridge::compliance;
use orderbridge::config::ShopClients;
use orderbridge::idempotency::{idempotency_key, Lookup};
use orderbridge::ids::ChannelOrderId;
use orderbridge::jobs::{Job, SyncJob};
use orderbridge::shop::ShopId;
use orderbridge::store::{
    Claim, IdempotencyError, IdempotencyTtl, OrderKey, Storage, SyncQueue, WorkResult,
};
use outbound::{tracking_to_google, tracking_to_zonos};
use serial::one_at_a_time;
pub use serial::PUSH_LEASE;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// What the function works with, built once per cold start.
#[derive(Clone)]
pub struct Deps {
    /// The order table (and idempotency, audit, cursors).
    pub store: Arc<dyn Storage>,
    /// The sync queue, for the follow-up jobs of a parked import.
    pub queue: Arc<dyn SyncQueue>,
    /// Genstore, when enabled.
    pub genstore: Option<GenstoreClient>,
    /// Zonos, when enabled.
    pub zonos: Option<ZonosClient>,
    /// Google, when enabled.
    pub google: Option<GoogleClient>,
    /// Records processed at once.
    pub concurrency: usize,
    /// Idempotency lifetimes.
    pub idempotency: IdempotencyTtl,
    /// Where a job that failed for good goes at once; without it, it stays for the queue's redrive.
    pub dead_letters: Option<Arc<dyn SyncQueue>>,
    /// How long a failed job waits before it is tried again.
    pub backoff: Backoff,
    /// How long a tracking push holds its order at most ([`PUSH_LEASE`]; see [`serial`]).
    pub push_lease: chrono::Duration,
    /// Every shop's platforms, when the deployment serves several (`SHOPS`); empty for a one-shop
    /// deployment, whose platforms are the fields above.
    pub shops: Arc<Vec<ShopClients>>,
}

/// How the function works its batches; the default is what is deployed.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Records processed at once (`PUSH_CONCURRENCY`, default 4).
    pub concurrency: usize,
    /// Idempotency lifetimes.
    pub idempotency: IdempotencyTtl,
    /// How long a tracking push holds its order at most.
    pub push_lease: chrono::Duration,
    /// How long a failed job waits before it is tried again.
    pub backoff: Backoff,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            concurrency: 4,
            idempotency: IdempotencyTtl::default(),
            push_lease: PUSH_LEASE,
            backoff: Backoff::default(),
        }
    }
}

impl Deps {
    /// fulfillment-push put together, in the one place every way of running it uses: the Lambda's
    /// `main` and `orderbridge dev` (and the tests). `clients` are a one-shop deployment's platforms;
    /// `shops` every shop's, when the deployment serves several (then a job is worked with its shop's).
    pub fn build(
        store: Arc<dyn Storage>,
        queue: Arc<dyn SyncQueue>,
        clients: orderbridge::config::Clients,
        shops: Arc<Vec<ShopClients>>,
        dead_letters: Option<Arc<dyn SyncQueue>>,
        tuning: Tuning,
    ) -> Deps {
        Deps {
            store,
            queue,
            genstore: clients.genstore,
            zonos: clients.zonos,
            google: clients.google,
            concurrency: tuning.concurrency,
            idempotency: tuning.idempotency,
            dead_letters,
            backoff: tuning.backoff,
            push_lease: tuning.push_lease,
            shops,
        }
    }

    /// The same, working `shop`'s jobs: its part of the table, its follow-up jobs naming it, its
    /// Genstore and channels. `None` for a shop this deployment does not know (yet).
    pub fn in_shop(&self, shop: &ShopId) -> Option<Deps> {
        let (genstore, zonos, google) = match self.shops.iter().find(|s| &s.id == shop) {
            Some(s) => (
                s.clients.genstore.clone(),
                s.clients.zonos.clone(),
                s.clients.google.clone(),
            ),
            None if shop.is_default() && self.shops.is_empty() => (
                self.genstore.clone(),
                self.zonos.clone(),
                self.google.clone(),
            ),
            None => return None,
        };
        Some(Deps {
            store: orderbridge::store::ShopStore::scoped(self.store.clone(), shop),
            queue: orderbridge::store::ShopQueue::scoped(self.queue.clone(), shop),
            genstore,
            zonos,
            google,
            ..self.clone()
        })
    }
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done (now or before).
    Done(String),
    /// Failed; may succeed later.
    Retry(String),
    /// Failed; the same job will fail again.
    Permanent(String),
    /// Not done yet: the order's state on its channel blocks it until the channel moves it on (a Zonos
    /// vendor status during fraud review). The job is kept on the order and queued again by the first
    /// state that no longer blocks it ([`orderbridge::sync::park_waiting`]).
    Waiting(String),
}

/// Processes one record's body, under the cause it carries (its logs and audit entries say it).
pub async fn handle_record(deps: &Deps, body: &str) -> Outcome {
    let job = match SyncJob::from_body(body) {
        Ok(j) => j,
        Err(e) => return Outcome::Permanent(e.to_string()),
    };
    // The job's shop: its part of the table, its platforms. A shop not (yet) in this instance's
    // configuration waits on the queue for it, and is dead-lettered if it never comes.
    let Some(deps) = deps.in_shop(&job.shop) else {
        return Outcome::Retry(format!("shop {} is not configured here", job.shop));
    };
    let deps = &deps;
    let shop = job.shop.clone();
    let work = async move {
        match job.cause.clone() {
            Some(cause) => {
                orderbridge::telemetry::with_cause(
                    orderbridge::telemetry::clean_cause(&cause),
                    handle_job(deps, job),
                )
                .await
            }
            None => handle_job(deps, job).await,
        }
    };
    // Boxed: the job's future is large, and a test thread's stack is small.
    orderbridge::metrics::in_shop(&shop, Box::pin(work)).await
}

async fn handle_job(deps: &Deps, job: SyncJob) -> Outcome {
    if let Job::ImportOrder {
        channel,
        order_id,
        listing,
    } = &job.job
    {
        // A read and a newer-wins save, then jobs with their own idempotency: safe to repeat as is.
        return import(deps, *channel, order_id, listing.as_ref()).await;
    }
    let key = match idempotency_key(&*deps.store, &job.job).await {
        Ok(k) => k,
        Err(l) => return l.into(),
    };
    // What the job does, not what caused it: the same job from a webhook and from a poll is one job.
    let hash = hex::encode(Sha256::digest(job.without_cause().to_body().as_bytes()));
    let owner = match deps.store.claim(&key, &hash, deps.idempotency).await {
        Ok(Claim::Acquired { owner }) => owner,
        Ok(Claim::Completed(result)) => {
            return match result {
                WorkResult::Failed(reason) => {
                    Outcome::Permanent(format!("failed before: {reason}"))
                }
                WorkResult::Done(_) => Outcome::Done(format!("{} (done before)", job.job.kind())),
            }
        }
        Ok(Claim::InProgress { .. }) => {
            return Outcome::Retry("another delivery of this job is in progress".into())
        }
        Err(IdempotencyError::PayloadMismatch { key }) => {
            return Outcome::Permanent(format!("idempotency key {key} reused for different work"))
        }
        Err(IdempotencyError::Store(e)) => return Outcome::Retry(e.to_string()),
    };
    let before = waiting::version_before(deps, &job.job).await;
    let outcome = match serialized_on(&job.job) {
        Some((channel, order_id)) => {
            one_at_a_time(deps, channel, order_id, || run_job(deps, &job.job)).await
        }
        None => run_job(deps, &job.job).await,
    };
    let outcome = waiting::settle(deps, &job, outcome, before).await;
    let result = match &outcome {
        Outcome::Done(what) => Some(WorkResult::Done(what.clone())),
        Outcome::Permanent(why) => Some(WorkResult::Failed(why.clone())),
        Outcome::Retry(_) | Outcome::Waiting(_) => None,
    };
    let settled = match result {
        Some(r) => deps
            .store
            .complete(&key, &owner, &r, deps.idempotency)
            .await
            .map(|kept| {
                if !kept {
                    tracing::warn!("the job's claim lapsed and was claimed again meanwhile: its result is that run's to record");
                }
            }),
        None => deps.store.release(&key, &owner).await,
    };
    if let Err(e) = settled {
        tracing::warn!(error = %e, "idempotency record not settled; it expires by itself");
    }
    outcome
}

/// The order a job holds while it runs ([`serial`]): a tracking push, either way, holds the channel
/// order it pushes to or from.
fn serialized_on(job: &Job) -> Option<(Channel, &ChannelOrderId)> {
    match job {
        Job::PushTrackingToChannel {
            channel, order_id, ..
        }
        | Job::PushTrackingToGenstore {
            channel, order_id, ..
        } => Some((*channel, order_id)),
        _ => None,
    }
}

/// A job whose order could not be read is worth a retry, whichever way.
impl From<Lookup> for Outcome {
    fn from(l: Lookup) -> Self {
        Outcome::Retry(l.to_string())
    }
}

async fn run_job(deps: &Deps, job: &Job) -> Outcome {
    match job {
        Job::MirrorOrder { channel, order_id } => mirror(deps, *channel, order_id).await,
        Job::WriteMerchantOrderId {
            channel,
            order_id,
            genstore_order_id,
        } => {
            let key = OrderKey::new(*channel, order_id.clone());
            attempt!(write_merchant_id(deps, &key, genstore_order_id).await);
            Outcome::Done("merchant order id written".into())
        }
        Job::PushTrackingToChannel {
            channel,
            order_id,
            genstore_order_id,
        } => match channel {
            Channel::Google => tracking_to_google(deps, order_id, genstore_order_id).await,
            Channel::Zonos => tracking_to_zonos(deps, order_id, genstore_order_id).await,
            Channel::Genstore => Outcome::Permanent(
                "tracking is pushed to an external channel, not to Genstore".into(),
            ),
        },
        Job::PushTrackingToGenstore {
            channel,
            order_id,
            genstore_order_id,
        } => inbound::tracking_to_genstore(deps, *channel, order_id, genstore_order_id).await,
        Job::PushCancellation {
            from,
            to,
            order_id,
            genstore_order_id,
        } => reversals::cancellation(deps, *from, *to, order_id, genstore_order_id).await,
        Job::PushRefund {
            channel,
            order_id,
            genstore_order_id,
            refund_id,
        } => reversals::refund(deps, *channel, order_id, genstore_order_id, refund_id).await,
        Job::SyncHold {
            channel,
            order_id,
            genstore_order_id,
        }
        | Job::RecordReversals {
            channel,
            order_id,
            genstore_order_id,
        } => sync_mirror(deps, *channel, order_id, genstore_order_id).await,
        Job::ImportOrder {
            channel,
            order_id,
            listing,
        } => import(deps, *channel, order_id, listing.as_ref()).await,
        Job::RedactPersonalData { request_id, scope } => {
            match compliance::redact(&*deps.store, scope, request_id).await {
                Ok(r) => Outcome::Done(format!(
                    "personal data erased: {} of {} orders, {} audit entries",
                    r.erased, r.orders, r.audit_entries
                )),
                Err(e) => Outcome::Retry(e.to_string()),
            }
        }
        Job::RecordDataRequest { request_id, scope } => {
            match compliance::record_data_request(&*deps.store, scope, request_id).await {
                Ok(n) => Outcome::Done(format!(
                    "data request recorded on {n} orders; `orderbridge customer-data` produces it"
                )),
                Err(e) => Outcome::Retry(e.to_string()),
            }
        }
    }
}
