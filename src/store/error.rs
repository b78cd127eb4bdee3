//! What can go wrong in the store. Each variant means one thing; the service layer decides
//! what a caller is told.

use crate::domain::TaskStatus;
use std::path::PathBuf;

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
    /// The store is missing, unreadable or behind its own record: refused at open, before
    /// anything was written to it.
    #[error("{0}")]
    Damaged(Box<Damage>),
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

/// Why a store was refused, for the one paragraph the operator reads. The backend fills in
/// what it checked; the paragraph is the same for every backend.
#[derive(Debug)]
pub struct Damage {
    /// Where the store's files are.
    pub location: PathBuf,
    /// What the store's record says it had reached ("its record (…) says it had reached commit
    /// 41 and held response …"), when there is a record.
    pub expected: Option<String>,
    /// What was found, as the middle of a sentence ("the database opened empty").
    pub found: String,
    /// The files as they were before this open, when they were copied aside.
    pub copy: Option<PathBuf>,
    /// How to accept the store as it is, on purpose ("delete DATA/store-record.json").
    pub accept: String,
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data = self.location.display();
        write!(
            f,
            "the store in {data} is damaged and Chorus will not use it: "
        )?;
        match &self.expected {
            Some(expected) => write!(f, "{expected}, but {}. ", self.found)?,
            None => write!(f, "{}. ", self.found)?,
        }
        write!(
            f,
            "This happens when a disk loses writes (a power cut on a disk that does not honour \
             flushes, a failing disk) or when the store's files were deleted, truncated or \
             replaced. Chorus has written nothing to it (no admin was created, no data \
             changed). "
        )?;
        match &self.copy {
            Some(copy) => write!(
                f,
                "The store's recovery may rewrite damaged files while opening them, so the \
                 files as they were before this start are kept in {}; the others are in \
                 {data}. ",
                copy.display()
            )?,
            None => write!(f, "The damaged files are in {data}; keep them. ")?,
        }
        write!(
            f,
            "Restore your newest backup into an empty data directory (`chorus restore BACKUP \
             --data NEW_DIR`) and start Chorus with `--data NEW_DIR`. If you replaced these \
             files on purpose, {} and start again.",
            self.accept
        )
    }
}
