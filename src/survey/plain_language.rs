//! The plain-language check of `chorus check`: every text a respondent of the site's reading
//! groups reads (title, intro, question texts, help, option and scale labels, and their
//! translations) scored by [`super::readability`]; a text above `reading_grade_max` is a
//! warning at its `file:line:col`, never a failure. Texts of fewer than [`MIN_WORDS`] words
//! are not scored: the formulas measure sentences, and score a lone "Other" at grade 8.4.

use super::definition::Survey;
use super::load::{files_with_extension, line_col, locate};
use super::readability::{score, word_count, Score};
use super::site::Site;
use std::fmt;
use std::path::PathBuf;

/// The shortest text the check scores.
pub const MIN_WORDS: usize = 3;

/// A text that reads above the site's grade.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingWarning {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
    /// What the text is (`question "aware" help`, `es translation of ...`).
    pub what: String,
    pub score: Score,
    pub max_grade: f64,
    pub text: String,
}

impl fmt::Display for ReadingWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 60;
        let mut text: String = self.text.chars().take(SHOWN).collect();
        if self.text.chars().count() > SHOWN {
            text.push('…');
        }
        write!(
            f,
            "{}:{}:{}: warning: {} reads at {}, above grade {} (reading_grade_max): \"{text}\"",
            self.file.display(),
            self.line,
            self.col,
            self.what,
            self.score,
            self.max_grade
        )
    }
}

/// A text of a survey: its TOML path, what it is, and the text.
struct Text<'a> {
    path: String,
    what: String,
    text: &'a str,
}

fn texts_of(survey: &Survey) -> Vec<Text<'_>> {
    let mut out = vec![Text {
        path: "title".into(),
        what: "the title".into(),
        text: &survey.title,
    }];
    if !survey.intro.is_empty() {
        out.push(Text {
            path: "intro".into(),
            what: "the intro".into(),
            text: &survey.intro,
        });
    }
    for (i, q) in survey.questions.iter().enumerate() {
        let at = |field: &str| format!("questions.{i}.{field}");
        let what = |part: &str| format!("question \"{}\" {part}", q.id);
        out.push(Text {
            path: at("text"),
            what: what("text"),
            text: &q.text,
        });
        for (field, value) in [
            ("help", &q.help),
            ("min_label", &q.min_label),
            ("max_label", &q.max_label),
        ] {
            if let Some(text) = value {
                out.push(Text {
                    path: at(field),
                    what: what(field),
                    text,
                });
            }
        }
        for (j, o) in q.options.iter().enumerate() {
            out.push(Text {
                path: at(&format!("options.{j}.label")),
                what: what(&format!("option \"{}\"", o.value)),
                text: &o.label,
            });
        }
    }
    out
}

fn translated_texts<'a>(survey: &'a Survey, lang: &str) -> Vec<Text<'a>> {
    let Some(t) = survey.translations.get(lang) else {
        return Vec::new();
    };
    let base = format!("translations.{lang}");
    let mut out = Vec::new();
    for (field, value, what) in [
        ("title", &t.title, "the title"),
        ("intro", &t.intro, "the intro"),
    ] {
        if let Some(text) = value {
            out.push(Text {
                path: format!("{base}.{field}"),
                what: format!("{what} ({lang})"),
                text,
            });
        }
    }
    for (id, qt) in &t.questions {
        let at = format!("{base}.questions.{id}");
        for (field, value) in [
            ("text", &qt.text),
            ("help", &qt.help),
            ("min_label", &qt.min_label),
            ("max_label", &qt.max_label),
        ] {
            if let Some(text) = value {
                out.push(Text {
                    path: format!("{at}.{field}"),
                    what: format!("question \"{id}\" {field} ({lang})"),
                    text,
                });
            }
        }
        for (value, label) in &qt.options {
            out.push(Text {
                path: format!("{at}.options.{value}"),
                what: format!("question \"{id}\" option \"{value}\" ({lang})"),
                text: label,
            });
        }
    }
    out
}

/// The warnings of every survey file of a loaded site, in file and text order. Languages
/// without a formula here are not read.
pub fn reading_warnings(site: &Site) -> Vec<ReadingWarning> {
    let groups = site.config.reading_groups();
    let max_grade = site.config.reading_grade_max;
    let files = files_with_extension(&site.dir.join("surveys"), "toml").unwrap_or_default();
    let mut warnings = Vec::new();
    for file in files {
        let Ok(source) = std::fs::read_to_string(&file) else {
            continue;
        };
        let Ok(survey) = toml::from_str::<Survey>(&source) else {
            continue; // the load reports it
        };
        if !groups.contains(&survey.group) {
            continue;
        }
        let mut texts: Vec<(Text, &str)> = texts_of(&survey)
            .into_iter()
            .map(|t| (t, site.config.default_language.as_str()))
            .collect();
        for lang in survey.translations.keys() {
            texts.extend(
                translated_texts(&survey, lang)
                    .into_iter()
                    .map(|t| (t, lang.as_str())),
            );
        }
        for (t, lang) in texts {
            if word_count(t.text) < MIN_WORDS {
                continue;
            }
            let Some(score) = score(t.text, lang).filter(|s| s.grade() > max_grade) else {
                continue;
            };
            let (line, col) = locate(&source, &t.path).map_or((1, 1), |o| line_col(&source, o));
            warnings.push(ReadingWarning {
                file: file.clone(),
                line,
                col,
                what: t.what,
                score,
                max_grade,
                text: t.text.to_string(),
            });
        }
    }
    warnings
}
