//! Where a site's rules live (`rules_source` in site.toml, docs/rules.md "Where the rules
//! live"). With `"store"` the current versions in the store are what the site runs: every node
//! writes them into its own `rules/` folder (rule files and rule test files alike) before it
//! loads the site, at start, on every reload and when another node announces one. With
//! `"files"` (the default) the folder is the truth and the store's versions are history.

use super::{Chorus, ServiceError};
use crate::domain::time::now_rfc3339;
use crate::domain::RuleVersion;
use crate::store::durable_file::write_durably;
use crate::store::Store;
use crate::survey::{LoadError, RulesSource};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Where rule test files sit in a rules folder, and the prefix of their names in the store.
pub const TESTS: &str = "tests/";

/// Name → text of a rules folder's files (`x.rhai`, `tests/x.toml`).
pub type RulesFiles = BTreeMap<String, String>;

fn slug(stem: &str) -> bool {
    !stem.is_empty()
        && stem
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Is `name` a file the store keeps versions of: `x.rhai` (a rule file) or `tests/x.toml` (a
/// rule test file), `x` of a-z, 0-9, `-` and `_`, so that it is a plain name in `rules/`.
pub fn is_versioned_name(name: &str) -> bool {
    match name.strip_prefix(TESTS) {
        Some(test) => test.strip_suffix(".toml").is_some_and(slug),
        None => name.strip_suffix(".rhai").is_some_and(slug),
    }
}

/// The rule files and rule test files of a rules folder (a missing folder has none). A file
/// whose name the store could not keep is refused with the reason, never skipped unseen.
pub fn read_rules_folder(dir: &Path) -> Result<RulesFiles, Vec<String>> {
    let mut files = RulesFiles::new();
    let mut refused = Vec::new();
    for (sub, ext) in [("", "rhai"), (TESTS, "toml")] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some(ext) || !path.is_file() {
                continue;
            }
            let name = format!("{sub}{}", entry.file_name().to_string_lossy());
            if !is_versioned_name(&name) {
                refused.push(format!(
                    "{}: a file name may use only a-z, 0-9, - and _ before .{ext}",
                    path.display()
                ));
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    files.insert(name, text);
                }
                Err(e) => refused.push(format!("{}: cannot read: {e}", path.display())),
            }
        }
    }
    if refused.is_empty() {
        Ok(files)
    } else {
        Err(refused)
    }
}

