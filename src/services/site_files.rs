//! The files of a site folder and their SHA-256, kept with each running version of a site so
//! that a reload's audit entry says which files changed, with their hashes before and after.

use super::audit::FileChange;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Path relative to the site folder (with `/`) → hex SHA-256 of the file, for every file in it.
pub fn file_hashes(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if let Ok(bytes) = std::fs::read(&path) {
                let name = path.strip_prefix(root).unwrap_or(&path);
                let name = name.to_string_lossy().replace('\\', "/");
                out.insert(name, hex::encode(Sha256::digest(&bytes)));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Every file of either version, with its hash in each (`None` where it is missing).
pub fn changes(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<FileChange> {
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    names
        .into_iter()
        .map(|file| FileChange {
            file: file.clone(),
            before: before.get(file).cloned(),
            after: after.get(file).cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_name_added_removed_and_edited_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("rules")).unwrap();
        std::fs::write(dir.path().join("site.toml"), "a").unwrap();
        std::fs::write(dir.path().join("rules/x.rhai"), "1").unwrap();
        let before = file_hashes(dir.path());
        assert_eq!(before.len(), 2);
        std::fs::write(dir.path().join("rules/x.rhai"), "2").unwrap();
        std::fs::write(dir.path().join("rules/y.rhai"), "3").unwrap();
        let after = file_hashes(dir.path());
        let c = changes(&before, &after);
        let changed: Vec<&str> = c
            .iter()
            .filter(|c| c.before != c.after)
            .map(|c| c.file.as_str())
            .collect();
        assert_eq!(changed, ["rules/x.rhai", "rules/y.rhai"]);
        assert!(c
            .iter()
            .any(|c| c.file == "rules/y.rhai" && c.before.is_none()));
    }
}
