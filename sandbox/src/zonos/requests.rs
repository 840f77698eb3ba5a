//! The sandbox's own reading of Zonos Classic's request bodies, written from the documents (seed 002 for
//! `orderNumbers`, `platforms.md` §2 for the other four calls), never from the client's types: a field
//! the client names wrongly is refused here instead of being agreed with (issue 18).
//!
//! Each call takes its documented keys and the credentials (`store`, or `storeId` on `orderDetail`, and
//! `secret`). Decision (the documents are silent on unknown keys): the sandbox refuses a key a call does
//! not name, as Zonos answers other input errors, HTTP 200 with `{"error": "unknown field …"}`, so a client
//! can never send a field the documents do not name unnoticed.

use chrono::NaiveDate;
use serde_json::{Map, Value};

/// Keys every call takes: the credentials.
const CREDENTIALS: &[&str] = &["store", "storeId", "secret"];

/// Which orders `orderNumbers` asks for: exactly one selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// After this order (`999-99999` or `99999`).
    SinceOrderId(String),
    /// Placed on `since` or later (UTC days), up to `through`.
    SinceDate {
        /// First day.
        since: NaiveDate,
        /// Last day, when given.
        through: Option<NaiveDate>,
    },
    /// The last two weeks' orders without a merchant order id.
    MissingMerchantOrderId,
}

/// `POST /v1/orderNumbers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderNumbers {
    /// The selector.
    pub selector: Selector,
    /// `statuses` present, whatever its value: answer each order's status too.
    pub statuses: bool,
}

/// The body of a call that names one order and, maybe, one more value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderCall {
    /// `orderId`.
    pub order_id: String,
    /// The call's other value: `merchantOrderId`, `orderStatus`; empty for `orderDetail`.
    pub value: String,
}

/// `POST /v2/setShipmentTracking`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    /// `orderId`.
    pub order_id: String,
    /// `trackingList[].number`, in order.
    pub numbers: Vec<String>,
}

/// A body refused, with the text Zonos' `error` carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

fn parse_input() -> Refused {
    Refused("could not parse input".into())
}

/// Refuses a key the call does not name.
fn only(obj: &Map<String, Value>, keys: &[&str]) -> Result<(), Refused> {
    match obj
        .keys()
        .find(|k| !keys.contains(&k.as_str()) && !CREDENTIALS.contains(&k.as_str()))
    {
        Some(k) => Err(Refused(format!("unknown field {k:?}"))),
        None => Ok(()),
    }
}

/// A string or a number, as Zonos takes ids and dates.
fn text(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, Refused> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(parse_input()),
    }
}

/// `999-99999` or `99999`.
fn valid_order_id(id: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match id.split_once('-') {
        Some((store, number)) => digits(store) && digits(number),
        None => digits(id),
    }
}

fn order_id(obj: &Map<String, Value>) -> Result<String, Refused> {
    let id = text(obj, "orderId")?.ok_or_else(parse_input)?;
    if valid_order_id(&id) {
        Ok(id)
    } else {
        Err(Refused(format!("orderId: {id} is not a valid orderId")))
    }
}

fn day(raw: &str) -> Result<NaiveDate, Refused> {
    let bad = || Refused(format!("invalid date {raw:?}: expected yyyymmdd"));
    if raw.len() != 8 {
        return Err(bad());
    }
    NaiveDate::parse_from_str(raw, "%Y%m%d").map_err(|_| bad())
}

