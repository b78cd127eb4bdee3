//! Posting the respondent form: success is a 303 to the thank-you page once stored; invalid
//! answers re-render the form (422) with every answer kept and each problem shown; hidden
//! answers are dropped; a repeated submission id stores one response; bad requests get
//! friendly HTML pages and store nothing.

mod common;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use chorus::create_app;
use chorus::domain::AnswerValue;
use chorus::domain::StoredResponse;
use chorus::store::ResponseQuery;

const FORM: &str = "/s/test-clinic/every-kind";

async fn stored(state: &chorus::AppState) -> Vec<StoredResponse> {
    state
        .store
        .list_responses(&ResponseQuery {
            site: "test-clinic".into(),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

fn form_post(fields: &[(&str, &str)]) -> test::TestRequest {
    test::TestRequest::post()
        .uri(FORM)
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(serde_urlencoded::to_string(fields).unwrap())
}

fn valid_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("_submission_id", "0191c3a2-7b7e-4c39-9a55-6f0f3b7a0001"),
        ("aware", "yes"),
        ("channel", "doctor"),
        ("problems", "error"),
        ("problems", "locked"),
        ("which_error", "code expired"),
        ("ease", "2"),
        ("visits", "4"),
        ("why_hard", "too many steps"),
        ("comments", ""),
    ]
}

fn location(res: &actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>) -> String {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[actix_web::test]
async fn a_valid_form_is_stored_then_redirected_to_thanks() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let res = test::call_service(&app, form_post(&valid_fields()).to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/s/test-clinic/every-kind/thanks");

    let all = stored(&t.state).await;
    assert_eq!(all.len(), 1);
    let r = &all[0];
    assert_eq!(r.survey, "every-kind");
    assert_eq!(r.survey_version, 3);
    assert_eq!(r.group, "patient");
    assert_eq!(r.language.as_deref(), Some("en"));
    assert_eq!(
        r.submission_id.map(|u| u.to_string()).as_deref(),
        Some("0191c3a2-7b7e-4c39-9a55-6f0f3b7a0001")
    );
    let a = &r.answers;
    assert_eq!(a["aware"], AnswerValue::Text("yes".into()));
    assert_eq!(a["channel"], AnswerValue::Text("doctor".into()));
    assert_eq!(
        a["problems"],
        AnswerValue::Choices(vec!["error".into(), "locked".into()])
    );
    assert_eq!(a["which_error"], AnswerValue::Text("code expired".into()));
    assert_eq!(a["ease"], AnswerValue::Int(2));
    assert_eq!(a["visits"], AnswerValue::Int(4));
    assert_eq!(a["why_hard"], AnswerValue::Text("too many steps".into()));
    assert!(!a.contains_key("comments"), "an empty field is no answer");
    assert!(
        !a.keys().any(|k| k.starts_with('_')),
        "form fields are not answers"
    );

    // The thank-you page the browser goes to.
    let res = test::call_service(
        &app,
        test::TestRequest::get().uri(&location(&res)).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[actix_web::test]
async fn invalid_answers_re_render_the_form_with_answers_kept_and_problems_shown() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let id = "0191c3a2-7b7e-4c39-9a55-6f0f3b7a0002";
    let res = test::call_service(
        &app,
        form_post(&[
            ("_submission_id", id),
            // aware missing (required)
            ("problems", "error"),
            ("problems", "none"),
            ("which_error", "it said <b>E42</b> & \"stop\""),
            ("ease", "4"),
            ("visits", "400"),
            ("why_hard", "the code never came"),
            ("comments", "line one\nline two"),
        ])
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/html; charset=utf-8"
    );
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();

    // The title says there is a problem; the summary comes first and links to each field.
    assert!(html.contains("<title>Error: Every question kind</title>"));
    let summary_at = html.find("id=\"error-summary\"").expect("error summary");
    assert!(summary_at < html.find("<form").unwrap());
    assert!(html.contains("tabindex=\"-1\""));
    assert!(html.contains("<div role=\"alert\">"));
    assert!(html.contains(
        "<li><a href=\"#q-aware\">Had you heard of the portal? Please choose an answer.</a></li>"
    ));
    assert!(html.contains(
        "<li><a href=\"#q-visits\">How many visits this year? Please enter a whole number from 0 to 365.</a></li>"
    ));
    assert_eq!(html.matches("<li><a href=\"#q-").count(), 2);
    // The linked ids exist.
    assert!(html.contains("id=\"q-aware\""));
    assert!(html.contains("id=\"q-visits\""));

    // Each problem beside its question, tied to the control.
    assert!(html.contains(
        "<p class=\"error\" id=\"q-aware-error\"><span class=\"vh\">Error: </span>Please choose an answer.</p>"
    ));
    assert!(html.contains("<fieldset aria-describedby=\"q-aware-error\">"));
    assert!(html.contains("id=\"q-aware\" value=\"yes\" aria-invalid=\"true\""));
    assert!(html.contains(
        "<p class=\"error\" id=\"q-visits-error\"><span class=\"vh\">Error: </span>Please enter a whole number from 0 to 365.</p>"
    ));
    assert!(html.contains("value=\"400\" min=\"0\" max=\"365\" aria-describedby=\"q-visits-hint q-visits-error\" aria-invalid=\"true\""));
    assert_eq!(html.matches("class=\"q q-error\"").count(), 2);

    // Every answer kept: checked choices, typed text (escaped), the same submission id.
    assert!(html.contains("id=\"q-problems\" value=\"error\" checked>"));
    assert!(html.contains("id=\"q-problems-3\" value=\"none\" checked>"));
    assert!(html.contains("id=\"q-problems-2\" value=\"locked\">"));
    assert!(html.contains("id=\"q-ease-4\" value=\"4\" checked>"));
    assert!(html.contains("id=\"q-ease-5\" value=\"5\">"));
    assert!(html.contains("value=\"it said &lt;b&gt;E42&lt;&#x2F;b&gt; &amp; &quot;stop&quot;\""));
    assert!(html.contains(">the code never came</textarea>"));
    assert!(html.contains(">line one\nline two</textarea>"));
    assert!(html.contains(&format!("name=\"_submission_id\" value=\"{id}\"")));

    assert!(stored(&t.state).await.is_empty(), "nothing stored");
}

#[actix_web::test]
async fn a_script_in_an_answer_is_escaped_when_the_form_comes_back() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let res = test::call_service(
        &app,
        form_post(&[
            ("comments", "<script>alert('x')</script>"),
            ("which_error", "\"><script>alert(1)</script>"),
            ("problems", "error"),
        ])
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(!html.contains("<script>alert"));
    assert!(!html.contains("\"><script"));
    assert!(html.contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;&#x2F;script&gt;</textarea>"));
    assert!(html.contains("value=\"&quot;&gt;&lt;script&gt;alert(1)&lt;&#x2F;script&gt;\""));
    assert_eq!(html.matches("<script").count(), 1, "only chorus.js");
}

#[actix_web::test]
async fn answers_to_hidden_questions_are_dropped() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    // aware = no hides channel (even though it is required); problems = none hides which_error;
    // ease = 5 hides why_hard. The browser without JavaScript sent them all anyway.
    let res = test::call_service(
        &app,
        form_post(&[
            ("aware", "no"),
            ("channel", "mail"),
            ("problems", "none"),
            ("which_error", "should be dropped"),
            ("ease", "5"),
            ("why_hard", "should be dropped too"),
        ])
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let all = stored(&t.state).await;
    assert_eq!(all.len(), 1);
    let keys: Vec<&str> = all[0].answers.keys().map(String::as_str).collect();
    assert_eq!(keys, ["aware", "ease", "problems"]);
}

#[actix_web::test]
async fn a_double_submit_stores_one_response() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let first = test::call_service(&app, form_post(&valid_fields()).to_request()).await;
    let second = test::call_service(&app, form_post(&valid_fields()).to_request()).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&second), "/s/test-clinic/every-kind/thanks");
    assert_eq!(stored(&t.state).await.len(), 1);

    // Two copies in flight at once (a double click) also store one.
    let mut fields = valid_fields();
    fields[0].1 = "0191c3a2-7b7e-4c39-9a55-6f0f3b7a0003";
    let (a, b) = futures_util::future::join(
        test::call_service(&app, form_post(&fields).to_request()),
        test::call_service(&app, form_post(&fields).to_request()),
    )
    .await;
    assert_eq!(a.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&t.state).await.len(), 2);
}

