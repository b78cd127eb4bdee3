//! Respondent form pages: every question kind rendered accessibly, static files, friendly 404s,
//! and every demo survey rendering small and self-contained.

mod common;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use chorus::create_app;

fn header_of(
    res: &actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
    name: header::HeaderName,
) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The value of the hidden submission id in a rendered form.
fn submission_id(html: &str) -> String {
    let marker = "name=\"_submission_id\" value=\"";
    let start = html.find(marker).expect("hidden submission id field") + marker.len();
    html[start..start + 36].to_string()
}

/// The HTML of one question's container (`<div class="q" id="question-ID"…>` up to the next).
fn question_html<'a>(html: &'a str, id: &str) -> &'a str {
    let start = html
        .find(&format!("id=\"question-{id}\""))
        .unwrap_or_else(|| panic!("question {id} is on the page"));
    let rest = &html[start..];
    let end = rest[1..]
        .find("<div class=\"q")
        .map_or(rest.len(), |e| e + 1);
    &rest[..end]
}

#[actix_web::test]
async fn every_kind_renders_each_question_with_its_label_and_control() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/s/test-clinic/every-kind")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header_of(&res, header::CONTENT_TYPE),
        "text/html; charset=utf-8"
    );
    assert_eq!(header_of(&res, header::CACHE_CONTROL), "no-store");
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();

    assert!(html.contains("<html lang=\"en\">"));
    assert!(html.contains("<title>Every question kind</title>"));
    assert!(html.contains("<h1>Every question kind</h1>"));
    assert!(html.contains("A fixture with one question of each kind."));
    assert!(html.contains("method=\"post\""));
    let id = submission_id(&html);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");

    // yes_no: two radios, Yes and No, in a fieldset with the question as legend, marked required.
    let aware = question_html(&html, "aware");
    assert!(aware.contains("<fieldset"));
    assert!(aware.contains(
        "<legend>Had you heard of the portal? <span class=\"req\">(required)</span></legend>"
    ));
    assert!(aware.contains(
        "<input type=\"radio\" name=\"aware\" id=\"q-aware\" value=\"yes\"><label for=\"q-aware\">Yes</label>"
    ));
    assert!(aware.contains(
        "<input type=\"radio\" name=\"aware\" id=\"q-aware-2\" value=\"no\"><label for=\"q-aware-2\">No</label>"
    ));

    // single_choice with show_if: radios, the condition for JavaScript and for readers without it.
    let channel = question_html(&html, "channel");
    assert!(channel.contains(
        "<legend>How did you hear of it? <span class=\"req\">(required)</span></legend>"
    ));
    assert!(channel.contains("data-show-if=\""));
    assert!(channel.contains("&quot;question&quot;:&quot;aware&quot;"));
    assert!(channel.contains("value=\"doctor\"><label for=\"q-channel\">From my doctor</label>"));
    assert!(channel.contains("value=\"mail\"><label for=\"q-channel-2\">By mail</label>"));
    assert!(channel.contains("class=\"cond\" id=\"q-channel-cond\""));
    assert!(channel.contains("aria-describedby=\"q-channel-cond\""));
    assert!(channel.contains("“Had you heard of the portal?” was “Yes”"));

    // multi_choice: one checkbox per option, all under the same name; not required.
    let problems = question_html(&html, "problems");
    assert!(problems.contains("<legend>What went wrong?</legend>"));
    assert!(!problems.contains("(required)"));
    assert_eq!(
        problems
            .matches("type=\"checkbox\" name=\"problems\"")
            .count(),
        3
    );
    assert!(problems.contains("<label for=\"q-problems-2\">Locked out</label>"));

    // text with a short max_length: a one-line input with maxlength and a visible label.
    let which = question_html(&html, "which_error");
    assert!(which.contains(
        "<label class=\"q-label\" for=\"q-which_error\">What did the error say?</label>"
    ));
    assert!(which.contains(
        "type=\"text\" name=\"which_error\" id=\"q-which_error\" value=\"\" maxlength=\"40\""
    ));
    assert!(which.contains("“An error” or “Locked out”"));

    // scale: radios min..max in a fieldset, with what the ends mean tied to it.
    let ease = question_html(&html, "ease");
    assert!(ease.contains("<legend>How easy was it?</legend>"));
    assert!(ease.contains("class=\"choices scale\""));
    for n in 1..=5 {
        assert!(
            ease.contains(&format!(
                "name=\"ease\" id=\"q-ease{}\" value=\"{n}\"",
                if n == 1 {
                    String::new()
                } else {
                    format!("-{n}")
                }
            )),
            "scale point {n}"
        );
    }
    assert_eq!(ease.matches("type=\"radio\"").count(), 5);
    assert!(ease.contains("aria-describedby=\"q-ease-hint\""));
    assert!(ease.contains("1 means “Very hard”, 5 means “Very easy”."));

    // number: type=number, numeric keyboard, bounds, the range in words.
    let visits = question_html(&html, "visits");
    assert!(visits
        .contains("<label class=\"q-label\" for=\"q-visits\">How many visits this year?</label>"));
    assert!(visits.contains(
        "type=\"number\" inputmode=\"numeric\" step=\"1\" name=\"visits\" id=\"q-visits\" value=\"\" min=\"0\" max=\"365\" aria-describedby=\"q-visits-hint\""
    ));
    assert!(visits.contains("A whole number from 0 to 365."));

    // text with a not_equals show_if and the default length: a textarea.
    let why = question_html(&html, "why_hard");
    assert!(
        why.contains("<textarea name=\"why_hard\" id=\"q-why_hard\" rows=\"5\" maxlength=\"2000\"")
    );
    assert!(why.contains("was not “5”"));
    let comments = question_html(&html, "comments");
    assert!(comments.contains("<label class=\"q-label\" for=\"q-comments\">Anything else?</label>"));
    assert!(comments.contains("<textarea name=\"comments\""));
    assert!(!comments.contains("data-show-if"));

    // One submit button; no inline script or style (the CSP forbids them), no external URLs.
    assert_eq!(html.matches("type=\"submit\"").count(), 1);
    assert_eq!(html.matches("<script").count(), 1);
    assert!(html.contains("<script src=\"&#x2F;static&#x2F;chorus.js?v="));
    assert!(html.contains("<link rel=\"stylesheet\" href=\"&#x2F;static&#x2F;chorus.css?v="));
    assert!(!html.contains("style="));
    assert!(!html.contains("<style"));
    assert!(!html.contains("http:"));
    assert!(!html.contains("https:"));
}

