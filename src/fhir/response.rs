//! Responses as FHIR R4 QuestionnaireResponses, both ways (docs/fhir.md).

use super::types::{Coding, Identifier, Meta, QuestionnaireResponse, ResponseAnswer, ResponseItem};
use super::{FhirBase, Problem};
use crate::domain::StoredResponse;
use crate::survey::answers::validate_reporting_hidden;
use crate::survey::{AnswerValue, Question, QuestionKind, RawAnswer, Site, Survey};
use serde_json::Value;
use std::collections::BTreeMap;

/// A stored response as a `completed` QuestionnaireResponse of the survey version it answered.
/// It carries the answers, the language, the submission id and the barrier tags (`meta.tag`,
/// in the site's barrier code system) — nothing about the respondent beyond the answers.
pub fn questionnaire_response(
    site: &Site,
    survey: &Survey,
    stored: &StoredResponse,
    public_base: &str,
) -> QuestionnaireResponse {
    let base = FhirBase::new(public_base);
    let system = base.answer_system(&stored.site, &stored.survey);
    let mut items: Vec<ResponseItem> = survey
        .questions
        .iter()
        .filter_map(|q| {
            let value = stored.answers.get(&q.id)?;
            Some(response_item(&q.id, Some(q), value, &system))
        })
        .collect();
    // Answers to questions a later survey version no longer has keep their own types.
    for (id, value) in &stored.answers {
        if survey.question(id).is_none() {
            items.push(response_item(id, None, value, &system));
        }
    }
    let mut tags: Vec<Coding> = Vec::new();
    for tag in &stored.tags {
        if !tags.iter().any(|t| t.code.as_deref() == Some(&tag.code)) {
            let label = site.barrier(&tag.code).map(|b| b.label.as_str());
            tags.push(Coding::new(
                &base.barrier_system(&stored.site),
                &tag.code,
                label,
            ));
        }
    }
    QuestionnaireResponse {
        resource_type: "QuestionnaireResponse".into(),
        id: Some(stored.id.to_string()),
        meta: (!tags.is_empty()).then(|| Meta {
            tag: tags,
            other: Default::default(),
        }),
        language: stored.language.clone(),
        identifier: stored.submission_id.map(|id| Identifier {
            system: Some("urn:ietf:rfc:3986".into()),
            value: Some(format!("urn:uuid:{id}")),
        }),
        questionnaire: Some(format!(
            "{}|{}",
            base.questionnaire_url(&stored.site, &stored.survey),
            stored.survey_version
        )),
        status: "completed".into(),
        authored: Some(stored.submitted_at.clone()),
        item: items,
        other: Default::default(),
    }
}

/// A stored response as a QuestionnaireResponse, with the survey it answered as the site now
/// defines it; a survey the site no longer has gives every answer its stored type, no text.
pub fn stored_response_resource(
    site: &Site,
    stored: &StoredResponse,
    public_base: &str,
) -> QuestionnaireResponse {
    match site.survey(&stored.survey) {
        Some(survey) => questionnaire_response(site, survey, stored, public_base),
        None => {
            let gone = Survey {
                id: stored.survey.clone(),
                group: stored.group.clone(),
                title: String::new(),
                intro: String::new(),
                version: stored.survey_version,
                anonymous: true,
                questions: Vec::new(),
                translations: BTreeMap::new(),
                asks: None,
                asks_by_version: BTreeMap::new(),
            };
            questionnaire_response(site, &gone, stored, public_base)
        }
    }
}

