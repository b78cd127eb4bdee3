//! The store record: a small file beside sled's (`DATA/store-record.json`) saying how far the
//! store had got, written durably after the flushes that made that much durable. At open, a
//! database that is missing, unreadable, or behind its record is refused (`Damage`) before
//! anything is written to it.
//!
//! "How far" is a commit counter that every durable flush increments inside sled (one small
//! insert per flush, not per response) plus one stored response's key. sled recovers a prefix
//! of its log, so a recovered counter proves everything written before it was recovered too.

use super::{backend, keys};
use crate::domain::time::now_rfc3339;
use crate::store::durable_file::write_durably;
use crate::store::{Damage, StoreError};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use uuid::Uuid;

pub(super) const RECORD_FILE: &str = "store-record.json";
/// Where the database files are copied before sled recovers a store that was not closed in
/// order (sled's recovery rewrites them); removed once the store passes its check.
pub(super) const COPY_DIR: &str = "before-recovery";
pub(super) const META_COMMIT: &str = "commit";
/// The trees the check reads (named as in `sled.rs`).
pub(super) const TREE_META: &str = "meta";
pub(super) const TREE_RESPONSES: &str = "responses";
const FORMAT: &str = "chorus-store-record-v1";
/// sled's own files, as laid out by sled 0.34 in its directory.
const SLED_FILES: [&str; 2] = ["conf", "db"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoreRecord {
    pub format: String,
    /// Durable flushes so far (the counter sled holds under `meta/commit`).
    pub commit: u64,
    /// False while a process has the store open: the next open keeps a copy before recovery.
    pub clean: bool,
    /// One response the store held at `commit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sample: Option<SampleResponse>,
    /// The database file as it was left by an orderly close: a store whose file changed while
    /// it was closed is copied aside before sled opens it, as after a crash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_file: Option<FileStamp>,
    pub written_at: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileStamp {
    pub len: u64,
    pub modified_ns: u128,
}

impl FileStamp {
    pub(super) fn of(path: &Path) -> std::io::Result<FileStamp> {
        let meta = std::fs::metadata(path)?;
        let modified = meta.modified()?;
        Ok(FileStamp {
            len: meta.len(),
            modified_ns: modified
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SampleResponse {
    pub site: String,
    pub survey: String,
    pub id: Uuid,
}

impl SampleResponse {
    fn key(&self) -> Vec<u8> {
        keys::response_key(&self.site, &self.survey, self.id)
    }

    /// The response under the last key of the tree (any stored response will do).
    pub(super) fn last_of(responses: &sled::Tree) -> Result<Option<SampleResponse>, StoreError> {
        let Some((key, _)) = responses.last().map_err(backend)? else {
            return Ok(None);
        };
        let mut parts = key.splitn(3, |b| *b == keys::SEP);
        let (Some(site), Some(survey)) = (parts.next(), parts.next()) else {
            return Ok(None);
        };
        Ok(keys::id_of(&key).map(|id| SampleResponse {
            site: String::from_utf8_lossy(site).into_owned(),
            survey: String::from_utf8_lossy(survey).into_owned(),
            id,
        }))
    }
}

pub(super) fn write_record(dir: &Path, record: &StoreRecord) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write_durably(&dir.join(RECORD_FILE), &bytes, 0o644)
}

pub(super) fn read_commit(meta: &sled::Tree) -> Result<u64, StoreError> {
    Ok(meta
        .get(META_COMMIT)
        .map_err(backend)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map_or(0, u64::from_be_bytes))
}

fn damaged(
    dir: &Path,
    found: String,
    record: Option<&StoreRecord>,
    copy: Option<PathBuf>,
) -> StoreError {
    let expected = record.map(|r| {
        let mut says = format!(
            "its record ({}/{RECORD_FILE}, written {}) says it had reached commit {}",
            dir.display(),
            r.written_at,
            r.commit
        );
        if let Some(s) = &r.sample {
            says.push_str(&format!(
                " and held response {} of {}/{}",
                s.id, s.site, s.survey
            ));
        }
        says
    });
    StoreError::Damaged(Box::new(Damage {
        location: dir.to_path_buf(),
        expected,
        found,
        copy,
        accept: format!("delete {}/{RECORD_FILE}", dir.display()),
    }))
}

/// What `before_open` learned, for `check_opened` and the open that follows.
pub(super) struct Opening {
    pub record: Option<StoreRecord>,
    pub copy: Option<PathBuf>,
    /// The copy was made by this open (and is removed when the store passes its check).
    pub copy_is_new: bool,
}

impl Opening {
    pub fn refuse(&self, dir: &Path, found: String) -> StoreError {
        damaged(dir, found, self.record.as_ref(), self.copy.clone())
    }
}

/// Reads the record and, unless the last process closed the store in order and its database
/// file is as it left it, copies sled's files aside before sled's recovery rewrites them.
pub(super) fn before_open(dir: &Path) -> Result<Opening, StoreError> {
    let path = dir.join(RECORD_FILE);
    let record = match std::fs::read(&path) {
        Ok(bytes) => match serde_json::from_slice::<StoreRecord>(&bytes) {
            Ok(r) if r.format == FORMAT => Some(r),
            _ => {
                let found = format!("its record {} is unreadable", path.display());
                return Err(damaged(dir, found, None, None));
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(StoreError::Backend(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    };
    let copy_dir = dir.join(COPY_DIR);
    let mut opening = Opening {
        copy: copy_dir.is_dir().then(|| copy_dir.clone()),
        copy_is_new: false,
        record,
    };
    let Some(record) = &opening.record else {
        return Ok(opening);
    };
    let db = dir.join("db");
    if !db.is_file() {
        let found = format!("the database file {} is missing", db.display());
        return Err(opening.refuse(dir, found));
    }
    // A running server holds sled's lock: never copy (or judge) the files under it.
    let lock = std::fs::File::open(&db)
        .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", db.display())))?;
    if lock.try_lock().is_err() {
        return Err(StoreError::Locked(dir.display().to_string()));
    }
    let untouched =
        record.clean && record.db_file.is_some() && record.db_file == FileStamp::of(&db).ok();
    if !untouched && opening.copy.is_none() {
        match copy_sled_files(dir, &copy_dir) {
            Ok(()) => {
                opening.copy = Some(copy_dir);
                opening.copy_is_new = true;
            }
            Err(e) => tracing::warn!(
                error = %e,
                "the store was not closed in order and its files could not be copied aside \
                 before recovery; opening it without a copy"
            ),
        }
    }
    Ok(opening)
}

/// Copies sled's files (reflinked where the filesystem can: `std::fs::copy` uses
/// `copy_file_range`) into `to`, through a temporary directory so a half copy is never taken
/// for a whole one.
fn copy_sled_files(dir: &Path, to: &Path) -> std::io::Result<()> {
    let tmp = to.with_extension("partial");
    let _ = std::fs::remove_dir_all(&tmp);
    let result = (|| {
        std::fs::create_dir(&tmp)?;
        std::fs::create_dir(tmp.join("blobs"))?;
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if SLED_FILES.contains(&name.as_ref()) || name.starts_with("snap.") {
                std::fs::copy(entry.path(), tmp.join(entry.file_name()))?;
            }
        }
        if let Ok(blobs) = std::fs::read_dir(dir.join("blobs")) {
            for entry in blobs {
                let entry = entry?;
                std::fs::copy(entry.path(), tmp.join("blobs").join(entry.file_name()))?;
            }
        }
        std::fs::rename(&tmp, to)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// Compares the opened database with its record (before creating any tree, so a refused
/// store is not written to); on success returns its commit counter and removes the copy this
/// open made.
pub(super) fn check_opened(
    dir: &Path,
    opening: &Opening,
    db: &sled::Db,
) -> Result<u64, StoreError> {
    let names = db.tree_names();
    let existing = |name: &str| -> Result<Option<sled::Tree>, StoreError> {
        match names.iter().any(|n| n.as_ref() == name.as_bytes()) {
            true => db.open_tree(name).map(Some).map_err(backend),
            false => Ok(None),
        }
    };
    let responses = existing(TREE_RESPONSES)?;
    let commit = match existing(TREE_META)? {
        Some(meta) => read_commit(&meta)?,
        None => 0,
    };
    if let Some(record) = &opening.record {
        let missing = match (&record.sample, &responses) {
            (Some(s), Some(r)) => !r.contains_key(s.key()).map_err(backend)?,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if commit < record.commit || missing {
            let held = responses.as_ref().map_or(0, |r| r.len());
            let found = match (commit, held, missing) {
                (0, 0, _) => "the database opened empty".to_string(),
                (_, _, true) => format!(
                    "the database opened at commit {commit} with {held} responses, without that \
                     one"
                ),
                _ => format!("the database opened at commit {commit} with {held} responses"),
            };
            return Err(opening.refuse(dir, found));
        }
    }
    if opening.copy_is_new {
        if let Some(copy) = &opening.copy {
            let _ = std::fs::remove_dir_all(copy);
        }
    } else if let Some(copy) = &opening.copy {
        tracing::warn!(
            path = %copy.display(),
            "a copy of damaged database files from an earlier start is still kept; delete it \
             when it is no longer needed"
        );
    }
    Ok(commit)
}

pub(super) fn new_record(
    commit: u64,
    sample: Option<SampleResponse>,
    db_file: Option<FileStamp>,
) -> StoreRecord {
    StoreRecord {
        format: FORMAT.into(),
        commit,
        clean: db_file.is_some(),
        sample,
        db_file,
        written_at: now_rfc3339(),
    }
}
