//! What the FHIR endpoint tests share: QuestionnaireResponses of the demo patient survey and
//! requests in FHIR's media type. The test server's public base is `http://localhost:8080`.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

pub const FHIR: &str = "/fhir/r4";
pub const BASE: &str = "http://localhost:8080/fhir/r4";
pub const PATIENT_ID: &str = "demo-clinic.patient-enrollment";

pub fn questionnaire_url() -> String {
    format!("{BASE}/Questionnaire/{PATIENT_ID}")
}

fn answer_system() -> String {
    format!("{BASE}/CodeSystem/{PATIENT_ID}.answers")
}

pub fn boolean(link: &str, value: bool) -> Value {
    json!({"linkId": link, "answer": [{"valueBoolean": value}]})
}

pub fn codes(link: &str, codes: &[&str]) -> Value {
    let answers: Vec<Value> = codes
        .iter()
        .map(|c| json!({"valueCoding": {"system": answer_system(), "code": c}}))
        .collect();
    json!({"linkId": link, "answer": answers})
}

pub fn string(link: &str, value: &str) -> Value {
    json!({"linkId": link, "answer": [{"valueString": value}]})
}

/// A completed response to the current version of the demo patient survey.
pub fn response(items: Vec<Value>) -> Value {
    json!({
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": format!("{}|1", questionnaire_url()),
        "item": items,
    })
}

/// Tried and failed, asks for a call: the demo rules tag it `enrollment_technical` and open
/// a call-back task.
pub fn failed_enrollment() -> Value {
    response(vec![
        boolean("aware", true),
        boolean("tried", true),
        boolean("enrolled", false),
        codes("what_happened", &["error"]),
        boolean("contact_ok", true),
        string("contact_phone", "555-0100"),
    ])
}

/// Had never heard of the portal, wants no call.
pub fn unaware() -> Value {
    response(vec![
        boolean("aware", false),
        boolean("tried", false),
        codes("why_not", &["didnt_know"]),
        boolean("contact_ok", false),
    ])
}

pub fn post(body: &Value) -> TestRequest {
    TestRequest::post()
        .uri(&format!("{FHIR}/QuestionnaireResponse"))
        .insert_header(("Content-Type", "application/fhir+json"))
        .set_payload(body.to_string())
}

pub fn get(path: &str, token: Option<&str>) -> TestRequest {
    let req = TestRequest::get().uri(&format!("{FHIR}{path}"));
    match token {
        Some(t) => req.insert_header(("Authorization", format!("Bearer {t}"))),
        None => req,
    }
}