/// Reads `orderNumbers`' body.
pub fn order_numbers(obj: &Map<String, Value>) -> Result<OrderNumbers, Refused> {
    only(
        obj,
        &[
            "sinceOrderId",
            "sinceDate",
            "throughDate",
            "missingMerchantOrderId",
            "statuses",
        ],
    )?;
    let since_id = text(obj, "sinceOrderId")?;
    let since_date = text(obj, "sinceDate")?;
    let through = text(obj, "throughDate")?;
    let missing = match obj.get("missingMerchantOrderId") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err(parse_input()),
    };
    let chosen =
        usize::from(since_id.is_some()) + usize::from(since_date.is_some()) + usize::from(missing);
    if chosen > 1 {
        return Err(Refused(
            "sinceDate and sinceOrderId cannot be sent together".into(),
        ));
    }
    if through.is_some() && since_date.is_none() {
        return Err(Refused("throughDate must be sent with sinceDate".into()));
    }
    let selector = match (since_id, since_date) {
        (Some(id), _) if valid_order_id(&id) => Selector::SinceOrderId(id),
        (Some(id), _) => return Err(Refused(format!("orderId: {id} is not a valid orderId"))),
        (None, Some(d)) => {
            let since = day(&d)?;
            let through = through.as_deref().map(day).transpose()?;
            if let Some(t) = through.filter(|t| *t < since) {
                return Err(Refused(format!(
                    "invalid date {:?}: expected yyyymmdd",
                    t.format("%Y%m%d").to_string()
                )));
            }
            Selector::SinceDate { since, through }
        }
        (None, None) if missing => Selector::MissingMerchantOrderId,
        (None, None) => {
            return Err(Refused(
                "One of sinceOrderId, sinceDate or missingMerchantOrderId is required".into(),
            ))
        }
    };
    Ok(OrderNumbers {
        selector,
        statuses: obj.contains_key("statuses"),
    })
}

/// Reads `orderDetail`'s body (`orderId` or `referenceId`, not both: the caller checks which).
pub fn order_detail(obj: &Map<String, Value>) -> Result<OrderCall, Refused> {
    only(obj, &["orderId", "referenceId"])?;
    Ok(OrderCall {
        order_id: order_id(obj)?,
        value: String::new(),
    })
}

/// Reads the body of a call that sets one value on an order (`updateMerchantOrderId`:
/// `merchantOrderId`; `updateVendorOrderStatus`: `orderStatus`).
pub fn order_value(obj: &Map<String, Value>, key: &str) -> Result<OrderCall, Refused> {
    only(obj, &["orderId", key])?;
    let order_id = order_id(obj)?;
    match obj.get(key) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(OrderCall {
            order_id,
            value: s.trim().to_owned(),
        }),
        _ => Err(parse_input()),
    }
}

/// Reads `setShipmentTracking`'s body: `trackingList: [{"number": "…"}]` (no carrier field).
pub fn tracking(obj: &Map<String, Value>) -> Result<Tracking, Refused> {
    only(obj, &["orderId", "trackingList"])?;
    let order_id = order_id(obj)?;
    let list = obj
        .get("trackingList")
        .and_then(Value::as_array)
        .ok_or_else(parse_input)?;
    let mut numbers = Vec::with_capacity(list.len());
    for entry in list {
        let entry = entry.as_object().ok_or_else(parse_input)?;
        if let Some(k) = entry.keys().find(|k| k.as_str() != "number") {
            return Err(Refused(format!("unknown field trackingList[].{k}")));
        }
        match entry.get("number") {
            Some(Value::String(n)) if !n.trim().is_empty() => numbers.push(n.trim().to_owned()),
            _ => return Err(parse_input()),
        }
    }
    Ok(Tracking { order_id, numbers })
}

/// `orderNumbers`' answer as seed 002 shows it, and each entry's keys (with `statuses`, the four more).
const NUMBERS_KEYS: &[&str] = &["orderCount", "orders", "testOrderCount", "totalCount"];
const NUMBER_KEYS: &[&str] = &[
    "id",
    "merchantOrderId",
    "orderStatus",
    "orderStatusDate",
    "orderStatusDateString",
    "testOrder",
    "timestamp",
];

/// An `orderDetail` tracking entry.
const TRACKING_NUMBER_KEYS: &[&str] = &["number"];

fn keys_in(v: &Value, keys: &[&str], at: &str) -> Result<(), String> {
    match v
        .as_object()
        .and_then(|o| o.keys().find(|k| !keys.contains(&k.as_str())))
    {
        Some(k) => Err(format!("{at}: unknown field {k:?}")),
        None => Ok(()),
    }
}

fn each_in(v: &Value, list: &str, keys: &[&str], at: &str) -> Result<(), String> {
    let items = v
        .get(list)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for (i, item) in items.iter().enumerate() {
        keys_in(item, keys, &format!("{at}.{list}[{i}]"))?;
    }
    Ok(())
}

/// An `orderNumbers` answer the sandbox sends, against seed 002's names.
pub fn check_numbers_answer(v: &Value) -> Result<(), String> {
    keys_in(v, NUMBERS_KEYS, "answer")?;
    each_in(v, "orders", NUMBER_KEYS, "answer")
}

