//! A FHIR R4 Questionnaire as a Chorus survey (`chorus import questionnaire`), refusing — with
//! one problem per item — whatever a survey cannot represent, rather than dropping it.

use super::enable_when::show_if;
use super::translation::{self, Texts};
use super::types::{Extension, Item, Questionnaire};
use super::{item_control_code, FhirBase, Problem, EXT_ANONYMOUS, MAX_VALUE, MIN_VALUE};
use super::{ENABLE_WHEN_EXPRESSION, USAGE_CONTEXT_TYPE};
use crate::survey::answers::check_definition;
use crate::survey::definition::{QuestionTranslation, SurveyTranslation};
use crate::survey::{ChoiceOption, Question, QuestionKind, Survey};
use std::collections::BTreeMap;

/// What the Questionnaire may not say itself.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Survey id; default: from a Chorus URL (`…/Questionnaire/<site>.<survey>`), else from
    /// `Questionnaire.id`.
    pub survey_id: Option<String>,
    /// Stakeholder group; default: the `useContext` of type `user`.
    pub group: Option<String>,
    /// The site's `default_language`: texts in another `Questionnaire.language` are refused.
    pub default_language: String,
}

/// Extensions that change what an item does; an import that ignored them would change the
/// survey's meaning.
const BEHAVIOUR_EXTENSIONS: &[&str] = &[
    ENABLE_WHEN_EXPRESSION,
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression",
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-initialExpression",
    "http://hl7.org/fhir/StructureDefinition/questionnaire-hidden",
];

/// Item elements without effect on what is asked, so an import may leave them out.
const IGNORED_ITEM_ELEMENTS: &[&str] = &["id", "code", "prefix", "_prefix", "definition"];

pub fn survey_from_questionnaire(
    q: &Questionnaire,
    options: &ImportOptions,
) -> Result<Survey, Vec<Problem>> {
    let mut problems = Vec::new();
    if q.resource_type != "Questionnaire" {
        problems.push(Problem::resource(format!(
            "resourceType is \"{}\", not \"Questionnaire\"",
            q.resource_type
        )));
    }
    let chorus = q.url.as_deref().and_then(FhirBase::from_questionnaire_url);
    let anonymous_url = chorus.as_ref().map(|(b, _)| b.extension(EXT_ANONYMOUS));
    let from_url = chorus
        .as_ref()
        .and_then(|(_, id)| id.split_once('.').map(|(_, survey)| survey.to_string()));
    let id = options
        .survey_id
        .clone()
        .or(from_url)
        .or_else(|| q.id.clone())
        .unwrap_or_default();
    if id.is_empty() {
        problems.push(Problem::resource(
            "the Questionnaire has no id: pass --id to name the survey",
        ));
    }
    let group = options.group.clone().or_else(|| user_context(q));
    if group.is_none() {
        problems.push(Problem::resource(
            "the Questionnaire names no stakeholder group (useContext of type \"user\"): pass \
             --group",
        ));
    }
    let version = match q.version.as_deref().map(str::parse::<u32>) {
        None => 1,
        Some(Ok(v)) => v,
        Some(Err(_)) => {
            problems.push(Problem::resource(format!(
                "version \"{}\" is not a whole number; Chorus survey versions are",
                q.version.as_deref().unwrap_or_default()
            )));
            1
        }
    };
    if let Some(lang) = &q.language {
        if *lang != options.default_language {
            problems.push(Problem::resource(format!(
                "the Questionnaire is written in \"{lang}\", the site in \"{}\"",
                options.default_language
            )));
        }
    }
    if q.other.contains_key("modifierExtension") {
        problems.push(Problem::resource(
            "the Questionnaire has a modifierExtension, which Chorus cannot honour",
        ));
    }
    let title = q.title.clone().or_else(|| q.name.clone());
    if title.is_none() {
        problems.push(Problem::resource("the Questionnaire has no title"));
    }
    let mut anonymous = true;
    for ext in &q.extension {
        if Some(&ext.url) == anonymous_url.as_ref() {
            anonymous = ext.value_boolean.unwrap_or(true);
        }
    }
    let mut translations = Translations::new(&options.default_language);
    translations.add(translation::read(q.title_ext.as_ref()), |t, s| {
        t.title = Some(s)
    });
    translations.add(translation::read(q.description_ext.as_ref()), |t, s| {
        t.intro = Some(s)
    });
    let mut questions: Vec<Question> = Vec::new();
    let mut refused: Vec<&str> = Vec::new();
    for item in &q.item {
        match question(item, &questions, &refused, &mut translations) {
            Ok(question) => questions.push(question),
            Err(mut p) => {
                refused.push(&item.link_id);
                problems.append(&mut p);
            }
        }
    }
    if q.item.is_empty() {
        problems.push(Problem::resource("the Questionnaire has no items"));
    }
    let survey = Survey {
        id,
        group: group.unwrap_or_default(),
        title: title.unwrap_or_default(),
        intro: q.description.clone().unwrap_or_default(),
        version,
        anonymous,
        questions,
        asks: None,
        asks_by_version: Default::default(),
        translations: translations.by_language,
    };
    if problems.is_empty() {
        for (path, message) in check_definition(&survey, std::slice::from_ref(&survey.group)) {
            problems.push(problem_at(&survey, &path, message));
        }
    }
    if problems.is_empty() {
        Ok(survey)
    } else {
        Err(problems)
    }
}

