//! The Google Orders v2.1 client: list (all pages), get, getbymerchantorderid, acknowledge,
//! updateMerchantOrderId, shipLineItems, updateShipment, cancelLineItem, refunditem, and the sandbox's
//! test-order calls.
//!
//! Every write carries an `operationId` the caller derives with [`operation_id`], so a retry after a
//! timeout is always safe and Google answers `duplicate` instead of applying it twice; `duplicate` is a
//! success. A 401 drops the cached token and the call is tried once more with a fresh one.

use super::auth::{GoogleCredentials, TokenSource};
use super::wire::{
    AcknowledgeRequest, CancelLineItemRequest, CancelOrderRequest,
    CancelTestOrderByCustomerRequest, CreateTestOrderRequest, CreateTestOrderResponse, ErrorBody,
    ExecutionResponse, ExecutionStatus, GetByMerchantOrderIdResponse, Order, OrdersListResponse,
    RefundItemRequest, RefundOrderRequest, ShipLineItemsRequest, UpdateMerchantOrderIdRequest,
    UpdateShipmentRequest,
};
use crate::channel::Channel;
use crate::channels::genstore::client::seg;
use crate::channels::http::{
    ClientError, ErrorKind, HttpSettings, Paging, PlatformHttp, RateLimit, Repeat, Response,
};
use reqwest::Method;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// Google's production base URL.
pub const DEFAULT_API_URL: &str = "https://shoppingcontent.googleapis.com/content/v2.1";
/// The most orders a list page may hold.
pub const MAX_RESULTS: u32 = 250;

const P: Channel = Channel::Google;

/// A deterministic operation id: the same order, action and detail always give the same id, and
/// different ones never collide in practice. `detail` tells apart two operations of one kind on one
/// order (a shipment id, a refund id).
pub fn operation_id(order_id: &str, action: &str, detail: &str) -> String {
    let mut h = Sha256::new();
    for part in [order_id, action, detail] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    format!(
        "ob-{action}-{}",
        hex::encode(digest.get(..10).unwrap_or_default())
    )
}

/// How to reach a Merchant Center account.
#[derive(Debug, Clone)]
pub struct GoogleSettings {
    /// Base URL up to the version (default [`DEFAULT_API_URL`]).
    pub api_url: String,
    /// The merchant id.
    pub merchant_id: String,
    /// Credentials.
    pub credentials: GoogleCredentials,
    /// HTTP behaviour; the rate defaults to 10 requests a second.
    pub http: HttpSettings,
}

impl GoogleSettings {
    /// Settings with the default rate (10/s) and timeouts.
    pub fn new(
        api_url: impl Into<String>,
        merchant_id: impl Into<String>,
        credentials: GoogleCredentials,
    ) -> Self {
        GoogleSettings {
            api_url: api_url.into(),
            merchant_id: merchant_id.into(),
            credentials,
            http: HttpSettings::with_rate(RateLimit::new(10, 10)),
        }
    }
}

/// Filters of `orders.list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Only (un)acknowledged orders.
    pub acknowledged: Option<bool>,
    /// Only these statuses (`ACTIVE`, `PENDING_SHIPMENT`, …).
    pub statuses: Vec<String>,
    /// Placed at or after (ISO 8601).
    pub placed_date_start: Option<String>,
    /// Placed before (ISO 8601).
    pub placed_date_end: Option<String>,
    /// `placedDateAsc` or `placedDateDesc`.
    pub order_by: Option<String>,
    /// Page size, at most 250.
    pub max_results: Option<u32>,
}

/// The Google client; build once per cold start, clone freely.
#[derive(Clone)]
pub struct GoogleClient {
    http: PlatformHttp,
    base: String,
    merchant_id: String,
    tokens: TokenSource,
}

impl GoogleClient {
    crate::channels::http::with_shared_budget!();

    /// A client for a merchant account.
    pub fn new(settings: GoogleSettings) -> Result<Self, ClientError> {
        Ok(GoogleClient {
            http: PlatformHttp::new(P, settings.http)?,
            base: format!(
                "{}/{}",
                settings.api_url.trim_end_matches('/'),
                seg(&settings.merchant_id)
            ),
            merchant_id: settings.merchant_id,
            tokens: TokenSource::new(settings.credentials)?,
        })
    }

    /// The merchant account's rate budget (decision: Google documents no limit for the Orders API, so
    /// the pace is per merchant account; a merchant two shops named would be paced once).
    fn budget_bucket(&self) -> String {
        format!("google:{}", self.merchant_id)
    }