/// Makes the rules folder `dir` hold exactly `files` among its `*.rhai` and `tests/*.toml`:
/// each file that differs is written durably, the others of those kinds are removed. Other
/// files are left alone.
pub fn write_rules_folder(dir: &Path, files: &RulesFiles) -> std::io::Result<()> {
    std::fs::create_dir_all(dir.join(TESTS))?;
    for (name, text) in files {
        let path = dir.join(name);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            write_durably(&path, text.as_bytes(), 0o644)?;
        }
    }
    for (sub, ext) in [("", "rhai"), (TESTS, "toml")] {
        for entry in std::fs::read_dir(dir.join(sub))?.flatten() {
            let path = entry.path();
            let name = format!("{sub}{}", entry.file_name().to_string_lossy());
            let ours = path.extension().and_then(|e| e.to_str()) == Some(ext) && path.is_file();
            if ours && !files.contains_key(&name) {
                std::fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

/// The files the current versions make (deleted ones left out).
pub fn live(current: &[RuleVersion]) -> RulesFiles {
    current
        .iter()
        .filter(|v| !v.deleted && is_versioned_name(&v.file))
        .map(|v| (v.file.clone(), v.text.clone()))
        .collect()
}

/// Brings the rules folder of site folder `dir` to the store's current versions when the site
/// keeps its rules in the store. Nothing happens while the store holds no version of the site:
/// its files are then the first version (stored with the first change). True if it wrote.
pub async fn sync_folder(store: &dyn Store, dir: &Path, site: &str) -> Result<bool, ServiceError> {
    if RulesSource::of_folder(dir) != RulesSource::Store {
        return Ok(false);
    }
    let current = store.current_rule_versions(site).await?;
    if current.is_empty() {
        return Ok(false);
    }
    let (rules, files) = (dir.join("rules"), live(&current));
    tokio::task::spawn_blocking(move || write_rules_folder(&rules, &files))
        .await
        .map_err(|_| ServiceError::Unavailable)?
        .map_err(|e| {
            tracing::error!(site, error = %e, "cannot write the store's rules into the site folder");
            ServiceError::Unavailable
        })?;
    Ok(true)
}

/// `sync_folder` for a site of the running registry.
pub async fn sync_site(chorus: &Chorus, site: &str) -> Result<bool, ServiceError> {
    sync_folder(chorus.store.as_ref(), &chorus.sites.site_dir(site), site).await
}

/// `sync_folder` for every site folder of `sites_dir` (at start, before the sites load).
pub async fn sync_every_folder(store: &dyn Store, sites_dir: &Path) -> Result<(), ServiceError> {
    let Ok(dirs) = crate::survey::site_dirs(sites_dir) else {
        return Ok(()); // the load reports an unreadable folder
    };
    for dir in dirs {
        let site = dir.file_name().map(|n| n.to_string_lossy().into_owned());
        sync_folder(store, &dir, &site.unwrap_or_default()).await?;
    }
    Ok(())
}

/// Is the site's rule editing done in the store (`rules_source = "store"`)? A site that keeps
/// them in files is refused with `RulesInFiles`.
pub fn require_store(chorus: &Chorus, site: &str) -> Result<(), ServiceError> {
    // The running site's setting, as every other site.toml setting: no file read per request.
    match chorus.site(site)?.site.config.rules_source {
        RulesSource::Store => Ok(()),
        RulesSource::Files => Err(ServiceError::RulesInFiles(site.to_string())),
    }
}

/// A change of a site's rules: who, why, and the rule tests that failed when it was applied
/// anyway (empty otherwise).
pub struct Change<'a> {
    pub site: &'a str,
    pub author: &'a str,
    pub message: &'a str,
    pub failing_tests: &'a [String],
}

/// Stores `files` (name → the new text, or `None` to delete it) as new versions where they
/// differ from the current ones. The first change of a site's rules stores `seed` (its rules
/// folder before the change) first, author `(disk)`, so that it can be restored. The versions
/// stored, in file name order.
pub async fn store_change(
    store: &dyn Store,
    change: &Change<'_>,
    files: &BTreeMap<String, Option<String>>,
    seed: &RulesFiles,
) -> Result<Vec<RuleVersion>, ServiceError> {
    let version = |file: &str, text: Option<&String>, author: &str, message: &str| RuleVersion {
        site: change.site.to_string(),
        file: file.to_string(),
        number: 0,
        text: text.cloned().unwrap_or_default(),
        author: author.to_string(),
        at: now_rfc3339(),
        message: message.to_string(),
        applied_anyway: Vec::new(),
        deleted: text.is_none(),
    };
    let versions = store.current_rule_versions(change.site).await?;
    let current = if versions.is_empty() {
        for (file, text) in seed {
            let found = "the file as found on disk before the first change";
            store
                .add_rule_version(&version(file, Some(text), "(disk)", found))
                .await?;
        }
        seed.clone()
    } else {
        live(&versions)
    };
    let mut stored = Vec::new();
    for (file, text) in files {
        if current.get(file) == text.as_ref() {
            continue;
        }
        let mut v = version(file, text.as_ref(), change.author, change.message);
        v.applied_anyway = change.failing_tests.to_vec();
        stored.push(store.add_rule_version(&v).await?);
    }
    Ok(stored)
}

/// The change that makes a site's rules exactly `files`, from `current`: each of `files` with
/// its text, each current file missing from `files` deleted.
pub fn whole_change(current: &RulesFiles, files: &RulesFiles) -> BTreeMap<String, Option<String>> {
    let gone = current.keys().filter(|name| !files.contains_key(*name));
    gone.map(|name| (name.clone(), None))
        .chain(files.iter().map(|(n, t)| (n.clone(), Some(t.clone()))))
        .collect()
}

/// The rules a site runs from the store: its current versions, or, while the store holds none
/// yet, the files of its rules folder `dir`.
pub async fn current_rules(
    store: &dyn Store,
    site: &str,
    dir: &Path,
) -> Result<RulesFiles, ServiceError> {
    let versions = store.current_rule_versions(site).await?;
    if versions.is_empty() {
        read_rules_folder(dir).map_err(ServiceError::SiteInvalid)
    } else {
        Ok(live(&versions))
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// What loading a site with other rules found: its failing rule tests, or its problems.
pub type Tried = Result<Vec<String>, Vec<LoadError>>;

/// Loads a scratch copy of site folder `dir` whose rules folder holds `rules` (through `load`:
/// load, compile, run the rule tests) and touches nothing of `dir`. Paths in what it found
/// name `dir`, not the copy.
pub fn try_with_rules(
    dir: &Path,
    rules: &RulesFiles,
    load: impl FnOnce(&Path) -> Tried,
) -> std::io::Result<Tried> {
    let scratch = tempfile::tempdir()?;
    let name = dir.file_name().unwrap_or_default();
    let copy = scratch.path().join(name);
    copy_dir(dir, &copy)?;
    write_rules_folder(&copy.join("rules"), rules)?;
    let (from, to) = (copy.display().to_string(), dir.display().to_string());
    let real = |path: &Path| -> PathBuf {
        path.strip_prefix(&copy)
            .map_or_else(|_| path.to_path_buf(), |rest| dir.join(rest))
    };
    Ok(match load(&copy) {
        Ok(failing) => Ok(failing.iter().map(|l| l.replace(&from, &to)).collect()),
        Err(errors) => Err(errors
            .into_iter()
            .map(|e| LoadError {
                file: real(&e.file),
                message: e.message.replace(&from, &to),
                ..e
            })
            .collect()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_names_are_plain_rule_and_test_files() {
        for ok in ["parking.rhai", "a-b_1.rhai", "tests/parking.toml"] {
            assert!(is_versioned_name(ok), "{ok}");
        }
        for bad in [
            "../site.toml",
            "tests/../x.toml",
            "Parking.rhai",
            "x.toml",
            "tests/x.rhai",
            ".rhai",
            "tests/a/b.toml",
        ] {
            assert!(!is_versioned_name(bad), "{bad}");
        }
    }

    #[test]
    fn writing_a_rules_folder_leaves_exactly_the_files_given() {
        let dir = tempfile::tempdir().unwrap();
        let rules = dir.path().join("rules");
        std::fs::create_dir_all(rules.join("tests")).unwrap();
        std::fs::write(rules.join("old.rhai"), "x").unwrap();
        std::fs::write(rules.join("tests/old.toml"), "x").unwrap();
        std::fs::write(rules.join("README"), "kept").unwrap();
        let files: RulesFiles = [("new.rhai", "fn tag(r) { [] }"), ("tests/new.toml", "")]
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .into();
        write_rules_folder(&rules, &files).unwrap();
        assert_eq!(read_rules_folder(&rules).unwrap(), files);
        assert!(rules.join("README").exists());
    }
}
