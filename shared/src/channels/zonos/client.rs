//! The Zonos Classic client: every call a `POST` with `Accept` and `Content-Type: application/json`,
//! credentials in the body, paced at a configurable rate (5/s by default; Zonos documents none).
//!
//! A 200 is not a success until the body says so: `{"error": …}` becomes a [`ClientError`] of kind
//! `Platform` carrying Zonos' message (invalid credentials is not retryable). 406 and 415 are explained
//! as header problems. Every call is safe to repeat: the reads are reads, and the writes set a value.

use super::status::ZonosStatus;
use super::wire::{
    self, Credentials, OrderDetailRequest, OrderDetailResponse, OrderNumbersRequest,
    OrderNumbersResponse, OrderSelector, Reply, SetShipmentTrackingRequest, SuccessReply,
    UpdateMerchantOrderIdRequest, UpdateVendorOrderStatusRequest, ZonosErrorKind,
};
use crate::channel::Channel;
use crate::channels::http::{
    ClientError, ErrorKind, HttpSettings, PlatformHttp, RateLimit, Repeat,
};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Zonos' production base URL.
pub const DEFAULT_API_URL: &str = "https://api.iglobalstores.com";

const P: Channel = Channel::Zonos;

/// How to reach Zonos.
#[derive(Debug, Clone)]
pub struct ZonosSettings {
    /// Base URL (default [`DEFAULT_API_URL`]).
    pub api_url: String,
    /// Store id and secret.
    pub credentials: Credentials,
    /// HTTP behaviour; the rate defaults to 5 requests a second.
    pub http: HttpSettings,
    /// The store's currency (`ZONOS_CURRENCY`, default USD). Decision: the documents name no currency
    /// in `orderDetail`; Zonos amounts are in the store's currency unless an answer names one.
    pub currency: crate::money::CurrencyCode,
}

impl ZonosSettings {
    /// Settings with the default rate (5/s) and timeouts.
    pub fn new(api_url: impl Into<String>, credentials: Credentials) -> Self {
        ZonosSettings {
            api_url: api_url.into(),
            credentials,
            http: HttpSettings::with_rate(RateLimit::new(5, 5)),
            currency: crate::money::CurrencyCode::usd(),
        }
    }
}

/// The Zonos client; build once per cold start, clone freely.
#[derive(Clone)]
pub struct ZonosClient {
    http: PlatformHttp,
    base: String,
    credentials: Credentials,
    currency: crate::money::CurrencyCode,
}

impl ZonosClient {
    crate::channels::http::with_shared_budget!();

    /// A client for a store.
    pub fn new(settings: ZonosSettings) -> Result<Self, ClientError> {
        Ok(ZonosClient {
            http: PlatformHttp::new(P, settings.http)?,
            base: settings.api_url.trim_end_matches('/').to_owned(),
            credentials: settings.credentials,
            currency: settings.currency,
        })
    }

    /// The store's rate budget (decision: Zonos documents no limit; the pace is per store, the account
    /// its credentials name).
    fn budget_bucket(&self) -> String {
        format!("zonos:{}", self.credentials.store)
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        call: &'static str,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let body = serde_json::to_vec(body)
            .map_err(|e| ClientError::new(P, call, ErrorKind::Refused, e.to_string(), false))?;
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .send(call, Repeat::Safe, |c| {
                c.post(&url)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
            })
            .await?;
        let status = resp.status.as_u16();
        match status {
            406 => {
                return Err(ClientError::new(
                    P,
                    call,
                    ErrorKind::Config,
                    "Zonos refused the Accept header (406 Not Acceptable): it must be application/json",
                    false,
                )
                .with_status(status))
            }
            415 => {
                return Err(ClientError::new(
                    P,
                    call,
                    ErrorKind::Config,
                    "Zonos refused the Content-Type header (415 Unsupported Media Type): it must be application/json",
                    false,
                )
                .with_status(status))
            }
            _ => {}
        }
        match (resp.status.is_success(), wire::parse_reply::<T>(&resp.body)) {
            // `{"error": …}` whatever the status: Zonos' own refusal.
            (_, Ok(Reply::Error(e))) => {
                let kind = match e.kind() {
                    ZonosErrorKind::InvalidCredentials => ErrorKind::Config,
                    ZonosErrorKind::OrderNotFound => ErrorKind::NotFound,
                    _ => ErrorKind::Platform,
                };
                let retryable = e.retryable() || resp.status.is_server_error();
                Err(ClientError::new(
                    P,
                    call,
                    kind,
                    crate::scrub::platform_text(&e.message),
                    retryable,
                )
                .with_status(status))
            }
            (true, Ok(Reply::Ok(v))) => Ok(v),
            (true, Err(e)) => Err(ClientError::decode(P, call, status, e)),
            (false, _) => Err(ClientError::new(
                P,
                call,
                ErrorKind::Status,
                resp.status.canonical_reason().unwrap_or("error"),
                resp.status.is_server_error(),
            )
            .with_status(status)),
        }
    }

