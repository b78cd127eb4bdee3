//! Web-login sessions and the login rate limiter, both in memory.
//!
//! Sessions live in this process only: a restart signs everyone out, which is the safe
//! direction. A session id is 256 random bits; only its SHA-256 is kept, so even a memory dump
//! does not yield a usable cookie. Each session has its own CSRF token. Failed logins are
//! counted per account and per client address, in memory only (addresses are never written
//! to disk or logs).

use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

pub use crate::domain::user::{constant_time_eq, random_hex as random_token};

fn key(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

struct Entry {
    user: String,
    csrf: String,
    last_seen: Instant,
}

/// What a request learns about its session.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub user: String,
    pub csrf: String,
}

impl SessionInfo {
    pub fn csrf_matches(&self, presented: &str) -> bool {
        constant_time_eq(self.csrf.as_bytes(), presented.as_bytes())
    }
}

pub struct Sessions {
    entries: Mutex<HashMap<[u8; 32], Entry>>,
    idle_ms: AtomicU64,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::new(DEFAULT_IDLE_TIMEOUT)
    }
}

impl Sessions {
    pub fn new(idle_timeout: Duration) -> Sessions {
        Sessions {
            entries: Mutex::new(HashMap::new()),
            idle_ms: AtomicU64::new(idle_timeout.as_millis() as u64),
        }
    }

    /// Inactivity after which a session ends (default 30 minutes).
    pub fn set_idle_timeout(&self, idle: Duration) {
        self.idle_ms
            .store(idle.as_millis() as u64, Ordering::Relaxed);
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_millis(self.idle_ms.load(Ordering::Relaxed))
    }

    /// Starts a session for `user`; returns the cookie value (never stored) and the session.
    pub fn create(&self, user: &str) -> (String, SessionInfo) {
        let id = random_token();
        let csrf = random_token();
        let idle = self.idle_timeout();
        let mut entries = self.entries.lock();
        entries.retain(|_, e| e.last_seen.elapsed() < idle);
        entries.insert(
            key(&id),
            Entry {
                user: user.to_string(),
                csrf: csrf.clone(),
                last_seen: Instant::now(),
            },
        );
        let info = SessionInfo {
            user: user.to_string(),
            csrf,
        };
        (id, info)
    }

    /// The live session for a cookie value, its inactivity clock restarted; an expired one
    /// is removed and gives `None`.
    pub fn touch(&self, id: &str) -> Option<SessionInfo> {
        let idle = self.idle_timeout();
        let k = key(id);
        let mut entries = self.entries.lock();
        let entry = entries.get_mut(&k)?;
        if entry.last_seen.elapsed() >= idle {
            entries.remove(&k);
            return None;
        }
        entry.last_seen = Instant::now();
        Some(SessionInfo {
            user: entry.user.clone(),
            csrf: entry.csrf.clone(),
        })
    }

    pub fn end(&self, id: &str) {
        self.entries.lock().remove(&key(id));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Failed-login counter: at most `max_failures` per account and per address within `window`.
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
    max_failures: usize,
    window: Duration,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(5, Duration::from_secs(15 * 60))
    }
}

/// Upper bound on tracked keys, so a flood of addresses cannot grow memory without end.
const MAX_TRACKED: usize = 100_000;

impl LoginLimiter {
    pub fn new(max_failures: usize, window: Duration) -> LoginLimiter {
        LoginLimiter {
            failures: Mutex::new(HashMap::new()),
            max_failures,
            window,
        }
    }

    fn keys(account: &str, addr: &str) -> [String; 2] {
        [format!("account:{account}"), format!("addr:{addr}")]
    }

    /// How long until another attempt is allowed, if the account or the address is blocked.
    pub fn retry_after(&self, account: &str, addr: &str) -> Option<Duration> {
        let mut failures = self.failures.lock();
        let mut wait = None;
        for k in Self::keys(account, addr) {
            if let Some(list) = failures.get_mut(&k) {
                while list.front().is_some_and(|t| t.elapsed() >= self.window) {
                    list.pop_front();
                }
                if list.len() >= self.max_failures {
                    let left = self.window.saturating_sub(list[0].elapsed());
                    wait = Some(wait.map_or(left, |w: Duration| w.max(left)));
                }
            }
        }
        wait
    }

    pub fn failed(&self, account: &str, addr: &str) {
        let mut failures = self.failures.lock();
        if failures.len() >= MAX_TRACKED {
            let window = self.window;
            failures.retain(|_, l| l.back().is_some_and(|t| t.elapsed() < window));
        }
        for k in Self::keys(account, addr) {
            failures.entry(k).or_default().push_back(Instant::now());
        }
    }

    /// A successful login clears the account's failures (the address keeps its own).
    pub fn succeeded(&self, account: &str) {
        self.failures.lock().remove(&format!("account:{account}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_expire_after_inactivity() {
        let s = Sessions::new(Duration::from_secs(60));
        let (id, info) = s.create("ann");
        assert_eq!(s.touch(&id).unwrap().csrf, info.csrf);
        assert!(s.touch("other").is_none());
        s.set_idle_timeout(Duration::ZERO);
        assert!(s.touch(&id).is_none());
        assert!(s.is_empty(), "an expired session is removed");
    }

    #[test]
    fn limiter_blocks_after_five_failures() {
        let l = LoginLimiter::default();
        for _ in 0..4 {
            l.failed("ann", "10.0.0.1");
        }
        assert!(l.retry_after("ann", "10.0.0.2").is_none());
        l.failed("ann", "10.0.0.1");
        assert!(l.retry_after("ann", "10.0.0.2").is_some(), "per account");
        assert!(l.retry_after("bob", "10.0.0.1").is_some(), "per address");
        assert!(l.retry_after("bob", "10.0.0.2").is_none());
        l.succeeded("ann");
        assert!(l.retry_after("ann", "10.0.0.2").is_none());
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
