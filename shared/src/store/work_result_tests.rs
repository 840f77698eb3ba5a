use super::*;

#[test]
fn a_work_result_is_stored_as_the_records_always_were() {
    let failed = WorkResult::Failed("refused".into());
    assert_eq!(failed.to_json(), serde_json::json!({"failed": "refused"}));
    assert_eq!(
        WorkResult::Done("mirror_order".into()).to_json(),
        serde_json::json!({"done": "mirror_order"})
    );
    assert!(is_failure_result(r#"{"failed": "refused"}"#));
    assert!(!is_failure_result(r#"{"done": "x"}"#));
    assert!(!is_failure_result("not json"));
}