/// An `orderDetail` order the sandbox sends: only the fields the documents promise
/// ([`super::PROMISED_DETAIL_KEYS`]) and those the project decided to read where present
/// ([`super::DECIDED_DETAIL_KEYS`]; `platforms.md` §2, the names of the shipping, total and date
/// fields being the project's reading of Zonos' order export).
pub fn check_detail_answer(order: &Value) -> Result<(), String> {
    let detail: Vec<&str> = [super::PROMISED_DETAIL_KEYS, super::DECIDED_DETAIL_KEYS].concat();
    keys_in(order, &detail, "order")?;
    let item: Vec<&str> = [super::PROMISED_ITEM_KEYS, super::DECIDED_ITEM_KEYS].concat();
    each_in(order, "items", &item, "order")?;
    each_in(order, "trackingList", TRACKING_NUMBER_KEYS, "order")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn documented_bodies_are_read() {
        let n = order_numbers(&obj(
            json!({"store": "999", "secret": "s", "sinceDate": "20150101",
            "throughDate": "20150601", "statuses": false}),
        ))
        .unwrap();
        assert!(n.statuses, "present, whatever its value");
        assert!(matches!(
            n.selector,
            Selector::SinceDate {
                through: Some(_),
                ..
            }
        ));
        let t = tracking(&obj(
            json!({"store": 999, "secret": "s", "orderId": "999-1",
            "trackingList": [{"number": "1Z1"}, {"number": "1Z2"}]}),
        ))
        .unwrap();
        assert_eq!(t.numbers, ["1Z1", "1Z2"]);
        let m = order_value(
            &obj(json!({"store": 999, "secret": "s", "orderId": 12345, "merchantOrderId": "1001"})),
            "merchantOrderId",
        )
        .unwrap();
        assert_eq!((m.order_id.as_str(), m.value.as_str()), ("12345", "1001"));
    }

    #[test]
    fn a_misspelt_or_unnamed_field_is_refused() {
        let e = tracking(&obj(
            json!({"store": 999, "secret": "s", "orderId": "999-1",
            "trackingNumbers": ["1Z1"]}),
        ))
        .unwrap_err();
        assert_eq!(e.0, "unknown field \"trackingNumbers\"");
        let e = tracking(&obj(
            json!({"store": 999, "secret": "s", "orderId": "999-1",
            "trackingList": [{"number": "1Z1", "carrier": "UPS"}]}),
        ))
        .unwrap_err();
        assert!(e.0.contains("carrier"), "{e:?}");
        let e = order_value(
            &obj(json!({"store": 999, "secret": "s", "orderId": "999-1", "merchantOrderID": "1"})),
            "merchantOrderId",
        )
        .unwrap_err();
        assert!(e.0.contains("merchantOrderID"), "{e:?}");
        let e = order_numbers(&obj(
            json!({"store": 999, "secret": "s", "sinceOrderID": "999-1"}),
        ))
        .unwrap_err();
        assert!(e.0.contains("sinceOrderID"), "{e:?}");
    }

    #[test]
    fn the_answers_it_sends_carry_the_documented_names_only() {
        let numbers = serde_json::json!({"totalCount": 1, "orderCount": 1, "testOrderCount": 0,
            "orders": [{"id": "999-1", "testOrder": false, "timestamp": "2015-01-01 00:33:14.0",
            "orderStatus": "IGLOBAL_ORDER_IN_PROCESS"}]});
        assert_eq!(check_numbers_answer(&numbers), Ok(()));
        let mut misspelt = numbers.clone();
        misspelt["orders"][0]["orderStatusDateStr"] = serde_json::json!("x");
        assert!(check_numbers_answer(&misspelt)
            .unwrap_err()
            .contains("answer.orders[0]"));
        let order = serde_json::json!({"id": "999-1", "items": [{"sku": "S", "quantity": 1,
            "unitPrice": "10.00"}], "trackingList": [{"number": "1Z"}], "grandTotal": "10.00"});
        assert_eq!(check_detail_answer(&order), Ok(()));
        let mut item = order.clone();
        item["items"][0]["qty"] = serde_json::json!(1);
        assert!(check_detail_answer(&item)
            .unwrap_err()
            .contains("order.items[0]"));
    }
}
