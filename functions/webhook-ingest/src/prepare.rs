//! Steps 1 to 4 of a delivery — route, size, signature, headers and body — before any I/O: a request
//! turned away here has touched no state.

use crate::{Inbound, Outbound, ShopKeys, ROUTE};
use orderbridge::channels::genstore;
use orderbridge::channels::genstore::signature::{self, SignatureError};
use orderbridge::channels::genstore::webhook::{
    Webhook, WebhookBody, WebhookError, WebhookHeaders, HMAC_HEADER, SHOP_DOMAIN_HEADER,
    TOPIC_HEADER, TRIGGERED_AT_HEADER, WEBHOOK_ID_HEADER,
};
use orderbridge::order::ChannelOrder;
use orderbridge::shop::ShopId;

/// Why a request was turned away before any state was touched.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// Not `/webhooks/genstore`.
    NotFound,
    /// Not `POST`.
    MethodNotAllowed,
    /// Over the body limit.
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Signature missing or wrong.
    Signature(SignatureError),
    /// Headers or body unreadable.
    Invalid(String),
}

impl Rejection {
    pub(crate) fn respond(&self) -> Outbound {
        match self {
            Rejection::NotFound => Outbound::error(404, "not found"),
            Rejection::MethodNotAllowed => Outbound::error(405, "method not allowed: use POST"),
            Rejection::TooLarge { limit } => {
                Outbound::error(413, format!("body is larger than {limit} bytes"))
            }
            Rejection::Signature(SignatureError::NoSecret) => {
                Outbound::error(401, "webhook signatures cannot be checked")
            }
            Rejection::Signature(e) => Outbound::error(401, e.to_string()),
            Rejection::Invalid(m) => Outbound::error(400, m.clone()),
        }
    }
}

/// A verified, parsed delivery, its order already mapped into the domain: everything the handler does
/// before any I/O.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The shop whose secret signed it.
    pub shop: ShopId,
    /// The delivery.
    pub webhook: Webhook,
    /// For `orders/*` topics, the order in orderbridge's terms.
    pub order: Option<ChannelOrder>,
    /// For `orders/*` topics, why the signed order does not map into orderbridge's terms: redelivering
    /// it cannot help, so it is held, not refused ([`crate::held`]).
    pub unmappable: Option<String>,
}

impl Prepared {
    /// A verified delivery of `shop`, its order (if it carries one) mapped.
    pub fn of(shop: ShopId, webhook: Webhook) -> Prepared {
        let (order, unmappable) = match &webhook.body {
            WebhookBody::Order(o) => match genstore::to_channel_order(o) {
                Ok(order) => (Some(order), None),
                Err(e) => (None, Some(format!("the order does not map: {e}"))),
            },
            _ => (None, None),
        };
        Prepared {
            shop,
            webhook,
            order,
            unmappable,
        }
    }
}

/// Steps 1 to 4: route, size, signature, headers and body. Pure: no I/O.
pub fn prepare(req: &Inbound, shops: &[ShopKeys], max_body: usize) -> Result<Prepared, Rejection> {
    let path = req.path.trim_end_matches('/');
    if path != ROUTE && !path.ends_with(ROUTE) {
        return Err(Rejection::NotFound);
    }
    if !req.method.eq_ignore_ascii_case("POST") {
        return Err(Rejection::MethodNotAllowed);
    }
    if req.body.len() > max_body {
        return Err(Rejection::TooLarge { limit: max_body });
    }
    let shop = signed_by(&req.body, req.header(HMAC_HEADER), shops)?;
    let shop_domain = shop.shop_domain.as_deref();
    let headers = WebhookHeaders {
        topic: req.header(TOPIC_HEADER),
        shop_domain: req.header(SHOP_DOMAIN_HEADER),
        webhook_id: req.header(WEBHOOK_ID_HEADER),
        triggered_at: req.header(TRIGGERED_AT_HEADER),
    };
    let webhook = Webhook::parse(headers, &req.body).map_err(|e| match e {
        WebhookError::InvalidBody(m) => Rejection::Invalid(format!("invalid body: {m}")),
        other => Rejection::Invalid(other.to_string()),
    })?;
    match shop_domain.map(str::trim) {
        Some(ours) if !ours.eq_ignore_ascii_case(&webhook.shop_domain) => {
            return Err(Rejection::Invalid(format!(
                "{SHOP_DOMAIN_HEADER} names another shop than this deployment's"
            )));
        }
        None if matches!(webhook.body, WebhookBody::Compliance(_)) => {
            return Err(Rejection::Invalid(
                "compliance requests are refused: this deployment's shop is not configured \
                 (GENSTORE_SHOP_DOMAIN)"
                    .into(),
            ));
        }
        _ => {}
    }
    Ok(Prepared::of(shop.id.clone(), webhook))
}

/// The shop whose secret signed the body: the only thing that tells shops apart (the shop-domain
/// header is the sender's word, checked against the shop afterwards). Every shop's secrets are tried,
/// each in constant time; the first shop that verifies it is the delivery's (no two shops share a
/// secret: [`orderbridge::config::shops_from_env`] refuses it).
fn signed_by<'a>(
    body: &[u8],
    header: Option<&str>,
    shops: &'a [ShopKeys],
) -> Result<&'a ShopKeys, Rejection> {
    let mut refusal = SignatureError::NoSecret;
    for shop in shops {
        match signature::verify(body, header, &shop.secrets) {
            Ok(()) => return Ok(shop),
            // A shop without secrets says nothing of the signature; any other answer does.
            Err(SignatureError::NoSecret) => {}
            Err(e) => refusal = e,
        }
    }
    Err(Rejection::Signature(refusal))
}