#[actix_web::test]
async fn a_fixed_form_after_errors_stores_once_under_the_kept_id() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let mut fields = valid_fields();
    fields.retain(|(k, _)| *k != "aware");
    let res = test::call_service(&app, form_post(&fields).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(html.contains("value=\"0191c3a2-7b7e-4c39-9a55-6f0f3b7a0001\""));
    assert!(stored(&t.state).await.is_empty());

    let res = test::call_service(&app, form_post(&valid_fields()).to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = test::call_service(&app, form_post(&valid_fields()).to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&t.state).await.len(), 1);
}

#[actix_web::test]
async fn a_missing_or_broken_submission_id_still_works() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let mut fields = valid_fields();
    fields[0].1 = "not-a-uuid";
    let res = test::call_service(&app, form_post(&fields).to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    fields.remove(0);
    let res = test::call_service(&app, form_post(&fields).to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let all = stored(&t.state).await;
    assert_eq!(all.len(), 2);
    assert!(all.iter().all(|r| r.submission_id.is_none()));
}

#[actix_web::test]
async fn fields_that_name_no_question_are_ignored() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let mut fields = valid_fields();
    // A question removed since the page was loaded, and a future form-internal field.
    fields.push(("removed_question", "yes"));
    fields.push(("_lang", "es"));
    let res = test::call_service(&app, form_post(&fields).to_request()).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let all = stored(&t.state).await;
    assert_eq!(all.len(), 1);
    assert!(!all[0].answers.contains_key("removed_question"));
    assert!(!all[0].answers.contains_key("_lang"));
}

