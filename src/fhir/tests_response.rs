//! Unit tests of the QuestionnaireResponse mapping, both ways.

use super::tests_questionnaire::{demo, fixture, BASE};
use super::types::QuestionnaireResponse;
use super::*;
use crate::domain::{StoredResponse, Tag};
use crate::survey::{validate, AnswerValue, Answers, Site};
use serde_json::{json, Value};

fn stored(answers: Answers) -> StoredResponse {
    StoredResponse {
        id: uuid::Uuid::parse_str("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").unwrap(),
        site: "test-clinic".into(),
        survey: "every-kind".into(),
        survey_version: 3,
        group: "patient".into(),
        submitted_at: "2026-03-04T10:11:12Z".into(),
        language: Some("en".into()),
        submission_id: Some(uuid::Uuid::nil()),
        channel: None,
        kiosk: None,
        answers,
        tags: vec![
            Tag {
                code: "awareness".into(),
                source: "rules/a.rhai".into(),
            },
            Tag {
                code: "awareness".into(),
                source: "plugin".into(),
            },
        ],
        rule_errors: vec![],
        follow_ups: vec![],
    }
}

fn full_answers() -> Answers {
    let mut a = Answers::new();
    a.insert("aware".into(), AnswerValue::Text("yes".into()));
    a.insert("channel".into(), AnswerValue::Text("mail".into()));
    a.insert(
        "problems".into(),
        AnswerValue::Choices(vec!["error".into(), "locked".into()]),
    );
    a.insert("which_error".into(), AnswerValue::Text("Code 7".into()));
    a.insert("ease".into(), AnswerValue::Int(2));
    a.insert("visits".into(), AnswerValue::Int(4));
    a.insert(
        "why_hard".into(),
        AnswerValue::Text("The code never came".into()),
    );
    a
}

