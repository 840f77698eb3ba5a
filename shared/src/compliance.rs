//! The compliance requests (`customers/redact`, `shop/redact`, `customers/data_request`): whose data
//! they name, and carrying them out everywhere orderbridge keeps it.
//!
//! webhook-ingest only checks a request (signed, for this shop, of its topic's shape) and queues it as a
//! job; fulfillment-push carries it out, so a shop with thousands of orders is not erased inside the
//! webhook's few seconds, and a run that dies half-way is simply run again (each step is idempotent).
//!
//! Where personal data lives, and what happens to it:
//! - the order records (contact, addresses): erased, on the named orders and on every order linked to
//!   them on another channel (a Zonos order and its Genstore mirror hold the same customer), and kept
//!   erased when the platform sends the order again;
//! - the audit trail: its free-text reasons are replaced by [`REDACTED`](crate::store::REDACTED)
//!   (platform error text is scrubbed before it is written, so this covers entries written before that);
//! - deliveries webhook-ingest holds (answered 2xx but never applied, kept with their body for a
//!   replay): the bodies about the orders reached, naming the customer, or for a shop, all, are erased;
//! - idempotency records hold job descriptions (ids) and scrubbed failure text only, never personal
//!   data: nothing to erase there (decision: they are keyed by job, not by order, and expire in 7 days).
//!
//! A data request is recorded on the trail of each order it concerns; `orderbridge customer-data`
//! produces the stored data for the merchant and records that too.

use crate::channel::Channel;
use crate::ids::GenstoreOrderId;
use crate::order::{Address, Contact};
use crate::store::orders::{modify, Modified};
use crate::store::{AuditEntry, AuditOutcome, OrderKey, PageRequest, Storage, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::jobs::Scope;

impl Scope {
    /// Whether an order placed at `placed_at` is the request's to reach.
    fn reaches(&self, placed_at: DateTime<Utc>) -> bool {
        self.arrived_at.is_none_or(|at| placed_at <= at)
    }
}

/// How many orders a shop's redaction reads a page.
pub const REDACT_PAGE: usize = 200;

/// Every order the scope reaches: the customer's Genstore orders, the named ones, and every order
/// linked to those on another channel; for the whole shop, every order. Only orders placed by the time
/// the request arrived. Sorted, without repeats.
pub async fn orders_in_scope(
    store: &dyn Storage,
    scope: &Scope,
) -> Result<Vec<OrderKey>, StoreError> {
    let mut keys: Vec<OrderKey> = Vec::new();
    if scope.whole_shop {
        let mut page = PageRequest::first(REDACT_PAGE);
        loop {
            let p = store.scan(page.clone()).await?;
            keys.extend(shop_page(scope, &p.items));
            match p.next {
                Some(t) => page.token = Some(t),
                None => break,
            }
        }
    } else {
        let mut genstore_ids: Vec<GenstoreOrderId> = scope.genstore_order_ids.clone();
        if let Some(id) = &scope.customer_id {
            for s in store.find_by_customer(Channel::Genstore, id).await? {
                if scope.reaches(s.order.placed_at) {
                    keys.push(OrderKey::of(&s.order));
                    genstore_ids.extend(s.order.genstore_order_id.clone());
                }
            }
        }
        genstore_ids.sort();
        genstore_ids.dedup();
        for gid in &genstore_ids {
            // The Genstore order itself and every external order mirrored as it.
            keys.extend(
                store
                    .find_by_genstore_id(gid)
                    .await?
                    .iter()
                    .filter(|s| scope.reaches(s.order.placed_at))
                    .map(|s| OrderKey::of(&s.order)),
            );
        }
    }
    keys.sort();
    keys.dedup();
    Ok(keys)
}

fn shop_page(scope: &Scope, items: &[crate::store::StoredOrder]) -> Vec<OrderKey> {
    items
        .iter()
        .filter(|s| scope.reaches(s.order.placed_at))
        .map(|s| OrderKey::of(&s.order))
        .collect()
}

/// What a redaction changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Redacted {
    /// Orders the scope reached.
    pub orders: usize,
    /// Orders whose personal data was erased now (the others had none left).
    pub erased: usize,
    /// Audit entries whose text was redacted.
    pub audit_entries: usize,
    /// Bodies of held webhooks erased.
    pub held_bodies: usize,
}