/// A problem of the built survey (`questions.3.min`) named by the item it came from.
fn problem_at(survey: &Survey, path: &str, message: String) -> Problem {
    let index = path
        .strip_prefix("questions.")
        .and_then(|rest| rest.split('.').next())
        .and_then(|i| i.parse::<usize>().ok());
    match index.and_then(|i| survey.questions.get(i)) {
        Some(q) => Problem::item(&q.id, message),
        None => Problem::resource(message),
    }
}

/// The group of a `useContext` of type `user`.
fn user_context(q: &Questionnaire) -> Option<String> {
    q.use_context
        .iter()
        .filter(|u| {
            u.code.system.as_deref() == Some(USAGE_CONTEXT_TYPE)
                && u.code.code.as_deref() == Some("user")
        })
        .find_map(|u| {
            u.value_codeable_concept
                .as_ref()?
                .coding
                .first()?
                .code
                .clone()
        })
}

/// Translations gathered item by item, keyed by language, without the default language.
struct Translations {
    default_language: String,
    by_language: BTreeMap<String, SurveyTranslation>,
}

impl Translations {
    fn new(default_language: &str) -> Self {
        Translations {
            default_language: default_language.to_string(),
            by_language: BTreeMap::new(),
        }
    }
    fn add(&mut self, texts: Texts, set: impl Fn(&mut SurveyTranslation, String)) {
        for (lang, text) in texts {
            if lang != self.default_language {
                set(self.by_language.entry(lang).or_default(), text);
            }
        }
    }
    fn add_question(
        &mut self,
        question: &str,
        texts: Texts,
        set: impl Fn(&mut QuestionTranslation, String),
    ) {
        self.add(texts, |t, s| {
            set(t.questions.entry(question.to_string()).or_default(), s)
        });
    }
}

fn is_question_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn integer_extension(extensions: &[Extension], url: &str) -> Option<i64> {
    extensions
        .iter()
        .find(|e| e.url == url)
        .and_then(|e| e.value_integer)
}

