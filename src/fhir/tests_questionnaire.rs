//! Unit tests of the Questionnaire mapping: item by item, show_if against FHIR's enableWhen
//! semantics, imports that must be refused, and export → import round trips.

use super::import::ImportOptions;
use super::types::{EnableWhen, Item, Questionnaire};
use super::*;
use crate::survey::{load_site, AnswerValue, Answers, Literal, Question, ShowIf, Site};
use serde_json::{json, Value};
use std::path::Path;

pub(super) const BASE: &str = "https://survey.example.org";

pub(super) fn site(path: &str) -> Site {
    load_site(&Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect("site loads")
}
pub(super) fn demo() -> Site {
    site("sites/demo-clinic")
}
pub(super) fn fixture() -> Site {
    site("tests/fixtures/sites/test-clinic")
}

fn as_json(site: &Site, survey: &str) -> Value {
    let survey = site.survey(survey).unwrap();
    serde_json::to_value(questionnaire(site, survey, BASE)).unwrap()
}

fn item<'a>(q: &'a Value, link: &str) -> &'a Value {
    q["item"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["linkId"] == link)
        .unwrap_or_else(|| panic!("no item {link}"))
}

fn options(site: &Site) -> ImportOptions {
    ImportOptions {
        default_language: site.config.default_language.clone(),
        ..ImportOptions::default()
    }
}

#[test]
fn every_question_kind_maps_as_documented() {
    let site = fixture();
    let q = as_json(&site, "every-kind");
    let fhir = "https://survey.example.org/fhir/r4";
    assert_eq!(q["resourceType"], "Questionnaire");
    assert_eq!(q["id"], "test-clinic.every-kind");
    assert_eq!(
        q["url"],
        format!("{fhir}/Questionnaire/test-clinic.every-kind")
    );
    assert_eq!(q["version"], "3");
    assert_eq!(q["status"], "active");
    assert_eq!(q["title"], "Every question kind");
    assert_eq!(
        q["description"],
        "A fixture with one question of each kind."
    );
    assert_eq!(
        q["useContext"][0]["valueCodeableConcept"]["coding"][0],
        json!({"system": format!("{fhir}/CodeSystem/test-clinic.groups"), "code": "patient"})
    );
    let system = format!("{fhir}/CodeSystem/test-clinic.every-kind.answers");
    let aware = item(&q, "aware");
    assert_eq!(aware["type"], "boolean");
    assert_eq!(aware["required"], true);
    let channel = item(&q, "channel");
    assert_eq!(channel["type"], "choice");
    assert!(channel.get("repeats").is_none());
    assert_eq!(
        channel["answerOption"][0]["valueCoding"],
        json!({"system": system, "code": "doctor", "display": "From my doctor"})
    );
    assert_eq!(
        channel["enableWhen"],
        json!([{"question": "aware", "operator": "=", "answerBoolean": true}])
    );
    assert!(channel.get("enableBehavior").is_none());
    let problems = item(&q, "problems");
    assert_eq!(problems["repeats"], true);
    assert_eq!(problems["answerOption"].as_array().unwrap().len(), 3);
    let which = item(&q, "which_error");
    assert_eq!(which["type"], "text");
    assert_eq!(which["maxLength"], 40);
    assert_eq!(which["enableBehavior"], "any");
    assert_eq!(which["enableWhen"][1]["answerCoding"]["code"], "locked");
    let ease = item(&q, "ease");
    assert_eq!(ease["type"], "integer");
    assert_eq!(
        ease["extension"],
        json!([
            {"url": MIN_VALUE, "valueInteger": 1},
            {"url": MAX_VALUE, "valueInteger": 5},
            {"url": ITEM_CONTROL, "valueCodeableConcept": {"coding": [
                {"system": ITEM_CONTROL_SYSTEM, "code": "slider"}]}}
        ])
    );
    assert_eq!(ease["item"][0]["linkId"], "ease.lower");
    assert_eq!(ease["item"][0]["type"], "display");
    assert_eq!(ease["item"][0]["text"], "Very hard");
    assert_eq!(ease["item"][1]["text"], "Very easy");
    let visits = item(&q, "visits");
    assert_eq!(visits["type"], "integer");
    assert_eq!(
        visits["extension"][1],
        json!({"url": MAX_VALUE, "valueInteger": 365})
    );
    let why = item(&q, "why_hard");
    assert_eq!(
        why["enableWhen"],
        json!([
            {"question": "ease", "operator": "exists", "answerBoolean": true},
            {"question": "ease", "operator": "!=", "answerInteger": 5}
        ])
    );
    assert_eq!(why["enableBehavior"], "all");
    assert_eq!(item(&q, "comments")["maxLength"], 2000);
}

