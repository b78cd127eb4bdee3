//! Failed web sign-ins, limited two ways:
//!
//! - **per account**, in the store (every node sees one count): failure `lock_after` locks the
//!   account for `base`, and each further one for twice as long as the one before, up to
//!   `max`. A successful sign-in clears the count. Attempts while locked are
//!   refused without checking the password and are not counted (so a lock never grows by
//!   itself), and the same applies to names that do not exist (a 429 tells nothing about
//!   whether an account is real).
//! - **per client address**, in memory only (addresses are never stored or logged): a ceiling
//!   far above one person's mistakes, so one office behind one address, or a proxy, is never
//!   locked out by one account, while one address cannot try passwords at scale.

use super::{Chorus, ServiceError};
use crate::domain::time::now_ms;
use crate::domain::user::account_key;
use crate::domain::LoginFailures;
use parking_lot::{Mutex, RwLock};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The per-account policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The failure that first locks the account.
    pub lock_after: u32,
    /// The delay after failure `lock_after`; it doubles with each further failure.
    pub base: Duration,
    /// The longest delay.
    pub max: Duration,
    /// A count whose last failure is this old starts again.
    pub forget_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            lock_after: 5,
            base: Duration::from_secs(30),
            max: Duration::from_secs(15 * 60),
            forget_after: Duration::from_secs(24 * 3600),
        }
    }
}

impl Backoff {
    /// How long an account with `failures` failures is locked after the last one.
    pub fn delay(&self, failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(self.lock_after)?;
        let factor = 1u32.checked_shl(over.min(31)).unwrap_or(u32::MAX);
        Some(self.base.saturating_mul(factor).min(self.max))
    }

    /// When an account with these failures may try again, if it is locked at `now`.
    pub fn locked_for(&self, failures: &LoginFailures, now: i64) -> Option<Duration> {
        if now - failures.last_ms >= self.forget_after.as_millis() as i64 {
            return None;
        }
        let until = failures.last_ms + self.delay(failures.count)?.as_millis() as i64;
        (until > now).then(|| Duration::from_millis((until - now) as u64))
    }
}

/// Why an attempt is refused, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Account(Duration),
    Address(Duration),
}

impl Refusal {
    pub fn retry_after(&self) -> Duration {
        match self {
            Refusal::Account(d) | Refusal::Address(d) => *d,
        }
    }
}

/// The throttle's policy and its in-memory address counts.
pub struct LoginThrottle {
    backoff: RwLock<Backoff>,
    addresses: AddressCeiling,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            backoff: RwLock::new(Backoff::default()),
            addresses: AddressCeiling::new(100, Duration::from_secs(15 * 60)),
        }
    }
}

impl LoginThrottle {
    pub fn backoff(&self) -> Backoff {
        *self.backoff.read()
    }

    /// Changes the per-account policy (the tests use short delays).
    pub fn set_backoff(&self, backoff: Backoff) {
        *self.backoff.write() = backoff;
    }

    /// Changes how many failures one address may have within 15 minutes (default 100).
    pub fn set_address_ceiling(&self, max_failures: usize) {
        self.addresses
            .max_failures
            .store(max_failures, Ordering::Relaxed);
    }
}

/// Whether a sign-in attempt for `name` from `addr` may go ahead.
pub async fn check(chorus: &Chorus, name: &str, addr: &str) -> Result<(), Refusal> {
    if let Some(wait) = chorus.login_throttle.addresses.retry_after(addr) {
        return Err(Refusal::Address(wait));
    }
    let backoff = chorus.login_throttle.backoff();
    // A store that does not answer must not become a way around the limit.
    let failures = chorus
        .store
        .login_failures(&account_key(name))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot read failed sign-ins; refusing the attempt");
            Refusal::Account(backoff.base)
        })?;
    match failures.and_then(|f| backoff.locked_for(&f, now_ms())) {
        Some(wait) => Err(Refusal::Account(wait)),
        None => Ok(()),
    }
}