#[actix_web::test]
async fn each_visit_gets_a_fresh_submission_id() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let mut ids = Vec::new();
    let mut pages = Vec::new();
    for _ in 0..3 {
        let req = test::TestRequest::get()
            .uri("/s/test-clinic/every-kind")
            .to_request();
        let html = String::from_utf8(test::call_and_read_body(&app, req).await.to_vec()).unwrap();
        let id = submission_id(&html);
        pages.push(html.replace(&id, "ID"));
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1]);
    assert_ne!(ids[1], ids[2]);
    // The first page is rendered, the others reuse it: the same page but for the id.
    assert_eq!(pages[0], pages[1]);
    assert_eq!(pages[1], pages[2]);
}

#[actix_web::test]
async fn every_demo_survey_renders_small_and_complete() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let site = t.state.sites.get("demo-clinic").expect("demo site");
    assert_eq!(site.site.surveys.len(), 3);
    for survey in &site.site.surveys {
        let req = test::TestRequest::get()
            .uri(&format!("/s/demo-clinic/{}", survey.id))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::OK, "{}", survey.id);
        let body = test::read_body(res).await;
        assert!(
            body.len() < 30 * 1024,
            "{} is {} bytes",
            survey.id,
            body.len()
        );
        let html = String::from_utf8(body.to_vec()).unwrap();
        assert!(html.contains("<header class=\"site\"><p>Demo Primary Care Clinic</p>"));
        for q in &survey.questions {
            assert!(
                html.contains(&format!("name=\"{}\"", q.id)),
                "{} renders {}",
                survey.id,
                q.id
            );
            assert!(html.contains(&format!("id=\"q-{}\"", q.id)));
        }
        // Every input has a label pointing at it.
        assert_eq!(
            html.matches("<input type=\"radio\"").count()
                + html.matches("<input type=\"checkbox\"").count()
                + html.matches("<input class=").count()
                + html.matches("<textarea").count(),
            html.matches("<label").count(),
            "{}: one label per control",
            survey.id
        );
    }
}

#[actix_web::test]
async fn the_patient_form_explains_the_help_text_and_phone_question() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let req = test::TestRequest::get()
        .uri("/s/demo-clinic/patient-enrollment")
        .to_request();
    let html = String::from_utf8(test::call_and_read_body(&app, req).await.to_vec()).unwrap();
    let aware = question_html(&html, "aware");
    assert!(aware.contains("<fieldset aria-describedby=\"q-aware-help\">"));
    assert!(
        aware.contains("<p class=\"help\" id=\"q-aware-help\">The patient portal is the website")
    );
    let phone = question_html(&html, "contact_phone");
    assert!(phone.contains("aria-describedby=\"q-contact_phone-help q-contact_phone-cond\""));
    assert!(phone.contains("maxlength=\"30\""));
}

#[actix_web::test]
async fn unknown_site_or_survey_gets_a_friendly_html_404() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    for uri in [
        "/s/no-such-site/every-kind",
        "/s/test-clinic/no-such-survey",
        "/s/test-clinic/no-such-survey/thanks",
        "/s/no-such-site",
    ] {
        let res = test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(
            header_of(&res, header::CONTENT_TYPE),
            "text/html; charset=utf-8",
            "{uri}"
        );
        let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
        assert!(
            html.contains("<h1>We could not find this survey</h1>"),
            "{uri}"
        );
        assert!(html.contains("<html lang=\"en\">"));
        assert!(!html.contains("\"error\""), "{uri}: no JSON");
        assert!(
            !html.contains("no-such"),
            "{uri}: the page does not echo the path"
        );
    }
}