#[test]
fn help_and_spanish_texts_use_the_standard_extensions() {
    let site = demo();
    let q = as_json(&site, "patient-enrollment");
    assert_eq!(q["language"], "en");
    let spanish = |element: &Value| -> String {
        let ext = element["extension"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["url"] == TRANSLATION)
            .unwrap();
        assert_eq!(
            ext["extension"][0],
            json!({"url": "lang", "valueCode": "es"})
        );
        ext["extension"][1]["valueString"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        spanish(&q["_title"]),
        "Cómo inscribirse en el portal del paciente"
    );
    assert!(spanish(&q["_description"]).starts_with("Hasta ocho preguntas"));
    let aware = item(&q, "aware");
    assert_eq!(
        spanish(&aware["_text"]),
        "Antes de hoy, ¿había oído hablar del portal del paciente?"
    );
    let help = &aware["item"][0];
    assert_eq!(help["linkId"], "aware.help");
    assert_eq!(help["type"], "display");
    assert_eq!(
        help["extension"][0]["valueCodeableConcept"]["coding"][0]["code"],
        "help"
    );
    assert!(spanish(&help["_text"]).starts_with("El portal del paciente es"));
    let option = &item(&q, "what_happened")["answerOption"][0]["valueCoding"];
    assert_eq!(option["code"], "error");
    assert_eq!(
        spanish(&option["_display"]),
        "La página web o la aplicación mostró un error"
    );
}

/// A survey with the defaults it relies on spelled out (the Questionnaire states every limit).
fn explicit(survey: &crate::survey::Survey) -> crate::survey::Survey {
    let mut survey = survey.clone();
    for q in &mut survey.questions {
        match q.kind {
            crate::survey::QuestionKind::Text => q.max_length = Some(q.text_max_length()),
            crate::survey::QuestionKind::Scale => {
                let (min, max) = q.scale_bounds();
                (q.min, q.max) = (Some(min), Some(max));
            }
            _ => {}
        }
    }
    survey
}

/// Every demo and fixture survey: export, serialize, parse, import, write TOML, read it back.
/// The demo surveys come back identical; others may come back with their defaults spelled out.
#[test]
fn every_shipped_survey_round_trips_to_an_identical_definition() {
    for (site, exact) in [(demo(), true), (fixture(), false)] {
        for survey in &site.surveys {
            let text = serde_json::to_string_pretty(&questionnaire(&site, survey, BASE)).unwrap();
            let parsed: Questionnaire = serde_json::from_str(&text).unwrap();
            let imported = survey_from_questionnaire(&parsed, &options(&site))
                .unwrap_or_else(|p| panic!("{}: {p:?}", survey.id));
            let toml_text = crate::survey::write::to_toml(&imported);
            let back: crate::survey::Survey = toml::from_str(&toml_text).unwrap();
            // `asks` is the report's, not the form's: a Questionnaire does not carry it.
            assert_eq!((&back.asks, back.asks_by_version.len()), (&None, 0));
            let mut survey = survey.as_ref().clone();
            survey.asks = None;
            survey.asks_by_version.clear();
            if exact {
                assert_eq!(back, survey, "{}", survey.id);
            }
            assert_eq!(explicit(&back), explicit(&survey), "{}", survey.id);
        }
    }
}

/// FHIR R4's enableWhen, as the specification defines it, over the target's answers.
fn fhir_enabled(conds: &[EnableWhen], behavior: Option<&str>, answers: &[Value]) -> bool {
    let holds = |c: &EnableWhen| {
        let expected = if let Some(b) = c.answer_boolean {
            json!(b)
        } else if let Some(n) = c.answer_integer {
            json!(n)
        } else {
            json!(c.answer_coding.as_ref().unwrap().code)
        };
        let equal = answers.contains(&expected);
        match c.operator.as_str() {
            "exists" => c.answer_boolean == Some(!answers.is_empty()),
            "=" => equal,
            "!=" => !equal,
            op => panic!("operator {op}"),
        }
    };
    match behavior {
        Some("any") => conds.iter().any(holds),
        _ => conds.iter().all(holds),
    }
}

/// Every possible answer to `target` (none included), as Chorus and as FHIR values.
fn possible_answers(target: &Question) -> Vec<(Option<AnswerValue>, Vec<Value>)> {
    use crate::survey::QuestionKind::*;
    let mut out = vec![(None, vec![])];
    match target.kind {
        YesNo => {
            for (s, b) in [("yes", true), ("no", false)] {
                out.push((Some(AnswerValue::Text(s.into())), vec![json!(b)]));
            }
        }
        SingleChoice => {
            for o in &target.options {
                out.push((
                    Some(AnswerValue::Text(o.value.clone())),
                    vec![json!(o.value)],
                ));
            }
        }
        MultiChoice => {
            let n = target.options.len();
            for mask in 1..(1u32 << n) {
                let chosen: Vec<String> = (0..n)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| target.options[i].value.clone())
                    .collect();
                let values = chosen.iter().map(|c| json!(c)).collect();
                out.push((Some(AnswerValue::Choices(chosen)), values));
            }
        }
        Scale | Number => {
            for v in 0..=6 {
                out.push((Some(AnswerValue::Int(v)), vec![json!(v)]));
            }
        }
        Text => unreachable!("no show_if on text"),
    }
    out
}

