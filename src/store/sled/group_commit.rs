//! Group commit: one thread runs the blocking flush and wakes every writer it covered.
//!
//! sled's `flush_async` deadlocks under concurrent callers (sled #1308), and one flush per
//! request would serialize writers; instead each writer takes a ticket after its write and
//! waits until a flush that started after the ticket has finished.

use crate::store::StoreError;
use parking_lot::{Condvar, Mutex};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::sync::watch;

#[derive(Clone, Debug, Default)]
struct Flushed {
    ticket: u64,
    error: Option<String>,
}

struct Shared {
    requested: AtomicU64,
    stop: Mutex<bool>,
    wake: Condvar,
    flushed: watch::Sender<Flushed>,
}

pub(super) struct GroupCommit {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

pub(super) type DurableFuture = Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>;

pub(super) type FlushFn = Box<dyn Fn() -> Result<(), String> + Send>;
/// Runs after each flush's writers were woken (work that must not delay them), and every
/// `IDLE_TICK` while no flush is asked for.
pub(super) type AfterFn = Box<dyn Fn() + Send>;
const IDLE_TICK: std::time::Duration = std::time::Duration::from_millis(500);

impl GroupCommit {
    pub fn start(flush: FlushFn, after: AfterFn) -> Self {
        let (tx, _) = watch::channel(Flushed::default());
        let shared = Arc::new(Shared {
            requested: AtomicU64::new(0),
            stop: Mutex::new(false),
            wake: Condvar::new(),
            flushed: tx,
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("chorus-flusher".into())
            .spawn(move || run(&worker, flush, after))
            .expect("spawn the flusher thread");
        GroupCommit {
            shared,
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Resolves once a flush has covered every write that completed before this call.
    pub fn durable(&self) -> DurableFuture {
        let ticket = self.shared.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let mut rx = self.shared.flushed.subscribe();
        {
            // Holding the lock while notifying means the flusher cannot miss the wake-up
            // between its check of `requested` and its wait.
            let _stop = self.shared.stop.lock();
            self.shared.wake.notify_one();
        }
        Box::pin(async move {
            let state = rx
                .wait_for(|f| f.ticket >= ticket)
                .await
                .map_err(|_| StoreError::Durability("the store is shutting down".into()))?
                .clone();
            match state.error {
                None => Ok(()),
                Some(e) => Err(StoreError::Durability(e)),
            }
        })
    }

    /// Flushes what is pending and stops the thread.
    pub fn stop(&self) {
        *self.shared.stop.lock() = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(shared: &Shared, flush: FlushFn, after: AfterFn) {
    let mut done = 0u64;
    loop {
        {
            let mut stop = shared.stop.lock();
            if shared.requested.load(Ordering::SeqCst) <= done && !*stop {
                shared.wake.wait_for(&mut stop, IDLE_TICK);
            }
            if *stop && shared.requested.load(Ordering::SeqCst) <= done {
                break;
            }
        }
        if shared.requested.load(Ordering::SeqCst) <= done {
            // Idle: `after` still runs now and then (the store record catches up).
            after();
            continue;
        }
        // Every ticket up to `target` was taken after its write returned, so this flush
        // (which starts now) covers all of them.
        let target = shared.requested.load(Ordering::SeqCst);
        let error = flush().err();
        if let Some(e) = &error {
            tracing::error!(error = %e, "flush failed; writers waiting on it get an error");
        }
        done = target;
        shared.flushed.send_replace(Flushed {
            ticket: target,
            error,
        });
        after();
    }
    // A last flush on the way out covers anything written without a ticket.
    if let Err(e) = flush() {
        tracing::error!(error = %e, "final flush failed");
    }
}