#[test]
fn a_stored_response_becomes_a_completed_questionnaire_response() {
    let site = fixture();
    let survey = site.survey("every-kind").unwrap();
    let qr = questionnaire_response(&site, survey, &stored(full_answers()), BASE);
    let v = serde_json::to_value(&qr).unwrap();
    let fhir = "https://survey.example.org/fhir/r4";
    assert_eq!(v["resourceType"], "QuestionnaireResponse");
    assert_eq!(v["id"], "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    assert_eq!(v["status"], "completed");
    assert_eq!(
        v["questionnaire"],
        format!("{fhir}/Questionnaire/test-clinic.every-kind|3")
    );
    assert_eq!(v["authored"], "2026-03-04T10:11:12Z");
    assert_eq!(
        v["identifier"]["value"],
        "urn:uuid:00000000-0000-0000-0000-000000000000"
    );
    // One tag per barrier code, however many rules set it.
    assert_eq!(
        v["meta"]["tag"],
        json!([{"system": format!("{fhir}/CodeSystem/test-clinic.barriers"),
                "code": "awareness", "display": "Did not know about the portal"}])
    );
    let system = format!("{fhir}/CodeSystem/test-clinic.every-kind.answers");
    let items = v["item"].as_array().unwrap();
    let ids: Vec<&str> = items
        .iter()
        .map(|i| i["linkId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "aware",
            "channel",
            "problems",
            "which_error",
            "ease",
            "visits",
            "why_hard"
        ]
    );
    assert_eq!(items[0]["answer"], json!([{"valueBoolean": true}]));
    assert_eq!(
        items[1]["answer"],
        json!([{"valueCoding": {"system": system, "code": "mail", "display": "By mail"}}])
    );
    assert_eq!(items[2]["answer"].as_array().unwrap().len(), 2);
    assert_eq!(items[3]["answer"], json!([{"valueString": "Code 7"}]));
    assert_eq!(items[4]["answer"], json!([{"valueInteger": 2}]));
    assert_eq!(items[0]["text"], "Had you heard of the portal?");
    // Nothing about the respondent beyond the answers.
    for key in ["subject", "author", "source", "encounter"] {
        assert!(v.get(key).is_none(), "{key}");
    }
}

#[test]
fn answers_to_questions_a_later_version_dropped_keep_their_type() {
    let site = fixture();
    let survey = site.survey("every-kind").unwrap();
    let mut answers = full_answers();
    answers.insert("old_scale".into(), AnswerValue::Int(3));
    answers.insert("old_multi".into(), AnswerValue::Choices(vec!["x".into()]));
    let qr = questionnaire_response(&site, survey, &stored(answers), BASE);
    let v = serde_json::to_value(&qr).unwrap();
    let last = v["item"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .take(2)
        .collect::<Vec<_>>();
    assert_eq!(last[0]["linkId"], "old_scale");
    assert_eq!(last[0]["answer"], json!([{"valueInteger": 3}]));
    assert!(last[0].get("text").is_none());
    assert_eq!(last[1]["answer"][0]["valueCoding"]["code"], "x");
}

/// What a portal posts back: the QuestionnaireResponse as JSON text.
fn posted(site: &Site, survey: &str, value: Value) -> Result<Answers, Vec<String>> {
    let survey = site.survey(survey).unwrap();
    let qr: QuestionnaireResponse = serde_json::from_value(value).unwrap();
    match answers_from_questionnaire_response(site, survey, &qr, BASE) {
        Ok(raw) => Ok(validate(survey, &raw).expect("accepted answers validate")),
        Err(problems) => Err(problems.iter().map(|p| p.to_string()).collect()),
    }
}

#[test]
fn a_questionnaire_response_round_trips_to_the_same_answers() {
    for answers in [full_answers(), {
        let mut a = Answers::new();
        a.insert("aware".into(), AnswerValue::Text("no".into()));
        a.insert("ease".into(), AnswerValue::Int(5));
        a
    }] {
        let site = fixture();
        let survey = site.survey("every-kind").unwrap();
        let qr = questionnaire_response(&site, survey, &stored(answers.clone()), BASE);
        let json = serde_json::to_value(&qr).unwrap();
        assert_eq!(posted(&site, "every-kind", json), Ok(answers));
    }
}

fn qr(items: Value) -> Value {
    json!({
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "https://survey.example.org/fhir/r4/Questionnaire/test-clinic.every-kind|3",
        "status": "completed",
        "subject": {"reference": "Patient/123"},
        "item": items
    })
}

fn coding(code: &str) -> Value {
    json!({"valueCoding": {
        "system": "https://survey.example.org/fhir/r4/CodeSystem/test-clinic.every-kind.answers",
        "code": code}})
}

#[test]
fn every_invalid_answer_is_named_by_its_link_id() {
    let site = fixture();
    let problems = posted(
        &site,
        "every-kind",
        qr(json!([
            {"linkId": "aware", "answer": [{"valueString": "yes"}]},
            {"linkId": "problems", "answer": [coding("error"), coding("melted")]},
            {"linkId": "ease", "answer": [{"valueInteger": 9}]},
            {"linkId": "visits", "answer": [{"valueInteger": 1}, {"valueInteger": 2}]},
            {"linkId": "comments", "answer": [{"valueDecimal": 1.5}]},
            {"linkId": "nope", "answer": [{"valueBoolean": true}]},
            {"linkId": "ease.help", "answer": [{"valueString": "x"}]},
            {"linkId": "ease.upper", "answer": [{"valueString": "x"}]}
        ])),
    )
    .unwrap_err();
    let expect = [
        "item \"aware\": answered with valueString; this item takes valueBoolean",
        "item \"problems\": code \"melted\" is not an answerOption of this item",
        "item \"ease\": \"How easy was it?\" must be between 1 and 5",
        "item \"visits\": 2 answers given; this item takes one",
        "item \"comments\": answered with valueDecimal; this item takes valueString",
        "item \"nope\": no item of the Questionnaire has this linkId",
        "item \"ease.help\": no item of the Questionnaire has this linkId",
        "item \"ease.upper\": a display item takes no answer",
    ];
    for e in expect {
        assert!(
            problems.iter().any(|p| p.starts_with(e)),
            "{e:?} in {problems:#?}"
        );
    }
    // "aware" is required but its answer was refused: named once, for the wrong type. And
    // "channel" (shown when aware = yes) is not reported missing: whether it shows is unknown.
    assert_eq!(problems.len(), expect.len(), "{problems:#?}");
}

#[test]
fn answers_to_disabled_items_and_missing_required_answers_are_refused() {
    let site = fixture();
    let problems = posted(
        &site,
        "every-kind",
        qr(json!([
            {"linkId": "aware", "answer": [{"valueBoolean": false}]},
            {"linkId": "channel", "answer": [coding("mail")]},
            {"linkId": "ease", "answer": [{"valueInteger": 5}]},
            {"linkId": "why_hard", "answer": [{"valueString": "it was fine"}]}
        ])),
    )
    .unwrap_err();
    assert_eq!(
        problems,
        [
            "item \"channel\": answered, but the item is not enabled (its enableWhen is false)",
            "item \"why_hard\": answered, but the item is not enabled (its enableWhen is false)",
        ]
    );
    let problems = posted(
        &site,
        "every-kind",
        qr(json!([{"linkId": "aware", "answer": [{"valueBoolean": true}]}])),
    )
    .unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("item \"channel\": \"How did you hear of it?\" needs an answer")
    );
}

#[test]
fn nested_items_are_taken_by_link_id_and_empty_items_are_unanswered() {
    let site = fixture();
    let answers = posted(
        &site,
        "every-kind",
        qr(json!([
            {"linkId": "aware", "answer": [{"valueBoolean": true,
                "item": [{"linkId": "channel", "answer": [coding("doctor")]}]}]},
            {"linkId": "ease", "item": [{"linkId": "ease.lower", "text": "Very hard"}]},
            {"linkId": "comments", "answer": []}
        ])),
    )
    .unwrap();
    assert_eq!(answers.len(), 2);
    assert_eq!(answers["channel"], AnswerValue::Text("doctor".into()));
}

#[test]
fn the_resource_itself_must_be_a_completed_response_to_this_questionnaire() {
    let site = fixture();
    let mut value = qr(json!([
        {"linkId": "aware", "answer": [{"valueBoolean": false}]},
        {"linkId": "aware", "answer": [{"valueBoolean": false}]},
        {"linkId": "problems", "answer": [{"valueCoding": {"system": "http://other", "code": "error"}}]}
    ]));
    value["status"] = json!("in-progress");
    value["questionnaire"] =
        json!("https://survey.example.org/fhir/r4/Questionnaire/test-clinic.every-kind|2");
    let problems = posted(&site, "every-kind", value.clone()).unwrap_err();
    assert!(
        problems.iter().any(|p| p.contains("only a \"completed\"")),
        "{problems:?}"
    );
    assert!(problems
        .iter()
        .any(|p| p.contains("version \"2\" is not the current version 3")));
    assert!(problems
        .iter()
        .any(|p| p == "item \"aware\": the item is answered twice"));
    assert!(problems
        .iter()
        .any(|p| p.starts_with("item \"problems\": coding system \"http://other\"")));
    value["questionnaire"] = json!("https://survey.example.org/fhir/r4/Questionnaire/x.y");
    let problems = posted(&site, "every-kind", value).unwrap_err();
    assert!(problems
        .iter()
        .any(|p| p.contains("is not https://survey.example.org")));
}

#[test]
fn the_demo_patient_survey_takes_a_portal_submission() {
    let site = demo();
    let answers = posted(
        &site,
        "patient-enrollment",
        json!({
            "resourceType": "QuestionnaireResponse", "status": "completed",
            "questionnaire": "https://survey.example.org/fhir/r4/Questionnaire/demo-clinic.patient-enrollment|1",
            "item": [
                {"linkId": "aware", "answer": [{"valueBoolean": false}]},
                {"linkId": "tried", "answer": [{"valueBoolean": false}]},
                {"linkId": "why_not", "answer": [{"valueCoding": {"code": "no_one_showed"}}]},
                {"linkId": "contact_ok", "answer": [{"valueBoolean": false}]}
            ]
        }),
    )
    .unwrap();
    assert_eq!(
        answers["why_not"],
        AnswerValue::Choices(vec!["no_one_showed".into()])
    );
}