/// One top-level item as a question, or every reason it cannot be one.
/// `refused` are the earlier items that could not be imported: a condition on one of them is
/// not reported again.
fn question(
    item: &Item,
    earlier: &[Question],
    refused: &[&str],
    translations: &mut Translations,
) -> Result<Question, Vec<Problem>> {
    let link = item.link_id.as_str();
    let mut problems: Vec<Problem> = Vec::new();
    let mut refuse = |message: String| problems.push(Problem::item(link, message));
    let control = item_control_code(&item.extension);
    let kind = match (item.kind.as_str(), item.repeats) {
        ("boolean", _) => Some(QuestionKind::YesNo),
        ("choice", false) => Some(QuestionKind::SingleChoice),
        ("choice", true) => Some(QuestionKind::MultiChoice),
        ("integer", _) if control == Some("slider") => Some(QuestionKind::Scale),
        ("integer", _) => Some(QuestionKind::Number),
        ("text" | "string", _) => Some(QuestionKind::Text),
        ("group", _) => {
            refuse("a group item; Chorus surveys are a flat list of questions".into());
            None
        }
        ("display", _) => {
            refuse("a display item outside a question; Chorus shows only the survey intro".into());
            None
        }
        (other, _) => {
            refuse(format!("item type \"{other}\" has no Chorus question kind"));
            None
        }
    };
    if !is_question_id(link) {
        refuse(format!(
            "linkId \"{link}\" is not a Chorus question id (a-z, 0-9 and _ only)"
        ));
    }
    if item.text.is_none() {
        refuse("the item has no text".into());
    }
    if item.repeats && kind != Some(QuestionKind::MultiChoice) {
        refuse("repeats is only representable on choice items".into());
    }
    let bounded = [MIN_VALUE, MAX_VALUE]
        .iter()
        .any(|url| item.extension.iter().any(|e| e.url == *url));
    if bounded && !kind.is_some_and(QuestionKind::is_integer) {
        refuse("minValue and maxValue are only representable on integer items".into());
    }
    if item.max_length.is_some() && kind != Some(QuestionKind::Text) {
        refuse("maxLength is only representable on text items".into());
    }
    for (key, value) in &item.other {
        let harmless = IGNORED_ITEM_ELEMENTS.contains(&key.as_str())
            || (key == "readOnly" && value == &serde_json::Value::Bool(false));
        if !harmless {
            refuse(format!("element \"{key}\" cannot be represented"));
        }
    }
    for ext in &item.extension {
        if BEHAVIOUR_EXTENSIONS.contains(&ext.url.as_str()) {
            refuse(format!("extension {} cannot be represented", ext.url));
        }
    }
    let mut options = Vec::new();
    for (i, option) in item.answer_option.iter().enumerate() {
        let coding = option.value_coding.as_ref();
        match coding.and_then(|c| c.code.as_ref()) {
            Some(code) if option.other.is_empty() => {
                let coding = coding.expect("a code comes from a coding");
                options.push(ChoiceOption {
                    value: code.clone(),
                    label: coding.display.clone().unwrap_or_else(|| code.clone()),
                });
                let texts = translation::read(coding.display_ext.as_ref());
                translations.add_question(link, texts, |t, s| {
                    t.options.insert(code.clone(), s);
                });
            }
            _ => refuse(format!(
                "answerOption {} is not a plain valueCoding with a code ({})",
                i + 1,
                option.other.keys().cloned().collect::<Vec<_>>().join(", ")
            )),
        }
    }
    if !item.answer_option.is_empty() && !matches!(item.kind.as_str(), "choice") {
        refuse("answerOption is only representable on choice items".into());
    }
    let (mut help, mut min_label, mut max_label) = (None, None, None);
    for child in &item.item {
        let role = item_control_code(&child.extension);
        let slot = match (child.kind.as_str(), role) {
            ("display", Some("help")) => Some(&mut help),
            ("display", Some("lower")) if kind == Some(QuestionKind::Scale) => Some(&mut min_label),
            ("display", Some("upper")) if kind == Some(QuestionKind::Scale) => Some(&mut max_label),
            _ => None,
        };
        match (slot, &child.text) {
            (Some(slot), Some(text)) if slot.is_none() => {
                *slot = Some(text.clone());
                let texts = translation::read(child.text_ext.as_ref());
                let role = role.unwrap_or_default().to_string();
                translations.add_question(link, texts, move |t, s| match role.as_str() {
                    "help" => t.help = Some(s),
                    "lower" => t.min_label = Some(s),
                    _ => t.max_label = Some(s),
                });
            }
            _ => refuse(format!(
                "nested item \"{}\" cannot be represented (only one help display, and a \
                 slider's lower and upper labels)",
                child.link_id
            )),
        }
    }
    let on_refused = item
        .enable_when
        .iter()
        .any(|c| refused.contains(&c.question.as_str()));
    let show_if = match show_if(&item.enable_when, item.enable_behavior.as_deref(), earlier) {
        Ok(s) => s,
        Err(_) if on_refused => None,
        Err(message) => {
            refuse(message);
            None
        }
    };
    let (Some(kind), true) = (kind, problems.is_empty()) else {
        return Err(problems);
    };
    translations.add_question(link, translation::read(item.text_ext.as_ref()), |t, s| {
        t.text = Some(s)
    });
    Ok(Question {
        id: link.to_string(),
        kind,
        text: item.text.clone().unwrap_or_default(),
        help,
        required: item.required,
        options,
        show_if,
        min: integer_extension(&item.extension, MIN_VALUE).filter(|_| kind.is_integer()),
        max: integer_extension(&item.extension, MAX_VALUE).filter(|_| kind.is_integer()),
        min_label,
        max_label,
        max_length: item.max_length.map(|n| n as usize),
    })
}
