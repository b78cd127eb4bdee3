//! Chorus's FHIR resources checked by a tool nobody here wrote: every Questionnaire the demo
//! site produces (from the real binary) and a sample of QuestionnaireResponses go through
//! tests/fhir/validate.py, which parses them with the pinned `fhir.resources` models and checks
//! the R4 bindings and invariants and each response against its Questionnaire.

mod common;

use chorus::domain::{StoredResponse, Tag};
use chorus::fhir::{questionnaire_response, FhirBase};
use chorus::survey::{load_site, validate, QuestionKind, RawAnswer, Site, Survey};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const BASE: &str = "https://survey.example.org";

/// `chorus fhir questionnaire` for one survey, as the JSON it prints.
fn exported(sites: &Path, site: &str, survey: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(["fhir", "questionnaire", "--site", site, "--survey", survey])
        .args(["--base-url", BASE, "--sites"])
        .arg(sites)
        .env("CHORUS_LOG", "warn")
        .output()
        .expect("run chorus");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the command prints JSON")
}

/// Plausible answers to every question (some optional ones left out), validated by Chorus:
/// answers to questions their show_if hides are dropped, as a form post's would be.
fn sample_answers(survey: &Survey, rng: &mut StdRng) -> chorus::survey::Answers {
    let mut raw = BTreeMap::new();
    for q in &survey.questions {
        if !q.required && rng.gen_bool(0.2) {
            continue;
        }
        let value = match q.kind {
            QuestionKind::YesNo => json!(if rng.gen_bool(0.5) { "yes" } else { "no" }),
            QuestionKind::SingleChoice => {
                json!(q.options[rng.gen_range(0..q.options.len())].value)
            }
            QuestionKind::MultiChoice => {
                let mut chosen: Vec<&str> = q
                    .options
                    .iter()
                    .filter(|_| rng.gen_bool(0.4))
                    .map(|o| o.value.as_str())
                    .collect();
                if chosen.is_empty() {
                    chosen.push(&q.options[0].value);
                }
                json!(chosen)
            }
            QuestionKind::Scale => {
                let (min, max) = q.scale_bounds();
                json!(rng.gen_range(min..=max))
            }
            QuestionKind::Number => {
                let min = q.min.unwrap_or(0);
                json!(rng.gen_range(min..=q.max.unwrap_or(min + 100)))
            }
            QuestionKind::Text if q.id.contains("phone") => json!("555-0100"),
            QuestionKind::Text => json!(format!("Sample answer {}", rng.gen_range(1..100))),
        };
        raw.insert(q.id.clone(), RawAnswer::Json(value));
    }
    validate(survey, &raw).expect("sample answers are valid")
}

fn sample_response(site: &Site, survey: &Survey, n: u64, rng: &mut StdRng) -> Value {
    let tags = site
        .codebook
        .iter()
        .filter(|_| rng.gen_bool(0.15))
        .map(|b| Tag {
            code: b.code.clone(),
            source: "rules/sample.rhai".into(),
        })
        .collect();
    let stored = StoredResponse {
        id: uuid::Uuid::from_u128(n as u128 + 1),
        site: site.id().into(),
        survey: survey.id.clone(),
        survey_version: survey.version,
        group: survey.group.clone(),
        submitted_at: format!("2026-02-{:02}T09:{:02}:00Z", 1 + n % 28, n % 60),
        language: Some(if n.is_multiple_of(3) { "es" } else { "en" }.into()),
        submission_id: Some(uuid::Uuid::from_u128(1000 + n as u128)),
        channel: None,
        kiosk: None,
        answers: sample_answers(survey, rng),
        tags,
        rule_errors: vec![],
        follow_ups: vec![],
    };
    serde_json::to_value(questionnaire_response(site, survey, &stored, BASE)).unwrap()
}

fn write(dir: &Path, name: &str, value: &Value) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), serde_json::to_string_pretty(value).unwrap()).unwrap();
}

fn run_validator(python: &std::path::PathBuf, dir: &Path) -> (bool, String) {
    let out = common::python::run_script(python, "tests/fhir/validate.py", &[dir.as_os_str()]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn demo_questionnaires_and_sample_responses_pass_fhir_resources() {
    let Some(python) = common::python::venv_python("the FHIR validation (fhir.resources)") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut files = 0;
    let mut rng = StdRng::seed_from_u64(17);
    for sites in ["sites", "tests/fixtures/sites"] {
        let sites = common::repo().join(sites);
        for entry in std::fs::read_dir(&sites).unwrap() {
            let site = load_site(&entry.unwrap().path()).expect("site loads");
            for survey in &site.surveys {
                let q = exported(&sites, site.id(), &survey.id);
                let name = FhirBase::questionnaire_id(site.id(), &survey.id);
                write(
                    &tmp.path().join("questionnaires"),
                    &format!("{name}.json"),
                    &q,
                );
                for n in 0..25 {
                    let r = sample_response(&site, survey, n, &mut rng);
                    write(
                        &tmp.path().join("responses"),
                        &format!("{name}-{n}.json"),
                        &r,
                    );
                }
                files += 26;
            }
        }
    }
    let (ok, text) = run_validator(&python, tmp.path());
    println!("{text}");
    assert!(ok, "fhir.resources refused Chorus's output:\n{text}");
    assert!(
        text.contains(&format!("fhir: {files} passed, 0 failed")),
        "{text}"
    );
}

/// The validator is not a rubber stamp: broken resources fail, each problem named.
#[test]
fn the_validator_refuses_broken_resources() {
    let Some(python) = common::python::venv_python("the FHIR validation (fhir.resources)") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let sites = common::repo().join("sites");
    let mut q = exported(&sites, "demo-clinic", "patient-enrollment");
    let url = format!(
        "{}|{}",
        q["url"].as_str().unwrap(),
        q["version"].as_str().unwrap()
    );
    let good = q.clone();
    q["version"] = json!(1);
    write(&tmp.path().join("questionnaires"), "a-bad-version.json", &q);
    let mut q = good.clone();
    q["item"][1]["type"] = json!("yes-no");
    q["item"][2]["enableWhen"][0]["question"] = json!("nowhere");
    q["url"] = json!("https://survey.example.org/other");
    write(&tmp.path().join("questionnaires"), "b-bad-items.json", &q);
    write(&tmp.path().join("questionnaires"), "c-good.json", &good);
    let response = json!({
        "resourceType": "QuestionnaireResponse", "status": "completed", "questionnaire": url,
        "item": [
            {"linkId": "aware", "answer": [{"valueString": "yes"}]},
            {"linkId": "tried", "answer": [{"valueBoolean": false}]},
            {"linkId": "enrolled", "answer": [{"valueBoolean": true}]}
        ]
    });
    write(
        &tmp.path().join("responses"),
        "d-bad-answers.json",
        &response,
    );
    let (ok, text) = run_validator(&python, tmp.path());
    assert!(!ok, "{text}");
    for expected in [
        "a-bad-version.json: fhir.resources: 1 validation error for Questionnaire",
        "b-bad-items.json: item tried: type 'yes-no' is not an item type",
        "b-bad-items.json: item enrolled: enableWhen refers to unknown 'nowhere'",
        "d-bad-answers.json: item aware: answer ['valueString'] to a boolean item",
        "d-bad-answers.json: item enrolled: answered although disabled",
        "d-bad-answers.json: item contact_ok: required and enabled, but unanswered",
        "fhir: 1 passed, 3 failed",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
}
