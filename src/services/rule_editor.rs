//! The admin app's rule editor: check a change of one rule file or rule test file (a new text,
//! or the file deleted) against the whole site (compile and every rule test, nothing applied),
//! apply it (the file replaced or removed, the site reloaded, a new version in the store,
//! audited), and the versions kept.

use super::audit::{self, Actor, Event};
use super::rule_source::{
    is_versioned_name, read_rules_folder, require_store, store_change, try_with_rules, Change,
    RulesFiles, TESTS,
};
use super::sites::{publish_reload, reload_here};
use super::{Chorus, ServiceError};
use crate::domain::RuleVersion;
use crate::store::durable_file::write_durably;
use std::collections::BTreeMap;
use std::path::Path;

/// What checking a draft found.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct DraftCheck {
    /// Problems of the draft itself: (line, col, message), for the editor's gutter.
    pub at_lines: Vec<(usize, usize, String)>,
    /// Every other problem (another file, a rule test) as `file:line:col: message`.
    pub elsewhere: Vec<String>,
    /// Failing rule tests, as `file:line:col: case "name": message`.
    pub failing_tests: Vec<String>,
    /// Those of `failing_tests` in the edited file itself (a rule test file), by line, for
    /// the gutter.
    pub failing_here: Vec<(usize, usize, String)>,
}

/// `(line, col, message)` of a `file:line:col: message` line about `file`.
fn located_in(file: &Path, line: &str) -> Option<(usize, usize, String)> {
    let rest = line.strip_prefix(&format!("{}:", file.display()))?;
    let mut parts = rest.splitn(3, ':');
    let l = parts.next()?.parse().ok()?;
    let c = parts.next()?.parse().ok()?;
    Some((l, c, parts.next()?.trim_start().to_string()))
}

impl DraftCheck {
    pub fn compiles(&self) -> bool {
        self.at_lines.is_empty() && self.elsewhere.is_empty()
    }
    pub fn passes(&self) -> bool {
        self.compiles() && self.failing_tests.is_empty()
    }
}

/// Is `name` (`x.rhai`, or `tests/x.toml` for a rule test file) a file of the running site's
/// rules folder?
pub fn exists(chorus: &Chorus, site: &str, name: &str) -> Result<bool, ServiceError> {
    let rt = chorus.site(site)?;
    let path = rt.site.dir.join("rules").join(name);
    let mut files = rt.site.rule_files.iter().chain(&rt.site.rule_test_files);
    Ok(is_versioned_name(name) && files.any(|p| *p == path))
}

/// Can `file` name a new rule file? `[a-z0-9_-]+.rhai`, so that it is a plain name in `rules/`.
pub fn is_new_name(file: &str) -> bool {
    !file.starts_with(TESTS) && is_versioned_name(file)
}

/// The running text of a site's rule file, or of a rule test file (`tests/x.toml`, as its
/// folder holds it); empty for a file that does not exist.
pub fn running_text(chorus: &Chorus, site: &str, name: &str) -> Result<String, ServiceError> {
    let rt = chorus.site(site)?;
    if name.starts_with(TESTS) {
        let path = rt.site.dir.join("rules").join(name);
        return Ok(match exists(chorus, site, name)? {
            true => std::fs::read_to_string(path).map_err(|_| ServiceError::Unavailable)?,
            false => String::new(),
        });
    }
    let source = format!("rules/{name}");
    Ok(rt
        .rules
        .scripts()
        .into_iter()
        .find(|s| s.source == source)
        .map(|s| s.text)
        .unwrap_or_default())
}

/// The site's rules folder with `changes` made (name → new text, `None` deletes it).
fn changed_rules(
    dir: &Path,
    changes: &BTreeMap<String, Option<String>>,
) -> Result<RulesFiles, ServiceError> {
    let mut rules = read_rules_folder(&dir.join("rules")).map_err(ServiceError::SiteInvalid)?;
    for (name, text) in changes {
        match text {
            Some(text) => rules.insert(name.clone(), text.clone()),
            None => rules.remove(name),
        };
    }
    Ok(rules)
}

/// Compiles the site with `changes` made to its rules folder and runs every rule test, in a
/// scratch copy of the site's folder. Problems in `file` are told by line.
pub async fn check_change(
    chorus: &Chorus,
    site: &str,
    file: &str,
    changes: BTreeMap<String, Option<String>>,
) -> Result<DraftCheck, ServiceError> {
    let registry = chorus.sites.clone();
    let real = registry.site_dir(site);
    let edited = real.join("rules").join(file);
    chorus
        .run_for_site(site, move || {
            let rules = changed_rules(&real, &changes)?;
            let tried = try_with_rules(&real, &rules, |copy| registry.try_folder(copy))
                .map_err(|_| ServiceError::Unavailable)?;
            let mut check = DraftCheck::default();
            match tried {
                Ok(failing) => {
                    let here = failing.iter().filter_map(|l| located_in(&edited, l));
                    check.failing_here = here.collect();
                    check.failing_tests = failing;
                }
                Err(errors) => {
                    for e in errors {
                        if e.file == edited {
                            check.at_lines.push((e.line, e.col, e.message));
                        } else {
                            check.elsewhere.push(e.to_string());
                        }
                    }
                }
            }
            Ok(check)
        })
        .await?
}

