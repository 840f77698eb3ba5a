//! Secret settings: a value is either the secret itself or a reference, `ssm:/path/name` or
//! `secretsmanager:<id>`, resolved once per cold start through the AWS Parameters and Secrets Lambda
//! extension (HTTP on localhost, authenticated with the function's session token) and cached.

use crate::secret::Secret;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Mutex;

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
    endpoint: String,
    session_token: Option<Secret>,
    http: reqwest::Client,
    cache: Arc<Mutex<HashMap<String, Secret>>>,
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
    /// A resolver talking to the extension at `endpoint`, authenticating with `session_token`.
    pub fn new(endpoint: impl Into<String>, session_token: Option<Secret>) -> Self {
        SecretResolver {
            endpoint: endpoint.into().trim_end_matches('/').to_owned(),
            session_token,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(5))
                .build()
                .unwrap_or_default(),
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// The resolver for the running Lambda: the extension's port from
    /// `PARAMETERS_SECRETS_EXTENSION_HTTP_PORT` (default 2773), the token from `AWS_SESSION_TOKEN`.
    pub fn from_env() -> Self {
        let port = std::env::var("PARAMETERS_SECRETS_EXTENSION_HTTP_PORT")
            .unwrap_or_else(|_| "2773".into());
        let token = std::env::var("AWS_SESSION_TOKEN").ok().map(Secret::new);
        Self::new(format!("http://localhost:{port}"), token)
    }

    /// The secret a setting names.
    pub async fn resolve(&self, setting: &str) -> Result<Secret, SecretError> {
        let reference = SecretRef::parse(setting);
        let (key, path, query) = match &reference {
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
        let mut req = self
            .http
            .get(format!("{}{path}", self.endpoint))
            .query(&query);
        if let Some(t) = &self.session_token {
            req = req.header("X-Aws-Parameters-Secrets-Token", t.expose());
        }
        let resp = req.send().await.map_err(|e| {
            err(format!(
                "the secrets extension did not answer: {}",
                if e.is_timeout() {
                    "timed out"
                } else {
                    "connection failed"
                }
            ))
        })?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .map_err(|_| err("reading the answer failed".into()))?;
        if !status.is_success() {
            return Err(err(format!(
                "the secrets extension answered HTTP {}",
                status.as_u16()
            )));
        }
        let value = match reference {
            SecretRef::Ssm(_) => serde_json::from_slice::<ParameterResponse>(&body)
                .map(|r| r.parameter.value)
                .map_err(|_| err("unexpected answer from the secrets extension".into()))?,
            _ => serde_json::from_slice::<SecretResponse>(&body)
                .ok()
                .and_then(|r| r.secret_string)
                .ok_or_else(|| err("the secret has no SecretString".into()))?,
        };
        let secret = Secret::new(value);
        cache.insert(key, secret.clone());
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_told_from_literals() {
        assert_eq!(
            SecretRef::parse("ssm:/orderbridge/token"),
            SecretRef::Ssm("/orderbridge/token".into())
        );
        assert_eq!(
            SecretRef::parse("secretsmanager:arn:aws:secretsmanager:eu-west-1:1:secret:x"),
            SecretRef::SecretsManager("arn:aws:secretsmanager:eu-west-1:1:secret:x".into())
        );
        assert_eq!(
            SecretRef::parse(" shh "),
            SecretRef::Literal(Secret::new("shh"))
        );
    }
}
