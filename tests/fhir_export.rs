//! `chorus export --format fhir` (docs/fhir.md, "Bulk export"), black-box on the real binary:
//! NDJSON, one QuestionnaireResponse a line, for every response of the site however it came
//! in; responses posted through the FHIR endpoint are in the CSV export as well.

mod common;

use common::server::{run, Server};
use serde_json::{json, Value};

fn export_fhir(data: &std::path::Path, base_url: &str) -> std::process::Output {
    let args = [
        "export",
        "--site",
        "demo-clinic",
        "--format",
        "fhir",
        "--base-url",
        base_url,
    ];
    run(&args, data)
}

#[test]
fn every_response_is_one_questionnaire_response_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let client = reqwest::blocking::Client::new();
    let fhir = format!("{}/fhir/r4", server.base);
    let mut ids = Vec::new();
    for body in [common::fhir::failed_enrollment(), common::fhir::unaware()] {
        // The resource names the Questionnaire by this server's canonical URL.
        let body = body.to_string().replace(common::fhir::BASE, &fhir);
        let res = client
            .post(format!("{fhir}/QuestionnaireResponse"))
            .header("Content-Type", "application/fhir+json")
            .body(body)
            .send()
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let created: Value = res.json().unwrap();
        ids.push(created["id"].as_str().unwrap().to_string());
    }
    let res = client
        .post(format!(
            "{}/api/v1/sites/demo-clinic/surveys/leadership-enrollment/responses",
            server.base
        ))
        .json(
            &json!({"answers": {"role": "executive", "patient_barriers": ["dont_know"],
                                  "who_should": "physician", "help_available": "yes"}}),
        )
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let leader: Value = res.json().unwrap();
    ids.push(leader["id"].as_str().unwrap().to_string());
    server.terminate();

    let out = export_fhir(&data, "https://survey.example.org/");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is one JSON resource"))
        .collect();
    assert_eq!(lines.len(), 3, "{text}");
    let base = "https://survey.example.org/fhir/r4";
    for (line, id) in lines.iter().zip(&ids) {
        assert_eq!(line["resourceType"], "QuestionnaireResponse");
        assert_eq!(line["id"], id.as_str());
        assert_eq!(line["status"], "completed");
        assert!(line["questionnaire"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{base}/Questionnaire/demo-clinic.")));
    }
    assert_eq!(lines[0]["meta"]["tag"][0]["code"], "enrollment_technical");
    assert_eq!(
        lines[0]["meta"]["tag"][0]["system"],
        format!("{base}/CodeSystem/demo-clinic.barriers")
    );
    assert_eq!(
        lines[0]["item"][3]["answer"][0]["valueCoding"]["code"],
        "error"
    );
    assert_eq!(
        lines[2]["questionnaire"],
        format!("{base}/Questionnaire/demo-clinic.leadership-enrollment|1")
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Exported 3 response(s)"));

    // The CSV export has the FHIR responses too, with their answers.
    let out = run(
        &["export", "--site", "demo-clinic", "--format", "csv"],
        &data,
    );
    assert!(out.status.success());
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][column("id")], ids[0].as_str());
    assert_eq!(&rows[0][column("tags")], "enrollment_technical");
    assert_eq!(&rows[0][column("contact_phone")], "555-0100");
    assert_eq!(&rows[1][column("why_not")], "didnt_know");
}

#[test]
fn a_bad_base_url_or_site_is_refused_before_the_store_is_opened() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = export_fhir(&data, "survey.example.org");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("must start with http:// or https://"));
    let out = run(&["export", "--site", "nowhere", "--format", "fhir"], &data);
    assert!(!out.status.success());
    assert!(!data.exists(), "no store was created");
}
