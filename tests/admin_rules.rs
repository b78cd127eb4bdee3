//! The rules page: sources (escaped) and their errors, "try it" (a dry run that stores
//! nothing), "Reload from disk" (a broken file keeps the running version), CSRF and roles.

mod admin_support;
mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::Role;
use common::TestStore;
use rules_common::{config_for, copy_dir};
use std::path::{Path, PathBuf};

/// A copy of the demo site and plugins that the test may edit.
fn demo_copy(dir: &Path) -> PathBuf {
    let root = dir.join("deployment");
    copy_dir(&common::repo().join("sites"), &root.join("sites"));
    copy_dir(&common::repo().join("plugins"), &root.join("plugins"));
    root
}

macro_rules! post_form {
    ($app:expr, $cookie:expr, $uri:expr, $form:expr) => {{
        let req = test::TestRequest::post()
            .uri($uri)
            .cookie($cookie.clone())
            .set_form($form)
            .to_request();
        let res = test::call_service(&$app, req).await;
        let status = res.status();
        (status, body_text(res).await)
    }};
}

const PAGE: &str = "/admin/sites/demo-clinic/rules";

#[actix_web::test]
async fn the_page_shows_every_script_escaped_and_only_to_site_admins() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    std::fs::write(
        root.join("sites/demo-clinic/rules/zz_markup.rhai"),
        "// <script>alert(\"x\")</script> & more\nfn tag(response) { [] }\n",
    )
    .unwrap();
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    for (name, site, role) in [
        ("ada", "demo-clinic", Role::Admin),
        ("sam", "demo-clinic", Role::Staff),
        ("vic", "demo-clinic", Role::Viewer),
        ("oz", "other-clinic", Role::Admin),
    ] {
        add_person(&t.state, name, site, role).await;
    }

    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();
    let (status, _, body) = get_page(&app, &ada, PAGE).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for source in [
        "barrier_keywords",
        "enrollment_followup",
        "rules&#x2F;parking.rhai",
        "rules&#x2F;enrollment_review.rhai",
        "rules&#x2F;zz_markup.rhai",
    ] {
        assert!(body.contains(source), "{source} missing");
    }
    // The scripts' own text, escaped.
    assert!(
        body.contains("const PATIENT_ANSWERS = answer_table(#{"),
        "{body}"
    );
    assert!(body.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;&#x2F;script&gt; &amp; more"));
    assert!(!body.contains("<script>"));
    assert!(
        body.contains("hooks: review"),
        "the review rule is listed with its hook"
    );
    // The nav links to the page for admins.
    assert!(body.contains("href=\"/admin/sites/demo-clinic/rules\""));

    for name in ["sam", "vic", "oz"] {
        let session = sign_in(&app, name, PASSWORD).await.session.unwrap();
        let (status, _, _) = get_page(&app, &session, PAGE).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
        let (status, _) = post_form!(
            app,
            session,
            "/admin/sites/demo-clinic/rules/reload",
            [("csrf", "whatever")]
        );
        assert_eq!(status, StatusCode::FORBIDDEN, "{name}");
    }
    let sam = sign_in(&app, "sam", PASSWORD).await.session.unwrap();
    let (_, _, dashboard) = get_page(&app, &sam, "/admin/sites/demo-clinic").await;
    assert!(!dashboard.contains("/rules\""), "no Rules link for staff");
}

