//! `show_if` ⇄ `enableWhen`.
//!
//! Chorus hides a question whose condition question is unanswered or hidden
//! (`survey::is_shown`); FHIR's `=` is false then too (a disabled item counts as unanswered),
//! but its `!=` is true. So `not_equals` is written as `exists = true` **and** `!= value`.
//! On a multi-choice question FHIR's `=` means "among the answers", as Chorus's `equals` does.
//! A condition that plain enableWhen cannot state (several `any_of` values together with
//! `equals`/`not_equals` on a multi-choice question) becomes an SDC enableWhenExpression.

use super::types::{Coding, EnableWhen, Expression, Extension};
use super::ENABLE_WHEN_EXPRESSION;
use crate::survey::{Literal, Question, QuestionKind, ShowIf};

/// `enableWhen`, `enableBehavior` and, for what they cannot say, an enableWhenExpression.
pub fn enable_when(
    cond: &ShowIf,
    target: &Question,
    system: &str,
) -> (Vec<EnableWhen>, Option<String>, Option<Extension>) {
    let any_of: &[Literal] = cond.any_of.as_deref().unwrap_or(&[]);
    let atom =
        |operator: &str, lit: &Literal| answer(&cond.question, operator, lit, target, system);
    if cond.any_of.as_ref().is_some_and(Vec::is_empty) {
        // `any_of = []` matches nothing: the question is never shown.
        return never(&cond.question);
    }
    let combined = cond.equals.is_some() || cond.not_equals.is_some();
    if any_of.len() >= 2 && combined {
        if target.kind == QuestionKind::MultiChoice {
            return (Vec::new(), None, Some(expression(cond)));
        }
        // One answer only: the condition is "the answer is one of these values".
        let values: Vec<&Literal> = any_of
            .iter()
            .filter(|l| cond.equals.as_ref().is_none_or(|e| e == *l))
            .filter(|l| cond.not_equals.as_ref() != Some(*l))
            .collect();
        if values.is_empty() {
            return never(&cond.question);
        }
        let conditions = values.iter().map(|l| atom("=", l)).collect();
        return (conditions, Some("any".into()), None);
    }
    let mut conditions = Vec::new();
    conditions.extend(cond.equals.iter().map(|l| atom("=", l)));
    conditions.extend(any_of.iter().map(|l| atom("=", l)));
    if let Some(lit) = &cond.not_equals {
        if conditions.is_empty() {
            conditions.push(exists(&cond.question, true));
        }
        conditions.push(atom("!=", lit));
    }
    // `any` marks an any_of (even of one value); `all` joins equals, any_of and not_equals.
    let behavior = if !any_of.is_empty() && !combined {
        Some("any".to_string())
    } else if conditions.len() > 1 {
        Some("all".to_string())
    } else {
        None
    };
    (conditions, behavior, None)
}

fn answer(
    question: &str,
    operator: &str,
    lit: &Literal,
    target: &Question,
    system: &str,
) -> EnableWhen {
    let mut ew = EnableWhen {
        question: question.to_string(),
        operator: operator.to_string(),
        ..EnableWhen::default()
    };
    match (target.kind, lit) {
        (QuestionKind::YesNo, Literal::Text(s)) => ew.answer_boolean = Some(s == "yes"),
        (_, Literal::Int(n)) => ew.answer_integer = Some(*n),
        (_, Literal::Text(s)) => {
            let label = target.option(s).map(|o| o.label.as_str());
            ew.answer_coding = Some(Coding::new(system, s, label));
        }
    }
    ew
}

fn exists(question: &str, answered: bool) -> EnableWhen {
    EnableWhen {
        question: question.to_string(),
        operator: "exists".into(),
        answer_boolean: Some(answered),
        ..EnableWhen::default()
    }
}

/// "Answered and unanswered": never true.
fn never(question: &str) -> (Vec<EnableWhen>, Option<String>, Option<Extension>) {
    (
        vec![exists(question, true), exists(question, false)],
        Some("all".into()),
        None,
    )
}

/// A FHIRPath string literal.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The condition as FHIRPath over the response (multi-choice codes).
fn expression(cond: &ShowIf) -> Extension {
    let codes = format!(
        "%resource.item.where(linkId = {}).answer.value.code",
        quoted(&cond.question)
    );
    let has = |l: &Literal| format!("({codes} contains {})", quoted(&l.to_string()));
    let mut parts = vec![format!("{codes}.exists()")];
    parts.extend(cond.equals.iter().map(has));
    parts.extend(cond.not_equals.iter().map(|l| format!("{}.not()", has(l))));
    if let Some(list) = &cond.any_of {
        let any: Vec<String> = list.iter().map(has).collect();
        parts.push(format!("({})", any.join(" or ")));
    }
    Extension {
        value_expression: Some(Expression {
            language: "text/fhirpath".into(),
            expression: parts.join(" and "),
        }),
        ..Extension::new(ENABLE_WHEN_EXPRESSION)
    }
}

