//! The admin app's rule editor: check a draft of one rule file against the whole site (compile
//! and every rule test, nothing applied), apply it (a new version in the store, the file
//! replaced, the site reloaded), and the versions kept.

use super::sites::reload_site;
use super::{Chorus, ServiceError};
use crate::domain::time::now_rfc3339;
use crate::domain::RuleVersion;
use crate::store::durable_file::write_durably;
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
}

impl DraftCheck {
    pub fn compiles(&self) -> bool {
        self.at_lines.is_empty() && self.elsewhere.is_empty()
    }
    pub fn passes(&self) -> bool {
        self.compiles() && self.failing_tests.is_empty()
    }
}

/// Is `file` one of the site's `rules/*.rhai` files?
pub fn is_rule_file(chorus: &Chorus, site: &str, file: &str) -> Result<bool, ServiceError> {
    let rt = chorus.site(site)?;
    Ok(rt
        .site
        .rule_files
        .iter()
        .any(|p| p.file_name().is_some_and(|n| n.to_string_lossy() == file)))
}

/// Can `file` name a new rule file? `[a-z0-9_-]+.rhai`, so that it is a plain name in `rules/`.
pub fn is_new_name(file: &str) -> bool {
    file.strip_suffix(".rhai").is_some_and(|stem| {
        !stem.is_empty()
            && stem
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    })
}

/// A rule file name the editor accepts: one of the site's `rules/*.rhai`, or (with `new`) a
/// name a new one may have; nothing else.
pub fn rule_file<'a>(
    chorus: &Chorus,
    site: &str,
    file: &'a str,
    new: bool,
) -> Result<&'a str, ServiceError> {
    if is_rule_file(chorus, site, file)? || (new && is_new_name(file)) {
        Ok(file)
    } else {
        Err(ServiceError::RuleFileNotFound(file.to_string()))
    }
}

/// The running text of a site's rule file; empty for a file that does not exist yet.
pub fn running_text(chorus: &Chorus, site: &str, file: &str) -> Result<String, ServiceError> {
    let rt = chorus.site(site)?;
    let source = format!("rules/{file}");
    Ok(rt
        .rules
        .scripts()
        .into_iter()
        .find(|s| s.source == source)
        .map(|s| s.text)
        .unwrap_or_default())
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

/// Compiles the site with `draft` in place of `file` and runs every rule test, in a scratch
/// copy of the site's folder: the running site and its files are not touched.
pub async fn check_draft(
    chorus: &Chorus,
    site: &str,
    file: &str,
    draft: String,
) -> Result<DraftCheck, ServiceError> {
    let registry = chorus.sites.clone();
    let (site_id, file) = (site.to_string(), file.to_string());
    chorus
        .run_for_site(site, move || {
            let real = registry.site_dir(&site_id);
            let scratch = tempfile::tempdir().map_err(|_| ServiceError::Unavailable)?;
            let copy = scratch.path().join(&site_id);
            copy_dir(&real, &copy).map_err(|_| ServiceError::Unavailable)?;
            let draft_path = copy.join("rules").join(&file);
            std::fs::write(&draft_path, draft).map_err(|_| ServiceError::Unavailable)?;
            // Messages name the real files, not the scratch copy.
            let real_name =
                |text: &str| text.replace(&copy.display().to_string(), &real.display().to_string());
            let mut check = DraftCheck::default();
            match registry.try_folder(&copy) {
                Ok(failing) => check.failing_tests = failing.iter().map(|l| real_name(l)).collect(),
                Err(errors) => {
                    for e in errors {
                        if e.file == draft_path {
                            check.at_lines.push((e.line, e.col, e.message));
                        } else {
                            check.elsewhere.push(real_name(&e.to_string()));
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
    pub file: &'a str,
    pub text: String,
    pub author: &'a str,
    pub message: String,
    /// Load it even if rule tests fail (never when it does not compile).
    pub anyway: bool,
}

/// Checks the draft, then replaces (or creates) the rule file, reloads the site (a failing reload puts the
/// old text back) and stores the new version. The text found on disk is stored first, as
/// version 1, the first time a file is edited, so that it can be restored.
pub async fn apply(chorus: &Chorus, a: Apply<'_>) -> Result<RuleVersion, ServiceError> {
    let check = check_draft(chorus, a.site, a.file, a.text.clone()).await?;
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
    let existed = is_rule_file(chorus, a.site, a.file)?;
    let before = running_text(chorus, a.site, a.file)?;
    let path = chorus.sites.site_dir(a.site).join("rules").join(a.file);
    let write = |text: &str| {
        write_durably(&path, text.as_bytes(), 0o644).map_err(|_| ServiceError::Unavailable)
    };
    write(&a.text)?;
    let anyway = a.anyway.then_some(a.author);
    let actor = super::audit::Actor::User(a.author);
    if let Err(e) = reload_site(chorus, actor, a.site, anyway).await {
        if existed {
            write(&before)?;
        } else {
            let _ = std::fs::remove_file(&path);
        }
        return Err(e);
    }
    let history = chorus.store.rule_versions(a.site, a.file).await?;
    if history.is_empty() && existed {
        let found = RuleVersion {
            site: a.site.to_string(),
            file: a.file.to_string(),
            number: 0,
            text: before,
            author: "(disk)".into(),
            at: now_rfc3339(),
            message: "the file as found on disk before the first edit".into(),
            applied_anyway: Vec::new(),
        };
        chorus.store.add_rule_version(&found).await?;
    }
    let version = RuleVersion {
        site: a.site.to_string(),
        file: a.file.to_string(),
        number: 0,
        text: a.text,
        author: a.author.to_string(),
        at: now_rfc3339(),
        message: a.message,
        applied_anyway: if a.anyway {
            check.failing_tests
        } else {
            Vec::new()
        },
    };
    let stored = chorus.store.add_rule_version(&version).await?;
    tracing::info!(
        site = a.site,
        file = a.file,
        version = stored.number,
        by = a.author,
        "rule file applied from the editor"
    );
    Ok(stored)
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
