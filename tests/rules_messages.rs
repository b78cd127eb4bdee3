//! Messages a beginner can act on: a method read on an unanswered answer names the answer and
//! `is_answered`; a hook that runs out of operations or time names the loop's line; `chorus
//! check` reports one rule error once, with the number of test cases it broke.

mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use rules_common::{call, chorus_check, config_for, demo_copy};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// A copy of the demo site and plugins with one more rule file.
fn demo_with_rule(dir: &Path, name: &str, text: &str) -> PathBuf {
    let root = demo_copy(dir);
    std::fs::write(root.join("sites/demo-clinic/rules").join(name), text).unwrap();
    root
}

/// The dry run's errors for a patient who tried, and left no comment.
async fn dry_run_errors(root: &Path) -> Vec<Value> {
    let t = common::state_with(|data| config_for(root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "admin", "demo-clinic", Role::Admin).await;
    let body = json!({ "survey": "patient-enrollment",
                       "answers": { "aware": "yes", "tried": "no", "contact_ok": "no" } });
    let (status, out) = call(
        &app,
        "POST",
        "/api/v1/sites/demo-clinic/rules/dry-run",
        Some(&admin),
        Some(body),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    out["errors"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn a_method_of_an_unanswered_answer_names_the_answer_and_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_with_rule(
        dir.path(),
        "lower.rhai",
        "fn tag(response) {\n    let comments = response.answers.comments;\n    if comments.to_lower().contains(\"bus\") { return [\"parking\"]; }\n    []\n}\n",
    );
    let errors = dry_run_errors(&root).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e["source"], "rules/lower.rhai");
    assert_eq!((e["line"].as_u64(), e["col"].as_u64()), (Some(3), Some(17)));
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("the answer `comments` is empty (not answered, or hidden by show_if)"),
        "{message}"
    );
    assert!(message.contains("is_answered(comments)"), "{message}");
}

#[actix_web::test]
async fn an_endless_loop_is_reported_at_the_loop_not_the_fn() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_with_rule(
        dir.path(),
        "spin.rhai",
        "fn tag(response) {\n    let n = 0;\n    count(n)\n}\n\nfn count(n) {\n    while n >= 0 {\n        n += 1;\n    }\n    []\n}\n",
    );
    let errors = dry_run_errors(&root).await;
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e["source"], "rules/spin.rhai");
    assert_eq!((e["line"].as_u64(), e["col"].as_u64()), (Some(7), Some(5)));
    let message = e["message"].as_str().unwrap();
    // Whichever limit stops it (operations or the time limit on a busy machine).
    assert!(
        message.contains("in the loop at line 7: check that it ends"),
        "{message}"
    );
}

#[::core::prelude::v1::test]
fn check_reports_one_rule_error_once_with_the_cases_it_broke() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_with_rule(
        dir.path(),
        "aaa_throws.rhai",
        "fn tag(response) {\n    throw \"boom\";\n}\n",
    );
    let tests_dir = root.join("sites/demo-clinic/rules/tests");
    let mut cases = 0;
    for entry in std::fs::read_dir(&tests_dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        cases += text
            .lines()
            .filter(|l| *l == "[[case]]" || *l == "[[review]]")
            .count();
    }
    assert!(cases > 20, "the demo site has {cases} cases");
    let out = chorus_check(&root);
    assert_eq!(out.status.code(), Some(1));
    let printed = String::from_utf8_lossy(&out.stdout);
    let boom: Vec<&str> = printed.lines().filter(|l| l.contains("boom")).collect();
    assert_eq!(boom.len(), 1, "{printed}");
    assert!(
        boom[0].contains(&format!(
            ": rule error in rules/aaa_throws.rhai fn tag at 2:5: threw: boom (broke {cases} test cases, the first case \""
        )),
        "{}",
        boom[0]
    );
    assert!(
        boom[0].starts_with(&tests_dir.display().to_string()),
        "{}",
        boom[0]
    );
}
