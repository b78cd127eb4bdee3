//! Entries of the audit trail and the hash chain that links them (docs/audit.md).
//!
//! Each entry carries the SHA-256 of the previous entry's hash followed by its own canonical
//! encoding, so changing, removing or reordering any stored entry breaks every hash after it.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The `prev_hash` of the first entry: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The actor of what the command line did.
pub const ACTOR_CLI: &str = "cli";
/// The actor of what the server did by itself (start-up, retries, expiry).
pub const ACTOR_SYSTEM: &str = "system";

/// An entry before the store gives it its place in the chain.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    pub at_ms: i64,
    /// A user name, `cli` or `system`.
    pub actor: String,
    pub action: String,
    /// The site acted on; `None` for what concerns no single site (start-up, an all-sites user).
    pub site: Option<String>,
    /// What was acted on, by id (a response id, a user name, a file name).
    pub target: Option<String>,
    /// Fixed keys with ids, counts, hashes and old → new values; never an answer, free text or
    /// a phone number (the audit service is the only place that fills them).
    pub details: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// 1, 2, 3 … with no gap, assigned by the store.
    pub seq: u64,
    pub at: String,
    pub at_ms: i64,
    pub actor: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default)]
    pub details: BTreeMap<String, String>,
    /// `hash` of the entry before (`GENESIS_HASH` for seq 1).
    pub prev_hash: String,
    /// Hex SHA-256 of `prev_hash` (its 64 hex characters) followed by `canonical()`.
    pub hash: String,
}

/// The hashed fields, in this order, always all present: compact JSON of this struct is the
/// canonical encoding (details sorted by key, as a `BTreeMap` serializes).
#[derive(Serialize)]
struct Canonical<'a> {
    seq: u64,
    at: &'a str,
    at_ms: i64,
    actor: &'a str,
    action: &'a str,
    site: &'a Option<String>,
    target: &'a Option<String>,
    details: &'a BTreeMap<String, String>,
}

impl NewAuditEntry {
    /// The entry at `seq` after the entry whose hash is `prev_hash`.
    pub fn chain(self, seq: u64, prev_hash: &str) -> AuditEntry {
        let mut entry = AuditEntry {
            seq,
            at: crate::domain::time::rfc3339_of_ms(self.at_ms),
            at_ms: self.at_ms,
            actor: self.actor,
            action: self.action,
            site: self.site,
            target: self.target,
            details: self.details,
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        entry.hash = entry.computed_hash();
        entry
    }
}

impl AuditEntry {
    /// The canonical encoding of the hashed fields (every field but `prev_hash` and `hash`).
    pub fn canonical(&self) -> Vec<u8> {
        let canonical = Canonical {
            seq: self.seq,
            at: &self.at,
            at_ms: self.at_ms,
            actor: &self.actor,
            action: &self.action,
            site: &self.site,
            target: &self.target,
            details: &self.details,
        };
        serde_json::to_vec(&canonical).unwrap_or_default()
    }

    /// What `hash` must be, from `prev_hash` and the fields as they are now.
    pub fn computed_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.prev_hash.as_bytes());
        h.update(self.canonical());
        hex::encode(h.finalize())
    }
}

/// Every action an entry may name, for the admin page's filter.
pub const ACTIONS: &[&str] = &[
    "sign_in",
    "sign_in_failed",
    "sign_in_refused",
    "sign_out",
    "session_expired",
    "sessions_cleared",
    "user_created",
    "role_changed",
    "password_set",
    "token_created",
    "token_revoked",
    "user_disabled",
    "user_enabled",
    "invite_created",
    "response_read",
    "responses_listed",
    "responses_exported",
    "task_changed",
    "delivery_retried",
    "site_reloaded",
    "rules_applied",
    "rules_restored",
    "retag_run",
    "invitations_created",
    "backup",
    "restore",
    "kiosk_registered",
    "kiosk_enrolled",
    "kiosk_revoked",
    "start",
    "stop",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn new(actor: &str) -> NewAuditEntry {
        NewAuditEntry {
            at_ms: 1_700_000_000_000,
            actor: actor.into(),
            action: "sign_in".into(),
            site: Some("s".into()),
            target: None,
            details: BTreeMap::from([("b".into(), "2".into()), ("a".into(), "1".into())]),
        }
    }

    #[test]
    fn the_canonical_encoding_is_fixed_and_any_change_changes_the_hash() {
        let e = new("ann").chain(1, GENESIS_HASH);
        assert_eq!(
            String::from_utf8(e.canonical()).unwrap(),
            r#"{"seq":1,"at":"2023-11-14T22:13:20.000Z","at_ms":1700000000000,"actor":"ann","action":"sign_in","site":"s","target":null,"details":{"a":"1","b":"2"}}"#
        );
        assert_eq!(e.hash, e.computed_hash());
        let mut changed = e.clone();
        changed.actor = "bob".into();
        assert_ne!(changed.computed_hash(), e.hash);
        let next = new("ann").chain(2, &e.hash);
        assert_ne!(next.hash, e.hash, "the same fields at another place");
    }
}
