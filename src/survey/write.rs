//! Writing a survey definition as TOML in the style of the shipped survey files (for
//! `chorus import questionnaire`). Reading the text back gives the same definition.

use super::definition::{Literal, Question, QuestionTranslation, ShowIf, Survey};
use std::fmt::Write;

/// A TOML basic string.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML key: bare when it can be, quoted otherwise.
fn key(s: &str) -> String {
    let bare = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        s.to_string()
    } else {
        string(s)
    }
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Int(n) => n.to_string(),
        Literal::Text(s) => string(s),
    }
}

fn show_if(c: &ShowIf) -> String {
    let mut parts = vec![format!("question = {}", string(&c.question))];
    if let Some(l) = &c.equals {
        parts.push(format!("equals = {}", literal(l)));
    }
    if let Some(l) = &c.not_equals {
        parts.push(format!("not_equals = {}", literal(l)));
    }
    if let Some(list) = &c.any_of {
        let items: Vec<String> = list.iter().map(literal).collect();
        parts.push(format!("any_of = [{}]", items.join(", ")));
    }
    format!("{{ {} }}", parts.join(", "))
}

fn question(out: &mut String, q: &Question) {
    let kind = serde_json::to_value(q.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let _ = writeln!(out, "\n[[questions]]");
    let _ = writeln!(out, "id = {}", string(&q.id));
    let _ = writeln!(out, "kind = {}", string(&kind));
    let _ = writeln!(out, "text = {}", string(&q.text));
    let strings = [("help", &q.help), ("min_label", &q.min_label)];
    for (name, value) in strings.into_iter().chain([("max_label", &q.max_label)]) {
        if let Some(v) = value {
            let _ = writeln!(out, "{name} = {}", string(v));
        }
    }
    if q.required {
        let _ = writeln!(out, "required = true");
    }
    for (name, value) in [("min", q.min), ("max", q.max)] {
        if let Some(v) = value {
            let _ = writeln!(out, "{name} = {v}");
        }
    }
    if let Some(n) = q.max_length {
        let _ = writeln!(out, "max_length = {n}");
    }
    if let Some(c) = &q.show_if {
        let _ = writeln!(out, "show_if = {}", show_if(c));
    }
    if !q.options.is_empty() {
        let _ = writeln!(out, "options = [");
        for o in &q.options {
            let _ = writeln!(
                out,
                "  {{ value = {}, label = {} }},",
                string(&o.value),
                string(&o.label)
            );
        }
        let _ = writeln!(out, "]");
    }
}

fn question_translation(out: &mut String, lang: &str, id: &str, t: &QuestionTranslation) {
    let _ = writeln!(out, "\n[translations.{}.questions.{}]", key(lang), key(id));
    let fields = [
        ("text", &t.text),
        ("help", &t.help),
        ("min_label", &t.min_label),
        ("max_label", &t.max_label),
    ];
    for (name, value) in fields {
        if let Some(v) = value {
            let _ = writeln!(out, "{name} = {}", string(v));
        }
    }
    for (value, label) in &t.options {
        let _ = writeln!(out, "options.{} = {}", key(value), string(label));
    }
}

/// The survey as the text of a survey file.
pub fn to_toml(survey: &Survey) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "id = {}", string(&survey.id));
    let _ = writeln!(out, "group = {}", string(&survey.group));
    let _ = writeln!(out, "title = {}", string(&survey.title));
    if !survey.intro.is_empty() {
        let _ = writeln!(out, "intro = {}", string(&survey.intro));
    }
    let _ = writeln!(out, "version = {}", survey.version);
    let _ = writeln!(out, "anonymous = {}", survey.anonymous);
    let codes = |list: &[String]| {
        list.iter()
            .map(|c| string(c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(asks) = &survey.asks {
        let _ = writeln!(out, "asks = [{}]", codes(asks));
    }
    if !survey.asks_by_version.is_empty() {
        let _ = writeln!(out, "\n[asks_by_version]");
        for (version, list) in &survey.asks_by_version {
            let _ = writeln!(out, "{} = [{}]", key(version), codes(list));
        }
    }
    for q in &survey.questions {
        question(&mut out, q);
    }
    for (lang, t) in &survey.translations {
        if t.title.is_some() || t.intro.is_some() {
            let _ = writeln!(out, "\n[translations.{}]", key(lang));
            for (name, value) in [("title", &t.title), ("intro", &t.intro)] {
                if let Some(v) = value {
                    let _ = writeln!(out, "{name} = {}", string(v));
                }
            }
        }
        for (id, qt) in &t.questions {
            question_translation(&mut out, lang, id, qt);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::definition::{ChoiceOption, QuestionKind, SurveyTranslation};
    use std::collections::BTreeMap;

    fn shipped_surveys() -> Vec<std::path::PathBuf> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in [
            "sites/demo-clinic/surveys",
            "tests/fixtures/sites/test-clinic/surveys",
        ] {
            files.extend(
                crate::survey::load::files_with_extension(&root.join(dir), "toml").unwrap(),
            );
        }
        assert!(files.len() >= 5, "{files:?}");
        files
    }

    #[test]
    fn every_shipped_survey_reads_back_identical() {
        for file in shipped_surveys() {
            let text = std::fs::read_to_string(&file).unwrap();
            let survey: Survey = toml::from_str(&text).unwrap();
            let written = to_toml(&survey);
            let back: Survey = toml::from_str(&written)
                .unwrap_or_else(|e| panic!("{}: {e}\n{written}", file.display()));
            assert_eq!(back, survey, "{}", file.display());
        }
    }

    #[test]
    fn awkward_strings_and_keys_are_quoted() {
        let q = Question {
            id: "q".into(),
            kind: QuestionKind::SingleChoice,
            text: "Say \"hi\"\\ or\nnot\t\u{1}".into(),
            help: None,
            required: false,
            options: vec![ChoiceOption {
                value: "a.b c".into(),
                label: "x = 'y'".into(),
            }],
            show_if: None,
            min: None,
            max: None,
            min_label: None,
            max_label: None,
            max_length: None,
        };
        let mut options = BTreeMap::new();
        options.insert("a.b c".to_string(), "¿sí?".to_string());
        let translation = SurveyTranslation {
            title: Some("Título".into()),
            intro: None,
            questions: BTreeMap::from([(
                "q".to_string(),
                QuestionTranslation {
                    options,
                    ..Default::default()
                },
            )]),
        };
        let survey = Survey {
            id: "s".into(),
            group: "patient".into(),
            title: "T".into(),
            intro: String::new(),
            version: 2,
            anonymous: false,
            questions: vec![q],
            asks: Some(vec!["awareness".into()]),
            asks_by_version: BTreeMap::from([("1".to_string(), vec![])]),
            translations: BTreeMap::from([("pt-BR".to_string(), translation)]),
        };
        let written = to_toml(&survey);
        let back: Survey = toml::from_str(&written).unwrap_or_else(|e| panic!("{e}\n{written}"));
        assert_eq!(back, survey);
        assert!(
            written.contains("options.\"a.b c\" = \"¿sí?\""),
            "{written}"
        );
    }
}
