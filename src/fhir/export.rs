//! A survey as a FHIR R4 Questionnaire (docs/fhir.md, "Questionnaire").

use super::enable_when::enable_when;
use super::translation::{self, Texts};
use super::types::{
    AnswerOption, CodeableConcept, Coding, Extension, Item, Questionnaire, UsageContext,
};
use super::{item_control, FhirBase, EXT_ANONYMOUS, MAX_VALUE, MIN_VALUE};
use super::{types, USAGE_CONTEXT_TYPE};
use crate::survey::definition::{QuestionTranslation, SurveyTranslation};
use crate::survey::{Question, QuestionKind, Site, Survey};

/// The Questionnaire of `survey`, with its canonical URL under `public_base`.
pub fn questionnaire(site: &Site, survey: &Survey, public_base: &str) -> Questionnaire {
    let base = FhirBase::new(public_base);
    let answer_system = base.answer_system(site.id(), &survey.id);
    let survey_texts = |get: fn(&SurveyTranslation) -> Option<&String>| -> Texts {
        survey
            .translations
            .iter()
            .filter_map(|(lang, t)| get(t).map(|s| (lang.clone(), s.clone())))
            .collect()
    };
    let mut other = serde_json::Map::new();
    other.insert(
        "publisher".into(),
        serde_json::Value::String(site.config.name.clone()),
    );
    Questionnaire {
        resource_type: "Questionnaire".into(),
        id: Some(FhirBase::questionnaire_id(site.id(), &survey.id)),
        language: Some(site.config.default_language.clone()),
        extension: vec![Extension {
            value_boolean: Some(survey.anonymous),
            ..Extension::new(&base.extension(EXT_ANONYMOUS))
        }],
        url: Some(base.questionnaire_url(site.id(), &survey.id)),
        version: Some(survey.version.to_string()),
        name: None,
        title: Some(survey.title.clone()),
        title_ext: translation::element(&survey_texts(|t| t.title.as_ref())),
        status: "active".into(),
        description: (!survey.intro.is_empty()).then(|| survey.intro.clone()),
        description_ext: translation::element(&survey_texts(|t| t.intro.as_ref())),
        use_context: vec![UsageContext {
            code: Coding::new(USAGE_CONTEXT_TYPE, "user", None),
            value_codeable_concept: Some(CodeableConcept {
                coding: vec![Coding::new(
                    &base.group_system(site.id()),
                    &survey.group,
                    None,
                )],
                text: None,
            }),
            other: Default::default(),
        }],
        item: survey
            .questions
            .iter()
            .map(|q| question_item(survey, q, &answer_system))
            .collect(),
        other,
    }
}

/// The translations of one text of a question.
fn question_texts(
    survey: &Survey,
    question: &str,
    get: impl Fn(&QuestionTranslation) -> Option<&String>,
) -> Texts {
    survey
        .translations
        .iter()
        .filter_map(|(lang, t)| {
            let text = get(t.questions.get(question)?)?;
            Some((lang.clone(), text.clone()))
        })
        .collect()
}

fn integer_extension(url: &str, value: i64) -> Extension {
    Extension {
        value_integer: Some(value),
        ..Extension::new(url)
    }
}

/// A display item under a question: help text, or a slider's end label (`lower`/`upper`).
fn display_child(parent: &str, role: &str, text: &str, texts: &Texts) -> Item {
    Item {
        link_id: format!("{parent}.{role}"),
        text: Some(text.to_string()),
        text_ext: translation::element(texts),
        kind: "display".into(),
        extension: vec![item_control(role)],
        ..Item::default()
    }
}

fn question_item(survey: &Survey, q: &Question, answer_system: &str) -> Item {
    let mut item = Item {
        link_id: q.id.clone(),
        text: Some(q.text.clone()),
        text_ext: translation::element(&question_texts(survey, &q.id, |t| t.text.as_ref())),
        required: q.required,
        ..Item::default()
    };
    item.kind = match q.kind {
        QuestionKind::YesNo => "boolean",
        QuestionKind::SingleChoice | QuestionKind::MultiChoice => "choice",
        QuestionKind::Scale | QuestionKind::Number => "integer",
        QuestionKind::Text => "text",
    }
    .into();
    match q.kind {
        QuestionKind::SingleChoice | QuestionKind::MultiChoice => {
            item.repeats = q.kind == QuestionKind::MultiChoice;
            item.answer_option = q
                .options
                .iter()
                .map(|o| {
                    let texts = question_texts(survey, &q.id, |t| t.options.get(&o.value));
                    AnswerOption {
                        value_coding: Some(types::Coding {
                            display_ext: translation::element(&texts),
                            ..Coding::new(answer_system, &o.value, Some(&o.label))
                        }),
                        other: Default::default(),
                    }
                })
                .collect();
        }
        QuestionKind::Scale => {
            let (min, max) = q.scale_bounds();
            item.extension = vec![
                integer_extension(MIN_VALUE, min),
                integer_extension(MAX_VALUE, max),
                item_control("slider"),
            ];
        }
        QuestionKind::Number => {
            item.extension = q
                .min
                .map(|m| integer_extension(MIN_VALUE, m))
                .into_iter()
                .chain(q.max.map(|m| integer_extension(MAX_VALUE, m)))
                .collect();
        }
        QuestionKind::Text => {
            item.max_length = Some(q.text_max_length() as u64);
        }
        QuestionKind::YesNo => {}
    }
    if let Some(help) = &q.help {
        let texts = question_texts(survey, &q.id, |t| t.help.as_ref());
        item.item.push(display_child(&q.id, "help", help, &texts));
    }
    if let Some(label) = &q.min_label {
        let texts = question_texts(survey, &q.id, |t| t.min_label.as_ref());
        item.item.push(display_child(&q.id, "lower", label, &texts));
    }
    if let Some(label) = &q.max_label {
        let texts = question_texts(survey, &q.id, |t| t.max_label.as_ref());
        item.item.push(display_child(&q.id, "upper", label, &texts));
    }
    if let Some(cond) = &q.show_if {
        if let Some(target) = survey.question(&cond.question) {
            let (conditions, behavior, expression) = enable_when(cond, target, answer_system);
            item.enable_when = conditions;
            item.enable_behavior = behavior;
            item.extension.extend(expression);
        }
    }
    item
}
