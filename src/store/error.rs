//! What can go wrong in the store. Each variant means one thing; the service layer decides
//! what a caller is told.

use crate::domain::TaskStatus;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the data directory {0} is in use by another Chorus process (a running server?); stop it first or use the HTTP API")]
    Locked(String),
    #[error("storage failure: {0}")]
    Backend(String),
    #[error("stored record is unreadable: {0}")]
    Corrupt(String),
    #[error("the {store} has schema {found}; this Chorus reads schema {supported} and older: run a newer Chorus")]
    NewerSchema {
        /// "data directory" or "database".
        store: &'static str,
        found: String,
        supported: String,
    },
    /// The store could not be opened: a bad URL, an unreachable server, a missing database, a
    /// refused login. One sentence that says what to do.
    #[error("{0}")]
    Unreachable(String),
    #[error("could not make the write durable: {0}")]
    Durability(String),
    /// The record an operation names does not exist.
    #[error("no such record")]
    NotFound,
    /// A task transition expected another current status (someone else changed it first).
    #[error("the task is {} now", .0.as_str())]
    TaskStateChanged(TaskStatus),
    /// A delivery that was delivered cannot be scheduled again.
    #[error("this delivery was already delivered")]
    AlreadyDelivered,
    /// The job or delivery is leased to another live node.
    #[error("another node holds this job")]
    LeaseHeld,
    /// The lease this node held has expired or was taken over; its write was not made.
    #[error("this node no longer holds the lease")]
    LeaseLost,
    #[error("the store already holds data; restore into an empty one")]
    NotEmpty,
    #[error("backup file is not valid: {0}")]
    BadBackup(String),
}

impl StoreError {
    pub fn corrupt(e: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt(e.to_string())
    }
}
