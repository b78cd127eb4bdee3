//! Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The key bytes of a secret: a `whsec_` prefix means the rest is base64.
pub fn secret_bytes(secret: &str) -> Result<Vec<u8>, String> {
    match secret.strip_prefix("whsec_") {
        Some(b64) => B64
            .decode(b64.trim())
            .map_err(|e| format!("the whsec_ secret is not valid base64: {e}")),
        None => Ok(secret.as_bytes().to_vec()),
    }
}

/// The key of a site webhook, read from the environment variable its `secret_env` names;
/// the error says what is wrong (never the secret).
pub fn secret_for(hook: &crate::survey::WebhookConfig) -> Result<Vec<u8>, String> {
    let value = std::env::var(&hook.secret_env)
        .map_err(|_| format!("environment variable {} is not set", hook.secret_env))?;
    if value.is_empty() {
        return Err(format!("environment variable {} is empty", hook.secret_env));
    }
    // Not the decoder's message: it may quote a byte of the secret.
    secret_bytes(&value).map_err(|_| {
        format!(
            "environment variable {} starts with whsec_ but the rest is not valid base64",
            hook.secret_env
        )
    })
}

/// Every webhook of a site whose secret cannot be read, with the reason, for the start-up
/// log and the admin pages.
pub fn secret_problems(site: &crate::survey::Site) -> Vec<(String, String)> {
    site.config
        .webhooks
        .iter()
        .filter_map(|h| secret_for(h).err().map(|why| (h.name.clone(), why)))
        .collect()
}

pub fn sign(key: &[u8], webhook_id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(webhook_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

/// Checks a `webhook-signature` header (space-separated list) as a receiver would.
pub fn verify(key: &[u8], webhook_id: &str, timestamp: i64, body: &str, header: &str) -> bool {
    let expected = sign(key, webhook_id, timestamp, body);
    header.split(' ').any(|candidate| {
        candidate.len() == expected.len()
            && candidate
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_webhooks_reference_vector() {
        // From the Standard Webhooks specification's test vectors.
        let key = secret_bytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        let sig = sign(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(verify(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            body,
            &format!("v1,bad {sig}")
        ));
        assert!(!verify(&key, "msg_other", 1614265330, body, &sig));
    }
}
