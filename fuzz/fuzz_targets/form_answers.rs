//! A form body of `POST /s/demo-clinic/{survey}` → the form's decoder → validation, the
//! language check and the demo rules, for each demo survey.
#![no_main]

use chorus::services::submit::Submission;
use chorus_fuzz::{demo, submit_to_demo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for survey in &demo().site.surveys {
        let Ok(answers) = chorus::http::decode::form_answers(survey, data) else {
            return;
        };
        submit_to_demo(&Submission {
            site: "demo-clinic".into(),
            survey: survey.id.clone(),
            answers,
            idempotency_key: None,
            language: Some("es".into()),
            invitation: None,
            channel: chorus::domain::Channel::Link,
            kiosk: None,
        });
    }
});