fn response_item(
    id: &str,
    question: Option<&Question>,
    value: &AnswerValue,
    system: &str,
) -> ResponseItem {
    let kind = question.map(|q| q.kind);
    let coding = |code: &str| {
        let label = question
            .and_then(|q| q.option(code))
            .map(|o| o.label.as_str());
        ResponseAnswer {
            value_coding: Some(Coding::new(system, code, label)),
            ..ResponseAnswer::default()
        }
    };
    let answer = match (kind, value) {
        (Some(QuestionKind::YesNo), AnswerValue::Text(s)) if s == "yes" || s == "no" => {
            vec![ResponseAnswer {
                value_boolean: Some(s == "yes"),
                ..ResponseAnswer::default()
            }]
        }
        (Some(QuestionKind::SingleChoice), AnswerValue::Text(s)) => vec![coding(s)],
        (_, AnswerValue::Choices(list)) => list.iter().map(|c| coding(c)).collect(),
        (_, AnswerValue::Int(n)) => vec![ResponseAnswer {
            value_integer: Some(*n),
            ..ResponseAnswer::default()
        }],
        (_, AnswerValue::Text(s)) => vec![ResponseAnswer {
            value_string: Some(s.clone()),
            ..ResponseAnswer::default()
        }],
    };
    ResponseItem {
        link_id: id.to_string(),
        text: question.map(|q| q.text.clone()),
        answer,
        ..ResponseItem::default()
    }
}

/// The raw answers of a posted QuestionnaireResponse, for the submission pipeline, or every
/// problem with it: wrong answer types, unknown codes or linkIds, answers to items that are
/// not enabled (Chorus's own `show_if` evaluation), missing required answers, and answers the
/// survey validator refuses (ranges, lengths). Items may be nested as FHIR allows (under
/// `item` or `answer.item`); Chorus surveys are flat, so each is taken by its linkId.
pub fn answers_from_questionnaire_response(
    site: &Site,
    survey: &Survey,
    qr: &QuestionnaireResponse,
    public_base: &str,
) -> Result<BTreeMap<String, RawAnswer>, Vec<Problem>> {
    let base = FhirBase::new(public_base);
    let system = base.answer_system(site.id(), &survey.id);
    let mut problems = Vec::new();
    if qr.resource_type != "QuestionnaireResponse" {
        problems.push(Problem::resource(format!(
            "resourceType is \"{}\", not \"QuestionnaireResponse\"",
            qr.resource_type
        )));
    }
    if qr.status != "completed" {
        problems.push(Problem::resource(format!(
            "status is \"{}\"; only a \"completed\" QuestionnaireResponse can be submitted",
            qr.status
        )));
    }
    if let Some(canonical) = &qr.questionnaire {
        let expected_id = FhirBase::questionnaire_id(site.id(), &survey.id);
        let (url, version) = match canonical.split_once('|') {
            Some((u, v)) => (u, Some(v)),
            None => (canonical.as_str(), None),
        };
        let id_matches = url
            .rsplit_once("/Questionnaire/")
            .is_some_and(|(_, id)| id == expected_id);
        if !id_matches {
            problems.push(Problem::resource(format!(
                "questionnaire \"{canonical}\" is not {}",
                base.questionnaire_url(site.id(), &survey.id)
            )));
        } else if version.is_some_and(|v| v != survey.version.to_string()) {
            problems.push(Problem::resource(format!(
                "questionnaire version \"{}\" is not the current version {} of the survey",
                version.unwrap_or_default(),
                survey.version
            )));
        }
    }
    let mut flat: Vec<&ResponseItem> = Vec::new();
    flatten(&qr.item, &mut flat);
    let mut raw = BTreeMap::new();
    for item in flat {
        let link = item.link_id.as_str();
        let Some(q) = survey.question(link) else {
            let display = link.rsplit_once('.').is_some_and(|(parent, role)| {
                survey.question(parent).is_some_and(|p| match role {
                    "help" => p.help.is_some(),
                    "lower" => p.min_label.is_some(),
                    "upper" => p.max_label.is_some(),
                    _ => false,
                })
            });
            if !display {
                problems.push(Problem::item(
                    link,
                    "no item of the Questionnaire has this linkId",
                ));
            } else if !item.answer.is_empty() {
                problems.push(Problem::item(link, "a display item takes no answer"));
            }
            continue;
        };
        if raw.contains_key(link) {
            problems.push(Problem::item(link, "the item is answered twice"));
            continue;
        }
        if item.answer.is_empty() {
            continue;
        }
        match raw_answer(q, &item.answer, &system) {
            Ok(value) => {
                raw.insert(link.to_string(), RawAnswer::Json(value));
            }
            Err(message) => problems.push(Problem::item(link, message)),
        }
    }
    let refused: Vec<&str> = problems
        .iter()
        .filter_map(|p| p.link_id.as_deref())
        .collect();
    let (result, hidden) = validate_reporting_hidden(survey, &raw);
    let hidden: Vec<String> = hidden
        .into_iter()
        .filter(|id| !depends_on_any(survey, id, &refused))
        .collect();
    for id in hidden {
        problems.push(Problem::item(
            &id,
            "answered, but the item is not enabled (its enableWhen is false)",
        ));
    }
    if let Err(errors) = result {
        for e in errors {
            // Answers refused above are not in `raw`; do not report them twice as missing.
            if !problems
                .iter()
                .any(|p| p.link_id.as_deref() == Some(&e.field))
            {
                problems.push(Problem::item(&e.field, e.message));
            }
        }
    }
    if problems.is_empty() {
        Ok(raw)
    } else {
        Err(problems)
    }
}

