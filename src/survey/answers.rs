//! Answer validation and `show_if`: the server is the authority on what a response contains.

use super::definition::{Literal, Question, QuestionKind, ShowIf, Survey, MAX_SCALE_POINTS};
pub use crate::domain::{AnswerValue, Answers};
use serde::Serialize;
use std::collections::BTreeMap;

/// Does an answer "equal" a `show_if` literal? A multi-choice answer equals a value when that
/// value is among those checked.
fn matches(answer: &AnswerValue, literal: &Literal) -> bool {
    match (answer, literal) {
        (AnswerValue::Int(a), Literal::Int(b)) => a == b,
        (AnswerValue::Int(a), Literal::Text(b)) => b.trim().parse::<i64>() == Ok(*a),
        (AnswerValue::Text(a), Literal::Text(b)) => a == b,
        (AnswerValue::Text(a), Literal::Int(b)) => a == &b.to_string(),
        (AnswerValue::Choices(list), l) => list.iter().any(|v| Literal::Text(v.clone()) == *l),
    }
}

/// An answer as it arrived, before validation.
#[derive(Debug, Clone)]
pub enum RawAnswer {
    Json(serde_json::Value),
    /// Every value the form sent under that field name.
    Form(Vec<String>),
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    fn new(field: &str, message: impl Into<String>) -> Self {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

/// Is the question shown, given the answers to the questions before it?
/// A question whose controlling question is unanswered or hidden stays hidden.
pub fn is_shown(show_if: Option<&ShowIf>, answers: &Answers) -> bool {
    let Some(cond) = show_if else { return true };
    let Some(answer) = answers.get(&cond.question) else {
        return false;
    };
    if let Some(lit) = &cond.equals {
        if !matches(answer, lit) {
            return false;
        }
    }
    if let Some(lit) = &cond.not_equals {
        if matches(answer, lit) {
            return false;
        }
    }
    if let Some(list) = &cond.any_of {
        if !list.iter().any(|lit| matches(answer, lit)) {
            return false;
        }
    }
    true
}

/// Validates raw answers against a survey: unknown ids, wrong types, out-of-range values and
/// missing required answers are errors naming the question; answers to hidden questions are
/// dropped. Returns every problem found, in question order.
pub fn validate(
    survey: &Survey,
    raw: &BTreeMap<String, RawAnswer>,
) -> Result<Answers, Vec<FieldError>> {
    validate_reporting_hidden(survey, raw).0
}

/// As [`validate`], and also names the hidden questions that were answered anyway (for
/// channels, such as FHIR, where such an answer is an error). A question whose condition
/// question had an invalid answer is not named: whether it is shown is unknown.
pub fn validate_reporting_hidden(
    survey: &Survey,
    raw: &BTreeMap<String, RawAnswer>,
) -> (Result<Answers, Vec<FieldError>>, Vec<String>) {
    let mut errors = Vec::new();
    for id in raw.keys() {
        if survey.question(id).is_none() {
            errors.push(FieldError::new(
                id,
                format!("\"{id}\" is not a question of survey \"{}\"", survey.id),
            ));
        }
    }
    let mut answers = Answers::new();
    let mut hidden_answered = Vec::new();
    let mut unknown: Vec<&str> = Vec::new();
    for q in &survey.questions {
        // Questions are evaluated in order, so a show_if sees only earlier, shown answers.
        if !is_shown(q.show_if.as_ref(), &answers) {
            let depends_on_unknown = q
                .show_if
                .as_ref()
                .is_some_and(|c| unknown.contains(&c.question.as_str()));
            if depends_on_unknown {
                unknown.push(&q.id);
            } else if raw
                .get(&q.id)
                .is_some_and(|r| !matches!(parse_answer(q, r), Ok(None)))
            {
                hidden_answered.push(q.id.clone());
            }
            continue;
        }
        match raw.get(&q.id).map(|r| parse_answer(q, r)) {
            Some(Ok(Some(value))) => {
                answers.insert(q.id.clone(), value);
            }
            Some(Err(message)) => {
                unknown.push(&q.id);
                errors.push(FieldError::new(&q.id, message));
            }
            None | Some(Ok(None)) => {
                if q.required {
                    errors.push(FieldError::new(&q.id, required_message(q)));
                }
            }
        }
    }
    let result = if errors.is_empty() {
        Ok(answers)
    } else {
        Err(errors)
    };
    (result, hidden_answered)
}

fn required_message(q: &Question) -> String {
    match q.kind {
        QuestionKind::MultiChoice => format!("\"{}\" needs at least one choice", q.text),
        QuestionKind::Text | QuestionKind::Number => format!("\"{}\" needs an answer", q.text),
        _ => format!("\"{}\" needs an answer: please choose one", q.text),
    }
}

/// `Ok(None)` means "no answer given" (empty form field, JSON null or empty list).
fn parse_answer(q: &Question, raw: &RawAnswer) -> Result<Option<AnswerValue>, String> {
    match raw {
        RawAnswer::Json(v) => parse_json(q, v),
        RawAnswer::Form(values) => parse_form(q, values),
    }
}

fn parse_json(q: &Question, v: &serde_json::Value) -> Result<Option<AnswerValue>, String> {
    use serde_json::Value;
    if v.is_null() {
        return Ok(None);
    }
    match q.kind {
        QuestionKind::YesNo | QuestionKind::SingleChoice | QuestionKind::Text => match v {
            Value::String(s) => check_text(q, s),
            _ => Err(format!("\"{}\" expects {}", q.id, expected(q))),
        },
        QuestionKind::MultiChoice => match v {
            Value::Array(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::String(s) => values.push(s.clone()),
                        _ => return Err(format!("\"{}\" expects {}", q.id, expected(q))),
                    }
                }
                check_choices(q, values)
            }
            _ => Err(format!("\"{}\" expects {}", q.id, expected(q))),
        },
        QuestionKind::Scale | QuestionKind::Number => match v.as_i64() {
            Some(n) => check_int(q, n).map(Some),
            None => Err(format!("\"{}\" expects {}", q.id, expected(q))),
        },
    }
}

