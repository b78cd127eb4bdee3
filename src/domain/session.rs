//! A web-login session as the store keeps it: only the SHA-256 of the cookie value, so a copy
//! of the store does not yield a usable cookie.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    /// Hex SHA-256 of the session id (the cookie value, which is never stored).
    pub id_sha256: String,
    pub user: String,
    /// The token every state-changing form of this session carries.
    pub csrf: String,
    pub created_ms: i64,
    /// Refreshed at most once a minute (see `services::sessions`).
    pub last_seen_ms: i64,
}
