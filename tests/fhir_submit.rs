//! `POST /fhir/r4/QuestionnaireResponse` (docs/fhir.md, "Submitting"): a posted response goes
//! through the same pipeline as a form post (validation, show_if, tags, follow-ups,
//! idempotency), answers 201 with the stored resource and its Location, and shows in the JSON
//! API, the CSV and the report; what it cannot take is an OperationOutcome naming each item by
//! linkId, and nothing is stored.

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use common::fhir::{boolean, codes, failed_enrollment, get, post, response, string, unaware};
use common::TestStore;
use serde_json::{json, Value};

macro_rules! app {
    ($t:expr) => {
        test::init_service(create_app($t.state.clone())).await
    };
}

fn content_type(
    res: &actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
) -> String {
    res.headers()
        .get("Content-Type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Every `expression` of an OperationOutcome, with its issue code.
fn issues(outcome: &Value) -> Vec<(String, String)> {
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
    outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            assert_eq!(i["severity"], "error");
            assert!(i["diagnostics"].as_str().is_some_and(|d| !d.is_empty()));
            let expression = i["expression"][0].as_str().unwrap_or("").to_string();
            (i["code"].as_str().unwrap().to_string(), expression)
        })
        .collect()
}

fn item(link: &str) -> String {
    format!("QuestionnaireResponse.repeat(item).where(linkId='{link}')")
}