fn parse_form(q: &Question, values: &[String]) -> Result<Option<AnswerValue>, String> {
    if q.kind == QuestionKind::MultiChoice {
        let values: Vec<String> = values.iter().filter(|v| !v.is_empty()).cloned().collect();
        return check_choices(q, values);
    }
    let non_empty: Vec<&String> = values.iter().filter(|v| !v.trim().is_empty()).collect();
    match non_empty.as_slice() {
        [] => Ok(None),
        [one] => match q.kind {
            QuestionKind::Scale | QuestionKind::Number => match one.trim().parse::<i64>() {
                Ok(n) => check_int(q, n).map(Some),
                Err(_) => Err(format!("\"{}\" needs a whole number", q.text)),
            },
            _ => check_text(q, one),
        },
        _ => Err(format!("\"{}\" takes one answer only", q.text)),
    }
}

fn expected(q: &Question) -> &'static str {
    match q.kind {
        QuestionKind::YesNo => "\"yes\" or \"no\"",
        QuestionKind::SingleChoice => "one option value (a string)",
        QuestionKind::MultiChoice => "an array of option values",
        QuestionKind::Scale | QuestionKind::Number => "an integer",
        QuestionKind::Text => "a string",
    }
}

fn check_text(q: &Question, s: &str) -> Result<Option<AnswerValue>, String> {
    match q.kind {
        QuestionKind::YesNo => match s {
            "yes" | "no" => Ok(Some(AnswerValue::Text(s.to_string()))),
            "" => Ok(None),
            _ => Err(format!("\"{}\" must be \"yes\" or \"no\"", q.id)),
        },
        QuestionKind::SingleChoice => {
            if s.is_empty() {
                Ok(None)
            } else if q.option(s).is_some() {
                Ok(Some(AnswerValue::Text(s.to_string())))
            } else {
                Err(format!("\"{s}\" is not an option of \"{}\"", q.id))
            }
        }
        _ => {
            let cleaned = super::sanitize::clean_text(s);
            let trimmed = cleaned.trim();
            if trimmed.is_empty() {
                return Ok(None);
            }
            let max = q.text_max_length();
            let len = trimmed.chars().count();
            if len > max {
                Err(format!(
                    "\"{}\" is {len} characters long; the limit is {max}",
                    q.text
                ))
            } else {
                Ok(Some(AnswerValue::Text(trimmed.to_string())))
            }
        }
    }
}

fn check_choices(q: &Question, values: Vec<String>) -> Result<Option<AnswerValue>, String> {
    let mut chosen: Vec<String> = Vec::with_capacity(values.len());
    for v in values {
        if q.option(&v).is_none() {
            return Err(format!("\"{v}\" is not an option of \"{}\"", q.id));
        }
        if !chosen.contains(&v) {
            chosen.push(v);
        }
    }
    if chosen.is_empty() {
        Ok(None)
    } else {
        // Keep the survey's option order so stored answers do not depend on click order.
        chosen.sort_by_key(|v| q.options.iter().position(|o| &o.value == v));
        Ok(Some(AnswerValue::Choices(chosen)))
    }
}

fn check_int(q: &Question, n: i64) -> Result<AnswerValue, String> {
    let (min, max) = match q.kind {
        QuestionKind::Scale => {
            let (a, b) = q.scale_bounds();
            (Some(a), Some(b))
        }
        _ => (q.min, q.max),
    };
    if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
        let range = match (min, max) {
            (Some(a), Some(b)) => format!("between {a} and {b}"),
            (Some(a), None) => format!("at least {a}"),
            (None, Some(b)) => format!("at most {b}"),
            (None, None) => unreachable!("a bound was violated"),
        };
        return Err(format!("\"{}\" must be {range}", q.text));
    }
    Ok(AnswerValue::Int(n))
}

