//! The webhook delivery worker: claims due deliveries from the store with a lease, sends
//! them, retries with exponential backoff and jitter, dead-letters after the retry span.
//! Endpoints are independent: each has its own concurrency limit, so a dead help desk never
//! delays another.
//!
//! The lease is what keeps two workers (two nodes on one database) from sending one delivery
//! twice: an attempt starts only while enough of its lease is left for the request to finish
//! (its timeout), and recording it needs the lease still held. A worker that dies leaves its
//! claims to any worker once the lease is over.

use super::address_policy::{refusal_in, GuardedResolver};
use super::signing::{secret_for, sign};
use super::Chorus;
use crate::domain::time::now_ms;
use crate::domain::{AttemptRecord, Delivery, DeliveryStatus};
use crate::store::Claim;
use rand::Rng;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

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
    /// How long a claim holds a delivery for this worker.
    pub lease: Duration,
    /// Deliveries this worker holds at most at once.
    pub max_in_flight: usize,
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
            lease: Duration::from_secs(300),
            max_in_flight: 64,
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
    chorus: Arc<Chorus>,
    client: reqwest::Client,
    policy: RetryPolicy,
    endpoints: parking_lot::Mutex<HashMap<(String, String), Arc<Semaphore>>>,
    in_flight: AtomicUsize,
    /// The earliest instant the next attempt may start (the pacing of `max_per_second`).
    next_slot: parking_lot::Mutex<tokio::time::Instant>,
}

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
    pub fn new(chorus: Arc<Chorus>, policy: RetryPolicy) -> Arc<DeliveryWorker> {
        let addresses = Arc::new(chorus.sites.webhook_policy().clone());
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
            chorus,
            client,
            policy,
            endpoints: Default::default(),
            in_flight: AtomicUsize::new(0),
            next_slot: parking_lot::Mutex::new(tokio::time::Instant::now()),
        })
    }

    /// Runs forever on the current runtime: claims due deliveries and sends them.
    pub async fn run(self: Arc<Self>) {
        loop {
            let free = self
                .policy
                .max_in_flight
                .saturating_sub(self.in_flight.load(Ordering::SeqCst));
            let mut wait = Duration::from_millis(500);
            if free > 0 {
                let now = now_ms();
                let claim = Claim {
                    node: self.chorus.node.clone(),
                    now_ms: now,
                    lease_until_ms: now + self.policy.lease.as_millis() as i64,
                    limit: free,
                };
                match self.chorus.store.claim_deliveries(&claim).await {
                    Ok(list) => {
                        if list.len() == free {
                            wait = Duration::from_millis(10);
                        }
                        for d in list {
                            self.in_flight.fetch_add(1, Ordering::SeqCst);
                            let worker = Arc::clone(&self);
                            tokio::spawn(async move {
                                worker.deliver(d).await;
                                worker.in_flight.fetch_sub(1, Ordering::SeqCst);
                            });
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "cannot read the webhook outbox"),
                }
            }
            let _ = tokio::time::timeout(wait, self.chorus.outbox.notified()).await;
        }
    }

    fn endpoint(&self, d: &Delivery) -> Arc<Semaphore> {
        let mut map = self.endpoints.lock();
        Arc::clone(
            map.entry((d.site.clone(), d.webhook.clone()))
                .or_insert_with(|| Arc::new(Semaphore::new(self.policy.per_endpoint))),
        )
    }

    /// Whether an attempt started now ends (at its timeout) before the lease does.
    fn time_left(&self, d: &Delivery) -> bool {
        let margin = self.policy.request_timeout.as_millis() as i64 * 2;
        d.lease
            .as_ref()
            .is_some_and(|l| now_ms() + margin < l.until_ms)
    }

    async fn deliver(&self, d: Delivery) {
        let permit = self.endpoint(&d).acquire_owned().await;
        self.pace().await;
        if !self.time_left(&d) {
            // Waited too long for the endpoint: leave it to whoever claims it after the lease.
            return;
        }
        let outcome = self.attempt(&d).await;
        drop(permit);
        let record = self.record_of(&d, outcome);
        let recorded = self
            .chorus
            .store
            .record_attempt(&d.site, d.id, &self.chorus.node, &record)
            .await;
        if let Err(e) = recorded {
            tracing::error!(delivery = %d.id, error = %e, "cannot record a webhook attempt; it will be retried");
        }
    }

    fn record_of(&self, d: &Delivery, outcome: Attempt) -> AttemptRecord {
        let now = now_ms();
        let attempts = d.attempts + 1;
        let mut record = AttemptRecord {
            status: DeliveryStatus::Pending,
            next_attempt_ms: d.next_attempt_ms,
            last_error: None,
            last_status: None,
            delivered_at_ms: None,
        };
        match outcome {
            Attempt::Delivered(status) => {
                record.status = DeliveryStatus::Delivered;
                record.last_status = Some(status);
                record.delivered_at_ms = Some(now);
            }
            Attempt::Retry {
                error,
                status,
                after,
            } => {
                record.last_error = Some(error);
                record.last_status = status;
                let wait = after.unwrap_or_else(|| self.policy.backoff(attempts));
                let next = now + wait.as_millis() as i64;
                if next > d.created_at_ms + self.policy.span.as_millis() as i64 {
                    record.status = DeliveryStatus::Failed;
                    tracing::warn!(delivery = %d.id, attempts, "webhook dead-lettered after the retry span");
                } else {
                    record.next_attempt_ms = next;
                }
            }
            Attempt::Fail { error, status } => {
                tracing::warn!(delivery = %d.id, status, "webhook refused; dead-lettered");
                record.status = DeliveryStatus::Failed;
                record.last_error = Some(error);
                record.last_status = status;
            }
        }
        record
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

    async fn attempt(&self, d: &Delivery) -> Attempt {
        let Some(site) = self.chorus.sites.get(&d.site) else {
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
        if let Err(why) = self.chorus.sites.webhook_policy().check_url(&hook.url) {
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