#[actix_web::test]
async fn try_it_shows_tags_and_actions_and_stores_nothing() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ada", "demo-clinic", Role::Admin).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();

    let (status, _, form) =
        get_page(&app, &ada, &format!("{PAGE}?survey=patient-enrollment")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form.contains("type=\"radio\" name=\"aware\" value=\"yes\""),
        "{form}"
    );
    assert!(form.contains("type=\"checkbox\" name=\"what_happened\" value=\"error\""));
    assert!(form.contains("name=\"comments\""));
    let csrf = csrf_of(&form);

    let (status, body) = post_form!(
        app,
        ada,
        "/admin/sites/demo-clinic/rules/try",
        [
            ("csrf", csrf.as_str()),
            ("survey", "patient-enrollment"),
            ("aware", "yes"),
            ("tried", "yes"),
            ("enrolled", "no"),
            ("what_happened", "error"),
            ("what_happened", "locked_out"),
            ("contact_ok", "yes"),
            ("contact_phone", "555-0100"),
            ("comments", "no <b>parking</b> near the desk"),
        ]
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Result (nothing stored)"));
    assert!(body.contains("enrollment_technical"));
    assert!(
        body.contains("rules&#x2F;parking.rhai"),
        "tag with its source"
    );
    assert!(
        body.contains("Call back to help finish portal enrollment"),
        "{body}"
    );
    assert!(body.contains("helpdesk"));
    // The answers stay in the form, escaped.
    assert!(body.contains("no &lt;b&gt;parking&lt;&#x2F;b&gt; near the desk"));
    assert!(body.contains("value=\"locked_out\" checked"));

    let store = &t.state.store;
    assert_eq!(store.count_responses("demo-clinic").await.unwrap(), 0);
    assert!(store.all_tasks("demo-clinic").await.unwrap().is_empty());
    assert!(store
        .all_deliveries("demo-clinic", None)
        .await
        .unwrap()
        .is_empty());

    // Answers a submission would refuse: the problems, beside their questions; no hook ran.
    let (status, body) = post_form!(
        app,
        ada,
        "/admin/sites/demo-clinic/rules/try",
        [
            ("csrf", csrf.as_str()),
            ("survey", "patient-enrollment"),
            ("aware", "maybe"),
        ]
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("no hook ran"));
    assert!(body.contains("id=\"problem-aware\""));
    assert!(!body.contains("Result (nothing stored)"));
    assert_eq!(store.count_responses("demo-clinic").await.unwrap(), 0);

    // An unknown survey is a 404 page.
    let (status, _, _) = get_page(&app, &ada, &format!("{PAGE}?survey=nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn forms_without_the_right_csrf_token_are_refused() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ada", "demo-clinic", Role::Admin).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();
    for uri in [
        "/admin/sites/demo-clinic/rules/try",
        "/admin/sites/demo-clinic/rules/reload",
    ] {
        let (status, _) = post_form!(app, ada, uri, [("survey", "patient-enrollment")]);
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri} without a token");
        let (status, _) = post_form!(
            app,
            ada,
            uri,
            [("csrf", "not-the-token"), ("survey", "patient-enrollment")]
        );
        assert_eq!(status, StatusCode::FORBIDDEN, "{uri} with a wrong token");
    }
    assert_eq!(
        t.state.store.count_responses("demo-clinic").await.unwrap(),
        0
    );
}

#[actix_web::test]
async fn reload_with_a_broken_file_shows_where_and_keeps_the_running_version() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    add_person(&t.state, "ada", "demo-clinic", Role::Admin).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();
    let rule = root.join("sites/demo-clinic/rules/parking.rhai");
    let original = std::fs::read_to_string(&rule).unwrap();

    std::fs::write(&rule, "fn tag(response) {\n    [\"parking\"\n}\n").unwrap();
    let (_, _, page) = get_page(&app, &ada, PAGE).await;
    let csrf = csrf_of(&page);
    let (status, body) = post_form!(
        app,
        ada,
        "/admin/sites/demo-clinic/rules/reload",
        [("csrf", csrf.as_str())]
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("the running version is kept"));
    assert!(body.contains("parking.rhai:3:1: "), "{body}");
    // The page still shows (and the site still runs) the old version.
    let first_line = original.lines().next().unwrap();
    let escaped = first_line
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2F;");
    assert!(body.contains(&escaped), "old source shown: {first_line}");
    let (_, _, form) = get_page(&app, &ada, &format!("{PAGE}?survey=patient-enrollment")).await;
    let (status, tried) = post_form!(
        app,
        ada,
        "/admin/sites/demo-clinic/rules/try",
        [
            ("csrf", csrf_of(&form).as_str()),
            ("survey", "patient-enrollment"),
            ("aware", "yes"),
            ("tried", "no"),
            ("contact_ok", "no"),
            ("comments", "there is no parking at all"),
        ]
    );
    assert_eq!(status, StatusCode::OK, "{tried}");
    assert!(
        tried.contains("Could not get to the enrollment desk"),
        "{tried}"
    );

    // A valid file that fails the parking rule tests is refused, and the page says which.
    std::fs::write(&rule, "fn tag(response) {\n    []\n}\n").unwrap();
    let (status, body) = post_form!(
        app,
        ada,
        "/admin/sites/demo-clinic/rules/reload",
        [("csrf", csrf.as_str())]
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body.contains("rule test(s) fail with the files on disk"),
        "{body}"
    );
    assert!(
        body.contains("parking.toml:") && body.contains("case &quot;"),
        "{body}"
    );
    assert!(body.contains(&escaped), "the old source still runs");

    // "Apply anyway" loads it and the page records who did it and which tests fail.
    let (status, body) = post_form!(
        app,
        ada,
        "/admin/sites/demo-clinic/rules/reload",
        [("csrf", csrf.as_str()), ("apply_anyway", "yes")]
    );
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Reloaded"));
    assert!(body.contains("applied anyway by ada at"), "{body}");
    assert!(!body.contains(&escaped));
    let rt = t.state.sites.get("demo-clinic").unwrap();
    let forced = rt.applied_anyway.as_ref().expect("recorded");
    assert_eq!(forced.by, "ada");
    assert!(forced
        .failing_tests
        .iter()
        .all(|l| l.contains("parking.toml:")));
}
