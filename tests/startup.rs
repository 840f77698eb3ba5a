//! Each function starts as deployed, its secret references resolved from SSM and Secrets Manager (moto)
//! with its own name on each request: the role test (`roles.rs`) holds these requests, with every other
//! request of the suite, to the roles in the template. One test in this binary: it sets the process's
//! environment, as Lambda does.

use orderbridge::caller::Function;
use orderbridge::secrets::{Direct, SecretResolver};
use orderbridge_e2e::iam::deployed_parameters;

/// Stores `value` under `reference` (`ssm:/…` or `secretsmanager:…`) as an operator would.
async fn store(direct: &Direct, reference: &str, value: &str) {
    let http = reqwest::Client::new();
    let (service, target, body) = if let Some(name) = reference.strip_prefix("ssm:") {
        (
            "ssm",
            "AmazonSSM.PutParameter",
            serde_json::json!({"Name": name, "Value": value, "Type": "SecureString", "Overwrite": true}),
        )
    } else {
        let id = reference.strip_prefix("secretsmanager:").unwrap();
        (
            "secretsmanager",
            "secretsmanager.CreateSecret",
            serde_json::json!({"Name": id, "SecretString": value}),
        )
    };
    let (status, answer) = direct
        .post_json(
            &http,
            service,
            target,
            "application/x-amz-json-1.1",
            body.to_string(),
        )
        .await
        .unwrap();
    assert!(
        status.is_success() || String::from_utf8_lossy(&answer).contains("ResourceExists"),
        "{reference}: {status} {}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn each_function_starts_with_its_secrets_read_under_its_own_name() {
    orderbridge_e2e::needs_moto();
    let p = deployed_parameters();
    let operator = Direct::from_env();
    let key = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/tests/fixtures/google/test-service-account.json"
    ))
    .unwrap();
    let webhook: Vec<&str> = p["GenstoreWebhookSecrets"].split(',').collect();
    for (reference, value) in [
        (p["GenstoreAccessToken"], "genstore-token-value"),
        (webhook[0], "webhook-secret-value"),
        (webhook[1], "webhook-secret-next-value"),
        (p["ZonosSecret"], "5b9a1f2e-0d6c-4c1e-9a57-3c2b1d0e9f11"),
        (p["GoogleServiceAccount"], key.as_str()),
    ] {
        store(&operator, reference, value).await;
    }

    // The environment the template gives each function (the secret settings are references).
    for (name, value) in [
        ("ORDERS_TABLE", "startup-orders"),
        ("SYNC_QUEUE_URL", "http://127.0.0.1/123456789012/startup"),
        ("GENSTORE_API_URL", p["GenstoreApiUrl"]),
        ("GENSTORE_ACCESS_TOKEN", p["GenstoreAccessToken"]),
        ("GENSTORE_WEBHOOK_SECRETS", p["GenstoreWebhookSecrets"]),
        ("ZONOS_STORE_ID", p["ZonosStoreId"]),
        ("ZONOS_SECRET", p["ZonosSecret"]),
        ("GOOGLE_MERCHANT_ID", p["GoogleMerchantId"]),
        ("GOOGLE_SERVICE_ACCOUNT", p["GoogleServiceAccount"]),
    ] {
        std::env::set_var(name, value);
    }
    std::env::remove_var("SECRETS_VIA");

    let ingest = webhook_ingest::config::Config::from_env(&SecretResolver::for_function(
        Function::WebhookIngest,
    ))
    .await
    .unwrap();
    assert_eq!(ingest.shops.len(), 1);
    assert!(ingest.shops[0].id.is_default());
    let secrets: Vec<&str> = ingest.shops[0].secrets.iter().map(|s| s.expose()).collect();
    assert_eq!(
        secrets,
        ["webhook-secret-value", "webhook-secret-next-value"]
    );

    let (poller, push) = poller_and_push_config().await;
    assert_eq!(push.len(), 1);
    for platforms in [&poller.platforms, &push[0].platforms] {
        assert!(
            platforms.genstore.is_some() && platforms.zonos.is_some() && platforms.google.is_some(),
            "{}",
            platforms.describe()
        );
    }

    // Several shops: the list in its SSM parameter, the new shop's secrets below the shops' path, the
    // default shop's where they were. Each function reads the list and only the secrets it uses.
    let path = p["ShopSecretsPath"];
    let eu = |name: &str| format!("ssm:{path}eu/{name}");
    for (reference, value) in [
        (eu("genstore-token"), "eu-genstore-token"),
        (eu("webhook-secret"), "eu-webhook-secret"),
        (eu("zonos-secret"), "6c0b2f3e-1d7d-4d2f-8b68-4d3c2e1f0a22"),
    ] {
        store(&operator, &reference, value).await;
    }
    let shops = serde_json::json!([
        {"id": "default", "GENSTORE_API_URL": p["GenstoreApiUrl"],
         "GENSTORE_ACCESS_TOKEN": p["GenstoreAccessToken"],
         "GENSTORE_WEBHOOK_SECRETS": p["GenstoreWebhookSecrets"],
         "ZONOS_STORE_ID": p["ZonosStoreId"], "ZONOS_SECRET": p["ZonosSecret"],
         "GOOGLE_MERCHANT_ID": p["GoogleMerchantId"], "GOOGLE_SERVICE_ACCOUNT": p["GoogleServiceAccount"]},
        {"id": "eu", "GENSTORE_API_URL": "https://eu.genmystore.com",
         "GENSTORE_ACCESS_TOKEN": eu("genstore-token"), "GENSTORE_WEBHOOK_SECRETS": eu("webhook-secret"),
         "ZONOS_STORE_ID": "998", "ZONOS_SECRET": eu("zonos-secret")}
    ]);
    let list = format!("ssm:{}", p["ShopsParameter"]);
    store(&operator, &list, &shops.to_string()).await;
    std::env::set_var("SHOPS", &list);
    let ingest = webhook_ingest::config::Config::from_env(&SecretResolver::for_function(
        Function::WebhookIngest,
    ))
    .await
    .unwrap();
    let eu_keys = ingest.shops.iter().find(|s| s.id.as_str() == "eu").unwrap();
    assert_eq!(eu_keys.secrets[0].expose(), "eu-webhook-secret");
    assert_eq!(eu_keys.shop_domain.as_deref(), Some("eu.genmystore.com"));
    let (poller, push) = poller_and_push_config().await;
    for shops in [&poller.shops, &push] {
        assert_eq!(shops.len(), 2);
        let eu = shops.iter().find(|s| s.id.as_str() == "eu").unwrap();
        assert!(eu.platforms.genstore.is_some() && eu.platforms.zonos.is_some());
        assert!(eu.platforms.google.is_none(), "not fed by Google");
    }

    // A shop added to the parameter is served without a restart: each function reads the list again
    // once its reload interval has passed, through the loaders its Lambda `main` uses; a list that
    // does not read keeps the last good one.
    let every = std::time::Duration::from_millis(300);
    let root: std::sync::Arc<dyn orderbridge::store::Storage> =
        std::sync::Arc::new(orderbridge::store::embedded::EmbeddedStore::new(
            orderbridge::store::embedded::Db::in_memory().unwrap(),
            std::sync::Arc::new(orderbridge::clock::SystemClock),
        ));
    use orderbridge::config::Reloading;
    let ingest_live = Reloading::new(ingest.shops.clone(), every);
    let poller_live = Reloading::new(
        order_poller::config::clients_of(&poller.shops, &root).unwrap(),
        every,
    );
    let push_clients: Vec<_> = push
        .iter()
        .map(|s| s.clients(&root, 0.0).unwrap())
        .collect();
    let push_live = Reloading::new(push_clients, every);
    let us = |name: &str| format!("ssm:{path}us/{name}");
    for (reference, value) in [
        (us("genstore-token"), "us-genstore-token"),
        (us("webhook-secret"), "us-webhook-secret"),
    ] {
        store(&operator, &reference, value).await;
    }
    let mut three = shops.as_array().unwrap().clone();
    three.push(serde_json::json!(
        {"id": "us", "GENSTORE_API_URL": "https://us.genmystore.com",
         "GENSTORE_ACCESS_TOKEN": us("genstore-token"), "GENSTORE_WEBHOOK_SECRETS": us("webhook-secret")}
    ));
    store(
        &operator,
        &list,
        &serde_json::Value::Array(three).to_string(),
    )
    .await;
    let ids = |ids: Vec<&orderbridge::shop::ShopId>| -> Vec<String> {
        ids.into_iter().map(|i| i.to_string()).collect()
    };
    let now_ingest = ingest_live.get(webhook_ingest::config::reload_shops).await;
    assert_eq!(
        ids(now_ingest.iter().map(|s| &s.id).collect()),
        ["default", "eu"],
        "not read again before the interval"
    );
    tokio::time::sleep(every).await;
    let now_ingest = ingest_live.get(webhook_ingest::config::reload_shops).await;
    let us_keys = now_ingest.iter().find(|s| s.id.as_str() == "us").unwrap();
    assert_eq!(us_keys.secrets[0].expose(), "us-webhook-secret");
    let now_poller = poller_live
        .get(|| order_poller::config::reload_shops(root.clone()))
        .await;
    let now_push = push_live
        .get(|| fulfillment_push::config::reload_shops(root.clone()))
        .await;
    for live in [&now_poller.0, &now_poller.1, &*now_push] {
        assert_eq!(
            ids(live.iter().map(|s| &s.id).collect()),
            ["default", "eu", "us"]
        );
    }
    // A broken edit: the functions keep serving the three shops.
    store(&operator, &list, "[{\"id\": ").await;
    tokio::time::sleep(every).await;
    let kept = ingest_live.get(webhook_ingest::config::reload_shops).await;
    assert_eq!(kept.len(), 3, "the last good list is kept");
    let kept = push_live
        .get(|| fulfillment_push::config::reload_shops(root.clone()))
        .await;
    assert_eq!(kept.len(), 3);
    std::env::remove_var("SHOPS");
}

/// What the poller and fulfillment-push read of the environment, each with its own resolver.
async fn poller_and_push_config() -> (order_poller::config::Config, Vec<orderbridge::config::Shop>)
{
    let poller_resolver = SecretResolver::for_function(Function::OrderPoller);
    let poller = order_poller::config::Config::from_env(&poller_resolver)
        .await
        .unwrap();
    let push = orderbridge::config::shops_from_env(
        &SecretResolver::for_function(Function::FulfillmentPush),
        orderbridge::config::Needs::Platforms,
    )
    .await
    .unwrap();
    (poller, push)
}
