//! The Genstore webhook envelope: topic, shop, webhook id, trigger time and the parsed body.
//!
//! Signature verification happens before this, on the raw bytes; this module reads what a verified
//! delivery says. Every error names what is wrong without echoing the body.

use super::wire::{ComplianceRequest, Order, Refund};
use crate::channel::Channel;
use crate::error::{parse_value, MappingError};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// Header naming the topic.
pub const TOPIC_HEADER: &str = "x-genstore-topic";
/// Header carrying the HMAC-SHA256 signature of the raw body.
pub const HMAC_HEADER: &str = "x-genstore-hmac-sha256";
/// Header naming the shop.
pub const SHOP_DOMAIN_HEADER: &str = "x-genstore-shop-domain";
/// Header carrying the delivery's unique id (the same on every retry of one event).
pub const WEBHOOK_ID_HEADER: &str = "x-genstore-webhook-id";
/// Header carrying when the event was triggered.
pub const TRIGGERED_AT_HEADER: &str = "x-genstore-triggered-at";

crate::named_enum! {
    /// A webhook topic.
    #[derive(Debug, Clone, PartialEq, Eq, Hash)]
    pub enum Topic {
        /// `orders/create`
        OrdersCreate => "orders/create",
        /// `orders/paid`
        OrdersPaid => "orders/paid",
        /// `orders/update`
        OrdersUpdate => "orders/update",
        /// `orders/fulfilled`
        OrdersFulfilled => "orders/fulfilled",
        /// `orders/partiallyFulfilled`
        OrdersPartiallyFulfilled => "orders/partiallyFulfilled",
        /// `orders/cancelled`
        OrdersCancelled => "orders/cancelled",
        /// `refunds/create`
        RefundsCreate => "refunds/create",
        /// `customers/data_request` (compliance)
        CustomersDataRequest => "customers/data_request",
        /// `customers/redact` (compliance)
        CustomersRedact => "customers/redact",
        /// `shop/redact` (compliance)
        ShopRedact => "shop/redact";
        /// A topic orderbridge does not handle, kept as sent.
        Other(String),
    }
}

impl Topic {
    /// Reads a topic header.
    pub fn parse(raw: &str) -> Topic {
        Topic::known(raw).unwrap_or_else(|| Topic::Other(raw.trim().to_owned()))
    }

    /// True for the topics whose body is an order.
    pub fn carries_order(&self) -> bool {
        matches!(
            self,
            Topic::OrdersCreate
                | Topic::OrdersPaid
                | Topic::OrdersUpdate
                | Topic::OrdersFulfilled
                | Topic::OrdersPartiallyFulfilled
                | Topic::OrdersCancelled
        )
    }

    /// True for the compliance topics (`customers/data_request`, `customers/redact`, `shop/redact`).
    pub fn is_compliance(&self) -> bool {
        matches!(
            self,
            Topic::CustomersDataRequest | Topic::CustomersRedact | Topic::ShopRedact
        )
    }
}

/// A webhook's body, parsed by its topic.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookBody {
    /// The order, for `orders/*`.
    Order(Box<Order>),
    /// The refund, for `refunds/create`.
    Refund(Refund),
    /// The request, for the compliance topics.
    Compliance(ComplianceRequest),
    /// An unhandled topic: the body is not read.
    Unread,
}

/// The headers a delivery carries, as found (lookup is the caller's: header names are case-insensitive).
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookHeaders<'a> {
    /// `X-Genstore-Topic`.
    pub topic: Option<&'a str>,
    /// `X-Genstore-Shop-Domain`.
    pub shop_domain: Option<&'a str>,
    /// `X-Genstore-Webhook-Id`.
    pub webhook_id: Option<&'a str>,
    /// `X-Genstore-Triggered-At`.
    pub triggered_at: Option<&'a str>,
}

/// A verified delivery, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    /// The topic.
    pub topic: Topic,
    /// The shop it came from.
    pub shop_domain: String,
    /// The delivery's id, when Genstore sent one.
    pub webhook_id: Option<String>,
    /// When the event was triggered.
    pub triggered_at: Option<DateTime<Utc>>,
    /// The body.
    pub body: WebhookBody,
    dedupe_key: String,
}

/// What is wrong with a delivery; each is the sender's fault (a 400).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WebhookError {
    /// A required header is absent or blank.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header is present but unreadable.
    #[error("header {header}: {reason}")]
    InvalidHeader {
        /// Which header.
        header: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The body does not fit the topic's shape.
    #[error("{0}")]
    InvalidBody(MappingError),
    /// The body is another topic's: a body signed for one topic cannot act as another.
    #[error("body is not a {topic} body: {reason}")]
    WrongShape {
        /// The topic the headers claim.
        topic: String,
        /// What gives it away.
        reason: String,
    },
}

