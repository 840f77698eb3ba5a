//! One HTTPS stack for the whole process (issue 17: cold start). Every outbound call — the platforms,
//! the secrets, and (feature `aws`) DynamoDB and SQS through [`SdkHttp`] — goes through reqwest with one
//! rustls configuration, built once on first use.
//!
//! Decision: the trust store is Mozilla's root program compiled in (`webpki-roots`), the same roots the
//! Lambda image's bundle carries, so no certificate file is read at start. `SSL_CERT_FILE` names a PEM
//! bundle to trust instead (a proxy with its own CA, a private endpoint); when it cannot be read, the
//! first client built says so and the compiled-in roots stay.

use std::sync::{Arc, OnceLock};

static TLS: OnceLock<rustls::ClientConfig> = OnceLock::new();

/// The process's TLS client configuration (built on first use; clones share it).
pub fn tls() -> rustls::ClientConfig {
    TLS.get_or_init(build_tls).clone()
}

fn build_tls() -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(path) = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty()) {
        match read_bundle(std::path::Path::new(&path), &mut roots) {
            Ok(n) if n > 0 => {}
            Ok(_) => tracing::warn!("SSL_CERT_FILE holds no certificate; using the built-in roots"),
            Err(e) => {
                tracing::warn!(error = %e, "SSL_CERT_FILE cannot be read; using the built-in roots");
            }
        }
    }
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| rustls::ClientConfig::builder());
    builder.with_root_certificates(roots).with_no_client_auth()
}

/// Adds a PEM bundle's certificates; how many were added.
fn read_bundle(
    path: &std::path::Path,
    roots: &mut rustls::RootCertStore,
) -> std::io::Result<usize> {
    use rustls::pki_types::pem::PemObject;
    let certs: Vec<_> = rustls::pki_types::CertificateDer::pem_file_iter(path)
        .map_err(std::io::Error::other)?
        .filter_map(Result::ok)
        .collect();
    let (added, _) = roots.add_parsable_certificates(certs);
    Ok(added)
}

/// A reqwest client builder on the process's TLS configuration: every reqwest client is made from it.
pub fn client_builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls())
        // Every request carries a credential (a token header, Zonos' secret in the body, a signature):
        // a redirect is never followed, so none is ever sent to where a platform's answer points. No
        // platform documents one; a 3xx is an error like any other unexpected answer.
        .redirect(reqwest::redirect::Policy::none())
}

#[cfg(feature = "aws")]
pub use sdk::SdkHttp;

#[cfg(feature = "aws")]
mod sdk {
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
        SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
    use aws_smithy_types::body::SdkBody;

    /// The AWS SDK's HTTP client over reqwest and the process's TLS configuration, so the SDK builds
    /// no TLS stack or trust store of its own. DynamoDB and SQS requests and answers are small JSON
    /// documents: bodies are buffered, and a streaming request body is refused.
    #[derive(Debug, Clone)]
    pub struct SdkHttp {
        client: reqwest::Client,
    }

    impl SdkHttp {
        /// A client that connects within `connect_timeout` (the SDK times each attempt itself).
        pub fn new(connect_timeout: std::time::Duration) -> Result<SdkHttp, reqwest::Error> {
            Ok(SdkHttp {
                client: super::client_builder()
                    .connect_timeout(connect_timeout)
                    .build()?,
            })
        }

        /// As the SDK takes it.
        pub fn shared(self) -> SharedHttpClient {
            SharedHttpClient::new(self)
        }
    }

    fn transport(e: reqwest::Error) -> ConnectorError {
        if e.is_timeout() {
            ConnectorError::timeout(e.into())
        } else {
            // Connection refused or reset, DNS, TLS: the SDK retries these as transient.
            ConnectorError::io(e.into())
        }
    }

    async fn send(
        client: reqwest::Client,
        request: HttpRequest,
    ) -> Result<HttpResponse, ConnectorError> {
        let request = request
            .try_into_http1x()
            .map_err(|e| ConnectorError::user(e.into()))?;
        let (parts, body) = request.into_parts();
        let bytes = body
            .bytes()
            .map(bytes::Bytes::copy_from_slice)
            .ok_or_else(|| {
                ConnectorError::user("a streaming request body is not supported".into())
            })?;
        let answer = client
            .request(parts.method, parts.uri.to_string())
            .headers(parts.headers)
            .body(bytes)
            .send()
            .await
            .map_err(transport)?;
        let status = answer.status();
        let headers = answer.headers().clone();
        let body = answer.bytes().await.map_err(transport)?;
        let mut response = http::Response::new(SdkBody::from(body));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        HttpResponse::try_from(response).map_err(|e| ConnectorError::other(e.into(), None))
    }

    impl HttpConnector for SdkHttp {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            HttpConnectorFuture::new(send(self.client.clone(), request))
        }
    }

    impl HttpClient for SdkHttp {
        fn http_connector(
            &self,
            _settings: &HttpConnectorSettings,
            _components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pem_bundle_adds_its_certificates_and_garbage_adds_none() {
        let dir = std::env::temp_dir().join(format!("https-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let bundle = dir.join("bundle.pem");
        let pem = include_str!("../tests/fixtures/tls/isrg-root-x2.pem");
        std::fs::write(&bundle, pem).unwrap();
        let mut roots = rustls::RootCertStore::empty();
        assert_eq!(read_bundle(&bundle, &mut roots).unwrap(), 1);
        assert_eq!(roots.len(), 1);
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate").unwrap();
        assert_eq!(
            read_bundle(&junk, &mut rustls::RootCertStore::empty()).unwrap(),
            0
        );
        assert!(read_bundle(&dir.join("missing.pem"), &mut roots).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