#[test]
fn enable_when_enables_exactly_when_chorus_shows() {
    let site = fixture();
    let survey = site.survey("every-kind").unwrap();
    let text = |s: &str| Literal::Text(s.into());
    // (question, equals, not_equals, any_of)
    type Case = (
        &'static str,
        Option<Literal>,
        Option<Literal>,
        Option<Vec<Literal>>,
    );
    let cases: Vec<Case> = vec![
        ("aware", Some(text("yes")), None, None),
        ("aware", None, Some(text("yes")), None),
        ("aware", None, None, Some(vec![text("no")])),
        ("aware", Some(text("no")), Some(text("yes")), None),
        ("channel", None, Some(text("mail")), None),
        (
            "channel",
            None,
            Some(text("mail")),
            Some(vec![text("mail"), text("doctor")]),
        ),
        (
            "channel",
            Some(text("mail")),
            None,
            Some(vec![text("doctor")]),
        ),
        (
            "channel",
            Some(text("mail")),
            None,
            Some(vec![text("doctor"), text("mail")]),
        ),
        ("channel", None, None, Some(vec![])),
        ("problems", Some(text("error")), None, None),
        ("problems", None, Some(text("none")), None),
        ("problems", Some(text("error")), Some(text("none")), None),
        (
            "problems",
            None,
            None,
            Some(vec![text("error"), text("locked")]),
        ),
        (
            "problems",
            Some(text("error")),
            None,
            Some(vec![text("locked")]),
        ),
        ("ease", None, Some(Literal::Int(5)), None),
        (
            "ease",
            None,
            None,
            Some(vec![Literal::Int(1), Literal::Int(2)]),
        ),
        ("visits", Some(Literal::Int(0)), None, None),
    ];
    for (target_id, equals, not_equals, any_of) in cases {
        let target = survey.question(target_id).unwrap();
        let cond = ShowIf {
            question: target_id.into(),
            equals,
            not_equals,
            any_of,
        };
        let (conds, behavior, expression) =
            enable_when::enable_when(&cond, target, "urn:test:answers");
        assert!(expression.is_none(), "{cond:?}");
        assert!(conds.len() <= 1 || behavior.is_some(), "que-12: {cond:?}");
        for (chorus, fhir) in possible_answers(target) {
            let mut answers = Answers::new();
            if let Some(a) = chorus.clone() {
                answers.insert(target_id.into(), a);
            }
            assert_eq!(
                crate::survey::is_shown(Some(&cond), &answers),
                fhir_enabled(&conds, behavior.as_deref(), &fhir),
                "{cond:?} with {chorus:?}: {conds:?} {behavior:?}"
            );
        }
        // And back: the imported show_if shows the question exactly when the original does.
        if let Ok(Some(back)) = enable_when::show_if(&conds, behavior.as_deref(), &survey.questions)
        {
            for (chorus, _) in possible_answers(target) {
                let answers: Answers = chorus
                    .map(|a| (target_id.to_string(), a))
                    .into_iter()
                    .collect();
                assert_eq!(
                    crate::survey::is_shown(Some(&back), &answers),
                    crate::survey::is_shown(Some(&cond), &answers),
                    "{cond:?} → {back:?}"
                );
            }
        }
    }
}

