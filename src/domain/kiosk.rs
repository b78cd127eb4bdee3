//! A waiting-room kiosk: a tablet registered for one survey of a site, passed from patient to
//! patient (docs/kiosk.md). Only hashes of its secrets are stored: the single-use enrolment
//! token (until the tablet uses it) and the long-lived cookie the enrolment set.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Seconds the thank-you page shows before the tablet returns to the start screen.
pub const DEFAULT_RETURN_DELAY_S: u32 = 15;
pub const RETURN_DELAY_RANGE_S: (u32, u32) = (5, 300);
/// Seconds a form may stay untouched before the idle warning.
pub const DEFAULT_IDLE_S: u32 = 180;
pub const IDLE_RANGE_S: (u32, u32) = (30, 3600);
/// Seconds the idle warning waits for "Continue" before the form is discarded.
pub const IDLE_WARNING_S: u32 = 30;
pub const MAX_NAME_CHARS: usize = 80;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kiosk {
    /// UUID v7: kiosks list in the order they were registered.
    pub id: Uuid,
    pub site: String,
    pub survey: String,
    /// What the admin calls it ("Front desk tablet").
    pub name: String,
    /// The language its start screen opens in; `None`: the site's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    pub return_delay_s: u32,
    pub idle_s: u32,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// Hex SHA-256 of the enrolment token while it is unused; `None` once used or revoked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment_sha256: Option<String>,
    /// Hex SHA-256 of the kiosk cookie the enrolment set; `None` before enrolment and after
    /// revocation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolled_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

impl Kiosk {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// What a kiosk is now, for the admin: `revoked`, `enrolled` or `waiting` (for its tablet).
    pub fn status(&self) -> &'static str {
        if self.is_revoked() {
            "revoked"
        } else if self.cookie_sha256.is_some() {
            "enrolled"
        } else {
            "waiting"
        }
    }
}