/// Keys only an order has: a body with one of them is an order, whatever topic the headers claim.
const ORDER_KEYS: &[&str] = &[
    "lineItems",
    "financialStatus",
    "fulfillmentStatus",
    "fulfillments",
    "totalPrice",
    "subtotalPrice",
    "shippingAddress",
    "billingAddress",
    "sourceName",
    "cancelledAt",
    "email",
    "phone",
];
/// Keys only a refund has.
const REFUND_KEYS: &[&str] = &["refundId", "refundLineItems", "transactions"];
/// Keys only a compliance request has.
const COMPLIANCE_KEYS: &[&str] = &[
    "shopDomain",
    "ordersToRedact",
    "ordersRequested",
    "dataRequest",
];

/// Checks that a body has the shape of `topic`'s bodies and of no other topic's (Genstore signs only
/// the body, so the topic header of a captured delivery can be changed at will).
fn check_shape(topic: &Topic, body: &serde_json::Value) -> Result<(), WebhookError> {
    let wrong = |reason: String| WebhookError::WrongShape {
        topic: topic.as_str().to_owned(),
        reason,
    };
    let Some(obj) = body.as_object() else {
        return Ok(()); // the typed parse names it
    };
    let has = |k: &str| obj.get(k).is_some_and(|v| !v.is_null());
    let first_of = |keys: &[&str]| keys.iter().find(|k| has(k)).map(|k| (*k).to_owned());
    let none_of = |keys: &[&str], kind: &str| match first_of(keys) {
        Some(k) => Err(wrong(format!("it has the {kind} field `{k}`"))),
        None => Ok(()),
    };
    let non_empty_list = |k: &str| {
        obj.get(k)
            .and_then(|v| v.as_array())
            .is_some_and(|a| !a.is_empty())
    };
    let customer_id = obj
        .get("customer")
        .and_then(|c| c.get("id"))
        .is_some_and(|v| v.is_string() || v.is_number());
    match topic {
        t if t.carries_order() => {
            none_of(REFUND_KEYS, "refund")?;
            none_of(COMPLIANCE_KEYS, "compliance request")
        }
        Topic::RefundsCreate => {
            if first_of(REFUND_KEYS).is_none() {
                return Err(wrong(format!(
                    "it has none of the refund fields {}",
                    REFUND_KEYS.join(", ")
                )));
            }
            none_of(ORDER_KEYS, "order")?;
            none_of(COMPLIANCE_KEYS, "compliance request")
        }
        Topic::CustomersRedact | Topic::CustomersDataRequest | Topic::ShopRedact => {
            none_of(ORDER_KEYS, "order")?;
            none_of(REFUND_KEYS, "refund")?;
            if has("orderId") {
                return Err(wrong("it has the order field `orderId`".into()));
            }
            if !obj.get("shopDomain").is_some_and(|v| v.is_string()) {
                return Err(wrong("it names no shop (`shopDomain`)".into()));
            }
            // Each compliance topic has keys of its own, and refuses the others' (a data request
            // resent as a redaction would erase data for good). Decision: `customers/redact` carries
            // `ordersToRedact` (a list, empty when only the customer is named), `customers/data_request`
            // `ordersRequested`, and `shop/redact` neither, nor a customer.
            let present = |k: &str| obj.contains_key(k);
            let list = |k: &str| obj.get(k).is_some_and(|v| v.is_array());
            let refuse = |keys: &[&str]| match keys.iter().find(|k| present(k)) {
                Some(k) => Err(wrong(format!("it has `{k}`, which is not this topic's"))),
                None => Ok(()),
            };
            // The topic's list, there, and a customer or at least one order to act on.
            let names_whom = |k: &str| {
                if !list(k) {
                    return Err(wrong(format!("it has no `{k}` list")));
                }
                if !customer_id && !non_empty_list(k) {
                    return Err(wrong(format!(
                        "it names neither a customer (`customer.id`) nor `{k}`"
                    )));
                }
                Ok(())
            };
            match topic {
                Topic::ShopRedact => {
                    refuse(&[
                        "customer",
                        "ordersToRedact",
                        "ordersRequested",
                        "dataRequest",
                    ])?;
                }
                Topic::CustomersRedact => {
                    refuse(&["ordersRequested", "dataRequest"])?;
                    names_whom("ordersToRedact")?;
                }
                _ => {
                    refuse(&["ordersToRedact"])?;
                    names_whom("ordersRequested")?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// An order or refund body must name its order (`orderId`).
fn names_an_order(order_id: Option<&str>) -> Result<(), WebhookError> {
    match order_id {
        Some(_) => Ok(()),
        None => Err(WebhookError::InvalidBody(MappingError::missing(
            Channel::Genstore,
            "?",
            "orderId",
        ))),
    }
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|s| !s.is_empty())
}

impl Webhook {
    /// Reads a delivery whose signature was already verified.
    pub fn parse(headers: WebhookHeaders<'_>, body: &[u8]) -> Result<Webhook, WebhookError> {
        let topic = present(headers.topic)
            .map(Topic::parse)
            .ok_or(WebhookError::MissingHeader(TOPIC_HEADER))?;
        let shop_domain = present(headers.shop_domain)
            .ok_or(WebhookError::MissingHeader(SHOP_DOMAIN_HEADER))?
            .to_owned();
        let triggered_at = match present(headers.triggered_at) {
            None => None,
            Some(raw) => crate::lenient::timestamp::parse_text(raw).map_err(|reason| {
                WebhookError::InvalidHeader {
                    header: TRIGGERED_AT_HEADER,
                    reason,
                }
            })?,
        };
        let webhook_id = present(headers.webhook_id).map(str::to_owned);
        let value = match &topic {
            Topic::Other(_) => serde_json::Value::Null,
            _ => {
                let value = crate::error::parse_json(Channel::Genstore, body)
                    .map_err(WebhookError::InvalidBody)?;
                check_shape(&topic, &value)?;
                value
            }
        };
        let body_parsed = match &topic {
            t if t.carries_order() => {
                let order: Order = parse_value(Channel::Genstore, "orderId", value)
                    .map_err(WebhookError::InvalidBody)?;
                names_an_order(order.order_id.as_deref())?;
                WebhookBody::Order(Box::new(order))
            }
            Topic::RefundsCreate => {
                let refund: Refund = parse_value(Channel::Genstore, "orderId", value)
                    .map_err(WebhookError::InvalidBody)?;
                names_an_order(refund.order_id.as_deref())?;
                WebhookBody::Refund(refund)
            }
            Topic::CustomersDataRequest | Topic::CustomersRedact | Topic::ShopRedact => {
                let request: ComplianceRequest =
                    parse_value(Channel::Genstore, "shopDomain", value)
                        .map_err(WebhookError::InvalidBody)?;
                // The request must be about the shop that sent it.
                let named = request.shop_domain.as_deref().map(str::trim);
                if !named.is_some_and(|d| d.eq_ignore_ascii_case(&shop_domain)) {
                    return Err(WebhookError::WrongShape {
                        topic: topic.as_str().to_owned(),
                        reason: format!("`shopDomain` is not the shop in {SHOP_DOMAIN_HEADER}"),
                    });
                }
                WebhookBody::Compliance(request)
            }
            _ => WebhookBody::Unread,
        };
        // The id is not signed: a key of the id alone would let a captured body resent under that id
        // pass for its redelivery, or a new body under an old id be taken for a duplicate. So the key
        // names what was signed too (topic and body); a compliance request is keyed by that alone, so
        // it is carried out once however often, and under whatever id, it is resent.
        let digest = {
            let mut h = Sha256::new();
            h.update(topic.as_str().as_bytes());
            h.update([0u8]);
            h.update(body);
            hex::encode(h.finalize())
        };
        let dedupe_key = match &webhook_id {
            _ if topic.is_compliance() => format!("genstore-compliance#{digest}"),
            Some(id) => format!(
                "genstore-webhook#{id}#{}",
                digest.get(..32).unwrap_or(&digest)
            ),
            None => format!("genstore-body#{digest}"),
        };
        Ok(Webhook {
            topic,
            shop_domain,
            webhook_id,
            triggered_at,
            body: body_parsed,
            dedupe_key,
        })
    }

    /// The key that identifies this event across redeliveries: the webhook id with a digest of topic
    /// and body when Genstore sent an id, else the digest; for a compliance request, the digest alone.
    pub fn dedupe_key(&self) -> &str {
        &self.dedupe_key
    }

    /// The key claimed for the webhook id alone (none without an id, or for a compliance request): a
    /// delivery whose id was claimed by another topic or body is refused, not taken for new.
    pub fn id_key(&self) -> Option<String> {
        match &self.webhook_id {
            Some(id) if !self.topic.is_compliance() => Some(format!("genstore-webhook-id#{id}")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
