//! The SAM template declares exactly the table and queues the provisioning code creates, and the
//! functions as the design card says (cargo-lambda, provided.al2023, arm64, the SQS settings).

#![allow(clippy::restriction)] // test code may panic: see [workspace.lints] in Cargo.toml

use orderbridge::store::provision::{GSIS, PK, QUEUE, SK, TTL_ATTRIBUTE};
use serde_yaml_ng::Value;

fn template() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../infra/template.yaml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A key schema: attribute and key type, in order.
type Keys = Vec<(String, String)>;

/// An index: name, keys, projection.
type Index = (String, Keys, String);

fn keys(schema: &Value) -> Keys {
    schema
        .as_sequence()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().to_owned(),
                k["KeyType"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_table_matches_what_provisioning_creates() {
    let t = template();
    let table = &t["Resources"]["OrdersTable"]["Properties"];
    assert_eq!(
        keys(&table["KeySchema"]),
        vec![
            (PK.to_owned(), "HASH".to_owned()),
            (SK.to_owned(), "RANGE".to_owned())
        ]
    );
    let mut declared: Vec<Index> = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["IndexName"].as_str().unwrap().to_owned(),
                keys(&g["KeySchema"]),
                g["Projection"]["ProjectionType"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    declared.sort();
    let mut wanted: Vec<Index> = GSIS
        .iter()
        .map(|g| {
            (
                g.name.to_owned(),
                vec![
                    (g.pk.to_owned(), "HASH".to_owned()),
                    (g.sk.to_owned(), "RANGE".to_owned()),
                ],
                "ALL".to_owned(),
            )
        })
        .collect();
    wanted.sort();
    assert_eq!(declared, wanted);
    let mut attrs: Vec<&str> = table["AttributeDefinitions"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a["AttributeName"].as_str().unwrap())
        .collect();
    attrs.sort();
    let mut want_attrs = vec![PK, SK];
    for g in GSIS {
        want_attrs.extend([g.pk, g.sk]);
    }
    want_attrs.sort();
    assert_eq!(attrs, want_attrs);
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"].as_str(),
        Some(TTL_ATTRIBUTE)
    );
    assert_eq!(table["BillingMode"].as_str(), Some("PAY_PER_REQUEST"));
    for (section, field) in [
        ("TimeToLiveSpecification", "Enabled"),
        (
            "PointInTimeRecoverySpecification",
            "PointInTimeRecoveryEnabled",
        ),
        ("SSESpecification", "SSEEnabled"),
    ] {
        assert_eq!(
            table[section][field].as_bool(),
            Some(true),
            "{section}.{field}"
        );
    }
}

#[test]
fn the_queues_match_what_provisioning_creates() {
    let t = template();
    let q = &t["Resources"]["SyncQueue"]["Properties"];
    let dlq = &t["Resources"]["SyncDeadLetterQueue"]["Properties"];
    for (what, got, want) in [
        (
            "VisibilityTimeout",
            &q["VisibilityTimeout"],
            QUEUE.visibility_timeout_secs,
        ),
        (
            "MaximumMessageSize",
            &q["MaximumMessageSize"],
            QUEUE.max_message_bytes,
        ),
        (
            "maxReceiveCount",
            &q["RedrivePolicy"]["maxReceiveCount"],
            QUEUE.max_receive_count,
        ),
        (
            "MessageRetentionPeriod",
            &q["MessageRetentionPeriod"],
            QUEUE.retention_secs,
        ),
        (
            "the DLQ's MessageRetentionPeriod",
            &dlq["MessageRetentionPeriod"],
            QUEUE.dlq_retention_secs,
        ),
    ] {
        assert_eq!(got.as_u64(), Some(u64::from(want)), "{what}");
    }
    let push = &t["Resources"]["FulfillmentPushFunction"]["Properties"];
    let timeout = push["Timeout"].as_u64().unwrap();
    assert!(
        u64::from(QUEUE.visibility_timeout_secs) >= 6 * timeout,
        "visibility at least 6x the consumer's timeout"
    );
    let source = &push["Events"]["SyncQueue"]["Properties"];
    assert_eq!(
        source["FunctionResponseTypes"][0].as_str(),
        Some("ReportBatchItemFailures")
    );
    assert!(source["BatchSize"].as_u64().unwrap() <= 10);
    assert!(
        source["ScalingConfig"]["MaximumConcurrency"]
            .as_u64()
            .is_some(),
        "bounded concurrency"
    );
}

#[test]
fn the_functions_are_built_with_cargo_lambda_for_arm64() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(globals["Architectures"][0].as_str(), Some("arm64"));
    for (resource, binary) in [
        ("WebhookIngestFunction", "webhook-ingest"),
        ("OrderPollerFunction", "order-poller"),
        ("FulfillmentPushFunction", "fulfillment-push"),
    ] {
        let f = &t["Resources"][resource];
        assert_eq!(
            f["Metadata"]["BuildMethod"].as_str(),
            Some("rust-cargolambda"),
            "{resource}"
        );
        assert_eq!(
            f["Metadata"]["BuildProperties"]["Binary"].as_str(),
            Some(binary),
            "{resource}"
        );
        assert!(
            f["Properties"]["Role"].is_mapping(),
            "{resource} has its own role"
        );
    }
    // The configuration contract's names, as the functions read them: each function its own.
    for f in [
        "WebhookIngestFunction",
        "OrderPollerFunction",
        "FulfillmentPushFunction",
    ] {
        let env = &t["Resources"][f]["Properties"]["Environment"]["Variables"];
        for name in ["ORDERS_TABLE", "SYNC_QUEUE_URL", "GENSTORE_API_URL"] {
            assert!(!env[name].is_null(), "{f}: {name} is set");
        }
    }
    for f in ["OrderPollerFunction", "FulfillmentPushFunction"] {
        let env = &t["Resources"][f]["Properties"]["Environment"]["Variables"];
        for name in [
            "GENSTORE_ACCESS_TOKEN",
            "ZONOS_STORE_ID",
            "ZONOS_SECRET",
            "GOOGLE_MERCHANT_ID",
            "GOOGLE_SERVICE_ACCOUNT",
        ] {
            assert!(!env[name].is_null(), "{f}: {name} is set");
        }
    }
}

#[test]
fn no_role_grants_every_action_or_a_secret_in_plain_text() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../infra/template.yaml"
    ))
    .unwrap();
    let t = template();
    for (name, r) in t["Resources"].as_mapping().unwrap() {
        if r["Type"].as_str() != Some("AWS::IAM::Role") {
            continue;
        }
        for policy in r["Properties"]["Policies"].as_sequence().unwrap() {
            let all = policy["PolicyDocument"]["Statement"].as_sequence().unwrap();
            for st in all.iter().flat_map(statements) {
                for action in st["Action"].as_sequence().unwrap() {
                    let a = action.as_str().unwrap();
                    assert!(!a.contains('*'), "{name:?}: wildcard action {a}");
                }
                assert_ne!(
                    st["Resource"].as_str(),
                    Some("*"),
                    "{name:?}: every resource"
                );
            }
        }
    }
    for secret in ["GenstoreAccessToken", "GenstoreWebhookSecrets"] {
        let pattern = t["Parameters"][secret]["AllowedPattern"].as_str().unwrap();
        assert!(
            pattern.contains("ssm:") && pattern.contains("secretsmanager:"),
            "{secret} takes references only"
        );
    }
    assert!(!text.contains("NoEcho: false"));
}

