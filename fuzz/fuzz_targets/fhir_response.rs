//! A body of `POST /fhir/r4/QuestionnaireResponse` → the FHIR mapping → validation, the
//! language check and the demo rules, for each demo survey. An accepted response, written back
//! as a QuestionnaireResponse and read again, gives the same answers (the mapping round-trips).
#![no_main]

use chorus::fhir::{answers_from_questionnaire_response, questionnaire_response};
use chorus::fhir::QuestionnaireResponse;
use chorus::services::submit::{build_response, Submission};
use chorus_fuzz::{check_response, demo};
use libfuzzer_sys::fuzz_target;

const BASE: &str = "https://survey.example.org";

fuzz_target!(|data: &[u8]| {
    let Ok(qr) = serde_json::from_slice::<QuestionnaireResponse>(data) else {
        return;
    };
    let site = &demo().site;
    for survey in &site.surveys {
        let Ok(answers) = answers_from_questionnaire_response(site, survey, &qr, BASE) else {
            continue;
        };
        let submission = Submission {
            site: site.id().to_string(),
            survey: survey.id.clone(),
            answers,
            idempotency_key: None,
            language: qr.language.clone(),
            invitation: None,
            channel: chorus::domain::Channel::Fhir,
            kiosk: None,
        };
        let Ok(response) = build_response(demo(), &submission) else {
            continue;
        };
        check_response(&response);
        let written = questionnaire_response(site, survey, &response, BASE);
        let again = answers_from_questionnaire_response(site, survey, &written, BASE)
            .expect("Chorus takes what it writes");
        let again = chorus::survey::validate(survey, &again).expect("and it validates");
        assert_eq!(again, response.answers, "the answers round-trip");
    }
});
