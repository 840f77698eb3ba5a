//! Google credentials: a static access token, or a service-account key whose signed JWT assertion is
//! exchanged at the key's own `token_uri` (scope `https://www.googleapis.com/auth/content`). The token
//! is cached until shortly before it expires, and dropped at once when Google answers 401.

use crate::channel::Channel;
use crate::channels::http::{
    ClientError, ErrorKind, HttpSettings, PlatformHttp, RateLimit, Repeat,
};
use crate::secrets::Secret;
use serde::Deserialize;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// The OAuth scope of the Content API.
pub const SCOPE: &str = "https://www.googleapis.com/auth/content";

/// The longest a fetched access token is cached, whatever `expires_in` says.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// The fields of a service-account key file orderbridge uses.
#[derive(Clone, Deserialize)]
pub struct ServiceAccountKey {
    /// The service account.
    pub client_email: String,
    /// The RSA private key, PEM.
    pub private_key: Secret,
    /// The key's id (sent as the JWT `kid`).
    pub private_key_id: Option<String>,
    /// Where to exchange the assertion.
    pub token_uri: String,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

impl ServiceAccountKey {
    /// Reads a key file's JSON.
    pub fn from_json(json: &str) -> Result<Self, ClientError> {
        serde_json::from_str(json).map_err(|e| {
            // Only where and what kind of problem: serde's message can quote the value, which here is
            // the private key.
            let what = match e.classify() {
                serde_json::error::Category::Io | serde_json::error::Category::Eof => KEY_ERRORS[0],
                serde_json::error::Category::Syntax => KEY_ERRORS[1],
                serde_json::error::Category::Data => KEY_ERRORS[2],
            };
            ClientError::new(
                Channel::Google,
                "credentials",
                ErrorKind::Config,
                format!(
                    "service-account key {what} (line {}, column {})",
                    e.line(),
                    e.column()
                ),
                false,
            )
        })
    }
}

/// What an unreadable key file is said to be; nothing else of it is ever said.
const KEY_ERRORS: [&str; 3] = [
    "is cut short",
    "is not valid JSON",
    "lacks a field (client_email, private_key, token_uri) or has one of the wrong type",
];

/// True for a message [`ServiceAccountKey::from_json`] can give: a fixed template and a position.
pub fn is_key_error_template(message: &str) -> bool {
    let Some(rest) = message.strip_prefix("service-account key ") else {
        return false;
    };
    KEY_ERRORS.iter().any(|what| {
        rest.strip_prefix(what)
            .and_then(|r| r.strip_prefix(" (line "))
            .and_then(|r| r.strip_suffix(')'))
            .and_then(|r| r.split_once(", column "))
            .is_some_and(|(l, c)| l.parse::<usize>().is_ok() && c.parse::<usize>().is_ok())
    })
}

#[cfg(test)]
mod key_tests {
    use super::*;

    /// Found by the `key_and_job` fuzz target: an input that is itself an error message.
    #[test]
    fn a_key_error_is_a_template_whatever_the_input() {
        for input in [
            "service-account key is not valid JSON (line 1, column 1)",
            r#"{"client_email": "a", "private_key": 5, "token_uri": "x"}"#,
            r#"{"client_email": "a", "private_key": "-----BEGIN PRIVATE KEY-----"#,
            "",
        ] {
            let e = ServiceAccountKey::from_json(input).unwrap_err();
            assert!(is_key_error_template(&e.message), "{}", e.message);
            assert!(!e.message.contains("BEGIN"));
        }
        assert!(!is_key_error_template(
            "service-account key is not valid JSON: x"
        ));
    }
}

/// How orderbridge proves itself to Google.
#[derive(Debug, Clone)]
pub enum GoogleCredentials {
    /// A ready access token (tests, short jobs).
    AccessToken(Secret),
    /// A service-account key.
    ServiceAccount(ServiceAccountKey),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Clone)]
struct Cached {
    token: Secret,
    refresh_at: Instant,
}