/// Does the visibility of question `id` depend (through its show_if chain) on one of `ids`?
/// Then it is unknown while one of those answers is refused.
fn depends_on_any(survey: &Survey, id: &str, ids: &[&str]) -> bool {
    let mut current = survey.question(id);
    while let Some(cond) = current.and_then(|q| q.show_if.as_ref()) {
        if ids.contains(&cond.question.as_str()) {
            return true;
        }
        current = survey.question(&cond.question);
    }
    false
}

fn flatten<'a>(items: &'a [ResponseItem], out: &mut Vec<&'a ResponseItem>) {
    for item in items {
        out.push(item);
        flatten(&item.item, out);
        for answer in &item.answer {
            flatten(&answer.item, out);
        }
    }
}

fn expected_type(kind: QuestionKind) -> &'static str {
    match kind {
        QuestionKind::YesNo => "valueBoolean",
        QuestionKind::SingleChoice | QuestionKind::MultiChoice => "valueCoding",
        QuestionKind::Scale | QuestionKind::Number => "valueInteger",
        QuestionKind::Text => "valueString",
    }
}

/// The answers of one item as the JSON the survey validator takes for that question kind.
fn raw_answer(q: &Question, answers: &[ResponseAnswer], system: &str) -> Result<Value, String> {
    if answers.len() > 1 && q.kind != QuestionKind::MultiChoice {
        return Err(format!(
            "{} answers given; this item takes one (repeats is false)",
            answers.len()
        ));
    }
    let mut values = Vec::with_capacity(answers.len());
    for answer in answers {
        let single = answer.value_type().split(" and ").count() == 1;
        let wrong = || {
            format!(
                "answered with {}; this item takes {}",
                answer.value_type(),
                expected_type(q.kind)
            )
        };
        let value = match q.kind {
            QuestionKind::YesNo => answer
                .value_boolean
                .filter(|_| single)
                .map(|b| Value::from(if b { "yes" } else { "no" })),
            QuestionKind::Scale | QuestionKind::Number => {
                answer.value_integer.filter(|_| single).map(Value::from)
            }
            QuestionKind::Text => answer
                .value_string
                .clone()
                .filter(|_| single)
                .map(Value::from),
            QuestionKind::SingleChoice | QuestionKind::MultiChoice => {
                match answer.value_coding.as_ref().filter(|_| single) {
                    Some(coding) => Some(Value::from(choice_code(q, coding, system)?)),
                    None => None,
                }
            }
        };
        values.push(value.ok_or_else(wrong)?);
    }
    Ok(if q.kind == QuestionKind::MultiChoice {
        Value::Array(values)
    } else {
        values.pop().unwrap_or(Value::Null)
    })
}

fn choice_code(q: &Question, coding: &Coding, system: &str) -> Result<String, String> {
    if let Some(s) = coding.system.as_deref().filter(|s| *s != system) {
        return Err(format!(
            "coding system \"{s}\" is not this survey's ({system})"
        ));
    }
    let code = coding.code.clone().unwrap_or_default();
    if q.option(&code).is_none() {
        let known: Vec<&str> = q.options.iter().map(|o| o.value.as_str()).collect();
        return Err(format!(
            "code \"{code}\" is not an answerOption of this item (its codes: {})",
            known.join(", ")
        ));
    }
    Ok(code)
}