#[actix_web::test]
async fn a_posted_response_is_stored_tagged_followed_up_and_shown_everywhere() {
    let t = common::demo_state().await;
    let app = app!(t);
    let token = common::add_user(&t.state, "viewer", "demo-clinic", Role::Viewer).await;

    let res = test::call_service(&app, post(&failed_enrollment()).to_request()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(content_type(&res), "application/fhir+json");
    let location = res
        .headers()
        .get("Location")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let created: Value = test::read_body_json(res).await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        location,
        format!("{}/QuestionnaireResponse/{id}", common::fhir::BASE)
    );
    assert_eq!(created["resourceType"], "QuestionnaireResponse");
    assert_eq!(created["status"], "completed");
    assert_eq!(
        created["questionnaire"],
        format!("{}|1", common::fhir::questionnaire_url())
    );
    assert_eq!(created["meta"]["tag"][0]["code"], "enrollment_technical");
    assert_eq!(created["item"][0]["linkId"], "aware");
    assert_eq!(created["item"][0]["answer"][0]["valueBoolean"], true);

    // The Location reads back the same resource.
    let path = location.strip_prefix(common::fhir::BASE).unwrap();
    let res = test::call_service(&app, get(path, Some(&token)).to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    let read: Value = test::read_body_json(res).await;
    assert_eq!(read, created);

    // Stored as any response: the answers in Chorus's shape, the tags, the call-back task.
    let stored = common::stored_responses(&t.state, "demo-clinic").await;
    assert_eq!(stored.len(), 1);
    let r = &stored[0];
    assert_eq!(r.id.to_string(), id);
    assert_eq!(
        r.answers["aware"],
        chorus::domain::AnswerValue::Text("yes".into())
    );
    assert_eq!(
        r.answers["what_happened"],
        chorus::domain::AnswerValue::Choices(vec!["error".into()])
    );
    assert!(r.has_tag("enrollment_technical"));
    assert_eq!(
        r.channel,
        Some(chorus::domain::Channel::Fhir),
        "the channel is the server's"
    );
    let tasks = t.state.store.all_tasks("demo-clinic").await.unwrap();
    assert_eq!(tasks.len(), 1, "the demo rule opens a call-back task");
    assert_eq!(tasks[0].queue, "enrollment-help");

    // The JSON API lists it.
    let req = test::TestRequest::get()
        .uri("/api/v1/sites/demo-clinic/responses")
        .insert_header(("Authorization", format!("Bearer {token}")))
        .to_request();
    let list: Value = test::call_and_read_body_json(&app, req).await;
    assert_eq!(list["responses"][0]["id"], id.as_str());
    assert_eq!(
        list["responses"][0]["tags"][0]["code"],
        "enrollment_technical"
    );

    // The report counts it (with four more: a group below min_cell 5 is suppressed).
    for _ in 0..4 {
        let res = test::call_service(&app, post(&failed_enrollment()).to_request()).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let req = test::TestRequest::get()
        .uri("/api/v1/sites/demo-clinic/report")
        .insert_header(("Authorization", format!("Bearer {token}")))
        .to_request();
    let report: Value = test::call_and_read_body_json(&app, req).await;
    let find = |list: &str, key: &str, value: &str| {
        report[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g[key] == value)
            .unwrap()
            .clone()
    };
    let patients = find("groups", "group", "patient");
    assert_eq!(patients["respondents"], 5, "{report}");
    let technical = find("barriers", "code", "enrollment_technical");
    assert_eq!(technical["by_group"]["patient"]["count"], 5, "{report}");

    // The CSV (the layout of `chorus export` and the admin download) has its row.
    let site = t.state.site("demo-clinic").unwrap();
    let mut csv = Vec::new();
    let query = chorus::store::ResponseQuery {
        site: "demo-clinic".into(),
        ..Default::default()
    };
    chorus::services::export::write_csv(
        t.state.store.as_ref(),
        chorus::services::audit::Actor::Cli,
        &site.site.surveys,
        query,
        &mut csv,
    )
    .await
    .unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let row = csv.lines().nth(1).unwrap();
    assert!(
        row.starts_with(&id) && row.contains("enrollment_technical"),
        "{csv}"
    );
    assert!(row.contains("555-0100"), "{csv}");
}

#[actix_web::test]
async fn every_problem_is_an_issue_naming_its_link_id_and_nothing_is_stored() {
    let t = common::demo_state().await;
    let app = app!(t);
    let bad = response(vec![
        string("aware", "yes"), // wrong type
        boolean("tried", false),
        codes("why_not", &["forgot"]),      // unknown code
        codes("what_happened", &["error"]), // not enabled: tried is false
        boolean("mood", true),              // no such item
                                            // contact_ok (required) missing
    ]);
    let res = test::call_service(&app, post(&bad).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(content_type(&res), "application/fhir+json");
    let outcome: Value = test::read_body_json(res).await;
    let found = issues(&outcome);
    for (code, link) in [
        ("invalid", "aware"),
        ("invalid", "why_not"),
        ("invalid", "what_happened"),
        ("invalid", "mood"),
        ("required", "contact_ok"),
    ] {
        assert!(
            found.contains(&(code.to_string(), item(link))),
            "{code} {link} not in {outcome:#}"
        );
    }
    let text = outcome.to_string();
    assert!(text.contains("this item takes valueBoolean"), "{text}");
    assert!(text.contains("not enabled"), "{text}");

    // What the survey validator refuses after the mapping is named the same way.
    let mut long = failed_enrollment();
    long["item"][5] = string("contact_phone", &"5".repeat(5000));
    let res = test::call_service(&app, post(&long).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let outcome: Value = test::read_body_json(res).await;
    assert!(
        issues(&outcome)
            .iter()
            .any(|(_, e)| *e == item("contact_phone")),
        "{outcome:#}"
    );

    assert!(common::stored_responses(&t.state, "demo-clinic")
        .await
        .is_empty());
    assert!(t
        .state
        .store
        .all_tasks("demo-clinic")
        .await
        .unwrap()
        .is_empty());
}

#[actix_web::test]
async fn a_resource_not_for_a_known_current_questionnaire_is_refused() {
    let t = common::demo_state().await;
    let app = app!(t);
    let cases = [
        ("questionnaire", json!(null), "questionnaire is missing"),
        (
            "questionnaire",
            json!("https://elsewhere.org/Questionnaire/x"),
            "is not a Questionnaire of this server",
        ),
        (
            "questionnaire",
            json!("Questionnaire/demo-clinic.nope|1"),
            "is not a Questionnaire of this server",
        ),
        (
            "questionnaire",
            json!(format!("{}|7", common::fhir::questionnaire_url())),
            "not the current version",
        ),
        ("status", json!("in-progress"), "only a \\\"completed\\\""),
        (
            "language",
            json!("fr"),
            "language is not one this site serves",
        ),
    ];
    for (field, value, message) in cases {
        let mut body = unaware();
        if value.is_null() {
            body.as_object_mut().unwrap().remove(field);
        } else {
            body[field] = value.clone();
        }
        let res = test::call_service(&app, post(&body).to_request()).await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field} = {value}"
        );
        let outcome: Value = test::read_body_json(res).await;
        assert!(
            outcome.to_string().contains(message),
            "{message}: {outcome}"
        );
        if field == "language" {
            assert_eq!(issues(&outcome)[0].1, "QuestionnaireResponse.language");
        }
    }
    // A language the site serves is stored with the response.
    let mut spanish = unaware();
    spanish["language"] = json!("es");
    let res = test::call_service(&app, post(&spanish).to_request()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let stored = common::stored_responses(&t.state, "demo-clinic").await;
    assert_eq!(stored.len(), 1, "only the Spanish response is stored");
    assert_eq!(stored[0].language.as_deref(), Some("es"));
}

#[actix_web::test]
async fn bodies_that_are_not_a_questionnaire_response_in_json_are_refused() {
    let t = common::demo_state().await;
    let app = app!(t);
    let uri = "/fhir/r4/QuestionnaireResponse";
    let send = |content_type: &str, body: &str| {
        test::TestRequest::post()
            .uri(uri)
            .insert_header(("Content-Type", content_type))
            .set_payload(body.to_string())
            .to_request()
    };
    let good = unaware().to_string();
    for (req, status, code) in [
        (
            send("application/xml", &good),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
        ),
        (
            send("application/fhir+json", "{\"resourceType\": "),
            StatusCode::BAD_REQUEST,
            "structure",
        ),
        (
            send(
                "application/fhir+json",
                "{\"resourceType\": \"QuestionnaireResponse\"}",
            ),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
        (
            send("application/fhir+json", "[1, 2]"),
            StatusCode::BAD_REQUEST,
            "invalid",
        ),
    ] {
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), status);
        let outcome: Value = test::read_body_json(res).await;
        assert_eq!(issues(&outcome)[0].0, code, "{outcome}");
    }
    // application/json is taken as well as FHIR's own type.
    let res = test::call_service(&app, send("application/json", &good)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        common::stored_responses(&t.state, "demo-clinic")
            .await
            .len(),
        1
    );
}

#[actix_web::test]
async fn an_idempotency_key_returns_the_first_response_and_is_bound_to_the_body() {
    let t = common::demo_state().await;
    let app = app!(t);
    let keyed = |body: &Value, key: &str| {
        post(body)
            .insert_header(("Idempotency-Key", key))
            .to_request()
    };
    let res = test::call_service(&app, keyed(&failed_enrollment(), "visit-17")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let first: Value = test::read_body_json(res).await;

    let res = test::call_service(&app, keyed(&failed_enrollment(), "visit-17")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers().get("Idempotent-Replayed").unwrap(), "true");
    let again: Value = test::read_body_json(res).await;
    assert_eq!(again, first);

    // The same key with other answers: refused, and nothing of the first is told.
    let res = test::call_service(&app, keyed(&unaware(), "visit-17")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let outcome: Value = test::read_body_json(res).await;
    assert_eq!(issues(&outcome)[0].0, "conflict");
    assert!(!outcome.to_string().contains(first["id"].as_str().unwrap()));

    // The resource's own urn:uuid identifier is a key too (what Chorus writes back).
    let mut identified = unaware();
    identified["identifier"] = first["identifier"].clone();
    identified["identifier"]["value"] = json!("urn:uuid:7d0b6a52-6a4e-4bd5-8d3c-3b7f0d7e2a11");
    for _ in 0..2 {
        let res = test::call_service(&app, post(&identified).to_request()).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let stored = common::stored_responses(&t.state, "demo-clinic").await;
    assert_eq!(stored.len(), 2, "one per key");
    assert_eq!(
        stored[1].submission_id.unwrap().to_string(),
        "7d0b6a52-6a4e-4bd5-8d3c-3b7f0d7e2a11"
    );
    assert_eq!(
        t.state.store.all_tasks("demo-clinic").await.unwrap().len(),
        1
    );
}
