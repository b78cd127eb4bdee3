//! Reading sites and surveys from disk, with every problem located as `file:line:col`.

use super::answers::check_definition;
use super::asks::check_asks;
use super::definition::Survey;
use super::site::{check_site_config, codebook_for, Site, SiteConfig};
use serde::de::DeserializeOwned;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A problem in a file a site is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.col,
            self.message
        )
    }
}

impl LoadError {
    pub fn at_start(file: &Path, message: impl Into<String>) -> Self {
        LoadError {
            file: file.to_path_buf(),
            line: 1,
            col: 1,
            message: message.into(),
        }
    }
}

/// Messages are printed one problem per line.
fn one_line(message: &str) -> String {
    message
        .trim()
        .lines()
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("; ")
}

/// 1-based line and column of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Finds the span of a dotted path (`questions.2.show_if`) in a TOML document.
pub fn locate(source: &str, path: &str) -> Option<usize> {
    use toml_edit::{ImDocument, Item, Value};
    let doc = ImDocument::parse(source).ok()?;
    let mut item: Item = Item::Table(doc.as_table().clone());
    let mut best = None;
    for seg in path.split('.') {
        let next = match (&item, seg.parse::<usize>()) {
            (Item::ArrayOfTables(a), Ok(i)) => a.get(i).cloned().map(Item::Table),
            (Item::Value(Value::Array(a)), Ok(i)) => a.get(i).cloned().map(Item::Value),
            (Item::Table(t), _) => t.get(seg).cloned(),
            (Item::Value(Value::InlineTable(t)), _) => t.get(seg).cloned().map(Item::Value),
            _ => None,
        };
        match next {
            Some(n) => {
                if let Some(span) = n.span() {
                    best = Some(span.start);
                }
                item = n;
            }
            None => break,
        }
    }
    best
}

fn located(file: &Path, source: &str, path: &str, message: String) -> LoadError {
    let (line, col) = locate(source, path).map_or((1, 1), |o| line_col(source, o));
    LoadError {
        file: file.to_path_buf(),
        line,
        col,
        message,
    }
}

fn parse_toml<T: DeserializeOwned>(file: &Path) -> Result<(T, String), LoadError> {
    let source = std::fs::read_to_string(file)
        .map_err(|e| LoadError::at_start(file, format!("cannot read: {e}")))?;
    match toml::from_str::<T>(&source) {
        Ok(v) => Ok((v, source)),
        Err(e) => {
            let (line, col) = e.span().map_or((1, 1), |s| line_col(&source, s.start));
            Err(LoadError {
                file: file.to_path_buf(),
                line,
                col,
                message: one_line(e.message()),
            })
        }
    }
}

/// Line and column of a dotted path (`case.2.expect_tags`, `plugins.0`) in a TOML file; the
/// nearest enclosing item when the exact one has no position, 1:1 when nothing is found.
pub fn locate_in_file(file: &Path, path: &str) -> (usize, usize) {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|source| locate(&source, path).map(|o| line_col(&source, o)))
        .unwrap_or((1, 1))
}

/// Sorted paths in `dir` with the given extension; a missing folder is empty.
pub fn files_with_extension(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, LoadError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(LoadError::at_start(dir, format!("cannot read folder: {e}"))),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    Ok(files)
}