    /// `orderNumbers` with one selector; `statuses` adds merchant order ids and statuses.
    pub async fn order_numbers(
        &self,
        selector: OrderSelector,
        statuses: bool,
    ) -> Result<OrderNumbersResponse, ClientError> {
        let req = OrderNumbersRequest {
            credentials: self.credentials.clone(),
            selector,
            statuses,
        };
        self.post("orderNumbers", "/v1/orderNumbers", &req).await
    }

    /// `orderDetail`: one order in full.
    pub async fn order_detail(&self, order_id: &str) -> Result<wire::Order, ClientError> {
        let req = OrderDetailRequest {
            credentials: self.credentials.clone(),
            order_id: order_id.to_owned(),
        };
        let resp: OrderDetailResponse = self.post("orderDetail", "/v2/orderDetail", &req).await?;
        // What the documents do not promise, filled from what we know: the order asked for, and the
        // store's currency.
        let mut order = resp.order;
        order.id.get_or_insert_with(|| order_id.to_owned());
        order
            .currency_code
            .get_or_insert_with(|| self.currency.as_str().to_owned());
        Ok(order)
    }

    /// Records the merchant's order id on a Zonos order.
    pub async fn update_merchant_order_id(
        &self,
        order_id: &str,
        merchant_order_id: &str,
    ) -> Result<SuccessReply, ClientError> {
        let req = UpdateMerchantOrderIdRequest {
            credentials: self.credentials.clone(),
            order_id: order_id.to_owned(),
            merchant_order_id: merchant_order_id.to_owned(),
        };
        self.post("updateMerchantOrderId", "/v1/updateMerchantOrderId", &req)
            .await
    }

    /// Sets every tracking number of an order (Zonos takes no carrier).
    pub async fn set_shipment_tracking(
        &self,
        order_id: &str,
        tracking_numbers: &[String],
    ) -> Result<SuccessReply, ClientError> {
        let numbers: Vec<String> = tracking_numbers
            .iter()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        if numbers.is_empty() {
            return Err(ClientError::new(
                P,
                "setShipmentTracking",
                ErrorKind::Refused,
                "no tracking numbers to set",
                false,
            ));
        }
        let req = SetShipmentTrackingRequest {
            credentials: self.credentials.clone(),
            order_id: order_id.to_owned(),
            tracking_numbers: numbers,
        };
        self.post("setShipmentTracking", "/v2/setShipmentTracking", &req)
            .await
    }

    /// Sets a vendor status, after reading the order's current status: refused here, without calling
    /// Zonos, when the current status blocks vendor updates or `status` is not a vendor status
    /// ([`ErrorKind::Blocked`] while the block is one Zonos moves on from, [`ErrorKind::Refused`]
    /// otherwise).
    pub async fn update_vendor_order_status(
        &self,
        order_id: &str,
        status: &ZonosStatus,
    ) -> Result<SuccessReply, ClientError> {
        const CALL: &str = "updateVendorOrderStatus";
        if !status.is_vendor_status() {
            return Err(ClientError::new(
                P,
                CALL,
                ErrorKind::Refused,
                format!("{status} is not a status a vendor may set"),
                false,
            ));
        }
        let current = self.order_detail(order_id).await?;
        let current_status = current.order_status.as_deref().map(ZonosStatus::parse);
        if let Some(cur) = current_status.filter(ZonosStatus::blocks_vendor_updates) {
            let kind = if cur.blocks_vendor_updates_for_now() {
                ErrorKind::Blocked
            } else {
                ErrorKind::Refused
            };
            return Err(ClientError::new(
                P,
                CALL,
                kind,
                format!("order is in {cur}, which blocks vendor status updates"),
                false,
            ));
        }
        let req = UpdateVendorOrderStatusRequest {
            credentials: self.credentials.clone(),
            order_id: order_id.to_owned(),
            order_status: status.as_str().to_owned(),
        };
        self.post(CALL, "/v1/updateVendorOrderStatus", &req).await
    }
}
