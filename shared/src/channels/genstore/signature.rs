//! Genstore webhook signatures: HMAC-SHA256 of the raw body keyed with the app secret, sent in
//! `X-Genstore-Hmac-Sha256` as base64 (Shopify's scheme) or hex. Up to two secrets are accepted, so a
//! secret can be rotated without dropping deliveries. The comparison is constant-time.

use crate::secrets::Secret;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How many secrets may be live at once (the current one and the one being rotated out).
pub const MAX_SECRETS: usize = 2;

/// Why a delivery's signature was not accepted. The messages are safe to return to the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// No signature header, or an empty one.
    #[error("missing signature")]
    Missing,
    /// The header is neither base64 nor hex of a 32-byte digest.
    #[error("malformed signature")]
    Malformed,
    /// No configured secret produces this signature.
    #[error("invalid signature")]
    Mismatch,
    /// No secret is configured: every delivery is refused rather than accepted unsigned.
    #[error("no webhook secret is configured")]
    NoSecret,
}

fn decode(header: &str) -> Option<Vec<u8>> {
    let h = header.trim();
    if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(h).ok();
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    b64.decode(h)
        .ok()
        .or_else(|| base64::engine::general_purpose::URL_SAFE.decode(h).ok())
        .filter(|d| d.len() == 32)
}

/// Checks `header` against the HMAC-SHA256 of `body` under each of `secrets` (at most two are used).
pub fn verify(body: &[u8], header: Option<&str>, secrets: &[Secret]) -> Result<(), SignatureError> {
    let live: Vec<&Secret> = secrets
        .iter()
        .filter(|s| !s.expose().is_empty())
        .take(MAX_SECRETS)
        .collect();
    if live.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing)?;
    let given = decode(header).ok_or(SignatureError::Malformed)?;
    let mut ok = false;
    for secret in live {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) else {
            continue;
        };
        mac.update(body);
        // `verify_slice` compares in constant time; every secret is tried so timing does not tell which.
        ok |= mac.verify_slice(&given).is_ok();
    }
    if ok {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// Signs `body` with `secret`, base64, as Genstore does (used by the sandbox and tests).
pub fn sign(body: &[u8], secret: &Secret) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this arm cannot run.
        Err(_) => return String::new(),
    };
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Signs `body` with `secret`, hex.
pub fn sign_hex(body: &[u8], secret: &Secret) -> String {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(sign(body, secret))
        .unwrap_or_default();
    hex::encode(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"orderId":"1001","financialStatus":"paid"}"#;

    fn secret(s: &str) -> Secret {
        Secret::new(s)
    }

    #[test]
    fn a_valid_signature_passes_in_base64_and_hex() {
        let s = secret("hush");
        assert_eq!(
            verify(BODY, Some(&sign(BODY, &s)), std::slice::from_ref(&s)),
            Ok(())
        );
        assert_eq!(
            verify(BODY, Some(&sign_hex(BODY, &s)), std::slice::from_ref(&s)),
            Ok(())
        );
        assert_eq!(
            verify(BODY, Some(&sign_hex(BODY, &s).to_uppercase()), &[s]),
            Ok(())
        );
    }

    #[test]
    fn the_known_vector_matches() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), RFC-style test vector.
        let body = b"The quick brown fox jumps over the lazy dog";
        assert_eq!(
            sign_hex(body, &secret("key")),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn one_flipped_byte_fails() {
        let s = secret("hush");
        let sig = sign(BODY, &s);
        let mut body = BODY.to_vec();
        body[5] ^= 0x01;
        assert_eq!(
            verify(&body, Some(&sig), std::slice::from_ref(&s)),
            Err(SignatureError::Mismatch)
        );
        let mut raw = base64::engine::general_purpose::STANDARD
            .decode(&sig)
            .unwrap();
        raw[0] ^= 0x80;
        let flipped = base64::engine::general_purpose::STANDARD.encode(raw);
        assert_eq!(
            verify(BODY, Some(&flipped), &[s]),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_wrong_secret_fails() {
        let sig = sign(BODY, &secret("old"));
        assert_eq!(
            verify(BODY, Some(&sig), &[secret("new")]),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn the_second_secret_passes_during_rotation_and_a_third_is_ignored() {
        let (new, old, ancient) = (secret("new"), secret("old"), secret("ancient"));
        assert_eq!(
            verify(BODY, Some(&sign(BODY, &old)), &[new.clone(), old.clone()]),
            Ok(())
        );
        assert_eq!(
            verify(BODY, Some(&sign(BODY, &new)), &[new.clone(), old.clone()]),
            Ok(())
        );
        assert_eq!(
            verify(BODY, Some(&sign(BODY, &ancient)), &[new, old, ancient]),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn empty_missing_and_malformed_headers_fail() {
        let s = [secret("hush")];
        assert_eq!(verify(BODY, None, &s), Err(SignatureError::Missing));
        assert_eq!(verify(BODY, Some(""), &s), Err(SignatureError::Missing));
        assert_eq!(verify(BODY, Some("   "), &s), Err(SignatureError::Missing));
        assert_eq!(
            verify(BODY, Some("not a signature!"), &s),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(BODY, Some("c2hvcnQ="), &s),
            Err(SignatureError::Malformed),
            "too short"
        );
        assert_eq!(
            verify(BODY, Some(&sign(BODY, &s[0])), &[]),
            Err(SignatureError::NoSecret)
        );
        assert_eq!(
            verify(BODY, Some(&sign(BODY, &s[0])), &[secret("")]),
            Err(SignatureError::NoSecret)
        );
    }
}