    async fn call(
        &self,
        call: &'static str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
        repeat: Repeat,
    ) -> Result<Response, ClientError> {
        let url = format!("{}{path}", self.base);
        for fresh_token in [false, true] {
            let token = self.tokens.token().await?;
            let resp = self
                .http
                .send(call, repeat, |c| {
                    let mut r = c.request(method.clone(), &url).bearer_auth(token.expose());
                    if !query.is_empty() {
                        r = r.query(query);
                    }
                    if let Some(b) = &body {
                        r = r.json(b);
                    }
                    r
                })
                .await?;
            if resp.status.as_u16() == 401 && !fresh_token && self.tokens.can_refresh() {
                self.tokens.invalidate().await;
                continue;
            }
            if resp.status.is_success() {
                return Ok(resp);
            }
            return Err(status_error(call, &resp));
        }
        Err(
            ClientError::new(P, call, ErrorKind::Config, "credentials refused", false)
                .with_status(401),
        )
    }

    async fn get<T: DeserializeOwned>(
        &self,
        call: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Option<T>, ClientError> {
        match self
            .call(call, Method::GET, path, query, None, Repeat::Safe)
            .await
        {
            Ok(resp) => resp.json(P, call).map(Some),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn write<B: serde::Serialize>(
        &self,
        call: &'static str,
        path: &str,
        body: &B,
    ) -> Result<ExecutionStatus, ClientError> {
        let body = serde_json::to_value(body)
            .map_err(|e| ClientError::new(P, call, ErrorKind::Refused, e.to_string(), false))?;
        let resp = self
            .call(call, Method::POST, path, &[], Some(body), Repeat::Safe)
            .await?;
        Ok(resp.json::<ExecutionResponse>(P, call)?.execution_status)
    }

    /// One page of orders.
    pub async fn list_orders_page(
        &self,
        query: &ListQuery,
        page_token: Option<&str>,
    ) -> Result<OrdersListResponse, ClientError> {
        let mut params = vec![(
            "maxResults",
            query
                .max_results
                .unwrap_or(MAX_RESULTS)
                .clamp(1, MAX_RESULTS)
                .to_string(),
        )];
        if let Some(a) = query.acknowledged {
            params.push(("acknowledged", a.to_string()));
        }
        for s in &query.statuses {
            params.push(("statuses", s.clone()));
        }
        if let Some(v) = &query.placed_date_start {
            params.push(("placedDateStart", v.clone()));
        }
        if let Some(v) = &query.placed_date_end {
            params.push(("placedDateEnd", v.clone()));
        }
        if let Some(v) = &query.order_by {
            params.push(("orderBy", v.clone()));
        }
        if let Some(t) = page_token {
            params.push(("pageToken", t.to_owned()));
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
        resp.json(P, "listOrders")
    }

    /// Every order matching `query`, all pages.
    pub async fn list_all_orders(&self, query: &ListQuery) -> Result<Vec<Order>, ClientError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut paging = Paging::new();
        loop {
            let page = self.list_orders_page(query, token.as_deref()).await?;
            out.extend(page.resources);
            token = paging.next(P, "listOrders", page.next_page_token)?;
            if token.is_none() {
                return Ok(out);
            }
        }
    }

    /// An order; none if Google does not know it.
    pub async fn get_order(&self, order_id: &str) -> Result<Option<Order>, ClientError> {
        self.get("getOrder", &format!("/orders/{}", seg(order_id)), &[])
            .await
    }

    /// The order with a merchant order id; none if there is none.
    pub async fn get_by_merchant_order_id(
        &self,
        merchant_order_id: &str,
    ) -> Result<Option<Order>, ClientError> {
        let resp: Option<GetByMerchantOrderIdResponse> = self
            .get(
                "getByMerchantOrderId",
                &format!("/ordersbymerchantid/{}", seg(merchant_order_id)),
                &[],
            )
            .await?;
        Ok(resp.map(|r| r.order))
    }

    /// Marks an order acknowledged.
    pub async fn acknowledge(
        &self,
        order_id: &str,
        operation_id: &str,
    ) -> Result<ExecutionStatus, ClientError> {
        let body = AcknowledgeRequest {
            operation_id: operation_id.to_owned(),
        };
        self.write(
            "acknowledge",
            &format!("/orders/{}/acknowledge", seg(order_id)),
            &body,
        )
        .await
    }

    /// Sets the merchant order id (unique per merchant).
    pub async fn update_merchant_order_id(
        &self,
        order_id: &str,
        operation_id: &str,
        merchant_order_id: &str,
    ) -> Result<ExecutionStatus, ClientError> {
        let body = UpdateMerchantOrderIdRequest {
            operation_id: operation_id.to_owned(),
            merchant_order_id: merchant_order_id.to_owned(),
        };
        self.write(
            "updateMerchantOrderId",
            &format!("/orders/{}/updateMerchantOrderId", seg(order_id)),
            &body,
        )
        .await
    }

    /// Marks line items shipped, with one `shipmentInfo` per package.
    pub async fn ship_line_items(
        &self,
        order_id: &str,
        request: &ShipLineItemsRequest,
    ) -> Result<ExecutionStatus, ClientError> {
        self.write(
            "shipLineItems",
            &format!("/orders/{}/shipLineItems", seg(order_id)),
            request,
        )
        .await
    }

    /// Updates a shipment's status, carrier or tracking id.
    pub async fn update_shipment(
        &self,
        order_id: &str,
        request: &UpdateShipmentRequest,
    ) -> Result<ExecutionStatus, ClientError> {
        self.write(
            "updateShipment",
            &format!("/orders/{}/updateShipment", seg(order_id)),
            request,
        )
        .await
    }

    /// Cancels a quantity of a line item.
    pub async fn cancel_line_item(
        &self,
        order_id: &str,
        request: &CancelLineItemRequest,
    ) -> Result<ExecutionStatus, ClientError> {
        self.write(
            "cancelLineItem",
            &format!("/orders/{}/cancelLineItem", seg(order_id)),
            request,
        )
        .await
    }

    /// Cancels the whole order (every line still cancellable), a full refund.
    pub async fn cancel_order(
        &self,
        order_id: &str,
        request: &CancelOrderRequest,
    ) -> Result<ExecutionStatus, ClientError> {
        self.write(
            "cancel",
            &format!("/orders/{}/cancel", seg(order_id)),
            request,
        )
        .await
    }

    /// Refunds an amount of the order as a whole.
    pub async fn refund_order(
        &self,
        order_id: &str,
        request: &RefundOrderRequest,
    ) -> Result<ExecutionStatus, ClientError> {
        self.write(
            "refundorder",
            &format!("/orders/{}/refundorder", seg(order_id)),
            request,
        )
        .await
    }

    /// Refunds items and shipping.
    pub async fn refund_item(
        &self,
        order_id: &str,
        request: &RefundItemRequest,
    ) -> Result<ExecutionStatus, ClientError> {
        self.write(
            "refunditem",
            &format!("/orders/{}/refunditem", seg(order_id)),
            request,
        )
        .await
    }

    /// Sandbox: creates a test order from a template; returns its id.
    pub async fn create_test_order(
        &self,
        request: &CreateTestOrderRequest,
    ) -> Result<String, ClientError> {
        let body = serde_json::to_value(request).map_err(|e| {
            ClientError::new(
                P,
                "createTestOrder",
                ErrorKind::Refused,
                e.to_string(),
                false,
            )
        })?;
        let resp = self
            .call(
                "createTestOrder",
                Method::POST,
                "/testorders",
                &[],
                Some(body),
                Repeat::OnlyIfUnprocessed,
            )
            .await?;
        Ok(resp
            .json::<CreateTestOrderResponse>(P, "createTestOrder")?
            .order_id)
    }

    /// Sandbox: moves a test order from `inProgress` to `pendingShipment`.
    pub async fn advance_test_order(&self, order_id: &str) -> Result<(), ClientError> {
        self.call(
            "advanceTestOrder",
            Method::POST,
            &format!("/testorders/{}/advance", seg(order_id)),
            &[],
            None,
            Repeat::Safe,
        )
        .await
        .map(|_| ())
    }

    /// Sandbox: the customer cancels a test order.
    pub async fn cancel_test_order_by_customer(
        &self,
        order_id: &str,
        reason: &str,
    ) -> Result<(), ClientError> {
        let body = serde_json::to_value(CancelTestOrderByCustomerRequest {
            reason: Some(reason.to_owned()),
        })
        .map_err(|e| {
            ClientError::new(
                P,
                "cancelTestOrderByCustomer",
                ErrorKind::Refused,
                e.to_string(),
                false,
            )
        })?;
        self.call(
            "cancelTestOrderByCustomer",
            Method::POST,
            &format!("/testorders/{}/cancelByCustomer", seg(order_id)),
            &[],
            Some(body),
            Repeat::Safe,
        )
        .await
        .map(|_| ())
    }
}

/// A non-2xx answer as an error with Google's own message; 429, 408 and 5xx are retryable.
fn status_error(call: &'static str, resp: &Response) -> ClientError {
    let status = resp.status.as_u16();
    let message = serde_json::from_slice::<ErrorBody>(&resp.body)
        .map(|b| {
            let message = crate::scrub::platform_text(&b.error.message);
            match b
                .error
                .errors
                .first()
                .and_then(|e| crate::scrub::platform_code(&e.reason))
            {
                Some(reason) => format!("{message} ({reason})"),
                None => message,
            }
        })
        .unwrap_or_else(|_| resp.status.canonical_reason().unwrap_or("error").to_owned());
    let kind = if status == 401 || status == 403 {
        ErrorKind::Config
    } else {
        ErrorKind::Status
    };
    let retryable = resp.status.is_server_error() || status == 429 || status == 408;
    ClientError::new(P, call, kind, message, retryable).with_status(status)
}

#[cfg(test)]
mod tests;
