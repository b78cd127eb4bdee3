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
        for name in self.db.tree_names() {
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
        #[derive(serde::Deserialize)]
        struct Line {
            tree: String,
            key: String,
            value: String,
        }
        let mut lines = std::io::BufRead::lines(input);
        let header = lines
            .next()
            .transpose()
            .map_err(|e| StoreError::BadBackup(e.to_string()))?;
        if !header.is_some_and(|h| h.contains(BACKUP_HEADER)) {
            return Err(StoreError::BadBackup(
                "missing the chorus-backup-v1 header".into(),
            ));
        }
        // Decode everything first so a damaged file writes nothing.
        let mut records = Vec::new();
        for (n, line) in lines.enumerate() {
            let line = line.map_err(|e| StoreError::BadBackup(e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            let bad = |m: String| StoreError::BadBackup(format!("line {}: {m}", n + 2));
            let rec: Line = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
            let key = B64.decode(rec.key).map_err(|e| bad(e.to_string()))?;
            let value = B64.decode(rec.value).map_err(|e| bad(e.to_string()))?;
            records.push((rec.tree, key, value));
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
