//! The webhook delivery worker: sends pending outbox entries, retries with exponential backoff
//! and jitter, dead-letters after the retry span. Endpoints are independent: each has its own
//! concurrency limit, so a dead help desk never delays another.

use super::address_policy::{refusal_in, GuardedResolver};
use super::signing::{secret_for, sign};
use super::{now_ms, Delivery, DeliveryStatus};
use crate::app::AppState;
use rand::Rng;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// How long after its creation an entry is still retried before it is dead-lettered.
    pub span: Duration,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    pub request_timeout: Duration,
    pub per_endpoint: usize,
    /// Attempts per second across all endpoints: a burst of follow-ups is spread out so that
    /// deliveries never crowd out submissions (and never flood a help desk).
    pub max_per_second: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            span: Duration::from_secs(24 * 3600),
            first_backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3600),
            request_timeout: Duration::from_secs(10),
            per_endpoint: 16,
            max_per_second: 500,
        }
    }
}

impl RetryPolicy {
    /// Backoff after `attempts` failures: first_backoff × 2^(attempts−1), capped, with ±25 % jitter.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let exp = self
            .first_backoff
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
        let capped = exp.min(self.max_backoff);
        capped.mul_f64(rand::thread_rng().gen_range(0.75..1.25))
    }
}

/// What one attempt came to.
enum Attempt {
    Delivered(u16),
    Retry {
        error: String,
        status: Option<u16>,
        after: Option<Duration>,
    },
    Fail {
        error: String,
        status: Option<u16>,
    },
}

pub struct DeliveryWorker {
    state: Arc<AppState>,
    client: reqwest::Client,
    policy: RetryPolicy,
    endpoints: parking_lot::Mutex<HashMap<(String, String), Arc<Semaphore>>>,
    in_flight: parking_lot::Mutex<HashSet<uuid::Uuid>>,
    /// The earliest instant the next attempt may start (the pacing of `max_per_second`).
    next_slot: parking_lot::Mutex<tokio::time::Instant>,
}

/// Wakes the worker when new deliveries are stored.
pub type OutboxSignal = Notify;

