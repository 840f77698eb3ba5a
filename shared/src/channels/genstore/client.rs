//! The Genstore client: orders and fulfillments on `/api/202412`, authenticated by
//! `X-Genstore-Access-Token`, paced by the 40-token bucket refilling 2/s.
//!
//! Pagination follows the `Link` header's `rel="next"` with `pageToken`; a request that carries
//! `pageToken` carries nothing else but `limit`, and Link URLs are never stored. Creates (orders,
//! fulfillments) are not deduplicated by Genstore, so they are retried only when Genstore certainly did
//! not act; everything else is retried on 429, 5xx and timeouts.

use super::link::{parse_link_header, PageLinks};
use super::wire::{
    CreateFulfillmentRequest, CreateOrderRequest, ErrorBody, Fulfillment, FulfillmentEnvelope,
    FulfillmentList, NewFulfillment, NewOrder, Order, OrderEnvelope, OrderList, OrderUpdate,
    TrackingUpdate, UpdateOrderRequest, UpdateTrackingRequest,
};
use crate::channel::Channel;
use crate::channels::http::{
    ClientError, ErrorKind, HttpSettings, Paging, PlatformHttp, RateLimit, Repeat, Response,
};
use crate::secrets::Secret;
use reqwest::header::LINK;
use reqwest::Method;
use serde::de::DeserializeOwned;

/// The API version segment.
pub const API_VERSION: &str = "202412";
/// Header carrying the access token.
pub const ACCESS_TOKEN_HEADER: &str = "X-Genstore-Access-Token";
/// The most orders one page may hold.
pub const MAX_PAGE: u32 = 250;

/// Genstore's rate limit: a bucket of 40 refilling 2 a second.
pub fn rate_limit() -> RateLimit {
    RateLimit::new(2, 40)
}

/// How to reach a shop.
#[derive(Debug, Clone)]
pub struct GenstoreSettings {
    /// `https://{shop}.genmystore.com` (the client adds `/api/202412`).
    pub api_url: String,
    /// The access token.
    pub access_token: Secret,
    /// HTTP behaviour.
    pub http: HttpSettings,
}

impl GenstoreSettings {
    /// Settings with Genstore's rate limit and default timeouts.
    pub fn new(api_url: impl Into<String>, access_token: Secret) -> Self {
        GenstoreSettings {
            api_url: api_url.into(),
            access_token,
            http: HttpSettings::with_rate(rate_limit()),
        }
    }
}

/// Filters of the order list (only on the first page: later pages are named by their token alone).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderQuery {
    /// Page size, at most 250.
    pub limit: Option<u32>,
    /// Orders with an id above this.
    pub since_id: Option<String>,
    /// `financialStatus` filter.
    pub financial_status: Option<String>,
    /// `fulfillmentStatus` filter.
    pub fulfillment_status: Option<String>,
}

/// One page of orders and where the next one is.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderPage {
    /// The orders.
    pub orders: Vec<Order>,
    /// The page tokens of the `Link` header.
    pub links: PageLinks,
}

/// The Genstore client; build once per cold start, clone freely.
#[derive(Clone)]
pub struct GenstoreClient {
    http: PlatformHttp,
    base: String,
    token: Secret,
}

const P: Channel = Channel::Genstore;

impl GenstoreClient {
    crate::channels::http::with_shared_budget!();

    /// The shop's rate budget: Genstore's bucket is per app per shop, and the budget this client is
    /// given is already the shop's part of the table.
    fn budget_bucket(&self) -> String {
        P.as_str().to_owned()
    }

    /// A client for a shop.
    pub fn new(settings: GenstoreSettings) -> Result<Self, ClientError> {
        Ok(GenstoreClient {
            http: PlatformHttp::new(P, settings.http)?,
            base: format!(
                "{}/api/{API_VERSION}",
                settings.api_url.trim_end_matches('/')
            ),
            token: settings.access_token,
        })
    }