#[actix_web::test]
async fn thank_you_page_is_kind_and_plain() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/s/test-clinic/every-kind/thanks")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(html.contains("<title>Thank you – Every question kind</title>"));
    assert!(html.contains("<h1>Thank you</h1>"));
    assert!(html.contains("Your answers have been saved."));
    assert!(!html.contains("<form"));
}

#[actix_web::test]
async fn site_page_links_to_each_survey() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let req = test::TestRequest::get().uri("/s/test-clinic").to_request();
    let html = String::from_utf8(test::call_and_read_body(&app, req).await.to_vec()).unwrap();
    assert!(html
        .contains("<a href=\"&#x2F;s&#x2F;test-clinic&#x2F;every-kind\">Every question kind</a>"));
    assert!(html.contains(
        "<a href=\"&#x2F;s&#x2F;test-clinic&#x2F;provider-short\">Provider short survey</a>"
    ));
}

#[actix_web::test]
async fn static_files_are_served_with_type_and_cache_headers() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let req = test::TestRequest::get()
        .uri("/s/test-clinic/every-kind")
        .to_request();
    let html = String::from_utf8(test::call_and_read_body(&app, req).await.to_vec()).unwrap();
    let start = html.find("chorus.css?v=").unwrap() + "chorus.css?v=".len();
    let version = &html[start..start + 16];

    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&format!("/static/chorus.css?v={version}"))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header_of(&res, header::CONTENT_TYPE),
        "text/css; charset=utf-8"
    );
    assert_eq!(
        header_of(&res, header::CACHE_CONTROL),
        "public, max-age=31536000, immutable"
    );
    let etag = header_of(&res, header::ETAG);
    assert_eq!(etag, format!("\"{version}\""));
    let css = test::read_body(res).await;
    let on_disk = std::fs::read(common::repo().join("templates/static/chorus.css")).unwrap();
    assert_eq!(css.as_ref(), on_disk.as_slice());

    // Unversioned: a short cache; a matching ETag: 304.
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/static/chorus.js")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        header_of(&res, header::CONTENT_TYPE),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        header_of(&res, header::CACHE_CONTROL),
        "public, max-age=300"
    );
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/static/chorus.css")
            .insert_header((header::IF_NONE_MATCH, etag.as_str()))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);

    for missing in [
        "/static/nope.css",
        "/static/..%2Fbase.html",
        "/static/base.html",
    ] {
        let res =
            test::call_service(&app, test::TestRequest::get().uri(missing).to_request()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{missing}");
    }
}

#[actix_web::test]
async fn a_missing_static_file_stops_the_start() {
    let templates = tempfile::tempdir().unwrap();
    let source = common::repo().join("templates");
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, templates.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    std::fs::create_dir(templates.path().join("static")).unwrap();
    std::fs::copy(
        source.join("static/chorus.css"),
        templates.path().join("static/chorus.css"),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = chorus::Config {
        templates: templates.path().to_path_buf(),
        ..common::fixture_config(data.path())
    };
    let err = match chorus::AppState::open(config).await {
        Ok(_) => panic!("the app must not start without chorus.js"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("chorus.js"), "{err}");
}

#[actix_web::test]
async fn pages_answer_head_requests() {
    let t = common::fixture_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    for uri in [
        "/s/test-clinic/every-kind",
        "/s/test-clinic/every-kind/thanks",
        "/s/test-clinic",
        "/s/test-clinic/every-kind/qr.svg",
        "/s/test-clinic/every-kind/poster",
        "/static/chorus.css",
    ] {
        let req = test::TestRequest::default()
            .method(actix_web::http::Method::HEAD)
            .uri(uri)
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
    }
}

/// Copies a folder tree (the fixture sites) so a test can edit it.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

#[actix_web::test]
async fn a_reloaded_survey_shows_its_new_text() {
    let sites = tempfile::tempdir().unwrap();
    copy_tree(&common::repo().join("tests/fixtures/sites"), sites.path());
    let t = common::state_with(|data| chorus::Config {
        sites: sites.path().to_path_buf(),
        ..common::fixture_config(data)
    })
    .await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let get = || {
        test::TestRequest::get()
            .uri("/s/test-clinic/provider-short")
            .to_request()
    };
    let first = String::from_utf8(test::call_and_read_body(&app, get()).await.to_vec()).unwrap();
    assert!(first.contains("Is enrollment help available?"));

    let file = sites.path().join("test-clinic/surveys/provider-short.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace(
            "Is enrollment help available?",
            "Can patients get help signing up?",
        ),
    )
    .unwrap();
    t.state.sites.reload("test-clinic", None).expect("reload");

    let second = String::from_utf8(test::call_and_read_body(&app, get()).await.to_vec()).unwrap();
    assert!(second.contains("Can patients get help signing up?"));
    assert!(!second.contains("Is enrollment help available?"));
    assert_ne!(submission_id(&first), submission_id(&second));
}
