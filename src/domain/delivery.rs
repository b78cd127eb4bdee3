//! A webhook delivery: one `webhook` action in the outbox. `id` is the stable `webhook-id` of
//! every attempt. A worker claims a due delivery with a lease (node, until); the lease is what
//! keeps two live workers from sending it twice, and its expiry is what lets another worker
//! retry a delivery whose worker died.

use super::origin::Origin;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Dead-lettered: retries exhausted or a non-retryable answer.
    Failed,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 3] = [
        DeliveryStatus::Pending,
        DeliveryStatus::Delivered,
        DeliveryStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

impl std::str::FromStr for DeliveryStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "pending" => Ok(DeliveryStatus::Pending),
            "delivered" => Ok(DeliveryStatus::Delivered),
            "failed" => Ok(DeliveryStatus::Failed),
            other => Err(format!(
                "unknown status \"{other}\" (pending, delivered or failed)"
            )),
        }
    }
}

/// Who may attempt a delivery right now, and until when.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Lease {
    pub node: String,
    pub until_ms: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    pub site: String,
    /// The webhook's name in site.toml; URL and secret are read when sending.
    pub webhook: String,
    #[serde(flatten)]
    pub origin: Origin,
    pub follow_up_id: Uuid,
    /// The exact JSON body sent on every attempt.
    pub body: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub created_at_ms: i64,
    pub next_attempt_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at_ms: Option<i64>,
    /// Set while a worker holds the delivery (see the module comment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
}

impl Delivery {
    pub fn webhook_id(&self) -> String {
        format!("msg_{}", self.id.simple())
    }

    /// When a worker may next pick it up: its next attempt, or the end of a lease that is held.
    pub fn claimable_at_ms(&self) -> i64 {
        match &self.lease {
            Some(l) => l.until_ms,
            None => self.next_attempt_ms,
        }
    }
}

/// What one attempt came to, as a worker records it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub status: DeliveryStatus,
    /// The next attempt, for a delivery that stays pending.
    pub next_attempt_ms: i64,
    pub last_error: Option<String>,
    pub last_status: Option<u16>,
    pub delivered_at_ms: Option<i64>,
}
