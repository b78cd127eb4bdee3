//! View models of the respondent pages: plain data the templates render, built from a survey,
//! the answers as the form sent them, and the validation problems.

use super::strings::Ui;
use crate::survey::definition::{QuestionTranslation, SurveyTranslation};
use crate::survey::{FieldError, Literal, Question, QuestionKind, Survey};
use serde::Serialize;
use std::collections::BTreeMap;

/// Text questions up to this many characters get a one-line input instead of a textarea.
const SHORT_TEXT_MAX: usize = 100;

/// Answers as the form sent them: field name → every value, in order.
pub type FormValues = BTreeMap<String, Vec<String>>;

/// What `base.html` needs on every page.
#[derive(Serialize)]
pub struct PageMeta {
    pub lang: String,
    pub title: String,
    pub site_name: Option<String>,
    pub css: String,
    pub js: String,
}

#[derive(Serialize)]
pub struct FormView {
    pub action: String,
    pub title: String,
    pub intro: String,
    pub submission_id: String,
    /// The page language, sent back in `_lang`.
    pub lang: String,
    /// The invitation token of a personal link, sent back in `_t`.
    pub token: Option<String>,
    pub errors: Vec<SummaryItem>,
    pub questions: Vec<QuestionView>,
}

/// One line of the error summary: a link to the field.
#[derive(Serialize)]
pub struct SummaryItem {
    pub href: String,
    pub text: String,
}

#[derive(Serialize)]
pub struct QuestionView {
    pub id: String,
    /// radios | checkboxes | scale | number | text | textarea
    pub control: &'static str,
    /// Id of the input the label points at and the error summary links to (`q-<id>`).
    pub input_id: String,
    pub text: String,
    pub required: bool,
    pub help: Option<String>,
    pub help_id: String,
    /// Format of the expected answer (number range, what the ends of a scale mean).
    pub hint: Option<String>,
    pub hint_id: String,
    /// When the question applies; for readers without JavaScript, which hides it instead.
    pub condition: Option<String>,
    pub condition_id: String,
    pub error: Option<String>,
    pub error_id: String,
    /// Space-separated ids for `aria-describedby`; empty when there are none.
    pub describedby: String,
    /// The `show_if` as JSON for chorus.js.
    pub show_if: Option<String>,
    pub choices: Vec<ChoiceView>,
    /// Text or number typed in.
    pub value: String,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub maxlength: Option<usize>,
}

#[derive(Serialize)]
pub struct ChoiceView {
    pub value: String,
    pub label: String,
    pub input_id: String,
    pub checked: bool,
}

/// A survey's texts in the page language, falling back to the survey file.
struct Texts<'a> {
    survey: &'a Survey,
    translation: Option<&'a SurveyTranslation>,
}

impl<'a> Texts<'a> {
    fn question(&self, id: &str) -> Option<&'a QuestionTranslation> {
        self.translation.and_then(|t| t.questions.get(id))
    }
    fn title(&self) -> &'a str {
        self.translation
            .and_then(|t| t.title.as_deref())
            .unwrap_or(&self.survey.title)
    }
    fn intro(&self) -> &'a str {
        self.translation
            .and_then(|t| t.intro.as_deref())
            .unwrap_or(&self.survey.intro)
    }
    fn text(&self, q: &'a Question) -> &'a str {
        self.question(&q.id)
            .and_then(|t| t.text.as_deref())
            .unwrap_or(&q.text)
    }
    fn help(&self, q: &'a Question) -> Option<&'a str> {
        self.question(&q.id)
            .and_then(|t| t.help.as_deref())
            .or(q.help.as_deref())
    }
    fn min_label(&self, q: &'a Question) -> Option<&'a str> {
        self.question(&q.id)
            .and_then(|t| t.min_label.as_deref())
            .or(q.min_label.as_deref())
    }
    fn max_label(&self, q: &'a Question) -> Option<&'a str> {
        self.question(&q.id)
            .and_then(|t| t.max_label.as_deref())
            .or(q.max_label.as_deref())
    }
    fn option_label(&self, q: &'a Question, value: &str) -> Option<&'a str> {
        let translated = self
            .question(&q.id)
            .and_then(|t| t.options.get(value))
            .map(String::as_str);
        translated.or_else(|| q.option(value).map(|o| o.label.as_str()))
    }
}

fn fill(template: &str, pairs: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (key, value) in pairs {
        out = out.replace(&format!("{{{key}}}"), value);
    }
    out
}

/// Has the form sent anything but blanks for this field?
fn answered(values: &FormValues, id: &str) -> bool {
    values
        .get(id)
        .is_some_and(|v| v.iter().any(|s| !s.trim().is_empty()))
}

fn first_value(values: &FormValues, id: &str) -> String {
    values
        .get(id)
        .and_then(|v| v.iter().find(|s| !s.trim().is_empty()).or(v.first()))
        .cloned()
        .unwrap_or_default()
}

/// The problem with one question in words a respondent can act on. The domain's message is
/// kept only for what the form itself cannot produce (a tampered option value, say).
fn field_message(q: &Question, values: &FormValues, domain: &str, ui: &Ui) -> String {
    if !answered(values, &q.id) {
        return match q.kind {
            QuestionKind::MultiChoice => ui.choose_some,
            QuestionKind::Text => ui.write_answer,
            QuestionKind::Number => ui.enter_number,
            _ => ui.choose_one,
        }
        .to_string();
    }
    let value = first_value(values, &q.id);
    match q.kind {
        QuestionKind::Number | QuestionKind::Scale => {
            let (min, max) = if q.kind == QuestionKind::Scale {
                let (a, b) = q.scale_bounds();
                (Some(a), Some(b))
            } else {
                (q.min, q.max)
            };
            match value.trim().parse::<i64>() {
                Err(_) => ui.not_whole_number.to_string(),
                Ok(_) => match (min, max) {
                    (Some(a), Some(b)) => fill(
                        ui.number_out_of_range,
                        &[("min", &a.to_string()), ("max", &b.to_string())],
                    ),
                    (Some(a), None) => fill(ui.number_too_small, &[("min", &a.to_string())]),
                    (None, Some(b)) => fill(ui.number_too_large, &[("max", &b.to_string())]),
                    (None, None) => domain.to_string(),
                },
            }
        }
        QuestionKind::Text => {
            let len = value.trim().chars().count();
            if len > q.text_max_length() {
                fill(
                    ui.text_too_long,
                    &[
                        ("n", &q.text_max_length().to_string()),
                        ("len", &len.to_string()),
                    ],
                )
            } else {
                domain.to_string()
            }
        }
        _ => domain.to_string(),
    }
}

/// "“A”, “B” or “C”"
fn quoted_list(items: &[String], or: &str) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("“{s}”")).collect();
    match quoted.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} {or} {last}", rest.join(", ")),
    }
}

