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
    let endpoint = tmp.path().join("endpoint");
    let bundle = json!({
        "resourceType": "Bundle", "type": "search", "link": [{"relation": "self", "url": "x"}],
        "entry": [{"fullUrl": "https://x.org/fhir/r4/QuestionnaireResponse/other",
                   "resource": response, "search": {"mode": "match"}}]
    });
    write(&endpoint, "e-bad-bundle.json", &bundle);
    let outcome = json!({"resourceType": "OperationOutcome",
                         "issue": [{"severity": "error", "code": "oops", "diagnostics": "x"}]});
    write(&endpoint, "f-bad-outcome.json", &outcome);
    let (ok, text) = run_validator(&python, tmp.path());
    assert!(!ok, "{text}");
    for expected in [
        "a-bad-version.json: fhir.resources: 1 validation error for Questionnaire",
        "b-bad-items.json: item tried: type 'yes-no' is not an item type",
        "b-bad-items.json: item enrolled: enableWhen refers to unknown 'nowhere'",
        "d-bad-answers.json: item aware: answer ['valueString'] to a boolean item",
        "d-bad-answers.json: item enrolled: answered although disabled",
        "d-bad-answers.json: item contact_ok: required and enabled, but unanswered",
        "e-bad-bundle.json: Bundle type 'search'",
        "e-bad-bundle.json: entry fullUrl 'https://x.org/fhir/r4/QuestionnaireResponse/other' is not the resource's",
        "e-bad-bundle.json: entry None: item aware: answer ['valueString'] to a boolean item",
        "f-bad-outcome.json: issue code 'oops' is not an issue type",
        "fhir: 1 passed, 5 failed",
    ] {
        assert!(text.contains(expected), "{expected:?} not in:\n{text}");
    }
}

/// What the FHIR endpoint serves: a request in its media type, the answer as JSON.
async fn fetch(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    req: actix_web::test::TestRequest,
    status: u16,
) -> Value {
    let res = actix_web::test::call_service(app, req.to_request()).await;
    let got = res.status().as_u16();
    let body: Value = actix_web::test::read_body_json(res).await;
    assert_eq!(got, status, "{body}");
    body
}

/// The endpoint's output through the same validator: the Questionnaires it serves, responses
/// posted through it (as it answers them and as `chorus export --format fhir` writes them),
/// its searchset Bundles, its CapabilityStatement and its OperationOutcomes.
#[actix_web::test]
async fn what_the_endpoint_serves_passes_fhir_resources() {
    use common::fhir::{get, post};
    let Some(python) = common::python::venv_python("the FHIR validation (fhir.resources)") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (questionnaires, responses, endpoint) = (
        tmp.path().join("questionnaires"),
        tmp.path().join("responses"),
        tmp.path().join("endpoint"),
    );
    let mut rng = StdRng::seed_from_u64(4);
    let mut files = 0;
    for make in [common::demo_config, common::fixture_config] {
        let t = common::state_with(make).await;
        let app = actix_web::test::init_service(chorus::create_app(t.state.clone())).await;
        let token = common::add_user(&t.state, "root", "*", chorus::domain::Role::Admin).await;
        let site = t.state.site(&t.state.sites.ids()[0]).unwrap().site.clone();
        for survey in &site.surveys {
            let id = FhirBase::questionnaire_id(site.id(), &survey.id);
            let q = fetch(&app, get(&format!("/Questionnaire/{id}"), None), 200).await;
            write(&questionnaires, &format!("{id}.json"), &q);
            for n in 0..10 {
                let mut body = sample_response(&site, survey, n, &mut rng);
                let body = body.as_object_mut().unwrap();
                for generated in ["id", "meta", "authored", "identifier"] {
                    body.remove(generated);
                }
                let served = chorus::survey::language::served(&site, None);
                if !body["language"]
                    .as_str()
                    .is_some_and(|l| served.iter().any(|s| s == l))
                {
                    body.remove("language");
                }
                let body = serde_json::to_string(&body)
                    .unwrap()
                    .replace(BASE, "http://localhost:8080");
                let created = fetch(&app, post(&serde_json::from_str(&body).unwrap()), 201).await;
                write(&responses, &format!("{id}-{n}.json"), &created);
            }
            let search = format!("/QuestionnaireResponse?questionnaire={id}&_count=4");
            let bundle = fetch(&app, get(&search, Some(&token)), 200).await;
            write(&endpoint, &format!("{id}-bundle.json"), &bundle);
            files += 12;
        }
        let mut ndjson = Vec::new();
        let query = chorus::store::ResponseQuery {
            site: site.id().into(),
            ..Default::default()
        };
        let base = "http://localhost:8080";
        chorus::services::export::write_fhir(
            t.state.store.as_ref(),
            chorus::services::audit::Actor::Cli,
            &site,
            base,
            query,
            &mut ndjson,
        )
        .await
        .unwrap();
        for (n, line) in String::from_utf8(ndjson).unwrap().lines().enumerate() {
            let value: Value = serde_json::from_str(line).unwrap();
            write(
                &responses,
                &format!("{}-export-{n}.json", site.id()),
                &value,
            );
            files += 1;
        }
        let all = fetch(&app, get("/Questionnaire", None), 200).await;
        write(
            &endpoint,
            &format!("{}-questionnaires.json", site.id()),
            &all,
        );
        files += 1;
    }
    let t = common::demo_state().await;
    let app = actix_web::test::init_service(chorus::create_app(t.state.clone())).await;
    let metadata = fetch(&app, get("/metadata", None), 200).await;
    write(&endpoint, "metadata.json", &metadata);
    let refused = common::fhir::response(vec![common::fhir::string("aware", "maybe")]);
    let outcome = fetch(&app, post(&refused), 422).await;
    write(&endpoint, "outcome-422.json", &outcome);
    let outcome = fetch(&app, get("/QuestionnaireResponse/x", None), 401).await;
    write(&endpoint, "outcome-401.json", &outcome);
    let outcome = fetch(&app, get("/Patient", None), 404).await;
    write(&endpoint, "outcome-404.json", &outcome);
    files += 4;

    let (ok, text) = run_validator(&python, tmp.path());
    println!("{text}");
    assert!(ok, "fhir.resources refused the endpoint's output:\n{text}");
    assert!(
        text.contains(&format!("fhir: {files} passed, 0 failed")),
        "{text}"
    );
}