fn redirect_policy() -> reqwest::redirect::Policy {
    // Follow redirects only within the same host: a webhook URL must not send signed data elsewhere.
    reqwest::redirect::Policy::custom(|attempt| {
        let same_host = attempt
            .previous()
            .first()
            .map(|u| (u.host_str().map(str::to_owned), u.port_or_known_default()))
            == Some((
                attempt.url().host_str().map(str::to_owned),
                attempt.url().port_or_known_default(),
            ));
        if same_host && attempt.previous().len() < 5 {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

impl DeliveryWorker {
    pub fn new(state: Arc<AppState>, policy: RetryPolicy) -> Arc<DeliveryWorker> {
        let addresses = Arc::new(state.config.webhook_policy());
        let client = reqwest::Client::builder()
            .timeout(policy.request_timeout)
            .connect_timeout(policy.request_timeout)
            .redirect(redirect_policy())
            // Every resolved address is checked before connecting; a proxy would resolve
            // the receiver itself, past that check, so none is used.
            .dns_resolver(Arc::new(GuardedResolver::new(addresses)))
            .no_proxy()
            .user_agent(concat!("chorus-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("build the webhook HTTP client");
        Arc::new(DeliveryWorker {
            state,
            client,
            policy,
            endpoints: Default::default(),
            in_flight: Default::default(),
            next_slot: parking_lot::Mutex::new(tokio::time::Instant::now()),
        })
    }

    /// Runs forever on the current runtime: picks due entries and sends them.
    pub async fn run(self: Arc<Self>) {
        loop {
            let store = self.state.store.clone();
            let due =
                tokio::task::spawn_blocking(move || store.due_deliveries(now_ms(), 1000)).await;
            let mut wait = Duration::from_millis(500);
            match due {
                Ok(Ok(list)) => {
                    if list.len() == 1000 {
                        wait = Duration::from_millis(10);
                    }
                    for d in list {
                        if self.in_flight.lock().insert(d.id) {
                            let worker = Arc::clone(&self);
                            actix_web::rt::spawn(async move { worker.deliver(d).await });
                        }
                    }
                }
                Ok(Err(e)) => tracing::error!(error = %e, "cannot read the webhook outbox"),
                Err(_) => return,
            }
            let _ = tokio::time::timeout(wait, self.state.outbox.notified()).await;
        }
    }

    fn endpoint(&self, d: &Delivery) -> Arc<Semaphore> {
        let mut map = self.endpoints.lock();
        Arc::clone(
            map.entry((d.site.clone(), d.webhook.clone()))
                .or_insert_with(|| Arc::new(Semaphore::new(self.policy.per_endpoint))),
        )
    }

    async fn deliver(self: Arc<Self>, mut d: Delivery) {
        let permit = self.endpoint(&d).acquire_owned().await;
        // The due list was read a moment ago: an attempt that finished since then (and left
        // `in_flight`) must not be repeated from that stale copy.
        if !self.still_due(&d).await {
            self.in_flight.lock().remove(&d.id);
            return;
        }
        self.pace().await;
        let outcome = self.attempt(&d).await;
        drop(permit);
        let old_next = d.next_attempt_ms;
        let now = now_ms();
        d.attempts += 1;
        match outcome {
            Attempt::Delivered(status) => {
                d.status = DeliveryStatus::Delivered;
                d.last_status = Some(status);
                d.last_error = None;
                d.delivered_at_ms = Some(now);
            }
            Attempt::Retry {
                error,
                status,
                after,
            } => {
                d.last_error = Some(error);
                d.last_status = status;
                let wait = after.unwrap_or_else(|| self.policy.backoff(d.attempts));
                let next = now + wait.as_millis() as i64;
                if next > d.created_at_ms + self.policy.span.as_millis() as i64 {
                    d.status = DeliveryStatus::Failed;
                    tracing::warn!(delivery = %d.id, attempts = d.attempts, "webhook dead-lettered after the retry span");
                } else {
                    d.next_attempt_ms = next;
                }
            }
            Attempt::Fail { error, status } => {
                tracing::warn!(delivery = %d.id, status, "webhook refused; dead-lettered");
                d.status = DeliveryStatus::Failed;
                d.last_error = Some(error);
                d.last_status = status;
            }
        }
        let store = self.state.store.clone();
        let id = d.id;
        let saved = tokio::task::spawn_blocking(move || store.update_delivery(old_next, &d)).await;
        if !matches!(saved, Ok(Ok(()))) {
            tracing::error!(delivery = %id, "cannot record a webhook attempt; it will be retried");
        }
        self.in_flight.lock().remove(&id);
    }

    /// Waits for this attempt's slot: at most `max_per_second` attempts start each second.
    async fn pace(&self) {
        let gap = Duration::from_secs(1) / self.policy.max_per_second.max(1);
        let slot = {
            let mut next = self.next_slot.lock();
            let slot = (*next).max(tokio::time::Instant::now());
            *next = slot + gap;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    async fn still_due(&self, d: &Delivery) -> bool {
        let store = self.state.store.clone();
        let (site, id, next) = (d.site.clone(), d.id, d.next_attempt_ms);
        let current = tokio::task::spawn_blocking(move || store.get_delivery(&site, id)).await;
        matches!(current, Ok(Ok(Some(c))) if c.status == DeliveryStatus::Pending && c.next_attempt_ms == next)
    }

    async fn attempt(&self, d: &Delivery) -> Attempt {
        let Some(site) = self.state.sites.get(&d.site) else {
            return Attempt::Fail {
                error: format!("site \"{}\" is no longer served", d.site),
                status: None,
            };
        };
        let Some(hook) = site.site.webhook(&d.webhook) else {
            return Attempt::Fail {
                error: format!("webhook \"{}\" is no longer in site.toml", d.webhook),
                status: None,
            };
        };
        // A literal address is never resolved, so it is judged here; a name is judged by
        // the resolver, for every address it resolves to.
        if let Err(why) = self.state.config.webhook_policy().check_url(&hook.url) {
            return Attempt::Fail {
                error: format!("refused: {why}"),
                status: None,
            };
        }
        let key = match secret_for(hook) {
            Ok(k) => k,
            Err(error) => {
                return Attempt::Retry {
                    error,
                    status: None,
                    after: None,
                }
            }
        };
        let webhook_id = d.webhook_id();
        let timestamp = now_ms() / 1000;
        let signature = sign(&key, &webhook_id, timestamp, &d.body);
        let sent = self
            .client
            .post(&hook.url)
            .header("content-type", "application/json")
            .header("webhook-id", &webhook_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.body.clone())
            .send()
            .await;
        match sent {
            Err(e) if refusal_in(&e).is_some() => Attempt::Fail {
                error: format!("refused: {}", refusal_in(&e).unwrap_or_default()),
                status: None,
            },
            Err(e) => Attempt::Retry {
                error: if e.is_timeout() {
                    "timed out".into()
                } else {
                    format!("could not connect: {}", e.without_url())
                },
                status: None,
                after: None,
            },
            Ok(res) => {
                let status = res.status();
                let code = status.as_u16();
                if status.is_success() {
                    Attempt::Delivered(code)
                } else if status.is_server_error() || code == 429 || code == 408 {
                    let after = res
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok())
                        .map(|s| Duration::from_secs(s.min(24 * 3600)));
                    Attempt::Retry {
                        error: format!("receiver answered {code}"),
                        status: Some(code),
                        after,
                    }
                } else {
                    Attempt::Fail {
                        error: format!("receiver answered {code}; not retried"),
                        status: Some(code),
                    }
                }
            }
        }
    }
}
