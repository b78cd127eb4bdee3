//! A JSON body of `POST /api/v1/sites/demo-clinic/surveys/{survey}/responses` → the API's
//! decoder → validation, the language check and the demo rules, for each demo survey.
#![no_main]

use chorus_fuzz::{demo, submit_to_demo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for survey in &demo().site.surveys {
        match chorus::http::decode::json_submission("demo-clinic", &survey.id, data) {
            Ok(submission) => submit_to_demo(&submission),
            Err(_) => return,
        }
    }
});
