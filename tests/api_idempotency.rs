//! Idempotency keys are bound to the site, the survey and the request (SPEC "Second release"):
//! the same key with the same request answers with the first result; with another survey or
//! other answers it is refused with `422 idempotency_key_reused` and tells nothing of the
//! first request. The same for `submission_id` and for the form's hidden id.

mod common;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use chorus::create_app;
use chorus::store::ResponseQuery;
use serde_json::{json, Value};

const PATIENTS: &str = "/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses";
const LEADERS: &str = "/api/v1/sites/demo-clinic/surveys/leadership-enrollment/responses";

/// Tried and failed, asked for a call: tagged, with a task and a webhook.
fn patient() -> Value {
    json!({ "aware": "yes", "tried": "yes", "enrolled": "no", "what_happened": ["error"],
            "contact_ok": "yes", "contact_phone": "555-0100" })
}

fn leader() -> Value {
    json!({ "role": "executive", "patient_barriers": ["dont_know"], "who_should": "physician", "help_available": "yes" })
}

async fn stored(state: &chorus::AppState, survey: &str) -> Vec<chorus::domain::StoredResponse> {
    let query = ResponseQuery {
        site: "demo-clinic".into(),
        survey: Some(survey.into()),
        limit: 1000,
        ..Default::default()
    };
    state.store.list_responses(&query).await.unwrap().items
}

#[actix_web::test]
async fn a_key_is_bound_to_its_survey_and_answers() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let post = |uri: &str, key: &str, body: Value| {
        test::TestRequest::post()
            .uri(uri)
            .insert_header(("Idempotency-Key", key))
            .set_json(json!({ "answers": body }))
            .to_request()
    };
    let res = test::call_service(&app, post(PATIENTS, "1", patient())).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first: Value = test::read_body_json(res).await;
    let first_id = first["id"].as_str().unwrap().to_string();

    // The same request again: the first result, marked as a replay.
    let res = test::call_service(&app, post(PATIENTS, "1", patient())).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers().get("Idempotent-Replayed").unwrap(), "true");
    let again: Value = test::read_body_json(res).await;
    assert_eq!(again, first);

    // Another survey under the same key: refused, and nothing of the patient's response.
    let res = test::call_service(&app, post(LEADERS, "1", leader())).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.headers().get("Idempotent-Replayed").is_none());
    let body = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    let refused: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(refused["error"]["code"], "idempotency_key_reused");
    for leak in [
        first_id.as_str(),
        "enrollment_technical",
        "enrollment-help",
        "helpdesk",
    ] {
        assert!(!body.contains(leak), "the refusal reveals {leak}: {body}");
    }
    // The leadership answers were not silently dropped: the client was told, and with a new
    // key they are stored.
    assert!(stored(&t.state, "leadership-enrollment").await.is_empty());
    let res = test::call_service(&app, post(LEADERS, "2", leader())).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(stored(&t.state, "leadership-enrollment").await.len(), 1);

    // The same survey with other answers under the first key: refused too.
    let mut other = patient();
    other["enrolled"] = json!("yes");
    let res = test::call_service(&app, post(PATIENTS, "1", other)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = test::read_body_json(res).await;
    assert_eq!(refused["error"]["code"], "idempotency_key_reused");
    assert_eq!(stored(&t.state, "patient-enrollment").await.len(), 1);
    // Another language is another request.
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri(PATIENTS)
            .insert_header(("Idempotency-Key", "1"))
            .set_json(json!({ "answers": patient(), "language": "es" }))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[actix_web::test]
async fn a_submission_id_is_bound_the_same_way() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let sid = "0191c3a2-7b7e-4c39-9a55-6f0f3b7a0abc";
    let post = |uri: &str, answers: Value| {
        test::TestRequest::post()
            .uri(uri)
            .set_json(json!({ "answers": answers, "submission_id": sid }))
            .to_request()
    };
    let res = test::call_service(&app, post(PATIENTS, patient())).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = test::call_service(&app, post(PATIENTS, patient())).await;
    assert_eq!(res.headers().get("Idempotent-Replayed").unwrap(), "true");
    let res = test::call_service(&app, post(LEADERS, leader())).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = test::read_body_json(res).await;
    assert_eq!(refused["error"]["code"], "idempotency_key_reused");
    assert_eq!(stored(&t.state, "patient-enrollment").await.len(), 1);
    assert!(stored(&t.state, "leadership-enrollment").await.is_empty());
}

#[actix_web::test]
async fn the_forms_hidden_id_repeats_harmlessly_and_refuses_other_answers() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let form = "/s/demo-clinic/patient-enrollment";
    let hidden = "0191c3a2-7b7e-4c39-9a55-6f0f3b7a0def";
    let post = |fields: Vec<(&str, &str)>| {
        test::TestRequest::post()
            .uri(form)
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(serde_urlencoded::to_string(fields).unwrap())
            .to_request()
    };
    let answers = |contact: &'static str| {
        vec![
            ("_submission_id", hidden),
            ("aware", "yes"),
            ("tried", "yes"),
            ("enrolled", "no"),
            ("what_happened", "error"),
            ("contact_ok", contact),
            ("contact_phone", "555-0100"),
        ]
    };
    // A double submit: the thank-you page twice, one response.
    for _ in 0..2 {
        let res = test::call_service(&app, post(answers("yes"))).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(stored(&t.state, "patient-enrollment").await.len(), 1);

    // Back, another answer, send again under the same hidden id: the form again, saying so.
    let res = test::call_service(&app, post(answers("no"))).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        html.contains("This form was already sent with other answers"),
        "{html}"
    );
    let first = &stored(&t.state, "patient-enrollment").await[0];
    assert!(
        !html.contains(&first.id.to_string()),
        "nothing of the first response"
    );
    let marker = "name=\"_submission_id\" value=\"";
    let at = html.find(marker).unwrap() + marker.len();
    let fresh = &html[at..at + 36];
    assert_ne!(fresh, hidden, "the form gets a new hidden id");
    assert_eq!(stored(&t.state, "patient-enrollment").await.len(), 1);

    // Sending that form stores the new answers.
    let mut again = answers("no");
    again[0].1 = fresh;
    let res = test::call_service(&app, post(again)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let all = stored(&t.state, "patient-enrollment").await;
    assert_eq!(all.len(), 2);
    assert_eq!(
        all[1].answers["contact_ok"],
        chorus::domain::AnswerValue::Text("no".into())
    );
}