/// "Answer this only if your answer to … was …", for pages read without JavaScript.
fn condition_text(texts: &Texts<'_>, q: &Question, ui: &Ui) -> Option<String> {
    let cond = q.show_if.as_ref()?;
    let target = texts.survey.question(&cond.question)?;
    let shown = |lit: &Literal| -> String {
        match (target.kind, lit) {
            (QuestionKind::YesNo, Literal::Text(s)) if s == "yes" => ui.yes.to_string(),
            (QuestionKind::YesNo, Literal::Text(s)) if s == "no" => ui.no.to_string(),
            (_, Literal::Text(s)) => texts.option_label(target, s).unwrap_or(s).to_string(),
            (_, Literal::Int(n)) => n.to_string(),
        }
    };
    let question = texts.text(target);
    // One clause is enough to guide the reader; equals is the most common and most specific.
    if let Some(lit) = &cond.equals {
        Some(fill(
            ui.only_if_equals,
            &[("question", question), ("value", &shown(lit))],
        ))
    } else if let Some(list) = &cond.any_of {
        let values: Vec<String> = list.iter().map(shown).collect();
        Some(fill(
            ui.only_if_any_of,
            &[
                ("question", question),
                ("value", &quoted_list(&values, ui.or)),
            ],
        ))
    } else {
        cond.not_equals.as_ref().map(|lit| {
            fill(
                ui.only_if_not_equals,
                &[("question", question), ("value", &shown(lit))],
            )
        })
    }
}

fn hint_text(texts: &Texts<'_>, q: &Question, ui: &Ui) -> Option<String> {
    match q.kind {
        QuestionKind::Scale => {
            let (min, max) = q.scale_bounds();
            let ends: Vec<String> = [(min, texts.min_label(q)), (max, texts.max_label(q))]
                .into_iter()
                .filter_map(|(n, label)| {
                    label.map(|l| fill(ui.scale_end, &[("n", &n.to_string()), ("label", l)]))
                })
                .collect();
            (!ends.is_empty()).then(|| format!("{}.", ends.join(", ")))
        }
        QuestionKind::Number => match (q.min, q.max) {
            (Some(a), Some(b)) => Some(fill(
                ui.number_range,
                &[("min", &a.to_string()), ("max", &b.to_string())],
            )),
            (Some(a), None) => Some(fill(ui.number_at_least, &[("min", &a.to_string())])),
            (None, Some(b)) => Some(fill(ui.number_at_most, &[("max", &b.to_string())])),
            (None, None) => None,
        },
        _ => None,
    }
}

