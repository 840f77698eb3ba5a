//! Each function's role in the SAM template allows every AWS action its code issues, on the resources it
//! issues them on, and nothing more. moto enforces no IAM; this does, from what moto received.
//!
//! `scripts/with-moto` switches moto's recorder on; `scripts/test` runs the whole suite (the chaos run's
//! short version included), then the check below against everything the functions sent. The other tests
//! here show the check itself can fail: on a call the role lacks, and on a grant nothing uses.

use orderbridge::caller::Function;
use orderbridge_e2e::iam::{
    calls_of, check, deployed_parameters, template, Call, Recording, Roles,
};
use serde_json::json;
use std::collections::BTreeSet;

fn roles() -> Roles {
    Roles::evaluate(&template(), &deployed_parameters()).unwrap()
}

fn auth(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=testing/20261204/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=00"
    )
}

fn call(function: Function, service: &str, target: &str, body: serde_json::Value) -> Vec<Call> {
    calls_of(
        function,
        Some(&auth(service)),
        Some(target),
        body.to_string().as_bytes(),
    )
    .unwrap()
}

/// The recording of the whole suite (`scripts/test` runs this last, with the recording's path).
#[test]
#[ignore = "reads what the whole suite sent: scripts/test runs it after every other test"]
fn every_call_of_the_suite_is_allowed_by_its_role_and_every_grant_is_used() {
    let path = std::env::var("ORDERBRIDGE_AWS_RECORDING")
        .expect("ORDERBRIDGE_AWS_RECORDING names moto's recording: run scripts/test");
    let text = std::fs::read_to_string(&path).unwrap();
    let recording = Recording::read(&text);
    assert!(
        recording.unreadable.is_empty(),
        "requests this check cannot place: {:#?}",
        recording.unreadable
    );
    for f in Function::ALL {
        let n = recording.calls.iter().filter(|c| c.function == f).count();
        assert!(
            n > 0,
            "no request of {f} was recorded: is it named (app/{f})?"
        );
    }
    let findings = check(&roles(), &recording.calls);
    println!(
        "roles: {} requests recorded, {} by the functions, {} distinct calls; refused {}, unused {}",
        recording.requests,
        recording.by_functions,
        recording.calls.len(),
        findings.refused.len(),
        findings.unused.len()
    );
    for c in &recording.calls {
        println!("  {} {} {}", c.function, c.action, c.resource);
    }
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn a_call_the_role_does_not_allow_is_found() {
    // webhook-ingest never scans the table, and never reads the Zonos secret.
    let mut calls: BTreeSet<Call> = call(
        Function::WebhookIngest,
        "dynamodb",
        "DynamoDB_20120810.Scan",
        json!({"TableName": "any"}),
    )
    .into_iter()
    .collect();
    calls.extend(call(
        Function::WebhookIngest,
        "secretsmanager",
        "secretsmanager.GetSecretValue",
        json!({"SecretId": "orderbridge/zonos-secret"}),
    ));
    let findings = check(&roles(), &calls);
    assert_eq!(findings.refused.len(), 2, "{findings:#?}");
    assert!(
        findings.refused[0].contains("dynamodb:Scan"),
        "{findings:#?}"
    );
}

#[test]
fn a_grant_nothing_uses_is_found() {
    // No calls at all: every grant but the Lambda service's own log writes is unused.
    let findings = check(&roles(), &BTreeSet::new());
    assert!(findings.refused.is_empty());
    for f in Function::ALL {
        assert!(
            findings.unused.iter().any(|u| u.starts_with(f.as_str())),
            "{f}: {findings:#?}"
        );
    }
    assert!(
        !findings.unused.iter().any(|u| u.contains("logs:")),
        "{findings:#?}"
    );

    // A template whose webhook-ingest role also allows Scan: the extra grant is named.
    let mut t = template();
    let statements = &mut t["Resources"]["WebhookIngestRole"]["Properties"]["Policies"][0]
        ["PolicyDocument"]["Statement"];
    statements
        .as_array_mut()
        .unwrap()
        .push(json!({"Effect": "Allow", "Action": ["dynamodb:Scan"], "Resource": {"Fn::GetAtt": ["OrdersTable", "Arn"]}}));
    let wider = Roles::evaluate(&t, &deployed_parameters()).unwrap();
    let findings = check(&wider, &BTreeSet::new());
    assert!(
        findings
            .unused
            .iter()
            .any(|u| u.starts_with("webhook-ingest") && u.contains("dynamodb:Scan")),
        "{findings:#?}"
    );
}

#[test]
fn calls_are_what_iam_authorizes_not_what_the_sdk_sends() {
    let f = Function::WebhookIngest;
    let actions = |calls: Vec<Call>| -> Vec<String> {
        calls
            .into_iter()
            .map(|c| format!("{} {}", c.action, c.resource))
            .collect()
    };
    assert_eq!(
        actions(call(
            f,
            "dynamodb",
            "DynamoDB_20120810.TransactWriteItems",
            json!({"TransactItems": [
                {"Put": {"TableName": "t1", "Item": {}}},
                {"ConditionCheck": {"TableName": "t1", "Key": {}}},
                {"Delete": {"TableName": "t1", "Key": {}}}
            ]})
        )),
        [
            "dynamodb:PutItem arn:aws:dynamodb:us-east-1:123456789012:table/OrdersTable",
            "dynamodb:ConditionCheckItem arn:aws:dynamodb:us-east-1:123456789012:table/OrdersTable",
            "dynamodb:DeleteItem arn:aws:dynamodb:us-east-1:123456789012:table/OrdersTable",
        ]
    );
    assert_eq!(
        actions(call(
            f,
            "dynamodb",
            "DynamoDB_20120810.Query",
            json!({"TableName": "t1", "IndexName": "by-genstore"})
        )),
        ["dynamodb:Query arn:aws:dynamodb:us-east-1:123456789012:table/OrdersTable/index/by-genstore"]
    );
    assert_eq!(
        actions(call(
            f,
            "sqs",
            "AmazonSQS.SendMessageBatch",
            json!({"QueueUrl": "http://127.0.0.1:5000/123456789012/e2e-x-dlq", "Entries": []})
        )),
        ["sqs:SendMessage arn:aws:sqs:us-east-1:123456789012:SyncDeadLetterQueue"]
    );
    // A request with no function's name is no function's; one naming a function is read.
    let line = |ua: &str| {
        json!({"headers": {"User-Agent": ua, "Authorization": auth("sqs"), "X-Amz-Target": "AmazonSQS.DeleteMessage"},
               "method": "POST", "url": "/", "body": "{\"QueueUrl\": \"http://h/1/q\"}", "body_encoded": false})
        .to_string()
    };
    let r = Recording::read(&format!(
        "{}\n{}\n",
        line("aws-sdk-rust/1.3 os/linux"),
        line("aws-sdk-rust/1.3 os/linux app/fulfillment-push")
    ));
    assert_eq!((r.requests, r.by_functions), (2, 1));
    assert_eq!(
        actions(r.calls.into_iter().collect()),
        ["sqs:DeleteMessage arn:aws:sqs:us-east-1:123456789012:SyncQueue"]
    );
}

/// The check does not ask fulfillment-push's code to receive from, delete on or read the attributes of
/// the sync queue: its SQS trigger does that with its role. So the trigger must be there.
#[test]
fn the_push_functions_queue_grants_serve_its_sqs_trigger() {
    let t = template();
    let event = &t["Resources"]["FulfillmentPushFunction"]["Properties"]["Events"]["SyncQueue"];
    assert_eq!(event["Type"], "SQS");
    assert_eq!(
        event["Properties"]["Queue"]["Fn::GetAtt"],
        json!(["SyncQueue", "Arn"])
    );
}
