//! A small fixed pool of threads for CPU-bound request work (validation, rules, the store
//! write). tokio's blocking pool grows a thread per waiting request (64 at c=64), and on a
//! 2-core machine the context switches between them cost more than the rules themselves.

use parking_lot::Mutex;
use std::sync::mpsc;
use std::sync::Arc;

type Job = Box<dyn FnOnce() + Send>;

pub struct WorkPool {
    jobs: Mutex<mpsc::Sender<Job>>,
}

impl WorkPool {
    pub fn new(threads: usize) -> WorkPool {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("chorus-work-{i}"))
                .spawn(move || loop {
                    let job = rx.lock().recv();
                    match job {
                        Ok(job) => job(),
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
