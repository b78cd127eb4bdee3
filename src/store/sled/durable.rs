//! Opening sled without trusting it blindly, and flushing it so a flush means "on disk".

use super::backend;
use super::record::{
    before_open, check_opened, new_record, write_record, FileStamp, Opening, SampleResponse,
    META_COMMIT, TREE_META, TREE_RESPONSES,
};
use super::sync::DiskSync;
use crate::store::StoreError;
use parking_lot::Mutex;
use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// The store record is rewritten at most this often by the group commit (each direct flush
/// writes it at once): two fsyncs a second at most, whatever the load.
const RECORD_EVERY: Duration = Duration::from_secs(1);

thread_local! {
    /// Set while this thread opens sled: its panic message is kept instead of printed.
    static CAPTURING: Cell<bool> = const { Cell::new(false) };
    static CAPTURED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A panic hook, installed once, that keeps quiet about panics inside `open_sled` (they are
/// reported in the refusal paragraph) and leaves every other panic to the previous hook.
fn install_panic_capture() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if CAPTURING.with(Cell::get) {
                let at = info
                    .location()
                    .map(|l| format!(" ({}:{})", l.file(), l.line()))
                    .unwrap_or_default();
                let message = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".into());
                CAPTURED.with(|c| *c.borrow_mut() = Some(format!("{message}{at}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Opens sled in `dir` after `before_open`; a panic or an error of sled's own recovery becomes
/// a refusal (the database files are unreadable), never a crash or a silent fresh store.
pub(super) fn open_sled(
    dir: &Path,
    cache_capacity_bytes: u64,
) -> Result<(sled::Db, Opening), StoreError> {
    let opening = before_open(dir)?;
    install_panic_capture();
    CAPTURING.with(|c| c.set(true));
    let result = std::panic::catch_unwind(|| {
        sled::Config::new()
            .path(dir)
            .cache_capacity(cache_capacity_bytes)
            .open()
    });
    CAPTURING.with(|c| c.set(false));
    match result {
        Ok(Ok(db)) => Ok((db, opening)),
        Ok(Err(sled::Error::Io(io))) if io.to_string().contains("could not acquire lock") => {
            Err(StoreError::Locked(dir.display().to_string()))
        }
        Ok(Err(
            e @ (sled::Error::Corruption { .. }
            | sled::Error::Unsupported(_)
            | sled::Error::ReportableBug(_)),
        )) => Err(opening.refuse(dir, format!("the database could not be opened ({e})"))),
        Ok(Err(sled::Error::Io(e)))
            if matches!(
                e.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData
            ) =>
        {
            Err(opening.refuse(dir, format!("the database could not be read ({e})")))
        }
        Ok(Err(e)) => Err(backend(e)),
        Err(_) => {
            let message = CAPTURED.with(|c| c.borrow_mut().take()).unwrap_or_default();
            Err(opening.refuse(
                dir,
                format!("opening the database failed inside sled: {message}"),
            ))
        }
    }
}

struct State {
    sync: DiskSync,
    /// The commit counter of the last flush that bumped it (what sled holds under
    /// `meta/commit`).
    commit: u64,
    /// The counter and a stored response known durable (after the last bump's `fdatasync`).
    durable: (u64, Option<SampleResponse>),
    /// The counter in the record file, and when that was written.
    recorded: (u64, Instant),
    /// Flushes since the last bump: writes the record does not cover yet.
    unrecorded: u64,
    clean: bool,
}

impl State {
    fn record_due(&self) -> bool {
        self.recorded.1.elapsed() >= RECORD_EVERY
    }
}

/// Durable flushes and the store record.
pub(super) struct Durability {
    dir: PathBuf,
    db: sled::Db,
    meta: sled::Tree,
    responses: sled::Tree,
    state: Mutex<State>,
}

impl Durability {
    /// After a passed `check_opened`: syncs what sled's open wrote, then records the store as
    /// open (`clean: false`) so that a crash from now on is noticed at the next open.
    pub fn start(dir: &Path, db: &sled::Db, opening: &Opening) -> Result<Durability, StoreError> {
        let io = |e: std::io::Error| {
            StoreError::Durability(format!("cannot sync the store in {}: {e}", dir.display()))
        };
        let sync = DiskSync::after_open(dir).map_err(io)?;
        // Checked after the sync: a counter recovered from the page cache is on disk only now.
        let commit = check_opened(dir, opening, db)?;
        let meta = db.open_tree(TREE_META).map_err(backend)?;
        let responses = db.open_tree(TREE_RESPONSES).map_err(backend)?;
        let sample = SampleResponse::last_of(&responses)?;
        write_record(dir, &new_record(commit, sample.clone(), None)).map_err(io)?;
        Ok(Durability {
            dir: dir.to_path_buf(),
            db: db.clone(),
            meta,
            responses,
            state: Mutex::new(State {
                sync,
                commit,
                durable: (commit, sample),
                recorded: (commit, Instant::now()),
                unrecorded: 0,
                clean: false,
            }),
        })
    }

    /// sled's flush, then `fdatasync`: once this returns, every write that returned before it
    /// began survives a power cut. When the record is due, the flush also carries the next
    /// commit counter (so the counter costs one insert a second, not one per flush).
    pub fn flush(&self) -> Result<(), String> {
        let mut state = self.state.lock();
        let bump = state.record_due();
        self.flush_locked(&mut state, bump)
    }

    fn flush_locked(&self, state: &mut State, bump: bool) -> Result<(), String> {
        let mut sample = None;
        if bump {
            self.meta
                .insert(META_COMMIT, &(state.commit + 1).to_be_bytes())
                .map_err(|e| e.to_string())?;
            state.commit += 1;
            // Taken before the flush, so the flush covers it.
            sample = SampleResponse::last_of(&self.responses).map_err(|e| e.to_string())?;
        }
        let started = SystemTime::now();
        self.db.flush().map_err(|e| e.to_string())?;
        state
            .sync
            .after_flush(started)
            .map_err(|e| format!("cannot sync the database: {e}"))?;
        if bump {
            state.durable = (state.commit, sample);
            state.unrecorded = 0;
        } else {
            state.unrecorded += 1;
        }
        Ok(())
    }

    /// Called by the group commit after each flush and when idle: writes the record after a
    /// flush that bumped the counter, or (idle) bumps it for flushes not recorded yet. A
    /// failure is logged: the record then lags, it never claims more than is durable.
    pub fn record_if_due(&self) {
        let mut state = self.state.lock();
        let result = if state.durable.0 > state.recorded.0 {
            self.record_locked(&mut state)
        } else if state.unrecorded > 0 && state.record_due() {
            self.flush_locked(&mut state, true)
                .map_err(std::io::Error::other)
                .and_then(|()| self.record_locked(&mut state))
        } else {
            Ok(())
        };
        if let Err(e) = result {
            tracing::error!(error = %e, "cannot write the store record");
        }
    }

    /// A flush and an immediate record (for rare writes: users, run markers, restores).
    pub fn flush_and_record(&self) -> Result<(), StoreError> {
        let mut state = self.state.lock();
        self.flush_locked(&mut state, true)
            .map_err(StoreError::Durability)?;
        self.record_locked(&mut state)
            .map_err(|e| StoreError::Durability(format!("cannot write the store record: {e}")))
    }

    /// The last flush of an orderly stop: records the store as closed in order.
    pub fn close(&self) -> Result<(), StoreError> {
        self.state.lock().clean = true;
        self.flush_and_record()
    }

    fn record_locked(&self, state: &mut State) -> std::io::Result<()> {
        let (commit, sample) = state.durable.clone();
        let db_file = match state.clean {
            true => Some(FileStamp::of(&self.dir.join("db"))?),
            false => None,
        };
        write_record(&self.dir, &new_record(commit, sample, db_file))?;
        state.recorded = (commit, Instant::now());
        Ok(())
    }

    /// The commit counter of the last flush that bumped it.
    pub fn commit(&self) -> u64 {
        self.state.lock().commit
    }
}
