//! The backup format (docs/backup-format.md): JSON lines, a header line naming the format and
//! its version, then one typed record per line. Any backend writes and reads it, so a backup of
//! one backend restores into another.

use super::query::IdempotencyRecord;
use super::StoreError;
use crate::domain::{
    AuditEntry, Delivery, Invitation, Kiosk, RetagProgress, ReviewState, RuleErrorEntry,
    RuleVersion, Session, StoredResponse, Task, User,
};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

pub const FORMAT: &str = "chorus-backup";
pub const VERSION: u32 = 2;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

/// One line of a backup after the header.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BackupRecord {
    User(User),
    Session(Session),
    Invitation {
        token_sha256: String,
        #[serde(flatten)]
        invitation: Invitation,
    },
    /// A response with its tags, rule errors and follow-up actions.
    Response(StoredResponse),
    IdempotencyKey(IdempotencyRecord),
    Task(Task),
    Delivery(Delivery),
    RuleError {
        site: String,
        #[serde(flatten)]
        entry: RuleErrorEntry,
    },
    Retag {
        site: String,
        #[serde(flatten)]
        progress: RetagProgress,
    },
    Review {
        site: String,
        #[serde(flatten)]
        state: ReviewState,
    },
    /// A waiting-room kiosk with the hashes of its secrets.
    Kiosk(Kiosk),
    /// A version of a rule file applied from the admin app's editor.
    RuleVersion(RuleVersion),
    /// An entry of the audit trail, as stored (hashes included).
    Audit(AuditEntry),
}

/// Where a backend sends its records, in the order of the format.
pub trait RecordSink {
    fn record(&mut self, record: &BackupRecord) -> Result<(), StoreError>;
}

/// Writes the header, then each record as one line.
pub struct BackupWriter<W: Write> {
    out: W,
    pub count: u64,
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("cannot write the backup: {e}"))
}

impl<W: Write> BackupWriter<W> {
    pub fn new(mut out: W) -> Result<Self, StoreError> {
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
        };
        serde_json::to_writer(&mut out, &header).map_err(StoreError::corrupt)?;
        out.write_all(b"\n").map_err(io)?;
        Ok(BackupWriter { out, count: 0 })
    }

    pub fn finish(mut self) -> Result<(u64, W), StoreError> {
        self.out.flush().map_err(io)?;
        Ok((self.count, self.out))
    }
}

impl<W: Write> RecordSink for BackupWriter<W> {
    fn record(&mut self, record: &BackupRecord) -> Result<(), StoreError> {
        serde_json::to_writer(&mut self.out, record).map_err(StoreError::corrupt)?;
        self.out.write_all(b"\n").map_err(io)?;
        self.count += 1;
        Ok(())
    }
}

/// Reads a whole backup, checking every line, so that a damaged file is refused before
/// anything is written.
pub fn read_backup(input: &mut dyn BufRead) -> Result<Vec<BackupRecord>, StoreError> {
    let mut records = Vec::new();
    for_each_record(input, &mut |record| records.push(record))?;
    Ok(records)
}

/// Reads a whole backup as `read_backup` does without keeping it: how many records it holds
/// (a scheduled backup is read back this way before older ones are removed).
pub fn verify_backup(input: &mut dyn BufRead) -> Result<u64, StoreError> {
    let mut count = 0;
    for_each_record(input, &mut |_| count += 1)?;
    Ok(count)
}

/// Checks the header, then decodes every record line in turn and hands it to `f` (a reader
/// that needs the records one at a time, without holding the file).
pub fn for_each_record(
    input: &mut dyn BufRead,
    f: &mut dyn FnMut(BackupRecord),
) -> Result<(), StoreError> {
    let mut lines = input.lines();
    let first = lines
        .next()
        .transpose()
        .map_err(|e| StoreError::BadBackup(e.to_string()))?
        .unwrap_or_default();
    let header: Header = serde_json::from_str(&first).map_err(|_| {
        StoreError::BadBackup(format!("line 1: not a {FORMAT} header (a {FORMAT} file starts with {{\"format\":\"{FORMAT}\",\"version\":{VERSION}}})"))
    })?;
    if header.format != FORMAT {
        return Err(StoreError::BadBackup(format!(
            "line 1: format \"{}\" is not {FORMAT}",
            header.format
        )));
    }
    if header.version != VERSION {
        return Err(StoreError::BadBackup(format!(
            "line 1: version {} of the format; this Chorus reads version {VERSION}",
            header.version
        )));
    }
    for (n, line) in lines.enumerate() {
        let line = line.map_err(|e| StoreError::BadBackup(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let record = serde_json::from_str(&line)
            .map_err(|e| StoreError::BadBackup(format!("line {}: {e}", n + 2)))?;
        f(record);
    }
    Ok(())
}

/// Hands the records a backend's reader sends to `sink` as they come (the reader runs on the
/// backend's threads, the sink on the caller's); how many were written.
pub async fn write_records(
    sink: &mut (dyn RecordSink + Send),
    mut rx: tokio::sync::mpsc::Receiver<BackupRecord>,
) -> Result<u64, StoreError> {
    let mut n = 0;
    while let Some(record) = rx.recv().await {
        sink.record(&record)?;
        n += 1;
    }
    Ok(n)
}