/// Erases the personal data `scope` names: order records (linked orders too) and audit text, and
/// records the redaction on each order's trail. Safe to run again: a second run erases nothing more and
/// writes no second trail entry. A shop's redaction goes page by page, keeping its place
/// ([`RecordName::RedactionCheckpoint`](crate::store::RecordName)), so a run cut off goes on where it stopped.
pub async fn redact(
    store: &dyn Storage,
    scope: &Scope,
    request_id: &str,
) -> Result<Redacted, StoreError> {
    redact_in_pages(store, scope, request_id, REDACT_PAGE).await
}

/// [`redact`], a shop's redaction reading `page` orders at a time.
pub async fn redact_in_pages(
    store: &dyn Storage,
    scope: &Scope,
    request_id: &str,
    page: usize,
) -> Result<Redacted, StoreError> {
    if !scope.whole_shop {
        let keys = orders_in_scope(store, scope).await?;
        let mut done = redact_orders(store, scope, &keys, request_id).await?;
        let mut named: Vec<String> = scope
            .genstore_order_ids
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect();
        named.extend(
            keys.iter()
                .filter(|k| k.channel == Channel::Genstore)
                .map(|k| k.order_id.as_str().to_owned()),
        );
        done.held_bodies = erase_held_bodies(store, scope, &named).await?;
        return Ok(done);
    }
    let checkpoint = crate::store::RecordName::RedactionCheckpoint(request_id).to_string();
    let mut position = store.read(&checkpoint).await?.map(|c| c.value);
    let mut done = Redacted::default();
    loop {
        let p = store
            .scan(PageRequest {
                token: position.clone(),
                limit: page,
            })
            .await?;
        let part = redact_orders(store, scope, &shop_page(scope, &p.items), request_id).await?;
        done = done.plus(part);
        let Some(next) = p.next else { break };
        // Another run of the same job moving it first only means this one follows it.
        store
            .advance(&checkpoint, position.as_deref(), &next)
            .await?;
        position = Some(next);
    }
    if let Some(last) = position {
        store.remove(&checkpoint, &last).await?;
    }
    done.held_bodies = erase_held_bodies(store, scope, &[]).await?;
    Ok(done)
}

async fn redact_orders(
    store: &dyn Storage,
    scope: &Scope,
    keys: &[OrderKey],
    request_id: &str,
) -> Result<Redacted, StoreError> {
    let mut done = Redacted {
        orders: keys.len(),
        ..Redacted::default()
    };
    for key in keys {
        let outcome = modify(store, key, |o| {
            let has_personal =
                o.customer.is_some() || o.shipping_address.is_some() || o.billing_address.is_some();
            if o.personal_data_erased && !has_personal {
                return false;
            }
            o.erase_personal_data();
            true
        })
        .await?;
        if matches!(outcome, Modified::Applied(_)) {
            done.erased = done.erased.saturating_add(1);
        }
        done.audit_entries = done.audit_entries.saturating_add(store.redact(key).await?);
        record(store, key, scope, request_id, "redact_personal_data").await?;
    }
    Ok(done)
}

impl Redacted {
    fn plus(self, other: Redacted) -> Redacted {
        Redacted {
            orders: self.orders.saturating_add(other.orders),
            erased: self.erased.saturating_add(other.erased),
            audit_entries: self.audit_entries.saturating_add(other.audit_entries),
            held_bodies: self.held_bodies.saturating_add(other.held_bodies),
        }
    }
}

