//! Backup and restore of every sled tree as JSON lines (`chorus backup` / `chorus restore`).

use super::sled::{backend, SledStore};
use super::{Store, StoreError};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

const BACKUP_HEADER: &str = "chorus-backup-v1";

impl SledStore {
    pub(super) fn write_backup(&self, out: &mut dyn std::io::Write) -> Result<u64, StoreError> {
        let io = |e: std::io::Error| StoreError::Backend(format!("cannot write the backup: {e}"));
        writeln!(out, "{}", serde_json::json!({ "format": BACKUP_HEADER })).map_err(io)?;
        let mut count = 0;
        // Responses last: a backup taken while serving then holds the response of every task,
        // delivery and index entry it holds (they are written after their response). A response
        // whose derived records came too late is repaired at the first start after a restore
        // (the backup's run marker says the run had not ended).
        let mut names = self.db.tree_names();
        names.sort_by_key(|n| n.as_ref() == b"responses");
        for name in names {
            let tree_name = String::from_utf8_lossy(&name).into_owned();
            if tree_name.starts_with("__sled") {
                continue;
            }
            let tree = self.db.open_tree(&name).map_err(backend)?;
            for kv in tree.iter() {
                let (k, v) = kv.map_err(backend)?;
                let line = serde_json::json!({ "tree": tree_name, "key": B64.encode(&k), "value": B64.encode(&v) });
                writeln!(out, "{line}").map_err(io)?;
                count += 1;
            }
        }
        out.flush().map_err(io)?;
        Ok(count)
    }

    pub(super) fn read_backup(&self, input: &mut dyn std::io::BufRead) -> Result<u64, StoreError> {
        if !self.responses.is_empty() || !self.users.is_empty() {
            return Err(StoreError::Conflict(
                "the data directory already holds data; restore into an empty one".into(),
            ));
        }
        let mut lines = std::io::BufRead::lines(input);
        read_header(&mut lines)?;
        // Decode everything first so a damaged file writes nothing.
        let mut records = Vec::new();
        for (n, line) in lines.enumerate() {
            if let Some(record) = decode_line(n + 2, line)? {
                records.push(record);
            }
        }
        for (tree, key, value) in &records {
            self.db
                .open_tree(tree)
                .map_err(backend)?
                .insert(key.as_slice(), value.as_slice())
                .map_err(backend)?;
        }
        self.flush()?;
        Ok(records.len() as u64)
    }
}

/// Reads a whole backup as `restore` would, without writing anything: how many records it holds.
pub fn verify_backup(input: &mut dyn std::io::BufRead) -> Result<u64, StoreError> {
    let mut lines = std::io::BufRead::lines(input);
    read_header(&mut lines)?;
    let mut count = 0;
    for (n, line) in lines.enumerate() {
        if decode_line(n + 2, line)?.is_some() {
            count += 1;
        }
    }
    Ok(count)
}

type Lines<'a> = std::io::Lines<&'a mut dyn std::io::BufRead>;

fn read_header(lines: &mut Lines<'_>) -> Result<(), StoreError> {
    let header = lines
        .next()
        .transpose()
        .map_err(|e| StoreError::BadBackup(e.to_string()))?;
    if !header.is_some_and(|h| h.contains(BACKUP_HEADER)) {
        return Err(StoreError::BadBackup(
            "missing the chorus-backup-v1 header".into(),
        ));
    }
    Ok(())
}

/// A backup record: tree name, key, value.
type Record = (String, Vec<u8>, Vec<u8>);

/// One record line; `None` for a blank line.
fn decode_line(number: usize, line: std::io::Result<String>) -> Result<Option<Record>, StoreError> {
    #[derive(serde::Deserialize)]
    struct Line {
        tree: String,
        key: String,
        value: String,
    }
    let line = line.map_err(|e| StoreError::BadBackup(e.to_string()))?;
    if line.trim().is_empty() {
        return Ok(None);
    }
    let bad = |m: String| StoreError::BadBackup(format!("line {number}: {m}"));
    let rec: Line = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
    let key = B64.decode(rec.key).map_err(|e| bad(e.to_string()))?;
    let value = B64.decode(rec.value).map_err(|e| bad(e.to_string()))?;
    Ok(Some((rec.tree, key, value)))
}
