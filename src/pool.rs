//! The one way Chorus runs blocking work: a small fixed pool of threads. tokio's blocking pool
//! grows a thread per waiting request (64 at c=64), and on a 2-core machine the context switches
//! between them cost more than the work itself. Imports nothing from the crate.
//!
//! Jobs carry a key (the services use the site's id). Each key has its own queue; the threads
//! take one job from each key with work in turn (round robin), and run at most `per_key` jobs
//! of one key at once. So a key whose jobs are slow (a site whose rules burn their deadline)
//! fills at most `per_key` threads and waits behind its own jobs only; another key's job starts
//! on a free thread, or at the next turn, not after the slow key's whole queue.

use parking_lot::{Condvar, Mutex};
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

type Job = Box<dyn FnOnce() + Send>;

pub struct WorkPool {
    shared: Arc<Shared>,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
    per_key: usize,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, KeyQueue>,
    /// Keys with a job waiting and a thread to spare, in turn order. A key is here exactly
    /// when its `in_turn` is set.
    turns: VecDeque<String>,
    closed: bool,
}

#[derive(Default)]
struct KeyQueue {
    waiting: VecDeque<Job>,
    running: usize,
    in_turn: bool,
}

/// How many jobs of one key are waiting and running.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyLoad {
    pub waiting: usize,
    pub running: usize,
}

impl State {
    /// Puts `key` in the turn order if it has a job waiting and may run one more.
    fn offer_turn(&mut self, key: &str, per_key: usize) -> bool {
        let Some(q) = self.keys.get_mut(key) else {
            return false;
        };
        if q.in_turn || q.waiting.is_empty() || q.running >= per_key {
            return false;
        }
        q.in_turn = true;
        self.turns.push_back(key.to_string());
        true
    }

    /// The next job in turn order, counted as running.
    fn take(&mut self, per_key: usize) -> Option<(String, Job)> {
        let key = self.turns.pop_front()?;
        let q = self.keys.get_mut(&key)?;
        q.in_turn = false;
        let job = q.waiting.pop_front()?;
        q.running += 1;
        self.offer_turn(&key, per_key);
        Some((key, job))
    }

    fn finished(&mut self, key: &str, per_key: usize) -> bool {
        if let Some(q) = self.keys.get_mut(key) {
            q.running -= 1;
            if q.running == 0 && q.waiting.is_empty() {
                self.keys.remove(key);
                return false;
            }
        }
        self.offer_turn(key, per_key)
    }
}

impl WorkPool {
    /// `threads` threads named `{name}-{i}`, any number of them on one key.
    pub fn new(name: &str, threads: usize) -> WorkPool {
        WorkPool::with_share(name, threads, threads)
    }

    /// `threads` threads, at most `per_key` of them running jobs of one key at a time.
    pub fn with_share(name: &str, threads: usize, per_key: usize) -> WorkPool {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            work: Condvar::new(),
            per_key: per_key.clamp(1, threads.max(1)),
        });
        for i in 0..threads.max(1) {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("{name}-{i}"))
                .spawn(move || shared.work_loop())
                .expect("spawn a work thread");
        }
        WorkPool { shared }
    }

    /// Runs `f` on the pool under the shared key `""`; `None` if the pool is gone or `f`
    /// panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        self.run_as("", f).await
    }

    /// Runs `f` on the pool in `key`'s queue; `None` if the pool is gone or `f` panicked.
    pub async fn run_as<T: Send + 'static>(
        &self,
        key: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        {
            let mut state = self.shared.state.lock();
            if state.closed {
                return None;
            }
            state
                .keys
                .entry(key.to_string())
                .or_default()
                .waiting
                .push_back(job);
            if state.offer_turn(key, self.shared.per_key) {
                self.shared.work.notify_one();
            }
        }
        rx.await.ok()
    }

    /// Jobs of `key` waiting and running now.
    pub fn load(&self, key: &str) -> KeyLoad {
        let state = self.shared.state.lock();
        state.keys.get(key).map_or(KeyLoad::default(), |q| KeyLoad {
            waiting: q.waiting.len(),
            running: q.running,
        })
    }

    /// At most this many jobs of one key run at once.
    pub fn per_key(&self) -> usize {
        self.shared.per_key
    }
}

impl Shared {
    fn work_loop(&self) {
        loop {
            let (key, job) = {
                let mut state = self.state.lock();
                loop {
                    if let Some(next) = state.take(self.per_key) {
                        break next;
                    }
                    if state.closed {
                        return;
                    }
                    self.work.wait(&mut state);
                }
            };
            // A panicking job ends that job only: its caller gets `None`, the thread takes the
            // next job.
            if catch_unwind(AssertUnwindSafe(job)).is_err() {
                tracing::error!("a background job panicked; its request failed");
            }
            if self.state.lock().finished(&key, self.per_key) {
                self.work.notify_one();
            }
        }
    }
}

impl Drop for WorkPool {
    /// The threads finish the jobs already queued, then end.
    fn drop(&mut self) {
        self.shared.state.lock().closed = true;
        self.shared.work.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

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

    /// Two threads, one per key: while "slow" holds one thread with a queue behind it, "fast"
    /// gets the other thread at once.
    #[actix_web::test]
    async fn a_busy_key_leaves_the_other_threads_to_the_others() {
        let pool = Arc::new(WorkPool::with_share("test-fair", 2, 1));
        let (release, gate) = mpsc::channel::<()>();
        let gate = Arc::new(std::sync::Mutex::new(gate));
        let mut slow = Vec::new();
        for _ in 0..3 {
            let (pool, gate) = (Arc::clone(&pool), Arc::clone(&gate));
            slow.push(actix_web::rt::spawn(async move {
                pool.run_as("slow", move || gate.lock().unwrap().recv().unwrap())
                    .await
            }));
        }
        while pool.load("slow")
            != (KeyLoad {
                waiting: 2,
                running: 1,
            })
        {
            actix_web::rt::task::yield_now().await;
        }
        for i in 0..5 {
            assert_eq!(pool.run_as("fast", move || i).await, Some(i));
        }
        assert_eq!(pool.load("slow").waiting, 2, "the slow jobs still wait");
        for _ in 0..3 {
            release.send(()).unwrap();
        }
        for job in slow {
            assert_eq!(job.await.unwrap(), Some(()));
        }
        assert_eq!(pool.load("slow"), KeyLoad::default());
    }
}