/// What an apply asks for.
pub struct Apply<'a> {
    pub site: &'a str,
    /// `x.rhai`, or `tests/x.toml` for a rule test file.
    pub file: &'a str,
    /// The new text; `None` deletes the file.
    pub text: Option<String>,
    pub author: &'a str,
    pub message: String,
    /// Load it even if rule tests fail (never when it does not compile).
    pub anyway: bool,
    /// The version this change restores, if it is a restore.
    pub restores: Option<u64>,
}

/// Writes `text` to `path`, or removes the file for `None`.
fn put(path: &Path, text: Option<&String>) -> Result<(), ServiceError> {
    let done = match text {
        Some(text) => path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| write_durably(path, text.as_bytes(), 0o644)),
        None if path.exists() => std::fs::remove_file(path),
        None => Ok(()),
    };
    done.map_err(|_| ServiceError::Unavailable)
}

/// Checks the change (a new text, or the file deleted) against the whole site, writes it into
/// this node's rules folder and reloads the site here (a refused reload puts the old file back
/// and stores nothing), stores it as a new version (a deletion is one too) and tells the other
/// nodes. The first change of a site's rules stores its files as found first (author
/// `(disk)`), so that they can be restored.
pub async fn apply(chorus: &Chorus, a: Apply<'_>) -> Result<RuleVersion, ServiceError> {
    require_store(chorus, a.site)?;
    let files = BTreeMap::from([(a.file.to_string(), a.text.clone())]);
    let check = check_change(chorus, a.site, a.file, files.clone()).await?;
    if !check.compiles() {
        let mut lines: Vec<String> = check
            .at_lines
            .iter()
            .map(|(l, c, m)| format!("rules/{}:{l}:{c}: {m}", a.file))
            .collect();
        lines.extend(check.elsewhere);
        return Err(ServiceError::SiteInvalid(lines));
    }
    if !check.failing_tests.is_empty() && !a.anyway {
        return Err(ServiceError::RuleTestsFailed(check.failing_tests));
    }
    let rules_dir = chorus.sites.site_dir(a.site).join("rules");
    let seed = read_rules_folder(&rules_dir).map_err(ServiceError::SiteInvalid)?;
    let path = rules_dir.join(a.file);
    put(&path, a.text.as_ref())?;
    let anyway = a.anyway.then_some(a.author);
    let (_, before) = match reload_here(chorus, a.site, anyway).await {
        Ok(reloaded) => reloaded,
        Err(e) => {
            put(&path, seed.get(a.file))?;
            return Err(e);
        }
    };
    let failing = match a.anyway {
        true => check.failing_tests,
        false => Vec::new(),
    };
    let change = Change {
        site: a.site,
        author: a.author,
        message: &a.message,
        failing_tests: &failing,
    };
    let stored = store_change(chorus.store.as_ref(), &change, &files, &seed).await?;
    publish_reload(chorus, Actor::User(a.author), a.site, &before).await?;
    if !stored.is_empty() {
        let event = Event::RulesChanged {
            site: a.site,
            versions: &stored,
            message: &a.message,
            restores: a.restores,
        };
        audit::record(chorus.store.as_ref(), Actor::User(a.author), event).await?;
    }
    let version = match stored.into_iter().next() {
        Some(v) => v,
        // The same text as the running version: nothing new to keep.
        None => chorus
            .store
            .rule_versions(a.site, a.file)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| ServiceError::RuleFileNotFound(a.file.to_string()))?,
    };
    tracing::info!(
        site = a.site,
        file = a.file,
        version = version.number,
        deleted = version.deleted,
        by = a.author,
        "rule file changed from the editor"
    );
    Ok(version)
}

/// A line diff of `old` and `new` (longest common subsequence): each line with `' '` (both),
/// `'-'` (only old) or `'+'` (only new). Rule files are short; past 2,000 lines each side the
/// whole old text is shown removed and the new one added.
pub fn line_diff(old: &str, new: &str) -> Vec<(char, String)> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    if a.len() > 2000 || b.len() > 2000 {
        return a
            .iter()
            .map(|l| ('-', l.to_string()))
            .chain(b.iter().map(|l| ('+', l.to_string())))
            .collect();
    }
    // common[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut common = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            common[i][j] = if a[i] == b[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push((' ', a[i].to_string()));
            (i, j) = (i + 1, j + 1);
        } else if j < b.len() && (i == a.len() || common[i][j + 1] >= common[i + 1][j]) {
            out.push(('+', b[j].to_string()));
            j += 1;
        } else {
            out.push(('-', a[i].to_string()));
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::line_diff;

    #[test]
    fn diff_keeps_common_lines_and_marks_the_rest() {
        let d = line_diff("a\nb\nc\n", "a\nx\nc\nd\n");
        let shown: Vec<String> = d.iter().map(|(k, l)| format!("{k}{l}")).collect();
        assert_eq!(shown, [" a", "+x", "-b", " c", "+d"]);
        assert!(line_diff("same\n", "same\n").iter().all(|(k, _)| *k == ' '));
    }
}
