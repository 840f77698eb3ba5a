//! Secrets: [`Secret`], a value that never reaches a log (`value.rs`), and the settings that hold them.
//!
//! A secret setting is either the secret itself or a reference, `ssm:/path/name` or
//! `secretsmanager:<id>`, resolved once per cold start and cached.
//!
//! Two ways to resolve, chosen by `SECRETS_VIA`:
//! - `direct` (the default): SSM `GetParameter` (decrypted) and Secrets Manager `GetSecretValue`, called
//!   over HTTPS and signed (SigV4) with the function's own credentials from the environment
//!   (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`;
//!   `AWS_ENDPOINT_URL` for an emulator). Nothing to install, no layer ARN to look up per region.
//! - `extension`: the AWS Parameters and Secrets Lambda extension (HTTP on localhost, authenticated
//!   with the session token), for a stack deployed with its layer.

mod value;

use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;
pub use value::Secret;

/// What a secret setting holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// The secret itself.
    Literal(Secret),
    /// An SSM parameter (SecureString decrypted).
    Ssm(String),
    /// A Secrets Manager secret id or ARN.
    SecretsManager(String),
}

impl SecretRef {
    /// Reads a setting.
    pub fn parse(value: &str) -> SecretRef {
        let v = value.trim();
        if let Some(name) = v.strip_prefix("ssm:") {
            SecretRef::Ssm(name.to_owned())
        } else if let Some(id) = v.strip_prefix("secretsmanager:") {
            SecretRef::SecretsManager(id.to_owned())
        } else {
            SecretRef::Literal(Secret::new(v))
        }
    }
}

/// A secret reference that could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("secret {reference}: {reason}")]
pub struct SecretError {
    /// The reference (a name, never a value).
    pub reference: String,
    /// Why.
    pub reason: String,
}

/// Resolves secret references and caches them for the life of the process (one cold start).
#[derive(Clone)]
pub struct SecretResolver {
    via: Via,
    http: reqwest::Client,
    cache: Arc<Mutex<HashMap<String, Secret>>>,
}

/// How references are resolved.
#[derive(Clone)]
enum Via {
    /// The Parameters and Secrets extension on localhost.
    Extension {
        endpoint: String,
        session_token: Option<Secret>,
    },
    /// SSM and Secrets Manager themselves, signed with these credentials.
    Direct(Direct),
}