#[test]
fn multi_choice_conditions_plain_enable_when_cannot_state_become_an_expression() {
    let site = fixture();
    let survey = site.survey("every-kind").unwrap();
    let cond = ShowIf {
        question: "problems".into(),
        equals: Some(Literal::Text("error".into())),
        not_equals: Some(Literal::Text("none".into())),
        any_of: Some(vec![
            Literal::Text("locked".into()),
            Literal::Text("o'k".into()),
        ]),
    };
    let target = survey.question("problems").unwrap();
    let (conds, behavior, expression) = enable_when::enable_when(&cond, target, "urn:x");
    assert!(conds.is_empty() && behavior.is_none());
    let ext = expression.unwrap();
    assert_eq!(ext.url, ENABLE_WHEN_EXPRESSION);
    let e = ext.value_expression.unwrap();
    assert_eq!(e.language, "text/fhirpath");
    let codes = "%resource.item.where(linkId = 'problems').answer.value.code";
    assert_eq!(
        e.expression,
        format!(
            "{codes}.exists() and ({codes} contains 'error') and ({codes} contains 'none').not() \
             and (({codes} contains 'locked') or ({codes} contains 'o\\'k'))"
        )
    );
}

fn import_json(site: &Site, value: Value) -> Vec<String> {
    let q: Questionnaire = serde_json::from_value(value).unwrap();
    let options = ImportOptions {
        group: Some("patient".into()),
        ..options(site)
    };
    match survey_from_questionnaire(&q, &options) {
        Ok(s) => panic!("imported {s:?}"),
        Err(problems) => problems.iter().map(|p| p.to_string()).collect(),
    }
}