#[actix_web::test]
async fn wrong_numbers_and_long_text_are_explained() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let long = "x".repeat(41);
    let res = test::call_service(
        &app,
        form_post(&[
            ("aware", "yes"),
            ("channel", "doctor"),
            ("problems", "error"),
            ("which_error", &long),
            ("visits", "three"),
        ])
        .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(html.contains(
        "What did the error say? Please shorten your answer to 40 characters or fewer (it has 41)."
    ));
    assert!(html.contains("How many visits this year? Please enter a whole number, like 3."));
    assert!(html.contains("value=\"three\""));
    assert!(stored(&t.state).await.is_empty());
}

#[actix_web::test]
async fn unknown_site_or_survey_post_gets_a_friendly_404_and_stores_nothing() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    for uri in ["/s/test-clinic/nope", "/s/nope/every-kind"] {
        let res = test::call_service(&app, form_post(&valid_fields()).uri(uri).to_request()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
        let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(html.contains("<h1>We could not find this survey</h1>"));
    }
    assert!(stored(&t.state).await.is_empty());
}

#[actix_web::test]
async fn wrong_content_type_or_too_large_gets_a_friendly_page() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri(FORM)
            .set_json(serde_json::json!({"aware": "yes"}))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/html; charset=utf-8"
    );
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(html.contains("<h1>We could not read your answers</h1>"));

    let huge = "y".repeat(t.state.config.max_body_bytes + 1);
    let res = test::call_service(
        &app,
        form_post(&[("aware", "yes"), ("comments", &huge)]).to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(html.contains("<h1>Your answers are too long</h1>"));
    assert!(!html.contains("yyyy"));
    assert!(stored(&t.state).await.is_empty());
}

#[actix_web::test]
async fn demo_patient_form_round_trip() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri("/s/demo-clinic/patient-enrollment")
            .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
            .set_payload(
                "aware=yes&tried=yes&enrolled=no&what_happened=error&what_happened=no_help\
                 &why_not=privacy&contact_ok=yes&contact_phone=555-0100&comments=",
            )
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/s/demo-clinic/patient-enrollment/thanks");
    let all = t
        .state
        .store
        .list_responses(&ResponseQuery {
            site: "demo-clinic".into(),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(all.len(), 1);
    assert!(
        !all[0].answers.contains_key("why_not"),
        "tried = yes hides why_not"
    );
    assert_eq!(
        all[0].answers["what_happened"],
        AnswerValue::Choices(vec!["error".into(), "no_help".into()])
    );
}
