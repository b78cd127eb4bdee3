//! The service layer: what Chorus does, above the store and below HTTP. Services take a
//! `Chorus` (the store, the running sites, the work pool, metrics and signals) and return
//! `ServiceError`; they know nothing of actix.

pub mod address_policy;
pub mod audit;
pub mod backups;
pub mod csv_cell;
mod error;
pub mod evaluate;
pub mod export;
pub mod follow_ups;
pub mod invitations;
pub mod kiosks;
pub mod metrics;
pub mod paging;
pub mod password_links;
pub mod reports;
pub mod responses;
pub mod retag;
pub mod review;
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
    /// Threads for CPU work: validation and rules.
    pub work: WorkPool,
    pub metrics: metrics::Metrics,
    /// Wakes this process's delivery worker when new deliveries are stored.
    pub outbox: tokio::sync::Notify,
    pub sessions: sessions::Sessions,
    pub login_limiter: sessions::LoginLimiter,
    pub reviews: review::Reviews,
    /// This process's name in leases (random per start).
    pub node: String,
}

impl Chorus {
    pub fn new(store: Arc<dyn Store>, sites: SiteRegistry, work_threads: usize) -> Chorus {
        Chorus {
            store,
            sites: Arc::new(sites),
            work: WorkPool::new("chorus-work", work_threads),
            metrics: metrics::Metrics::default(),
            outbox: tokio::sync::Notify::new(),
            sessions: sessions::Sessions::default(),
            login_limiter: sessions::LoginLimiter::default(),
            reviews: review::Reviews::default(),
            node: format!("node-{}", uuid::Uuid::new_v4().simple()),
        }
    }

    /// The running site of that id, or `SiteNotFound`.
    pub fn site(&self, id: &str) -> Result<Arc<SiteRuntime>, ServiceError> {
        self.sites
            .get(id)
            .ok_or_else(|| ServiceError::SiteNotFound(id.to_string()))
    }

    /// Runs CPU work (rules, validation) on the work pool.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ServiceError> {
        self.work.run(f).await.ok_or(ServiceError::Unavailable)
    }
}