/// Hands out access tokens, fetching and caching them as needed.
#[derive(Clone)]
pub struct TokenSource {
    credentials: GoogleCredentials,
    http: PlatformHttp,
    cache: Arc<Mutex<Option<Cached>>>,
}

/// When to refresh a token that lives `lifetime`: a minute before it expires, or halfway for short ones.
fn refresh_margin(lifetime: Duration) -> Duration {
    if lifetime > Duration::from_secs(120) {
        Duration::from_secs(60)
    } else {
        lifetime.checked_div(2).unwrap_or_default()
    }
}

impl TokenSource {
    /// A token source for `credentials`.
    pub fn new(credentials: GoogleCredentials) -> Result<Self, ClientError> {
        Ok(TokenSource {
            credentials,
            http: PlatformHttp::new(
                Channel::Google,
                HttpSettings::with_rate(RateLimit::new(5, 5)),
            )?,
            cache: Arc::new(Mutex::new(None)),
        })
    }

    /// A valid access token.
    pub async fn token(&self) -> Result<Secret, ClientError> {
        let key = match &self.credentials {
            GoogleCredentials::AccessToken(t) => return Ok(t.clone()),
            GoogleCredentials::ServiceAccount(k) => k,
        };
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref().filter(|c| Instant::now() < c.refresh_at) {
            return Ok(c.token.clone());
        }
        let fresh = self.exchange(key).await?;
        *cache = Some(fresh.clone());
        Ok(fresh.token)
    }

    /// Forgets the cached token (after a 401).
    pub async fn invalidate(&self) {
        *self.cache.lock().await = None;
    }

    /// True when a fetched token can be replaced (static tokens cannot).
    pub fn can_refresh(&self) -> bool {
        matches!(self.credentials, GoogleCredentials::ServiceAccount(_))
    }

    async fn exchange(&self, key: &ServiceAccountKey) -> Result<Cached, ClientError> {
        const CALL: &str = "token";
        let config =
            |m: String| ClientError::new(Channel::Google, CALL, ErrorKind::Config, m, false);
        let now = chrono::Utc::now().timestamp();
        let claims = serde_json::json!({
            "iss": key.client_email,
            "scope": SCOPE,
            "aud": key.token_uri,
            "iat": now,
            "exp": now.saturating_add(3600),
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = key.private_key_id.clone();
        let signing_key = jsonwebtoken::EncodingKey::from_rsa_pem(
            key.private_key.expose().as_bytes(),
        )
        .map_err(|_| config("the service-account private key is not an RSA PEM key".to_owned()))?;
        let assertion = jsonwebtoken::encode(&header, &claims, &signing_key)
            .map_err(|_| config("signing the token request failed".to_owned()))?;
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ];
        let resp = self
            .http
            .send(CALL, Repeat::Safe, |c| c.post(&key.token_uri).form(&form))
            .await?;
        if !resp.status.is_success() {
            let status = resp.status.as_u16();
            let retryable = resp.status.is_server_error() || status == 429;
            let kind = if retryable {
                ErrorKind::Status
            } else {
                ErrorKind::Config
            };
            return Err(ClientError::new(
                Channel::Google,
                CALL,
                kind,
                "the token exchange was refused",
                retryable,
            )
            .with_status(status));
        }
        let token: TokenResponse = resp.json(Channel::Google, CALL)?;
        // Decision: a lifetime is read as at most a day (Google's are an hour); a huge `expires_in`
        // cannot overflow the clock, and a token is never trusted for longer than that.
        let lifetime = Duration::from_secs(
            token
                .expires_in
                .unwrap_or(3600)
                .min(MAX_TOKEN_LIFETIME.as_secs()),
        );
        let now = Instant::now();
        Ok(Cached {
            token: Secret::new(token.access_token),
            refresh_at: now
                .checked_add(lifetime.saturating_sub(refresh_margin(lifetime)))
                .unwrap_or(now),
        })
    }
}
