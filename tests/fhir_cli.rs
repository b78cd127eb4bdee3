//! `chorus fhir questionnaire` and `chorus import questionnaire`, black-box on the real binary.

mod common;

use chorus::survey::Survey;
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};

fn chorus(args: &[&str], sites: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(args)
        .arg("--sites")
        .arg(sites)
        .env("CHORUS_LOG", "warn")
        .env_remove("CHORUS_CONFIG")
        .output()
        .expect("run chorus")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn demo_sites() -> std::path::PathBuf {
    common::repo().join("sites")
}

/// A copy of the fixture site (groups patient, provider, leadership) to import into.
fn fixture_copy(tmp: &Path) -> std::path::PathBuf {
    let sites = tmp.join("sites");
    let from = common::repo().join("tests/fixtures/sites/test-clinic");
    let to = sites.join("test-clinic");
    std::fs::create_dir_all(to.join("surveys")).unwrap();
    std::fs::copy(from.join("site.toml"), to.join("site.toml")).unwrap();
    for f in std::fs::read_dir(from.join("surveys")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, to.join("surveys").join(f.file_name().unwrap())).unwrap();
    }
    sites
}

/// `chorus fhir questionnaire` on a demo survey, with extra arguments.
fn fhir_questionnaire(survey: &str, extra: &[&str]) -> Output {
    let args = [
        "fhir",
        "questionnaire",
        "--site",
        "demo-clinic",
        "--survey",
        survey,
    ];
    chorus(&[&args[..], extra].concat(), &demo_sites())
}

/// `chorus import questionnaire FILE --site test-clinic` with extra arguments.
fn import(file: &Path, sites: &Path, extra: &[&str]) -> Output {
    let args = [
        "import",
        "questionnaire",
        file.to_str().unwrap(),
        "--site",
        "test-clinic",
    ];
    chorus(&[&args[..], extra].concat(), sites)
}

fn export(survey: &str, base: &str) -> Value {
    let out = fhir_questionnaire(survey, &["--base-url", base]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

#[test]
fn fhir_questionnaire_prints_one_questionnaire_with_a_stable_url() {
    let q = export("patient-enrollment", "https://survey.example.org/");
    assert_eq!(q["resourceType"], "Questionnaire");
    assert_eq!(
        q["url"],
        "https://survey.example.org/fhir/r4/Questionnaire/demo-clinic.patient-enrollment"
    );
    assert_eq!(q["version"], "1");
    assert_eq!(q["item"].as_array().unwrap().len(), 8);
    assert_eq!(
        export("patient-enrollment", "https://survey.example.org"),
        q
    );
}

#[test]
fn fhir_questionnaire_takes_the_public_url_from_the_config_file() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("chorus.toml");
    std::fs::write(
        &config,
        "public_url = \"https://clinic.example.net/surveys\"\n",
    )
    .unwrap();
    let out = fhir_questionnaire(
        "provider-enrollment",
        &["--config", config.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let q: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        q["url"],
        "https://clinic.example.net/surveys/fhir/r4/Questionnaire/demo-clinic.provider-enrollment"
    );
}

#[test]
fn fhir_questionnaire_names_what_is_wrong() {
    let out = fhir_questionnaire("nope", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).is_empty());
    assert!(
        text(&out.stderr).contains(
            "site \"demo-clinic\" has no survey \"nope\" (its surveys: leadership-enrollment, \
             patient-enrollment, provider-enrollment)"
        ),
        "{}",
        text(&out.stderr)
    );
    let out = fhir_questionnaire("patient-enrollment", &["--base-url", "ftp://x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("must start with http:// or https://"));
}

/// Every demo survey: exported by one command, imported by the other into another site, the
/// new file passes `chorus check` and reads as the same definition.
#[test]
fn every_demo_survey_exports_and_imports_to_the_same_definition() {
    let tmp = tempfile::tempdir().unwrap();
    let sites = fixture_copy(tmp.path());
    for id in [
        "leadership-enrollment",
        "patient-enrollment",
        "provider-enrollment",
    ] {
        let file = tmp.path().join(format!("{id}.json"));
        let q = export(id, "https://survey.example.org");
        std::fs::write(&file, serde_json::to_string(&q).unwrap()).unwrap();
        let output = sites.join(format!("test-clinic/surveys/{id}.toml"));
        let out = import(&file, &sites, &["--output", output.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains(&format!("Imported survey \"{id}\"")));
        let imported: Survey = toml::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
        let mut original: Survey = toml::from_str(
            &std::fs::read_to_string(demo_sites().join(format!("demo-clinic/surveys/{id}.toml")))
                .unwrap(),
        )
        .unwrap();
        // What a survey asks is the report's: a Questionnaire does not carry it (docs/fhir.md).
        assert!(original.asks.is_some() && imported.asks.is_none());
        original.asks = None;
        assert_eq!(imported, original, "{id}");
    }
    let out = common::server::check(&sites, &common::repo().join("tests/fixtures/plugins"));
    let printed = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{printed}");
}

#[test]
fn import_refuses_each_item_it_cannot_represent_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let sites = fixture_copy(tmp.path());
    let file = tmp.path().join("phq.json");
    std::fs::write(
        &file,
        json!({
            "resourceType": "Questionnaire", "id": "phq", "status": "active", "title": "PHQ",
            "item": [
                {"linkId": "mood", "text": "Mood", "type": "choice",
                 "answerValueSet": "http://loinc.org/vs/LL358-3"},
                {"linkId": "when", "text": "Since when?", "type": "date"},
                {"linkId": "ok", "text": "Fine?", "type": "boolean"}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let output = tmp.path().join("phq.toml");
    let out = import(
        &file,
        &sites,
        &["--group", "patient", "--output", output.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let f = file.display();
    assert!(
        err.contains(&format!(
            "{f}: item \"mood\": element \"answerValueSet\" cannot be represented"
        )),
        "{err}"
    );
    assert!(err.contains(&format!(
        "{f}: item \"when\": item type \"date\" has no Chorus question kind"
    )));
    assert!(err.contains("not imported: 2 problem(s)"));
    assert!(!output.exists());
}

#[test]
fn import_checks_the_site_and_never_overwrites_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    let sites = fixture_copy(tmp.path());
    let file = tmp.path().join("q.json");
    std::fs::write(
        &file,
        serde_json::to_string(&export("provider-enrollment", "https://x.org")).unwrap(),
    )
    .unwrap();
    let run = |extra: &[&str]| import(&file, &sites, extra);
    // A group the site does not have.
    let out = run(&["--group", "staff"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("group \"staff\" is not one of the site's groups"));
    // A survey id the site already uses.
    let out = run(&["--id", "every-kind"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("already has a survey \"every-kind\": pass --id"));
    // An existing output file stays as it was.
    let existing = tmp.path().join("existing.toml");
    std::fs::write(&existing, "keep me").unwrap();
    let out = run(&["--output", existing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot create"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "keep me");
    // Without --output the survey goes to standard output.
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("id = \"provider-enrollment\"\n"));
    // Not JSON at all.
    std::fs::write(&file, "<Questionnaire/>").unwrap();
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("not a FHIR Questionnaire in JSON"));
}
