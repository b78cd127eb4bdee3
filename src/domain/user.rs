//! Users, their roles and their API tokens. A token is 256 random bits; only its SHA-256 is
//! stored, so a stolen data directory does not yield working tokens.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const TOKEN_PREFIX: &str = "chorus_";

/// `"*"` as the site means every site.
pub const ALL_SITES: &str = "*";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Staff,
    Admin,
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "staff" => Ok(Role::Staff),
            "admin" => Ok(Role::Admin),
            other => Err(format!("unknown role \"{other}\" (admin, staff or viewer)")),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub name: String,
    pub site: String,
    pub role: Role,
    /// Hex SHA-256 of the API token; the token itself is never stored.
    pub token_sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
    pub created_at: String,
    /// A disabled user cannot sign in; their sessions and token stop working.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    /// The token was revoked: `token_sha256` is then the hash of a value nobody holds.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub token_revoked: bool,
}

impl User {
    pub fn can_access(&self, site: &str) -> bool {
        self.site == ALL_SITES || self.site == site
    }

    /// Whether this user is an admin who may manage `other` (an admin of every site: anyone;
    /// an admin of one site: that site's users).
    pub fn can_manage(&self, other: &User) -> bool {
        self.role == Role::Admin && self.can_access(&other.site)
    }
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }
}

/// A single-use link to set a password (an invitation, or the first admin's), as the store
/// keeps it under the SHA-256 of its secret: the secret itself is never stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PasswordLink {
    pub user: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    /// When it was used; a link is used once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_ms: Option<i64>,
}

/// A new random API token (shown once, never stored).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

pub fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random 256-bit value, hex encoded (session ids, CSRF tokens).
pub fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Compares two secrets in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Failed web sign-ins under one account name, kept in the store so that every node sees the
/// same count. Keyed by the SHA-256 of the name tried (a name field sometimes holds a password
/// typed in the wrong box; the store never keeps it).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct LoginFailures {
    /// Failures since the last successful sign-in (or since they were forgotten).
    pub count: u32,
    /// When the last one happened (ms since the epoch).
    pub last_ms: i64,
}

/// The store key of an account name's failed sign-ins.
pub fn account_key(name: &str) -> String {
    hex::encode(Sha256::digest(name.as_bytes()))
}