/// The `show_if` of an imported item from its enableWhen, or why Chorus cannot represent it.
/// `earlier` are the questions imported before this item.
pub fn show_if(
    conditions: &[EnableWhen],
    behavior: Option<&str>,
    earlier: &[Question],
) -> Result<Option<ShowIf>, String> {
    let Some(first) = conditions.first() else {
        return Ok(None);
    };
    if conditions.iter().any(|c| c.question != first.question) {
        return Err(
            "its enableWhen depends on more than one question; a Chorus show_if \
                    depends on one"
                .into(),
        );
    }
    let Some(target) = earlier.iter().find(|q| q.id == first.question) else {
        return Err(format!(
            "its enableWhen refers to \"{}\", which is not an earlier question",
            first.question
        ));
    };
    let (mut equal, mut not_equal, mut answered) = (Vec::new(), Vec::new(), false);
    for c in conditions {
        match (c.operator.as_str(), c.answer_boolean) {
            ("exists", Some(true)) => answered = true,
            ("exists", _) => {
                return Err(format!(
                    "it is enabled when \"{}\" is unanswered; Chorus hides a question whose \
                     condition question is unanswered",
                    target.id
                ))
            }
            ("=", _) => equal.push(literal(c, target)?),
            ("!=", _) => not_equal.push(literal(c, target)?),
            (op, _) => {
                return Err(format!(
                    "enableWhen operator \"{op}\" has no Chorus equivalent (only =, != and \
                     exists)"
                ))
            }
        }
    }
    let question = target.id.clone();
    if behavior == Some("any") {
        if !not_equal.is_empty() || answered {
            return Err(
                "with enableBehavior \"any\" only \"=\" conditions can be represented \
                        (as show_if any_of)"
                    .into(),
            );
        }
        return Ok(Some(ShowIf {
            question,
            equals: None,
            not_equals: None,
            any_of: Some(equal),
        }));
    }
    if equal.len() > 2 || not_equal.len() > 1 {
        return Err(
            "too many conditions: a Chorus show_if has one equals, one any_of and one \
                    not_equals"
                .into(),
        );
    }
    if equal.is_empty() && !answered {
        return Err(format!(
            "\"!=\" alone also enables it when \"{}\" is unanswered, and Chorus hides it then; \
             add an \"exists\" = true condition",
            target.id
        ));
    }
    if equal.is_empty() && not_equal.is_empty() {
        return Err(format!(
            "it is enabled whenever \"{}\" is answered; Chorus needs a value to compare",
            target.id
        ));
    }
    let mut equal = equal.into_iter();
    Ok(Some(ShowIf {
        question,
        equals: equal.next(),
        any_of: equal.next().map(|l| vec![l]),
        not_equals: not_equal.pop(),
    }))
}

/// The value an enableWhen compares with, as a show_if literal of the target's kind.
fn literal(c: &EnableWhen, target: &Question) -> Result<Literal, String> {
    let wrong = || {
        let found = c
            .other
            .keys()
            .find(|k| k.starts_with("answer"))
            .cloned()
            .unwrap_or_else(|| "another answer type".into());
        format!(
            "its enableWhen compares \"{}\" with {found}, which does not fit that question",
            target.id
        )
    };
    match target.kind {
        QuestionKind::YesNo => c
            .answer_boolean
            .map(|b| Literal::Text(if b { "yes" } else { "no" }.into()))
            .ok_or_else(wrong),
        QuestionKind::Scale | QuestionKind::Number => {
            c.answer_integer.map(Literal::Int).ok_or_else(wrong)
        }
        QuestionKind::SingleChoice | QuestionKind::MultiChoice => {
            let code = c
                .answer_coding
                .as_ref()
                .and_then(|coding| coding.code.clone())
                .ok_or_else(wrong)?;
            if target.option(&code).is_none() {
                return Err(format!(
                    "its enableWhen compares \"{}\" with code \"{code}\", which is not one of \
                     its options",
                    target.id
                ));
            }
            Ok(Literal::Text(code))
        }
        QuestionKind::Text => Err(format!(
            "its enableWhen depends on the free-text question \"{}\"; Chorus cannot",
            target.id
        )),
    }
}