/// Erases the bodies of held deliveries the scope reaches: about one of `orders` (Genstore order ids),
/// or naming the scope's customer, or, for the whole shop, every one. The delivery stays listed (its
/// topic, order and reason), but can no longer be replayed. How many bodies were erased.
async fn erase_held_bodies(
    store: &dyn Storage,
    scope: &Scope,
    orders: &[String],
) -> Result<usize, StoreError> {
    let listed: Vec<serde_json::Value> = store
        .read(&crate::store::RecordName::HeldWebhooks.to_string())
        .await?
        .and_then(|c| serde_json::from_str(&c.value).ok())
        .unwrap_or_default();
    let mut erased = 0usize;
    for entry in listed {
        let Some(key) = entry.get("key").and_then(serde_json::Value::as_str) else {
            continue;
        };
        let name = crate::store::RecordName::HeldWebhook(key).to_string();
        let about_named = entry
            .get("order_id")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|o| orders.iter().any(|n| n == o));
        let changed = crate::store::update_record(store, &name, 3, |current| {
            let Some(mut held) =
                current.and_then(|c| serde_json::from_str::<serde_json::Value>(c).ok())
            else {
                return Ok(None);
            };
            let body = held.get("body").and_then(serde_json::Value::as_str);
            let names_customer = match (&scope.customer_id, body) {
                (Some(c), Some(b)) => serde_json::from_str::<serde_json::Value>(b)
                    .ok()
                    .and_then(|v| v.pointer("/customer/id").cloned())
                    .is_some_and(|id| {
                        id.as_str() == Some(c.as_str())
                            || (id.as_u64().is_some()
                                && c.as_str().parse::<u64>().ok() == id.as_u64())
                    }),
                _ => false,
            };
            if body.is_none() || !(scope.whole_shop || about_named || names_customer) {
                return Ok(None);
            }
            if let Some(obj) = held.as_object_mut() {
                obj.remove("body");
            }
            Ok(Some(held.to_string()))
        })
        .await?;
        if changed.is_some() {
            erased = erased.saturating_add(1);
        }
    }
    Ok(erased)
}

/// Records a customer's data request on the trail of every order it concerns; returns how many.
pub async fn record_data_request(
    store: &dyn Storage,
    scope: &Scope,
    request_id: &str,
) -> Result<usize, StoreError> {
    let keys = orders_in_scope(store, scope).await?;
    for key in &keys {
        record(store, key, scope, request_id, "customer_data_request").await?;
    }
    Ok(keys.len())
}

/// One order's personal data, as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OrderData {
    /// `channel:order-id`.
    pub order: String,
    /// When it was placed.
    pub placed_at: DateTime<Utc>,
    /// The customer's contact details, unless erased.
    pub customer: Option<Contact>,
    /// The shipping address, unless erased.
    pub shipping_address: Option<Address>,
    /// The billing address, unless erased.
    pub billing_address: Option<Address>,
    /// True when it was erased on request.
    pub erased: bool,
}

/// A customer's stored data, for the merchant to hand over.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerData {
    /// The request it answers.
    pub request_id: String,
    /// Every order the request concerns.
    pub orders: Vec<OrderData>,
}

/// Produces the stored data `scope` names and records the export on each order's trail.
pub async fn export_customer_data(
    store: &dyn Storage,
    scope: &Scope,
    request_id: &str,
) -> Result<CustomerData, StoreError> {
    let mut orders = Vec::new();
    for key in orders_in_scope(store, scope).await? {
        let Some(stored) = store.get(&key).await? else {
            continue;
        };
        let o = stored.order;
        orders.push(OrderData {
            order: key.to_string(),
            placed_at: o.placed_at,
            customer: o.customer.map(crate::personal::Personal::into_inner),
            shipping_address: o
                .shipping_address
                .map(crate::personal::Personal::into_inner),
            billing_address: o.billing_address.map(crate::personal::Personal::into_inner),
            erased: o.personal_data_erased,
        });
        record(store, &key, scope, request_id, "customer_data_export").await?;
    }
    Ok(CustomerData {
        request_id: request_id.to_owned(),
        orders,
    })
}

async fn record(
    store: &dyn Storage,
    key: &OrderKey,
    scope: &Scope,
    request_id: &str,
    action: &str,
) -> Result<(), StoreError> {
    store
        .append(
            key,
            &AuditEntry {
                operation_id: format!("{action}:{request_id}"),
                target: Channel::Genstore,
                action: action.to_owned(),
                outcome: AuditOutcome::Executed,
                // The request's own time: the same entry written again by a retry is the same entry.
                at: scope.arrived_at.unwrap_or_else(Utc::now),
                cause: crate::telemetry::current_cause(),
            },
        )
        .await
}