impl Direct {
    /// The process's region, endpoint (`AWS_ENDPOINT_URL`, for an emulator) and credentials, from the
    /// environment (Lambda puts its temporary credentials there).
    pub fn from_env() -> Direct {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        Direct {
            region: var("AWS_REGION")
                .or_else(|| var("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".into()),
            endpoint: var("AWS_ENDPOINT_URL"),
            access_key_id: var("AWS_ACCESS_KEY_ID").unwrap_or_default(),
            secret_access_key: Secret::new(var("AWS_SECRET_ACCESS_KEY").unwrap_or_default()),
            session_token: var("AWS_SESSION_TOKEN").map(Secret::new),
            function: None,
        }
    }

    /// The same, its requests naming `function` (see [`crate::caller`]).
    pub fn for_function(self, function: crate::caller::Function) -> Direct {
        Direct {
            function: Some(function),
            ..self
        }
    }

    /// A SigV4-signed AWS JSON-protocol call: `body` POSTed to `service` (`ssm`, `monitoring`, …) with
    /// `x-amz-target: target`. The answer's status and body; an error only when no answer came.
    pub async fn post_json(
        &self,
        http: &reqwest::Client,
        service: &str,
        target: &str,
        content_type: &str,
        body: String,
    ) -> Result<(reqwest::StatusCode, bytes::Bytes), String> {
        if self.access_key_id.is_empty() {
            return Err("no AWS credentials in the environment".into());
        }
        let url = match &self.endpoint {
            Some(e) => format!("{}/", e.trim_end_matches('/')),
            None => format!("https://{service}.{}.amazonaws.com/", self.region),
        };
        let agent = self.function.map(crate::caller::Function::user_agent);
        let agent = agent
            .as_deref()
            .unwrap_or(concat!("orderbridge/", env!("CARGO_PKG_VERSION")));
        let headers = [
            ("content-type", content_type),
            ("x-amz-target", target),
            ("user-agent", agent),
        ];
        let signed = sign(self, service, &url, &headers, body.as_bytes())?;
        let mut req = http.post(&url).body(body);
        for (k, v) in headers
            .iter()
            .copied()
            .chain(signed.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        {
            req = req.header(k, v);
        }
        let resp = req.send().await.map_err(|e| no_answer(service, &e))?;
        let status = resp.status();
        let answer = resp
            .bytes()
            .await
            .map_err(|_| "reading the answer failed".to_owned())?;
        Ok((status, answer))
    }
}

/// The type of an AWS JSON error answer (`ParameterNotFound`, `AccessDeniedException`, …), without its
/// message (it can quote the request).
pub fn error_type(answer: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(answer)
        .ok()
        .and_then(|v| v.get("__type").and_then(|t| t.as_str()).map(str::to_owned))
        .map(|t| t.rsplit('#').next().unwrap_or_default().to_owned())
        .unwrap_or_default()
}

/// What a direct, signed call needs.
#[derive(Clone)]
pub struct Direct {
    /// The region.
    pub region: String,
    /// An endpoint for both services instead of AWS's (an emulator), else `https://<service>.<region>.amazonaws.com`.
    pub endpoint: Option<String>,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: Secret,
    /// Session token (Lambda's credentials are temporary).
    pub session_token: Option<Secret>,
    /// The function sending (named in the user agent), or none for an operator.
    pub function: Option<crate::caller::Function>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParameterResponse {
    parameter: ParameterValue,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ParameterValue {
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SecretResponse {
    secret_string: Option<String>,
}

impl SecretResolver {
    fn with(via: Via) -> Self {
        SecretResolver {
            via,
            http: crate::https::client_builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// A resolver talking to the extension at `endpoint`, authenticating with `session_token`.
    pub fn new(endpoint: impl Into<String>, session_token: Option<Secret>) -> Self {
        Self::with(Via::Extension {
            endpoint: endpoint.into().trim_end_matches('/').to_owned(),
            session_token,
        })
    }

    /// A resolver calling SSM and Secrets Manager itself, signed with `direct`'s credentials.
    pub fn direct(direct: Direct) -> Self {
        Self::with(Via::Direct(direct))
    }

    /// The resolver for the running process: `SECRETS_VIA=extension` uses the extension (its port from
    /// `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT`, default 2773); otherwise direct calls with the
    /// environment's credentials. A process without credentials can still use literal values.
    pub fn from_env() -> Self {
        Self::from_env_with(Direct::from_env())
    }

    /// [`SecretResolver::from_env`] for `function`: its direct calls name it.
    pub fn for_function(function: crate::caller::Function) -> Self {
        Self::from_env_with(Direct::from_env().for_function(function))
    }

    fn from_env_with(direct: Direct) -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        if var("SECRETS_VIA").as_deref() == Some("extension") {
            let port =
                var("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT").unwrap_or_else(|| "2773".into());
            let token = var("AWS_SESSION_TOKEN").map(Secret::new);
            return Self::new(format!("http://localhost:{port}"), token);
        }
        Self::direct(direct)
    }

    /// The secret a setting names.
    pub async fn resolve(&self, setting: &str) -> Result<Secret, SecretError> {
        let reference = SecretRef::parse(setting);
        let (key, path, query): (String, &str, Vec<(&str, String)>) = match &reference {
            SecretRef::Literal(s) => return Ok(s.clone()),
            SecretRef::Ssm(name) => (
                format!("ssm:{name}"),
                "/systemsmanager/parameters/get",
                vec![
                    ("name", name.clone()),
                    ("withDecryption", "true".to_owned()),
                ],
            ),
            SecretRef::SecretsManager(id) => (
                format!("secretsmanager:{id}"),
                "/secretsmanager/get",
                vec![("secretId", id.clone())],
            ),
        };
        let mut cache = self.cache.lock().await;
        if let Some(s) = cache.get(&key) {
            return Ok(s.clone());
        }
        let err = |reason: String| SecretError {
            reference: key.clone(),
            reason,
        };
        let value = match &self.via {
            Via::Extension {
                endpoint,
                session_token,
            } => {
                self.via_extension(endpoint, session_token.as_ref(), &reference, path, &query)
                    .await
            }
            Via::Direct(d) => self.via_service(d, &reference).await,
        }
        .map_err(err)?;
        let secret = Secret::new(value);
        cache.insert(key, secret.clone());
        Ok(secret)
    }

    async fn via_extension(
        &self,
        endpoint: &str,
        session_token: Option<&Secret>,
        reference: &SecretRef,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<String, String> {
        let mut req = self.http.get(format!("{endpoint}{path}")).query(query);
        if let Some(t) = session_token {
            req = req.header("X-Aws-Parameters-Secrets-Token", t.expose());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| no_answer("the secrets extension", &e))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|_| "reading the answer failed".to_owned())?;
        if !status.is_success() {
            return Err(format!(
                "the secrets extension answered HTTP {}",
                status.as_u16()
            ));
        }
        read_value(reference, &body, "the secrets extension")
    }

    /// SSM `GetParameter` or Secrets Manager `GetSecretValue`, signed with SigV4.
    async fn via_service(&self, d: &Direct, reference: &SecretRef) -> Result<String, String> {
        let (service, target, body) = match reference {
            SecretRef::Ssm(name) => (
                "ssm",
                "AmazonSSM.GetParameter",
                serde_json::json!({ "Name": name, "WithDecryption": true }),
            ),
            SecretRef::SecretsManager(id) => (
                "secretsmanager",
                "secretsmanager.GetSecretValue",
                serde_json::json!({ "SecretId": id }),
            ),
            SecretRef::Literal(_) => return Err("a literal needs no resolving".into()),
        };
        if d.access_key_id.is_empty() {
            return Err("no AWS credentials in the environment to read it with".into());
        }
        let (status, answer) = d
            .post_json(
                &self.http,
                service,
                target,
                "application/x-amz-json-1.1",
                body.to_string(),
            )
            .await?;
        if !status.is_success() {
            // The error's type names what is wrong; its message is not repeated.
            let kind = error_type(&answer);
            return Err(
                format!("{service} answered HTTP {} {kind}", status.as_u16())
                    .trim_end()
                    .to_owned(),
            );
        }
        read_value(reference, &answer, service)
    }
}

/// A call that got no answer, without the request's details.
fn no_answer(who: &str, e: &reqwest::Error) -> String {
    let why = if e.is_timeout() {
        "timed out"
    } else {
        "connection failed"
    };
    format!("{who} did not answer: {why}")
}

/// The value in an answer: SSM's `Parameter.Value`, Secrets Manager's `SecretString` (the extension
/// answers with the services' own shapes).
fn read_value(reference: &SecretRef, body: &[u8], from: &str) -> Result<String, String> {
    match reference {
        SecretRef::Ssm(_) => serde_json::from_slice::<ParameterResponse>(body)
            .map(|r| r.parameter.value)
            .map_err(|_| format!("unexpected answer from {from}")),
        _ => serde_json::from_slice::<SecretResponse>(body)
            .ok()
            .and_then(|r| r.secret_string)
            .ok_or_else(|| "the secret has no SecretString".to_owned()),
    }
}

/// The SigV4 headers for a POST of `body` to `url`.
fn sign(
    d: &Direct,
    service: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Vec<(String, String)>, String> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    let identity = aws_credential_types::Credentials::new(
        d.access_key_id.clone(),
        d.secret_access_key.expose().to_owned(),
        d.session_token.as_ref().map(|t| t.expose().to_owned()),
        None,
        "environment",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&d.region)
        .name(service)
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| format!("signing: {e}"))?
        .into();
    let request = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("signing: {e}"))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| format!("signing: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

#[cfg(test)]
mod tests;