/// Checks a survey's own consistency (beyond what serde checks); each problem names the
/// path of the offending item, e.g. `questions.2.show_if`.
pub fn check_definition(survey: &Survey, groups: &[String]) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let id_ok = |s: &str, extra: char| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == extra)
    };
    if !id_ok(&survey.id, '-') {
        problems.push((
            "id".into(),
            format!("survey id \"{}\" may use only a-z, 0-9 and -", survey.id),
        ));
    }
    if !groups.contains(&survey.group) {
        problems.push((
            "group".into(),
            format!(
                "group \"{}\" is not one of the site's groups ({})",
                survey.group,
                groups.join(", ")
            ),
        ));
    }
    if survey.questions.is_empty() {
        problems.push((
            "questions".into(),
            "a survey needs at least one question".into(),
        ));
    }
    for i in 0..survey.questions.len() {
        question_problems(survey, i, &mut problems);
    }
    problems
}

/// The problems of question `i` of a survey (its id, options, bounds and `show_if`).
fn question_problems(survey: &Survey, i: usize, problems: &mut Vec<(String, String)>) {
    let q = &survey.questions[i];
    let id_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let at = |field: &str| format!("questions.{i}.{field}");
    if !id_ok(&q.id) {
        problems.push((
            at("id"),
            format!("question id \"{}\" may use only a-z, 0-9 and _", q.id),
        ));
    }
    if survey.questions[..i].iter().any(|p| p.id == q.id) {
        problems.push((at("id"), format!("question id \"{}\" is used twice", q.id)));
    }
    if q.kind.has_options() {
        if q.options.is_empty() {
            problems.push((at("kind"), format!("\"{}\" needs options", q.id)));
        }
        for (j, o) in q.options.iter().enumerate() {
            if q.options[..j].iter().any(|p| p.value == o.value) {
                problems.push((
                    format!("questions.{i}.options.{j}"),
                    format!("option \"{}\" is listed twice", o.value),
                ));
            }
        }
    } else if !q.options.is_empty() {
        problems.push((
            at("options"),
            format!("a {:?} question takes no options", q.kind),
        ));
    }
    if q.kind == QuestionKind::Scale {
        let (min, max) = q.scale_bounds();
        if min >= max || max - min + 1 > MAX_SCALE_POINTS {
            problems.push((
                at("min"),
                format!("scale {min}..{max} must have 2 to {MAX_SCALE_POINTS} points"),
            ));
        }
    }
    if let (QuestionKind::Number, Some(min), Some(max)) = (q.kind, q.min, q.max) {
        if min > max {
            problems.push((at("min"), format!("min {min} is above max {max}")));
        }
    }
    if q.max_length.is_some() && q.kind != QuestionKind::Text {
        problems.push((
            at("max_length"),
            "max_length applies to text questions only".into(),
        ));
    }
    if let Some(cond) = &q.show_if {
        show_if_problems(survey, i, cond, problems);
    }
}

/// A `show_if` must name an earlier question and compare it with values it can have.
fn show_if_problems(
    survey: &Survey,
    i: usize,
    cond: &ShowIf,
    problems: &mut Vec<(String, String)>,
) {
    let at = format!("questions.{i}.show_if");
    let Some(target) = survey.questions[..i].iter().find(|p| p.id == cond.question) else {
        problems.push((
            at,
            format!(
                "show_if refers to \"{}\", which is not an earlier question",
                cond.question
            ),
        ));
        return;
    };
    let literals: Vec<&Literal> = cond
        .equals
        .iter()
        .chain(cond.not_equals.iter())
        .chain(cond.any_of.iter().flatten())
        .collect();
    if literals.is_empty() {
        problems.push((
            at.clone(),
            "show_if needs equals, not_equals or any_of".into(),
        ));
    }
    for lit in literals {
        if let Some(msg) = literal_problem(target, lit) {
            problems.push((at.clone(), msg));
        }
    }
}

fn literal_problem(target: &Question, lit: &Literal) -> Option<String> {
    match (target.kind, lit) {
        (QuestionKind::YesNo, Literal::Text(s)) if s == "yes" || s == "no" => None,
        (QuestionKind::YesNo, _) => Some(format!(
            "\"{}\" is answered \"yes\" or \"no\", never \"{lit}\"",
            target.id
        )),
        (QuestionKind::SingleChoice | QuestionKind::MultiChoice, Literal::Text(s))
            if target.option(s).is_some() =>
        {
            None
        }
        (QuestionKind::SingleChoice | QuestionKind::MultiChoice, _) => {
            Some(format!("\"{lit}\" is not an option of \"{}\"", target.id))
        }
        (QuestionKind::Scale | QuestionKind::Number, Literal::Int(_)) => None,
        (QuestionKind::Scale | QuestionKind::Number, _) => {
            Some(format!("\"{}\" is answered with integers", target.id))
        }
        (QuestionKind::Text, _) => Some(format!(
            "show_if cannot depend on the free-text question \"{}\"",
            target.id
        )),
    }
}
