//! Scheduled backups while serving (`backup_every`, `backup_dir`, `backup_keep` in chorus.toml):
//! the store's records in the backup format (`Store::export_records`, the same file as
//! `chorus backup`, for any backend), written durably, read back and checked with the format's
//! reader, then the oldest beyond `backup_keep` removed. The admin dashboard shows the last
//! good one.

use super::audit::{self, Actor, Event};
use super::Chorus;
use crate::domain::time::{now_ms, rfc3339_of_ms};
use crate::store::durable_file::{create_dir_durably, sync_dir, DurableFile};
use crate::store::{verify_backup, BackupWriter, Store, StoreError};
use parking_lot::Mutex;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

const PREFIX: &str = "chorus-backup-";
const SUFFIX: &str = ".jsonl";

/// `"90s"`, `"30m"`, `"1h"`, `"7d"`: a whole number and a unit.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        format!("\"{text}\" is not an interval: use a whole number and s, m, h or d (\"1h\")")
    })?;
    let unit_secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "\"{text}\" has no unit: use s, m, h or d (\"30m\", \"1h\")"
            ))
        }
    };
    Ok(Duration::from_secs(n * unit_secs))
}

pub fn deserialize_interval<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    let text: String = serde::Deserialize::deserialize(d)?;
    parse_interval(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// A backup file in `backup_dir`, with the instant in its name.
#[derive(Debug, Clone)]
pub struct BackupFile {
    pub path: PathBuf,
    pub at_ms: i64,
}

fn file_name(at_ms: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_ms) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let stamp = at
        .format(&time::macros::format_description!(
            "[year][month][day]T[hour][minute][second].[subsecond digits:3]Z"
        ))
        .unwrap_or_default();
    format!("{PREFIX}{stamp}{SUFFIX}")
}

fn instant_of(name: &str) -> Option<i64> {
    let stamp = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let format = time::macros::format_description!(
        "[year][month][day]T[hour][minute][second].[subsecond digits:3]Z"
    );
    let at = time::PrimitiveDateTime::parse(stamp, &format).ok()?;
    Some((at.assume_utc().unix_timestamp_nanos() / 1_000_000) as i64)
}

/// The backups in `dir`, oldest first.
pub fn list_backups(dir: &Path) -> Vec<BackupFile> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<BackupFile> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let at_ms = instant_of(&e.file_name().to_string_lossy())?;
            Some(BackupFile {
                path: e.path(),
                at_ms,
            })
        })
        .collect();
    found.sort_by_key(|b| b.at_ms);
    found
}

pub fn newest_backup(dir: &Path) -> Option<BackupFile> {
    list_backups(dir).pop()
}

/// A backup that was written and read back whole.
#[derive(Debug, Clone)]
pub struct Written {
    pub file: BackupFile,
    pub records: u64,
}

/// Hashes what passes through it, written or read.
struct Hashing<T> {
    inner: T,
    hash: Sha256,
}

impl<T> Hashing<T> {
    fn new(inner: T) -> Self {
        Hashing {
            inner,
            hash: Sha256::new(),
        }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Writes one backup into `dir`, verifies it, keeps the newest `keep` and records it in the
/// audit trail. Blocking file work: call it off the async workers (`run_loop` does).
pub async fn backup_now(store: &dyn Store, dir: &Path, keep: usize) -> Result<Written, String> {
    let at_ms = now_ms();
    create_dir_durably(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    remove_partials(dir);
    let path = dir.join(file_name(at_ms));
    let (records, hash) = write_backup(store, &path)
        .await
        .map_err(|e| e.to_string())?;
    if let Err(e) = verify(&path, records, &hash) {
        let _ = std::fs::remove_file(&path);
        return Err(format!("{} did not read back whole: {e}", path.display()));
    }
    rotate(dir, keep);
    let file = path.display().to_string();
    let event = Event::BackupWritten {
        file: &file,
        records,
    };
    audit::record(store, Actor::System, event)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Written {
        file: BackupFile { path, at_ms },
        records,
    })
}

/// Writes every record of the store to `path` in the backup format, durably: beside it,
/// synced, renamed over it (a failed backup leaves no torn file and replaces no good one),
/// owner-only (backups hold answers). How many records, and the SHA-256 of the bytes.
pub async fn write_backup(store: &dyn Store, path: &Path) -> Result<(u64, Vec<u8>), StoreError> {
    let cannot_write =
        |e: std::io::Error| StoreError::Backend(format!("cannot write {}: {e}", path.display()));
    let mut file = DurableFile::create(path, 0o600).map_err(cannot_write)?;
    let (records, hash) = {
        let mut writer = BackupWriter::new(Hashing::new(std::io::BufWriter::new(file.file())))?;
        store.export_records(&mut writer).await?;
        let (records, out) = writer.finish()?;
        (records, out.hash.finalize().to_vec())
    };
    file.commit().map_err(cannot_write)?;
    Ok((records, hash))
}

/// Reads the file back from disk: the same bytes, and every line decodes as `restore` needs.
fn verify(path: &Path, records: u64, hash: &[u8]) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut input = BufReader::new(Hashing::new(file));
    let count = verify_backup(&mut input).map_err(|e| e.to_string())?;
    // Whatever the line reader left unread still counts for the hash.
    std::io::copy(&mut input, &mut std::io::sink()).map_err(|e| e.to_string())?;
    if input.into_inner().hash.finalize().as_slice() != hash {
        return Err("its content differs from what was written".into());
    }
    if count != records {
        return Err(format!("it holds {count} records, {records} were written"));
    }
    Ok(())
}

fn remove_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(PREFIX) && name.ends_with(".partial") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

fn rotate(dir: &Path, keep: usize) {
    let all = list_backups(dir);
    let excess = all.len().saturating_sub(keep);
    for old in &all[..excess] {
        if let Err(e) = std::fs::remove_file(&old.path) {
            tracing::warn!(error = %e, path = %old.path.display(), "cannot remove an old backup");
        }
    }
    if excess > 0 {
        let _ = sync_dir(dir);
    }
}

/// What the dashboard shows about backups.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BackupView {
    /// Scheduled backups are configured.
    pub scheduled: bool,
    pub every: String,
    pub last_good_at: Option<String>,
    pub last_good_file: Option<String>,
    pub last_good_records: Option<u64>,
    pub failed_at: Option<String>,
    pub failure: Option<String>,
}

