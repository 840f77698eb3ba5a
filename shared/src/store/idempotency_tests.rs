use super::*;

fn at(secs: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp(secs, 0).unwrap()
}

fn record(state: RecordState, result: Option<&str>) -> IdempotencyRecord {
    IdempotencyRecord {
        state,
        payload_hash: "h1".into(),
        owner: Some("o1".into()),
        result: result.map(str::to_owned),
        in_progress_until: at(100),
        until: at(1_000),
    }
}

#[test]
fn a_work_result_is_stored_as_the_records_always_were() {
    let failed = WorkResult::Failed("refused".into());
    assert_eq!(failed.to_json(), serde_json::json!({"failed": "refused"}));
    assert_eq!(
        WorkResult::Done("mirror_order".into()).to_json(),
        serde_json::json!({"done": "mirror_order"})
    );
    assert_eq!(WorkResult::read(Some(r#"{"failed": "refused"}"#)), failed);
    assert_eq!(
        WorkResult::read(Some(r#"{"done": "x"}"#)),
        WorkResult::Done("x".into())
    );
    // What this version cannot read counts as done: doing the work again is what the record prevents.
    assert_eq!(
        WorkResult::read(Some("null")),
        WorkResult::Done("null".into())
    );
    assert_eq!(WorkResult::read(None), WorkResult::Done(String::new()));
}

#[test]
fn no_record_an_expired_one_or_a_lapsed_claim_may_be_claimed() {
    assert_eq!(found(None, "k", "h1", at(50)), Found::Free);
    let claimed = record(RecordState::InProgress, None);
    assert_eq!(found(Some(&claimed), "k", "h1", at(101)), Found::Free);
    // Lapsed or expired, whatever payload it was for.
    assert_eq!(found(Some(&claimed), "k", "other", at(101)), Found::Free);
    let done = record(RecordState::Completed, Some(r#"{"done":"x"}"#));
    assert_eq!(found(Some(&done), "k", "h1", at(1_001)), Found::Free);
}

#[test]
fn a_record_that_holds_answers_the_claim() {
    let claimed = record(RecordState::InProgress, None);
    assert_eq!(
        found(Some(&claimed), "k", "h1", at(100)),
        Found::Held(Ok(Claim::InProgress { until: at(100) }))
    );
    let done = record(RecordState::Completed, Some(r#"{"failed":"no"}"#));
    // A completed record holds past its claim's lapse, until the record expires.
    assert_eq!(
        found(Some(&done), "k", "h1", at(500)),
        Found::Held(Ok(Claim::Completed(WorkResult::Failed("no".into()))))
    );
    assert_eq!(
        found(Some(&done), "k", "h2", at(500)),
        Found::Held(Err(IdempotencyError::PayloadMismatch { key: "k".into() }))
    );
}

#[test]
fn record_states_are_stored_as_they_always_were() {
    for state in [RecordState::InProgress, RecordState::Completed] {
        assert_eq!(RecordState::parse(state.as_str()), state);
    }
    assert_eq!(RecordState::InProgress.as_str(), "IN_PROGRESS");
    assert_eq!(RecordState::Completed.as_str(), "COMPLETED");
    assert_eq!(RecordState::parse("garbled"), RecordState::InProgress);
}