#[test]
fn an_import_names_every_item_it_cannot_represent() {
    let site = fixture();
    let problems = import_json(
        &site,
        json!({
            "resourceType": "Questionnaire", "id": "foreign", "status": "active",
            "title": "Foreign", "version": "1.0.2",
            "item": [
                {"linkId": "born", "text": "Birth date", "type": "date"},
                {"linkId": "g", "text": "Section", "type": "group", "item": []},
                {"linkId": "Q-1", "text": "Odd id", "type": "boolean"},
                {"linkId": "smoke", "text": "Smoke?", "type": "boolean"},
                {"linkId": "drinks", "text": "Drink?", "type": "boolean"},
                {"linkId": "packs", "text": "Packs", "type": "integer",
                 "enableWhen": [{"question": "smoke", "operator": "!=", "answerBoolean": false}]},
                {"linkId": "weight", "text": "Weight", "type": "integer",
                 "enableWhen": [{"question": "smoke", "operator": ">", "answerInteger": 3}]},
                {"linkId": "after_born", "text": "After", "type": "boolean",
                 "enableWhen": [{"question": "born", "operator": "exists", "answerBoolean": true}]},
                {"linkId": "colour", "text": "Colour", "type": "choice",
                 "answerValueSet": "http://example.org/ValueSet/colours"},
                {"linkId": "pet", "text": "Pet", "type": "choice",
                 "answerOption": [{"valueString": "cat"}]},
                {"linkId": "mood", "text": "Mood", "type": "string", "initial": [{"valueString": "ok"}]},
                {"linkId": "both", "text": "Both", "type": "boolean",
                 "enableWhen": [{"question": "smoke", "operator": "=", "answerBoolean": true},
                                {"question": "drinks", "operator": "exists", "answerBoolean": true}],
                 "enableBehavior": "all"},
                {"linkId": "later", "text": "Later", "type": "boolean",
                 "enableWhen": [{"question": "last", "operator": "=", "answerBoolean": true}]},
                {"linkId": "nested", "text": "Nested", "type": "boolean",
                 "item": [{"linkId": "nested.q", "text": "Sub", "type": "boolean"}]},
                {"linkId": "last", "text": "Last", "type": "boolean"}
            ]
        }),
    );
    let expect = [
        "version \"1.0.2\" is not a whole number",
        "item \"born\": item type \"date\" has no Chorus question kind",
        "item \"g\": a group item",
        "item \"Q-1\": linkId \"Q-1\" is not a Chorus question id",
        "item \"packs\": \"!=\" alone also enables it when \"smoke\" is unanswered",
        "item \"weight\": enableWhen operator \">\" has no Chorus equivalent",
        "item \"colour\": element \"answerValueSet\" cannot be represented",
        "item \"pet\": answerOption 1 is not a plain valueCoding",
        "item \"mood\": element \"initial\" cannot be represented",
        "item \"both\": its enableWhen depends on more than one question",
        "item \"later\": its enableWhen refers to \"last\", which is not an earlier question",
        "item \"nested\": nested item \"nested.q\" cannot be represented",
    ];
    for e in expect {
        assert!(
            problems.iter().any(|p| p.contains(e)),
            "missing {e:?} in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");
}

#[test]
fn a_foreign_questionnaire_imports_with_what_it_says() {
    let site = fixture();
    let q: Questionnaire = serde_json::from_value(json!({
        "resourceType": "Questionnaire", "id": "intake", "status": "draft", "title": "Intake",
        "language": "en", "publisher": "Elsewhere", "meta": {"profile": ["http://x"]},
        "item": [
            {"linkId": "smoke", "text": "Do you smoke?", "type": "boolean", "required": true,
             "prefix": "1."},
            {"linkId": "how", "text": "How?", "type": "choice", "repeats": true,
             "enableWhen": [{"question": "smoke", "operator": "=", "answerBoolean": true}],
             "answerOption": [{"valueCoding": {"system": "http://loinc.org", "code": "LA1",
                                               "display": "Cigarettes"}},
                              {"valueCoding": {"code": "pipe"}}]},
            {"linkId": "note", "text": "Notes", "type": "string"}
        ]
    }))
    .unwrap();
    let options = ImportOptions {
        group: Some("patient".into()),
        ..options(&site)
    };
    let survey = survey_from_questionnaire(&q, &options).unwrap();
    assert_eq!(survey.id, "intake");
    assert_eq!(survey.version, 1);
    assert!(survey.anonymous);
    assert_eq!(survey.questions.len(), 3);
    let how = &survey.questions[1];
    assert_eq!(how.kind, crate::survey::QuestionKind::MultiChoice);
    assert_eq!(how.options[0].value, "LA1");
    assert_eq!(how.options[1].label, "pipe");
    assert_eq!(
        how.show_if.as_ref().unwrap().equals,
        Some(Literal::Text("yes".into()))
    );
    assert_eq!(survey.questions[2].kind, crate::survey::QuestionKind::Text);
    // Without a group (no useContext, no --group) it is refused, saying how to fix it.
    let problems = survey_from_questionnaire(
        &q,
        &ImportOptions {
            group: None,
            ..options
        },
    )
    .unwrap_err();
    assert!(problems[0].message.contains("--group"), "{problems:?}");
}

#[test]
fn an_item_without_a_text_or_with_misplaced_elements_is_refused() {
    let site = fixture();
    let problems = import_json(
        &site,
        json!({
            "resourceType": "Questionnaire", "id": "x", "status": "active", "title": "X",
            "item": [
                {"linkId": "a", "type": "boolean"},
                {"linkId": "b", "text": "B", "type": "boolean", "repeats": true, "maxLength": 3},
                {"linkId": "c", "text": "C", "type": "integer",
                 "item": [{"linkId": "c.lower", "text": "low", "type": "display",
                           "extension": [{"url": ITEM_CONTROL, "valueCodeableConcept":
                              {"coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "lower"}]}}]}]}
            ]
        }),
    );
    assert!(problems
        .iter()
        .any(|p| p == "item \"a\": the item has no text"));
    assert!(problems
        .iter()
        .any(|p| p.contains("\"b\": repeats is only")));
    assert!(problems
        .iter()
        .any(|p| p.contains("\"b\": maxLength is only")));
    // A lower label belongs to a slider (scale), not to a plain integer.
    assert!(problems
        .iter()
        .any(|p| p.contains("\"c\": nested item \"c.lower\"")));
}

#[test]
fn an_imported_item_keeps_the_chorus_checks() {
    let site = fixture();
    let mut q = questionnaire(&site, site.survey("every-kind").unwrap(), BASE);
    // A scale of 1..20 is wider than the form can show.
    let ease: &mut Item = q.item.iter_mut().find(|i| i.link_id == "ease").unwrap();
    ease.extension[1].value_integer = Some(20);
    let problems = survey_from_questionnaire(&q, &options(&site)).unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].link_id.as_deref(), Some("ease"));
    assert!(problems[0].message.contains("2 to 11 points"));
}
