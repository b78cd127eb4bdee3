//! What sled 0.34.7 leaves unsynced, synced by us.
//!
//! sled's files in the data directory, and who makes each durable:
//! - `db`, the log. sled's `flush()` ends in `sync_file_range`, which writes the data pages but
//!   neither the file's size nor its block map; after a power cut the log's tail is gone and
//!   recovery may zero every segment (sled #1452). We `fdatasync` it after every flush.
//! - `blobs/<lsn>`, one file per log message over ~128 KiB (a large node), created and written
//!   without any sync before the log entry that points to it. We fsync new blob files and the
//!   `blobs` directory after every flush that follows a change of that directory.
//! - `conf`, written once when the store is created, never synced by sled; `snap.<lsn>`,
//!   written only while opening (recovery), synced by sled before it renames it over the
//!   `.generating` file and removes the older snapshots, without a directory sync. We sync
//!   both, and the data directory and its parent, once sled has opened.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// File times come from a coarse clock (a few ms behind the fine one): a file changed within
/// this margin of a flush's start is synced again at the next flush.
const SETTLE_MARGIN: Duration = Duration::from_millis(200);

pub(super) struct DiskSync {
    db: File,
    blobs: BlobDir,
}

impl DiskSync {
    /// Syncs what sled created or rewrote while opening `dir`, and opens our own handle on
    /// the log for `fdatasync`.
    pub fn after_open(dir: &Path) -> io::Result<DiskSync> {
        let db = File::open(dir.join("db"))?;
        db.sync_all()?;
        let conf = dir.join("conf");
        if conf.exists() {
            File::open(&conf)?.sync_all()?;
        }
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with("snap.") {
                File::open(entry.path())?.sync_all()?;
            }
        }
        let mut blobs = BlobDir::new(dir.join("blobs"));
        blobs.sync_all()?;
        crate::store::durable_file::sync_dir(dir)?;
        crate::store::durable_file::sync_parent(dir)?;
        Ok(DiskSync { db, blobs })
    }

    /// After sled's `flush()` (which began at `flush_started`): makes what it wrote durable.
    pub fn after_flush(&mut self, flush_started: SystemTime) -> io::Result<()> {
        self.blobs.sync_new(flush_started)?;
        self.db.sync_data()
    }

    #[cfg(test)]
    pub fn synced_blobs(&self) -> usize {
        self.blobs.settled.len() + self.blobs.pending.len()
    }
}

/// The `blobs` directory: which files are known durable, which may still be written to.
struct BlobDir {
    path: PathBuf,
    seen_mtime: Option<SystemTime>,
    /// Written before a flush that started well after their last change: durable for good.
    settled: HashSet<OsString>,
    /// Synced at least once but possibly written to since (a blob whose log entry belongs to
    /// a later flush): synced again until settled.
    pending: HashSet<OsString>,
}

impl BlobDir {
    fn new(path: PathBuf) -> BlobDir {
        BlobDir {
            path,
            seen_mtime: None,
            settled: HashSet::new(),
            pending: HashSet::new(),
        }
    }

    fn sync_all(&mut self) -> io::Result<()> {
        if !self.path.is_dir() {
            return Ok(());
        }
        self.sync_new(SystemTime::now())
    }

    fn sync_new(&mut self, flush_started: SystemTime) -> io::Result<()> {
        let settled_before = flush_started - SETTLE_MARGIN;
        let mtime = match std::fs::metadata(&self.path) {
            Ok(m) => m.modified()?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if self.seen_mtime != Some(mtime) || mtime >= settled_before {
            let mut present = HashSet::new();
            for entry in std::fs::read_dir(&self.path)? {
                let name = entry?.file_name();
                if !self.settled.contains(&name) {
                    self.pending.insert(name.clone());
                }
                present.insert(name);
            }
            self.settled.retain(|n| present.contains(n));
            self.pending.retain(|n| present.contains(n));
            crate::store::durable_file::sync_dir(&self.path)?;
            self.seen_mtime = Some(mtime);
        }
        let mut now_settled = Vec::new();
        for name in &self.pending {
            let path = self.path.join(name);
            let file = match File::open(&path) {
                Ok(f) => f,
                // sled removes blobs it no longer needs.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    now_settled.push(name.clone());
                    continue;
                }
                Err(e) => return Err(e),
            };
            let changed = file.metadata()?.modified()?;
            file.sync_all()?;
            if changed < settled_before {
                now_settled.push(name.clone());
            }
        }
        for name in now_settled {
            self.pending.remove(&name);
            if self.path.join(&name).exists() {
                self.settled.insert(name);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_values_become_blob_files_that_get_synced() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let mut sync = DiskSync::after_open(dir.path()).unwrap();
        assert_eq!(sync.synced_blobs(), 0);
        let tree = db.open_tree("t").unwrap();
        tree.insert("big", vec![7u8; 300 * 1024]).unwrap();
        let started = SystemTime::now();
        db.flush().unwrap();
        sync.after_flush(started).unwrap();
        let on_disk = std::fs::read_dir(dir.path().join("blobs")).unwrap().count();
        assert!(on_disk > 0, "sled wrote no blob file for a 300 KiB value");
        assert_eq!(sync.synced_blobs(), on_disk);
        // Still recent: synced again next time, then settled once old enough.
        assert!(!sync.blobs.pending.is_empty());
        sync.after_flush(SystemTime::now() + Duration::from_secs(1))
            .unwrap();
        assert!(sync.blobs.pending.is_empty());
        assert_eq!(sync.blobs.settled.len(), on_disk);
    }
}
