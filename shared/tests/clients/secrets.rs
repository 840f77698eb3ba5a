//! Secret references resolved through the Lambda extension, signed requests to SSM and Secrets
//! Manager without it, and moto's.

use super::*;

/// The Genstore token (SSM) and the Zonos secret (Secrets Manager) resolve to `want`, read twice (the
/// second time from the cache).
async fn resolves_twice(r: &SecretResolver, want: [&str; 2]) {
    for _ in 0..2 {
        let got = [
            resolved(r, "ssm:/orderbridge/genstore-token").await,
            resolved(r, "secretsmanager:orderbridge/zonos").await,
        ];
        assert_eq!(got, want);
    }
}

/// What `reference` resolves to.
async fn resolved(r: &SecretResolver, reference: &str) -> String {
    r.resolve(reference).await.unwrap().expose().to_owned()
}

#[tokio::test]
async fn secret_references_resolve_through_the_extension_once() {
    let server = MockServer::start().await;
    answer_once(
        &server,
        Mock::given(method("GET"))
            .and(path("/systemsmanager/parameters/get"))
            .and(query_param("name", "/orderbridge/genstore-token"))
            .and(query_param("withDecryption", "true"))
            .and(header("X-Aws-Parameters-Secrets-Token", "session-token")),
        200,
        json!({"Parameter": {"Name": "/orderbridge/genstore-token", "Value": "shpat_from_ssm"}}),
    )
    .await;
    let secret = |id: &str| {
        let get = Mock::given(method("GET")).and(path("/secretsmanager/get"));
        get.and(query_param("secretId", id))
    };
    let zonos = json!({"Name": "orderbridge/zonos", "SecretString": "guid-from-sm"});
    answer_once(&server, secret("orderbridge/zonos"), 200, zonos).await;
    answer(&server, secret("missing"), 400, json!({})).await;
    let r = SecretResolver::new(server.uri(), Some(Secret::new("session-token")));
    resolves_twice(&r, ["shpat_from_ssm", "guid-from-sm"]).await;
    assert_eq!(
        r.resolve("plain-value").await.unwrap().expose(),
        "plain-value"
    );
    let err = r.resolve("secretsmanager:missing").await.unwrap_err();
    assert!(
        err.to_string().contains("secretsmanager:missing") && err.to_string().contains("400"),
        "{err}"
    );
}

fn direct(endpoint: String) -> orderbridge::secrets::Direct {
    orderbridge::secrets::Direct {
        region: "eu-west-1".into(),
        endpoint: Some(endpoint),
        access_key_id: "AKIDTEST".into(),
        secret_access_key: Secret::new("not-a-real-key"),
        session_token: Some(Secret::new("session-token")),
        function: None,
    }
}

/// Without the extension, references are read from SSM and Secrets Manager themselves: the services'
/// JSON protocol (`X-Amz-Target`), signed with SigV4 for the right service and region with the
/// function's temporary credentials; an error names the service's error type, never a value.
#[tokio::test]
async fn secrets_are_read_from_the_services_signed_without_the_extension() {
    let server = MockServer::start().await;
    answer_once(&server, Mock::given(method("POST")).and(path("/")).and(header("x-amz-target", "AmazonSSM.GetParameter")).and(header("content-type", "application/x-amz-json-1.1")).and(header("x-amz-security-token", "session-token")).and(body_json(json!({"Name": "/orderbridge/genstore-token", "WithDecryption": true}))), 200, 
            json!({"Parameter": {"Name": "/orderbridge/genstore-token", "Type": "SecureString", "Value": "shpat_direct"}}),
        ).await;
    Mock::given(method("POST"))
        .and(path("/"))
        .and(header("x-amz-target", "secretsmanager.GetSecretValue"))
        .and(body_json(json!({"SecretId": "orderbridge/zonos"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"Name": "orderbridge/zonos", "SecretString": "guid-direct"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    answer(&server, Mock::given(method("POST")).and(path("/")).and(body_json(json!({"SecretId": "orderbridge/missing"}))), 400, 
            json!({"__type": "com.amazonaws.secretsmanager#ResourceNotFoundException", "Message": "Secrets Manager can't find orderbridge/missing"}),
        ).await;
    let r = SecretResolver::direct(direct(server.uri()));
    resolves_twice(&r, ["shpat_direct", "guid-direct"]).await;
    let requests = server.received_requests().await.unwrap();
    let auth = |target: &str| -> String {
        requests
            .iter()
            .find(|q| q.headers.get("x-amz-target").and_then(|v| v.to_str().ok()) == Some(target))
            .and_then(|q| q.headers.get("authorization"))
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let ssm = auth("AmazonSSM.GetParameter");
    assert!(
        ssm.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/")
            && ssm.contains("/eu-west-1/ssm/aws4_request"),
        "{ssm}"
    );
    assert!(
        ssm.contains("SignedHeaders=") && ssm.contains("x-amz-target"),
        "{ssm}"
    );
    let sm = auth("secretsmanager.GetSecretValue");
    assert!(
        sm.contains("/eu-west-1/secretsmanager/aws4_request"),
        "{sm}"
    );
    let err = r
        .resolve("secretsmanager:orderbridge/missing")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("ResourceNotFoundException") && err.contains("400"),
        "{err}"
    );
    assert!(
        !err.contains("can't find"),
        "the service's message is not repeated: {err}"
    );
}

/// The same against moto's SSM and Secrets Manager (real emulators of the services' protocol).
#[tokio::test]
async fn secrets_are_read_from_moto_ssm_and_secrets_manager() {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") else {
        panic!("run scripts/test, which starts moto");
    };
    // Each request names its service in the credential scope; moto does not check the signature.
    let put = |service: &'static str, target: &'static str, body: Value| {
        let endpoint = endpoint.clone();
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x"
        );
        async move {
            let r = reqwest::Client::new()
                .post(format!("{endpoint}/"))
                .header("x-amz-target", target)
                .header("content-type", "application/x-amz-json-1.1")
                .header("authorization", auth)
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            assert!(
                r.status().is_success(),
                "{target}: {}",
                r.text().await.unwrap()
            );
        }
    };
    let name = format!("/orderbridge/test-{}", std::process::id());
    put(
        "ssm",
        "AmazonSSM.PutParameter",
        json!({"Name": name, "Value": "from-moto-ssm", "Type": "SecureString", "Overwrite": true}),
    )
    .await;
    let secret = format!("orderbridge/test-{}", std::process::id());
    put(
        "secretsmanager",
        "secretsmanager.CreateSecret",
        json!({"Name": secret, "SecretString": "from-moto-sm"}),
    )
    .await;
    let r = SecretResolver::direct(orderbridge::secrets::Direct {
        region: "us-east-1".into(),
        ..direct(endpoint.clone())
    });
    assert_eq!(
        r.resolve(&format!("ssm:{name}")).await.unwrap().expose(),
        "from-moto-ssm"
    );
    assert_eq!(
        r.resolve(&format!("secretsmanager:{secret}"))
            .await
            .unwrap()
            .expose(),
        "from-moto-sm"
    );
    let missing = r
        .resolve("ssm:/orderbridge/nothing-here")
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("ParameterNotFound"), "{missing}");
}