fn choices(texts: &Texts<'_>, q: &Question, values: &FormValues, ui: &Ui) -> Vec<ChoiceView> {
    let pairs: Vec<(String, String)> = match q.kind {
        QuestionKind::YesNo => vec![
            ("yes".into(), ui.yes.to_string()),
            ("no".into(), ui.no.to_string()),
        ],
        QuestionKind::SingleChoice | QuestionKind::MultiChoice => q
            .options
            .iter()
            .map(|o| {
                let label = texts.option_label(q, &o.value).unwrap_or(&o.label);
                (o.value.clone(), label.to_string())
            })
            .collect(),
        QuestionKind::Scale => {
            let (min, max) = q.scale_bounds();
            (min..=max)
                .map(|n| (n.to_string(), n.to_string()))
                .collect()
        }
        QuestionKind::Number | QuestionKind::Text => Vec::new(),
    };
    let sent = values.get(&q.id);
    pairs
        .into_iter()
        .enumerate()
        .map(|(i, (value, label))| ChoiceView {
            input_id: if i == 0 {
                format!("q-{}", q.id)
            } else {
                format!("q-{}-{}", q.id, i + 1)
            },
            checked: sent.is_some_and(|v| v.iter().any(|s| s.trim() == value)),
            value,
            label,
        })
        .collect()
}

fn question_view(
    texts: &Texts<'_>,
    q: &Question,
    values: &FormValues,
    error: Option<String>,
    ui: &Ui,
) -> QuestionView {
    let control = match q.kind {
        QuestionKind::YesNo | QuestionKind::SingleChoice => "radios",
        QuestionKind::MultiChoice => "checkboxes",
        QuestionKind::Scale => "scale",
        QuestionKind::Number => "number",
        QuestionKind::Text if q.text_max_length() <= SHORT_TEXT_MAX => "text",
        QuestionKind::Text => "textarea",
    };
    let help = texts.help(q).map(str::to_string);
    let hint = hint_text(texts, q, ui);
    let condition = condition_text(texts, q, ui);
    let ids = |suffix: &str| format!("q-{}-{suffix}", q.id);
    let describedby: Vec<String> = [
        (help.is_some(), ids("help")),
        (hint.is_some(), ids("hint")),
        (condition.is_some(), ids("cond")),
        (error.is_some(), ids("error")),
    ]
    .into_iter()
    .filter_map(|(present, id)| present.then_some(id))
    .collect();
    let (min, max) = match q.kind {
        QuestionKind::Number => (q.min, q.max),
        _ => (None, None),
    };
    QuestionView {
        id: q.id.clone(),
        control,
        input_id: format!("q-{}", q.id),
        text: texts.text(q).to_string(),
        required: q.required,
        help,
        help_id: ids("help"),
        hint,
        hint_id: ids("hint"),
        condition,
        condition_id: ids("cond"),
        error,
        error_id: ids("error"),
        describedby: describedby.join(" "),
        show_if: q
            .show_if
            .as_ref()
            .and_then(|c| serde_json::to_string(c).ok()),
        choices: choices(texts, q, values, ui),
        value: if matches!(q.kind, QuestionKind::Number | QuestionKind::Text) {
            first_value(values, &q.id)
        } else {
            String::new()
        },
        min,
        max,
        maxlength: (q.kind == QuestionKind::Text).then(|| q.text_max_length()),
    }
}

/// "Question? Message." — the summary names the question so that each line stands alone.
fn summary_text(question: &str, message: &str) -> String {
    let question = question.trim_end();
    if question.ends_with(['?', '.', '!', ':']) {
        format!("{question} {message}")
    } else {
        format!("{question}: {message}")
    }
}

pub struct FormInput<'a> {
    pub survey: &'a Survey,
    pub translation: Option<&'a SurveyTranslation>,
    pub action: String,
    pub submission_id: String,
    pub lang: String,
    pub token: Option<String>,
    pub values: &'a FormValues,
    pub errors: &'a [FieldError],
}

pub fn form_view(input: FormInput<'_>, ui: &Ui) -> FormView {
    let texts = Texts {
        survey: input.survey,
        translation: input.translation,
    };
    let mut summary = Vec::new();
    let mut questions = Vec::with_capacity(input.survey.questions.len());
    for q in &input.survey.questions {
        let error = input
            .errors
            .iter()
            .find(|e| e.field == q.id)
            .map(|e| field_message(q, input.values, &e.message, ui));
        if let Some(message) = &error {
            summary.push(SummaryItem {
                href: format!("#q-{}", q.id),
                text: summary_text(texts.text(q), message),
            });
        }
        questions.push(question_view(&texts, q, input.values, error, ui));
    }
    // Problems that belong to no question on the page (a stale or tampered form) still show.
    for e in input.errors {
        if input.survey.question(&e.field).is_none() {
            summary.push(SummaryItem {
                href: "#answers".into(),
                text: e.message.clone(),
            });
        }
    }
    FormView {
        action: input.action,
        title: texts.title().to_string(),
        intro: texts.intro().to_string(),
        submission_id: input.submission_id,
        lang: input.lang,
        token: input.token,
        errors: summary,
        questions,
    }
}

/// The survey's title in the page language.
pub fn survey_title<'a>(survey: &'a Survey, translation: Option<&'a SurveyTranslation>) -> &'a str {
    Texts {
        survey,
        translation,
    }
    .title()
}