/// The outcome of the latest backups of this server (the files themselves are the record:
/// at start the newest file in `backup_dir` is the last good one).
#[derive(Default)]
pub struct BackupStatus {
    view: Mutex<BackupView>,
    /// The next backup is due one interval after this (the last good one, or a failure).
    counted_from_ms: Mutex<Option<i64>>,
}

/// When and where scheduled backups are written (chorus.toml's `backup_*` keys).
#[derive(Debug, Clone)]
pub struct Schedule {
    pub every: Duration,
    pub dir: PathBuf,
    /// How many backups are kept (at least 1).
    pub keep: usize,
}

impl BackupStatus {
    pub fn new(schedule: Option<&Schedule>) -> BackupStatus {
        let status = BackupStatus::default();
        if let Some(schedule) = schedule {
            let mut view = status.view.lock();
            view.scheduled = true;
            view.every = describe(schedule.every);
            if let Some(newest) = newest_backup(&schedule.dir) {
                view.last_good_at = Some(rfc3339_of_ms(newest.at_ms));
                view.last_good_file = Some(newest.path.display().to_string());
                *status.counted_from_ms.lock() = Some(newest.at_ms);
            }
        }
        status
    }

    pub fn view(&self) -> BackupView {
        self.view.lock().clone()
    }

    fn succeeded(&self, done: &Written) {
        let mut view = self.view.lock();
        view.last_good_at = Some(rfc3339_of_ms(done.file.at_ms));
        view.last_good_file = Some(done.file.path.display().to_string());
        view.last_good_records = Some(done.records);
        view.failed_at = None;
        view.failure = None;
        *self.counted_from_ms.lock() = Some(done.file.at_ms);
    }

    fn failed(&self, error: String) {
        let mut view = self.view.lock();
        view.failed_at = Some(rfc3339_of_ms(now_ms()));
        view.failure = Some(error);
    }
}

fn describe(every: Duration) -> String {
    let s = every.as_secs();
    match s {
        s if s % 86_400 == 0 => format!("{} d", s / 86_400),
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// Runs for the life of the server: a backup every `schedule.every`, counted from the newest
/// one on disk (so restarts do not postpone backups forever).
pub async fn run_loop(chorus: Arc<Chorus>, schedule: Schedule, status: Arc<BackupStatus>) {
    loop {
        let last = *status.counted_from_ms.lock();
        let due_in = last.map_or(Duration::ZERO, |ms| {
            let due = ms.saturating_add(schedule.every.as_millis() as i64);
            Duration::from_millis(due.saturating_sub(now_ms()).max(0) as u64)
        });
        tokio::time::sleep(due_in).await;
        let started = std::time::Instant::now();
        // Writing (and serializing) a whole backup is blocking work: a thread of its own,
        // which drives the store's export to completion.
        let (store, dir, keep) = (chorus.store.clone(), schedule.dir.clone(), schedule.keep);
        let runtime = tokio::runtime::Handle::current();
        let outcome = tokio::task::spawn_blocking(move || {
            runtime.block_on(backup_now(store.as_ref(), &dir, keep))
        })
        .await
        .unwrap_or_else(|e| Err(format!("the backup stopped: {e}")));
        match outcome {
            Ok(done) => {
                tracing::info!(
                    path = %done.file.path.display(),
                    records = done.records,
                    millis = started.elapsed().as_millis() as u64,
                    "backup written and verified"
                );
                status.succeeded(&done);
            }
            Err(e) => {
                tracing::error!(error = %e, "scheduled backup failed; retrying at the next interval");
                status.failed(e);
                *status.counted_from_ms.lock() = Some(now_ms());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_interval("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_interval("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_interval("5s"), Ok(Duration::from_secs(5)));
        assert!(parse_interval("0h").is_err());
        assert!(parse_interval("1").unwrap_err().contains("no unit"));
        assert!(parse_interval("h").is_err());
        assert!(parse_interval("1 week").is_err());
    }

    #[test]
    fn names_carry_their_instant() {
        let name = file_name(1_764_583_200_123);
        assert_eq!(name, "chorus-backup-20251201T100000.123Z.jsonl");
        assert_eq!(instant_of(&name), Some(1_764_583_200_123));
        assert_eq!(instant_of("chorus-backup-x.jsonl"), None);
        assert_eq!(instant_of(&format!("{name}.partial")), None);
    }
}
