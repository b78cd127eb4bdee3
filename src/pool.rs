//! The one way Chorus runs blocking work: a small fixed pool of threads. tokio's blocking pool
//! grows a thread per waiting request (64 at c=64), and on a 2-core machine the context switches
//! between them cost more than the work itself. Imports nothing from the crate.

use parking_lot::Mutex;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::Arc;

type Job = Box<dyn FnOnce() + Send>;

pub struct WorkPool {
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl WorkPool {
    /// `threads` threads named `{name}-{i}`.
    pub fn new(name: &str, threads: usize) -> WorkPool {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || loop {
                    let job = rx.lock().recv();
                    match job {
                        // A panicking job ends that job only: its caller gets `None`, the thread
                        // takes the next job.
                        Ok(job) => {
                            if catch_unwind(AssertUnwindSafe(job)).is_err() {
                                tracing::error!("a background job panicked; its request failed");
                            }
                        }
                        Err(_) => return,
                    }
                })
                .expect("spawn a work thread");
        }
        WorkPool {
            jobs: Mutex::new(tx),
        }
    }

    /// Runs `f` on the pool; `None` if the pool is gone or `f` panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs.lock().send(job).ok()?;
        rx.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn a_panicking_job_does_not_kill_its_thread() {
        let pool = WorkPool::new("test-pool", 1);
        assert_eq!(pool.run(|| -> u32 { panic!("boom") }).await, None);
        assert_eq!(
            pool.run(|| 2 + 2).await,
            Some(4),
            "the one thread still works"
        );
    }
}