    async fn call(
        &self,
        call: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&serde_json::Value>,
        repeat: Repeat,
    ) -> Result<Response, ClientError> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .send(call, repeat, |c| {
                let mut r = c
                    .request(method.clone(), &url)
                    .header(ACCESS_TOKEN_HEADER, self.token.expose())
                    .header(reqwest::header::ACCEPT, "application/json");
                if !query.is_empty() {
                    r = r.query(query);
                }
                if let Some(b) = body {
                    r = r.json(b);
                }
                r
            })
            .await?;
        if resp.status.is_success() {
            return Ok(resp);
        }
        Err(status_error(call, &resp))
    }

    fn decode<T: DeserializeOwned>(call: &'static str, resp: &Response) -> Result<T, ClientError> {
        resp.json(P, call)
    }

    /// One page of orders: the first page by `query`, later pages by the previous page's `next` token.
    pub async fn list_orders_page(
        &self,
        query: &OrderQuery,
        page_token: Option<&str>,
    ) -> Result<OrderPage, ClientError> {
        let limit = query.limit.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
        let mut params = vec![("limit", limit.to_string())];
        match page_token {
            Some(t) => params.push(("pageToken", t.to_owned())),
            None => {
                if let Some(v) = &query.since_id {
                    params.push(("sinceId", v.clone()));
                }
                if let Some(v) = &query.financial_status {
                    params.push(("financialStatus", v.clone()));
                }
                if let Some(v) = &query.fulfillment_status {
                    params.push(("fulfillmentStatus", v.clone()));
                }
            }
        }
        let resp = self
            .call(
                "listOrders",
                Method::GET,
                "/orders",
                &params,
                None,
                Repeat::Safe,
            )
            .await?;
        let list: OrderList = Self::decode("listOrders", &resp)?;
        let links = resp
            .headers
            .get(LINK)
            .and_then(|v| v.to_str().ok())
            .map(parse_link_header)
            .unwrap_or_default();
        Ok(OrderPage {
            orders: list.orders,
            links,
        })
    }

    /// Every order matching `query`, following `Link` pages to the end.
    pub async fn list_all_orders(&self, query: &OrderQuery) -> Result<Vec<Order>, ClientError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut paging = Paging::new();
        loop {
            let page = self.list_orders_page(query, token.as_deref()).await?;
            out.extend(page.orders);
            token = paging.next(P, "listOrders", page.links.next)?;
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// An order with its fulfillments; none if Genstore does not know it.
    pub async fn get_order(&self, order_id: &str) -> Result<Option<Order>, ClientError> {
        match self
            .call(
                "getOrder",
                Method::GET,
                &format!("/orders/{}", seg(order_id)),
                &[],
                None,
                Repeat::Safe,
            )
            .await
        {
            Ok(resp) => Ok(Some(
                Self::decode::<OrderEnvelope>("getOrder", &resp)?.order,
            )),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates an order (mirroring an external one). Not deduplicated by Genstore: look before creating
    /// again after an unclear outcome.
    pub async fn create_order(&self, order: &NewOrder) -> Result<Order, ClientError> {
        let body = to_value(
            "createOrder",
            &CreateOrderRequest {
                order: order.clone(),
            },
        )?;
        let resp = self
            .call(
                "createOrder",
                Method::POST,
                "/orders",
                &[],
                Some(&body),
                Repeat::OnlyIfUnprocessed,
            )
            .await?;
        Ok(Self::decode::<OrderEnvelope>("createOrder", &resp)?.order)
    }

    /// Changes an order's payment state, tags or note (`PUT /orders/{orderId}`); setting what it already
    /// holds changes nothing, so a repeat is safe.
    pub async fn update_order(
        &self,
        order_id: &str,
        update: &OrderUpdate,
    ) -> Result<Order, ClientError> {
        let body = to_value(
            "updateOrder",
            &UpdateOrderRequest {
                order: update.clone(),
            },
        )?;
        let resp = self
            .call(
                "updateOrder",
                Method::PUT,
                &format!("/orders/{}", seg(order_id)),
                &[],
                Some(&body),
                Repeat::Safe,
            )
            .await?;
        Ok(Self::decode::<OrderEnvelope>("updateOrder", &resp)?.order)
    }

    /// Cancels an order (`POST /orders/{orderId}/cancel`); cancelling a cancelled order changes nothing.
    pub async fn cancel_order(&self, order_id: &str, reason: &str) -> Result<Order, ClientError> {
        let body = serde_json::json!({ "reason": reason });
        let resp = self
            .call(
                "cancelOrder",
                Method::POST,
                &format!("/orders/{}/cancel", seg(order_id)),
                &[],
                Some(&body),
                Repeat::Safe,
            )
            .await?;
        Ok(Self::decode::<OrderEnvelope>("cancelOrder", &resp)?.order)
    }

    /// An order's fulfillments.
    pub async fn list_fulfillments(&self, order_id: &str) -> Result<Vec<Fulfillment>, ClientError> {
        let resp = self
            .call(
                "listFulfillments",
                Method::GET,
                &format!("/orders/{}/fulfillments", seg(order_id)),
                &[],
                None,
                Repeat::Safe,
            )
            .await?;
        Ok(Self::decode::<FulfillmentList>("listFulfillments", &resp)?.fulfillments)
    }

    /// Creates a fulfillment with tracking. Not deduplicated by Genstore: look before creating again.
    pub async fn create_fulfillment(
        &self,
        fulfillment: &NewFulfillment,
    ) -> Result<Fulfillment, ClientError> {
        let body = to_value(
            "createFulfillment",
            &CreateFulfillmentRequest {
                fulfillment: fulfillment.clone(),
            },
        )?;
        let resp = self
            .call(
                "createFulfillment",
                Method::POST,
                "/fulfillments",
                &[],
                Some(&body),
                Repeat::OnlyIfUnprocessed,
            )
            .await?;
        Ok(Self::decode::<FulfillmentEnvelope>("createFulfillment", &resp)?.fulfillment)
    }

    /// Replaces a fulfillment's tracking.
    pub async fn update_tracking(
        &self,
        fulfill_id: &str,
        update: &TrackingUpdate,
    ) -> Result<Fulfillment, ClientError> {
        let body = to_value(
            "updateTracking",
            &UpdateTrackingRequest {
                fulfillment: update.clone(),
            },
        )?;
        let resp = self
            .call(
                "updateTracking",
                Method::PUT,
                &format!("/fulfillments/{}/update_tracking", seg(fulfill_id)),
                &[],
                Some(&body),
                Repeat::Safe,
            )
            .await?;
        Ok(Self::decode::<FulfillmentEnvelope>("updateTracking", &resp)?.fulfillment)
    }

    /// Cancels a fulfillment.
    pub async fn cancel_fulfillment(&self, fulfill_id: &str) -> Result<Fulfillment, ClientError> {
        let resp = self
            .call(
                "cancelFulfillment",
                Method::PUT,
                &format!("/fulfillments/{}/cancel", seg(fulfill_id)),
                &[],
                None,
                Repeat::Safe,
            )
            .await?;
        Ok(Self::decode::<FulfillmentEnvelope>("cancelFulfillment", &resp)?.fulfillment)
    }
}

/// What must be escaped in one path segment: everything but RFC 3986's unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Percent-encodes one path segment (an id can never reach into another segment).
pub(crate) fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

pub(crate) fn to_value<T: serde::Serialize>(
    call: &'static str,
    v: &T,
) -> Result<serde_json::Value, ClientError> {
    serde_json::to_value(v)
        .map_err(|e| ClientError::new(P, call, ErrorKind::Refused, e.to_string(), false))
}

/// A non-2xx answer as an error with Genstore's `error` message. 4xx (but 408 and 429) cannot succeed
/// by repeating; 5xx can.
fn status_error(call: &'static str, resp: &Response) -> ClientError {
    let status = resp.status.as_u16();
    let message = serde_json::from_slice::<ErrorBody>(&resp.body)
        .map(|b| crate::scrub::platform_text(&b.message()))
        .unwrap_or_else(|_| resp.status.canonical_reason().unwrap_or("error").to_owned());
    let kind = if status == 401 || status == 403 {
        ErrorKind::Config
    } else {
        ErrorKind::Status
    };
    let retryable = resp.status.is_server_error() || status == 408 || status == 429;
    ClientError::new(P, call, kind, message, retryable).with_status(status)
}