/// Counts a failed attempt against the account and the address.
pub async fn failed(chorus: &Chorus, name: &str, addr: &str) -> Result<(), ServiceError> {
    chorus.login_throttle.addresses.failed(addr);
    let backoff = chorus.login_throttle.backoff();
    let now = now_ms();
    chorus
        .store
        .record_login_failure(
            &account_key(name),
            now,
            now - backoff.forget_after.as_millis() as i64,
        )
        .await?;
    Ok(())
}

/// A successful sign-in clears the account's failures (the address keeps its own).
pub async fn succeeded(chorus: &Chorus, name: &str) -> Result<(), ServiceError> {
    let forget = chorus.login_throttle.backoff().forget_after.as_millis() as i64;
    chorus
        .store
        .clear_login_failures(&account_key(name), now_ms() - forget)
        .await?;
    Ok(())
}

/// Failed attempts per client address within a sliding window, in memory.
struct AddressCeiling {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
    max_failures: AtomicUsize,
    window: Duration,
}

/// Upper bound on tracked addresses, so a flood of addresses cannot grow memory without end.
const MAX_TRACKED: usize = 100_000;

impl AddressCeiling {
    fn new(max_failures: usize, window: Duration) -> AddressCeiling {
        AddressCeiling {
            failures: Mutex::new(HashMap::new()),
            max_failures: AtomicUsize::new(max_failures),
            window,
        }
    }

    fn retry_after(&self, addr: &str) -> Option<Duration> {
        let mut failures = self.failures.lock();
        let list = failures.get_mut(addr)?;
        while list.front().is_some_and(|t| t.elapsed() >= self.window) {
            list.pop_front();
        }
        (list.len() >= self.max_failures.load(Ordering::Relaxed))
            .then(|| self.window.saturating_sub(list[0].elapsed()))
    }

    fn failed(&self, addr: &str) {
        let mut failures = self.failures.lock();
        if failures.len() >= MAX_TRACKED {
            let window = self.window;
            failures.retain(|_, l| l.back().is_some_and(|t| t.elapsed() < window));
        }
        let list = failures.entry(addr.to_string()).or_default();
        list.push_back(Instant::now());
        // Only the newest `max_failures` matter.
        while list.len() > self.max_failures.load(Ordering::Relaxed) {
            list.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_doubles_after_the_free_failures_up_to_the_cap() {
        let b = Backoff::default();
        assert_eq!(b.delay(4), None, "four failures are free");
        assert_eq!(b.delay(5), Some(Duration::from_secs(30)));
        assert_eq!(b.delay(6), Some(Duration::from_secs(60)));
        assert_eq!(b.delay(7), Some(Duration::from_secs(120)));
        assert_eq!(b.delay(10), Some(Duration::from_secs(15 * 60)), "capped");
        assert_eq!(b.delay(u32::MAX), Some(Duration::from_secs(15 * 60)));
    }

    #[test]
    fn a_lock_ends_and_old_failures_are_forgotten() {
        let b = Backoff::default();
        let f = LoginFailures {
            count: 5,
            last_ms: 1_000_000,
        };
        assert_eq!(
            b.locked_for(&f, 1_000_000 + 10_000),
            Some(Duration::from_secs(20))
        );
        assert_eq!(b.locked_for(&f, 1_000_000 + 30_000), None);
        let many = LoginFailures {
            count: 50,
            last_ms: 0,
        };
        assert!(b.locked_for(&many, 60_000).is_some());
        assert_eq!(b.locked_for(&many, 24 * 3600 * 1000), None, "forgotten");
    }

    #[test]
    fn the_address_ceiling_counts_per_address() {
        let c = AddressCeiling::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(c.retry_after("a").is_none());
            c.failed("a");
        }
        assert!(c.retry_after("a").is_some());
        assert!(c.retry_after("b").is_none());
    }
}