/// Loads one site folder; every problem in every file is reported, not just the first.
pub fn load_site(dir: &Path) -> Result<Site, Vec<LoadError>> {
    let mut errors = Vec::new();
    let site_file = dir.join("site.toml");
    let dir_name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let config = match parse_toml::<SiteConfig>(&site_file) {
        Ok((config, source)) => {
            for (path, msg) in check_site_config(&config, &dir_name) {
                errors.push(located(&site_file, &source, &path, msg));
            }
            Some(config)
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let survey_files = files_with_extension(&dir.join("surveys"), "toml").unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let mut surveys: Vec<Arc<Survey>> = Vec::new();
    for file in &survey_files {
        match parse_toml::<Survey>(file) {
            Ok((survey, source)) => {
                let groups = config
                    .as_ref()
                    .map(|c| c.groups.clone())
                    .unwrap_or_default();
                let mut problems = check_definition(&survey, &groups);
                if config.is_none() {
                    problems.retain(|(p, _)| p != "group");
                }
                if surveys.iter().any(|s| s.id == survey.id) {
                    problems.push((
                        "id".into(),
                        format!("survey id \"{}\" is used by another file", survey.id),
                    ));
                }
                problems.extend(check_translations(&survey));
                if let Some(c) = &config {
                    problems.extend(check_asks(&survey, &codebook_for(c)));
                }
                for (path, msg) in problems {
                    errors.push(located(file, &source, &path, msg));
                }
                surveys.push(Arc::new(survey));
            }
            Err(e) => errors.push(e),
        }
    }
    if survey_files.is_empty() && errors.is_empty() {
        errors.push(LoadError::at_start(
            &dir.join("surveys"),
            "the site has no surveys (surveys/*.toml)",
        ));
    }
    let rules_dir = dir.join("rules");
    let rule_files = files_with_extension(&rules_dir, "rhai").unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let rule_test_files =
        files_with_extension(&rules_dir.join("tests"), "toml").unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        });
    match config {
        Some(config) if errors.is_empty() => Ok(Site {
            codebook: codebook_for(&config),
            config,
            dir: dir.to_path_buf(),
            surveys,
            rule_files,
            rule_test_files,
        }),
        _ => Err(errors),
    }
}

/// Problems in a survey's `[translations.<lang>]` tables: a language tag that is not one, or a
/// translation of a question or option the survey does not have.
pub fn check_translations(survey: &Survey) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (lang, translation) in &survey.translations {
        let tag_ok = lang.split('-').enumerate().all(|(i, part)| {
            let len_ok = if i == 0 {
                (2..=3).contains(&part.len())
            } else {
                (1..=8).contains(&part.len())
            };
            len_ok
                && part.chars().all(|c| c.is_ascii_alphanumeric())
                && (i > 0 || part.chars().all(|c| c.is_ascii_lowercase()))
        });
        if !tag_ok {
            problems.push((
                format!("translations.{lang}"),
                format!("\"{lang}\" is not a language tag like \"es\" or \"pt-BR\""),
            ));
        }
        for (qid, qt) in &translation.questions {
            let path = format!("translations.{lang}.questions.{qid}");
            let Some(question) = survey.question(qid) else {
                problems.push((path, format!("translation for unknown question \"{qid}\"")));
                continue;
            };
            for value in qt.options.keys() {
                if question.option(value).is_none() {
                    let known: Vec<&str> =
                        question.options.iter().map(|o| o.value.as_str()).collect();
                    let message = if known.is_empty() {
                        format!("question \"{qid}\" has no options to translate (\"{value}\")")
                    } else {
                        format!(
                            "question \"{qid}\" has no option \"{value}\" (its options: {})",
                            known.join(", ")
                        )
                    };
                    problems.push((format!("{path}.options.{value}"), message));
                }
            }
        }
    }
    problems
}

/// The folder of every site under `sites_dir` (each holds a `site.toml`), sorted; a problem
/// when the folder cannot be read or holds no site. Each site is loaded apart (`load_site`),
/// so that a broken one does not stop the others.
pub fn site_dirs(sites_dir: &Path) -> Result<Vec<PathBuf>, Vec<LoadError>> {
    let entries = std::fs::read_dir(sites_dir).map_err(|e| {
        vec![LoadError::at_start(
            sites_dir,
            format!("cannot read the sites folder: {e}"),
        )]
    })?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("site.toml").is_file())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(vec![LoadError::at_start(
            sites_dir,
            "no site found (expected <id>/site.toml)",
        )]);
    }
    Ok(dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let src = "a = 1\nbb = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, 9), (2, 4));
    }

    #[test]
    fn locate_finds_nested_items() {
        let src = "id = \"x\"\n[[questions]]\nid = \"a\"\n[[questions]]\nid = \"b\"\nshow_if = { question = \"a\", equals = \"yes\" }\n";
        let off = locate(src, "questions.1.show_if").unwrap();
        assert_eq!(line_col(src, off).0, 6);
    }
}
