//! The service layer: what Chorus does, above the store and below HTTP. Services take a
//! `Chorus` (the store, the running sites, the work pool, metrics and signals) and return
//! `ServiceError`; they know nothing of actix.

pub mod address_policy;
pub mod audit;
mod audit_filters;
pub mod backups;
pub mod csv_cell;
mod error;
pub mod evaluate;
pub mod export;
pub mod fhir;
pub mod follow_ups;
pub mod invitations;
pub mod kiosks;
pub mod login_throttle;
pub mod metrics;
pub mod paging;
pub mod password_links;
pub mod reports;
pub mod responses;
pub mod retag;
pub mod review;
pub mod rule_editor;
pub mod rule_errors;
pub mod rule_source;
pub mod rule_tests;
pub mod sessions;
pub mod signing;
pub mod site_files;
pub mod sites;
pub mod submit;
pub mod users;
pub mod webhooks;

pub use error::ServiceError;

use crate::pool::WorkPool;
use crate::store::Store;
use sites::{SiteRegistry, SiteRuntime};
use std::sync::Arc;

/// Everything a service needs, shared by every request and background task of a process.
pub struct Chorus {
    pub store: Arc<dyn Store>,
    pub sites: Arc<SiteRegistry>,
    /// Threads for CPU work (validation and rules), shared fairly between sites: each site's
    /// jobs queue apart and hold at most a share of the threads (`WorkPool::with_share`).
    pub work: WorkPool,
    pub metrics: metrics::Metrics,
    /// Wakes this process's delivery worker when new deliveries are stored.
    pub outbox: tokio::sync::Notify,
    pub sessions: sessions::Sessions,
    pub login_throttle: login_throttle::LoginThrottle,
    pub reviews: review::Reviews,
    /// This process's name in leases (random per start).
    pub node: String,
}

impl Chorus {
    /// `work_threads` threads for CPU work, half of them (at least one) for one site at most.
    pub fn new(store: Arc<dyn Store>, sites: SiteRegistry, work_threads: usize) -> Chorus {
        Chorus::with_site_share(store, sites, work_threads, (work_threads / 2).max(1))
    }

    /// As `new`, with at most `per_site` threads running one site's work at a time.
    pub fn with_site_share(
        store: Arc<dyn Store>,
        sites: SiteRegistry,
        work_threads: usize,
        per_site: usize,
    ) -> Chorus {
        Chorus {
            store,
            sites: Arc::new(sites),
            work: WorkPool::with_share("chorus-work", work_threads, per_site),
            metrics: metrics::Metrics::default(),
            outbox: tokio::sync::Notify::new(),
            sessions: sessions::Sessions::default(),
            login_throttle: login_throttle::LoginThrottle::default(),
            reviews: review::Reviews::default(),
            node: format!("node-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// The running site of that id; `SiteUnavailable` when its files keep it from running,
    /// `SiteNotFound` when there is no such site.
    pub fn site(&self, id: &str) -> Result<Arc<SiteRuntime>, ServiceError> {
        self.sites.get(id).ok_or_else(|| self.not_running(id))
    }

    /// Ok when the site runs or is broken (an admin may reload it); `SiteNotFound` otherwise.
    pub fn known_site(&self, id: &str) -> Result<(), ServiceError> {
        match self.sites.get(id).is_some() || self.sites.problems(id).is_some() {
            true => Ok(()),
            false => Err(ServiceError::SiteNotFound(id.to_string())),
        }
    }

    fn not_running(&self, id: &str) -> ServiceError {
        match self.sites.problems(id) {
            Some(_) => ServiceError::SiteUnavailable(id.to_string()),
            None => ServiceError::SiteNotFound(id.to_string()),
        }
    }

    /// Runs CPU work that belongs to no site (password checks) on the work pool.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        self.work.run(f).await.ok_or(ServiceError::Unavailable)
    }

    /// Runs a site's CPU work (validation, rules, reloads) in that site's share of the work
    /// pool, so a site with slow rules waits behind its own work only.
    pub async fn run_for_site<T: Send + 'static>(
        &self,
        site: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        self.work
            .run_as(site, f)
            .await
            .ok_or(ServiceError::Unavailable)
    }
}
