use super::*;
use proptest::prelude::*;
use rust_decimal::Decimal;
use serde::Deserialize;
use std::str::FromStr;

#[derive(Debug, Deserialize)]
struct Probe {
    #[serde(default, with = "quantity")]
    q: Option<u32>,
    #[serde(default, with = "flag")]
    b: Option<bool>,
    #[serde(default, with = "decimal")]
    d: Option<Decimal>,
    #[serde(default, with = "string")]
    s: Option<String>,
}

fn probe(json: &str) -> Result<Probe, serde_json::Error> {
    serde_json::from_str(json)
}

#[test]
fn null_forms_are_none() {
    let p = probe(r#"{"q":"null","b":"","d":null,"s":"null"}"#).unwrap();
    assert_eq!((p.q, p.b, p.d, p.s), (None, None, None, None));
    let p = probe("{}").unwrap();
    assert_eq!((p.q, p.b, p.d, p.s), (None, None, None, None));
}

#[test]
fn money_text_is_exact_and_native_numbers_keep_their_digits() {
    let p = probe(r#"{"d":"409.94"}"#).unwrap();
    assert_eq!(p.d, Some(Decimal::from_str("409.94").unwrap()));
    let p = probe(r#"{"d":409.94}"#).unwrap();
    assert_eq!(p.d, Some(Decimal::from_str("409.94").unwrap()));
    let p = probe(r#"{"d":0.1}"#).unwrap();
    assert_eq!(p.d.unwrap().to_string(), "0.1");
}

#[test]
fn garbage_is_rejected_not_defaulted() {
    assert!(probe(r#"{"q":"one"}"#).is_err());
    assert!(probe(r#"{"q":-1}"#).is_err());
    assert!(probe(r#"{"q":1.5}"#).is_err());
    assert!(probe(r#"{"b":"yes please"}"#).is_err());
    assert!(probe(r#"{"b":2}"#).is_err());
    assert!(probe(r#"{"d":"12,50"}"#).is_err());
    assert!(probe(r#"{"d":[1]}"#).is_err());
    assert!(probe(r#"{"s":{"a":1}}"#).is_err());
}

#[test]
fn stray_quotes_around_a_timestamp_are_trimmed() {
    let t = timestamp::parse_text("2022-01-01T11:00:00-01:00\"")
        .unwrap()
        .unwrap();
    assert_eq!(t.to_rfc3339(), "2022-01-01T12:00:00+00:00");
    assert!(timestamp::parse_text("yesterday").is_err());
}

#[derive(Debug, Deserialize)]
struct Names {
    #[serde(with = "string_list")]
    n: Vec<String>,
}

#[test]
fn string_lists_arrive_in_every_form() {
    let forms = [
        (r#"{"n":["a","b"]}"#, vec!["a", "b"]),
        (r#"{"n":"[\"a\",\"b\"]"}"#, vec!["a", "b"]),
        (r#"{"n":"a"}"#, vec!["a"]),
        (r#"{"n":null}"#, vec![]),
        (r#"{"n":""}"#, vec![]),
    ];
    for (json, want) in forms {
        let got: Names = serde_json::from_str(json).unwrap();
        assert_eq!(got.n, want, "{json}");
    }
    assert!(serde_json::from_str::<Names>(r#"{"n":"[broken"}"#).is_err());
    assert!(serde_json::from_str::<Names>(r#"{"n":{}}"#).is_err());
}

proptest! {
    #[test]
    fn quantities_parse_alike_as_text_and_number(n in any::<u32>()) {
        let native = probe(&format!(r#"{{"q":{n}}}"#)).unwrap().q;
        let text = probe(&format!(r#"{{"q":"{n}"}}"#)).unwrap().q;
        prop_assert_eq!(native, Some(n));
        prop_assert_eq!(text, Some(n));
    }

    #[test]
    fn flags_parse_alike_as_text_and_native(b in any::<bool>()) {
        prop_assert_eq!(probe(&format!(r#"{{"b":{b}}}"#)).unwrap().b, Some(b));
        prop_assert_eq!(probe(&format!(r#"{{"b":"{b}"}}"#)).unwrap().b, Some(b));
    }

    #[test]
    fn money_parses_alike_as_text_and_number(units in 0i64..10_000_000, cents in 0u32..100) {
        let text = format!("{units}.{cents:02}");
        let from_text = probe(&format!(r#"{{"d":"{text}"}}"#)).unwrap().d.unwrap();
        let from_number = probe(&format!(r#"{{"d":{text}}}"#)).unwrap().d.unwrap();
        prop_assert_eq!(from_text, Decimal::from_str(&text).unwrap());
        prop_assert_eq!(from_text.normalize(), from_number.normalize());
    }

    #[test]
    fn non_numeric_text_is_an_error_for_numbers(s in "[a-zA-Z ,;:!?]{1,12}") {
        prop_assume!(!is_null_text(&s));
        let json = serde_json::json!({"q": s.clone(), "d": s}).to_string();
        prop_assert!(probe(&json).is_err());
    }

    #[test]
    fn arbitrary_scalars_never_panic(s in "\\PC{0,24}") {
        for key in ["q", "b", "d", "s"] {
            let json = serde_json::json!({ key: s.clone() }).to_string();
            let _ = probe(&json);
        }
    }
}
