//! Rule tests that survive new barriers (`expect_tags_include`), and the warning when two rules
//! create the same kind of action for the same queue on one response (`chorus check`, the dry
//! run and the admin "try it" form).

mod admin_support;
mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use admin_support::*;
use chorus::create_app;
use chorus::domain::Role;
use rules_common::{call, chorus_check, config_for, demo_copy};
use serde_json::json;

const INCLUDE_CASES: &str = r#"[[case]]
name = "parking, whatever else is tagged"
survey = "patient-enrollment"
answers = { aware = "no", tried = "no", contact_ok = "no", comments = "No parking, and I never heard of the portal" }
expect_tags_include = ["parking"]

[[case]]
name = "a tag that is not there"
survey = "patient-enrollment"
answers = { aware = "no", tried = "no", contact_ok = "no", comments = "No parking" }
expect_tags_include = ["parking", "privacy_concern"]
"#;

#[::core::prelude::v1::test]
fn expect_tags_include_passes_with_more_tags_and_fails_on_a_missing_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    let file = root.join("sites/demo-clinic/rules/tests/include.toml");
    std::fs::write(&file, INCLUDE_CASES).unwrap();
    let out = chorus_check(&root);
    let printed = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{printed}");
    let lines: Vec<&str> = printed.lines().collect();
    assert_eq!(lines.len(), 1, "{printed}");
    assert!(
        lines[0].starts_with(&format!(
            "{}:11:23: case \"a tag that is not there\": expected tags to include [parking, privacy_concern], got [",
            file.display()
        )),
        "{printed}"
    );
    assert!(lines[0].ends_with("(missing privacy_concern)"), "{printed}");
    // The first case got awareness too, and passed.
    assert!(!printed.contains("whatever else"), "{printed}");
}

/// A second rule that also opens a front-desk task for parking trouble.
const SECOND_DESK_RULE: &str = "fn follow_up(response) {\n    if \"parking\" in response.tags && response.answers.contact_ok == \"yes\" {\n        return [#{ action: \"task\", queue: \"front-desk\", title: \"Help at the desk\" }];\n    }\n    []\n}\n";

const WARNING: &str = "rules/parking.rhai and rules/zz_desk.rhai each create a task in queue \"front-desk\" for this response: it would get 2";

#[::core::prelude::v1::test]
fn check_warns_once_when_two_rules_open_a_task_in_the_same_queue() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    std::fs::write(
        root.join("sites/demo-clinic/rules/zz_desk.rhai"),
        SECOND_DESK_RULE,
    )
    .unwrap();
    let out = chorus_check(&root);
    let printed = String::from_utf8_lossy(&out.stdout);
    let warnings: Vec<&str> = printed
        .lines()
        .filter(|l| l.contains(": warning: "))
        .collect();
    assert_eq!(warnings.len(), 1, "{printed}");
    let tests_file = root.join("sites/demo-clinic/rules/tests/parking.toml");
    assert!(
        warnings[0].starts_with(&format!("{}:3:1: case \"", tests_file.display())),
        "{printed}"
    );
    assert!(warnings[0].contains(WARNING), "{printed}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 rule warning(s)"));
}

#[actix_web::test]
async fn the_dry_run_and_try_it_warn_about_two_tasks_in_one_queue() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    std::fs::write(
        root.join("sites/demo-clinic/rules/zz_desk.rhai"),
        SECOND_DESK_RULE,
    )
    .unwrap();
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "admin", "demo-clinic", Role::Admin).await;
    let answers = json!({ "aware": "yes", "tried": "no", "contact_ok": "yes",
                          "contact_phone": "555-0100", "comments": "no parking" });
    let (status, out) = call(
        &app,
        "POST",
        "/api/v1/sites/demo-clinic/rules/dry-run",
        Some(&admin),
        Some(json!({ "survey": "patient-enrollment", "answers": answers })),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let warnings = out["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{out}");
    assert!(warnings[0].as_str().unwrap().starts_with(WARNING), "{out}");
    // Without a call request neither rule opens a task: no warning.
    let (_, quiet) = call(
        &app,
        "POST",
        "/api/v1/sites/demo-clinic/rules/dry-run",
        Some(&admin),
        Some(json!({ "survey": "patient-enrollment",
                     "answers": { "aware": "yes", "tried": "no", "contact_ok": "no", "comments": "no parking" } })),
    )
    .await;
    assert_eq!(quiet["warnings"], json!([]), "{quiet}");

    add_person(&t.state, "ada", "demo-clinic", Role::Admin).await;
    let ada = sign_in(&app, "ada", PASSWORD).await.session.unwrap();
    let (_, _, form) = get_page(
        &app,
        &ada,
        "/admin/sites/demo-clinic/rules?survey=patient-enrollment",
    )
    .await;
    let req = test::TestRequest::post()
        .uri("/admin/sites/demo-clinic/rules/try")
        .cookie(ada.clone())
        .set_form([
            ("csrf", csrf_of(&form).as_str()),
            ("survey", "patient-enrollment"),
            ("aware", "yes"),
            ("tried", "no"),
            ("contact_ok", "yes"),
            ("contact_phone", "555-0100"),
            ("comments", "no parking"),
        ])
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = body_text(res).await;
    assert!(page.contains("<h4>Warnings</h4>"), "{page}");
    assert!(
        page.contains("rules&#x2F;parking.rhai and rules&#x2F;zz_desk.rhai each create a task in queue &quot;front-desk&quot;"),
        "{page}"
    );
}