/// The statements a policy entry may come to: itself, or, under a condition
/// (`Fn::If: [condition, statement, statement or AWS::NoValue]`), each branch's, however nested.
fn statements(st: &Value) -> Vec<&Value> {
    match st.get("Fn::If") {
        Some(branches) => branches
            .as_sequence()
            .unwrap()
            .iter()
            .skip(1)
            .filter(|b| b.get("Ref").is_none())
            .flat_map(statements)
            .collect(),
        None => vec![st],
    }
}

/// Everything a role's policies name, as one text (to look for references in).
fn policy_text(t: &Value, role: &str) -> String {
    serde_json::to_string(
        &serde_json::to_value(&t["Resources"][role]["Properties"]["Policies"]).unwrap(),
    )
    .unwrap()
}

fn environment(t: &Value, function: &str) -> Vec<String> {
    t["Resources"][function]["Properties"]["Environment"]["Variables"]
        .as_mapping()
        .map(|m| {
            m.keys()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn each_role_reads_exactly_the_secrets_its_function_uses() {
    let t = template();
    let ingest = policy_text(&t, "WebhookIngestRole");
    let poller = policy_text(&t, "OrderPollerRole");
    let push = policy_text(&t, "FulfillmentPushRole");
    // The internet-facing function can read the webhook secrets and nothing else.
    assert!(ingest.contains("GenstoreWebhookSecrets"), "{ingest}");
    for other in ["ZonosSecret", "GoogleServiceAccount", "GenstoreAccessToken"] {
        assert!(!ingest.contains(other), "webhook-ingest may read {other}");
    }
    for (name, role) in [("order-poller", &poller), ("fulfillment-push", &push)] {
        for used in ["ZonosSecret", "GoogleServiceAccount", "GenstoreAccessToken"] {
            assert!(role.contains(used), "{name} cannot read {used}");
        }
        assert!(
            !role.contains("GenstoreWebhookSecrets"),
            "{name} may read the webhook secrets"
        );
    }
    // No wildcard over the secrets: each grant names one parameter or secret.
    for role in [&ingest, &poller, &push] {
        assert!(!role.contains("parameter/orderbridge/*"), "{role}");
        assert!(!role.contains("secret:orderbridge/*"), "{role}");
        assert!(
            !role.contains("log-group:/aws/lambda/*"),
            "logs by the group's ARN"
        );
    }
    // Each function's environment carries only its own settings.
    let ingest_env = environment(&t, "WebhookIngestFunction");
    for secret in [
        "ZONOS_SECRET",
        "GOOGLE_SERVICE_ACCOUNT",
        "GENSTORE_ACCESS_TOKEN",
    ] {
        assert!(!ingest_env.iter().any(|v| v == secret), "{ingest_env:?}");
    }
    for f in ["OrderPollerFunction", "FulfillmentPushFunction"] {
        let env = environment(&t, f);
        assert!(
            !env.iter().any(|v| v == "GENSTORE_WEBHOOK_SECRETS"),
            "{f}: {env:?}"
        );
        assert!(env.iter().any(|v| v == "ZONOS_SECRET"), "{f}: {env:?}");
    }
    assert!(
        t["Globals"]["Function"]["Environment"].is_null(),
        "no shared environment"
    );
}

#[test]
fn every_secret_parameter_takes_a_reference_only() {
    let t = template();
    for p in [
        "GenstoreAccessToken",
        "GenstoreWebhookSecrets",
        "ZonosSecret",
        "GoogleServiceAccount",
    ] {
        let pattern = t["Parameters"][p]["AllowedPattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{p} has no AllowedPattern"));
        assert!(
            pattern.contains("ssm:/orderbridge/")
                && pattern.contains("secretsmanager:orderbridge/"),
            "{p}: {pattern}"
        );
    }
}

/// The dashboard's body is JSON once its `${…}` are substituted, and shows every metric the functions
/// publish; the alarms watch the metrics an on-call engineer acts on, by the names the code publishes.
#[test]
fn the_dashboard_and_alarms_read_the_metrics_the_functions_publish() {
    let t = template();
    let r = &t["Resources"];
    let sub = r["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
        .as_sequence()
        .unwrap();
    let mut body = sub[0].as_str().unwrap().to_owned();
    for name in [
        "AWS::Region",
        "PollLagAlarmSeconds",
        "Queue",
        "DeadLetters",
        "Ingest",
        "Poller",
        "Push",
    ] {
        let value = if name == "PollLagAlarmSeconds" {
            "1800"
        } else {
            "x"
        };
        body = body.replace(&format!("${{{name}}}"), value);
    }
    assert!(
        !body.contains("${"),
        "every substitution is declared: {body}"
    );
    let dashboard: serde_json::Value =
        serde_json::from_str(&body).expect("the dashboard body is JSON");
    let text = dashboard.to_string();
    for metric in [
        "Webhooks",
        "Jobs",
        "OrdersImported",
        "OrdersMirrored",
        "PollLag",
        "PlatformCalls",
        "PlatformThrottled",
        "PlatformServerErrors",
        "HandlerLatency",
    ] {
        assert!(
            text.contains(&format!("\\\"{metric}\\\"")),
            "the dashboard shows {metric}"
        );
    }
    assert!(
        text.contains("orderbridge,Shop,Outcome"),
        "the dashboard has rows by shop"
    );
    let watched =
        |alarm: &str| serde_json::to_string(&serde_yaml_to_json(&r[alarm]["Properties"])).unwrap();
    assert!(watched("PlatformThrottlingAlarm").contains("PlatformThrottled"));
    assert!(watched("PollerBehindAlarm").contains("PollLag"));
    let rejections = watched("WebhookRejectionsAlarm");
    assert!(rejections.contains("\"Webhooks\"") && rejections.contains("rejected"));
    assert!(watched("DeadLettersAlarm").contains("SyncDeadLetterQueue"));
    // A held delivery (answered 2xx, never applied) and a failed one (503) are each alarmed: neither
    // fails the function, so its Errors alarm never sees them.
    for (alarm, outcome) in [
        ("WebhookHeldAlarm", "held"),
        ("WebhookFailuresAlarm", "failed"),
    ] {
        let w = watched(alarm);
        assert!(
            w.contains("\"Webhooks\"") && w.contains(&format!("\"{outcome}\"")),
            "{alarm}: {w}"
        );
    }
    // Webhooks that stopped arriving: reconciliation's count of orders no webhook delivered.
    let missed = watched("WebhooksMissedAlarm");
    assert!(
        missed.contains("\"WebhooksMissed\"") && missed.contains("\"genstore\""),
        "{missed}"
    );
    for alarm in [
        "PlatformThrottlingAlarm",
        "PollerBehindAlarm",
        "WebhookRejectionsAlarm",
        "WebhookHeldAlarm",
        "WebhookFailuresAlarm",
        "WebhooksMissedAlarm",
    ] {
        assert_eq!(
            r[alarm]["Properties"]["AlarmActions"]["Fn::If"][0].as_str(),
            Some("HasAlarmTopic"),
            "{alarm} notifies the alarm topic"
        );
    }
}

fn serde_yaml_to_json(v: &Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap()
}

/// The topics the stack tells the merchant to register are exactly the ones webhook-ingest handles.
#[test]
fn the_webhook_topics_output_lists_every_topic_handled() {
    let t = template();
    let listed: Vec<String> = t["Outputs"]["WebhookTopics"]["Value"]
        .as_str()
        .unwrap()
        .split(',')
        .map(|s| s.trim().to_owned())
        .collect();
    let handled: Vec<String> = orderbridge::channels::genstore::webhook::Topic::KNOWN
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect();
    assert_eq!(listed, handled);
}

/// Every request to a platform carries a credential: the stack takes https platform URLs only.
#[test]
fn platform_urls_must_be_https() {
    let t = template();
    for name in ["GenstoreApiUrl", "ZonosApiUrl", "GoogleApiUrl"] {
        let pattern = t["Parameters"][name]["AllowedPattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} has no AllowedPattern"));
        assert!(pattern.starts_with("^https://"), "{name}: {pattern}");
        if let Some(default) = t["Parameters"][name]["Default"].as_str() {
            assert!(default.starts_with("https://"), "{name}: {default}");
        }
    }
}
