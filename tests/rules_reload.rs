//! Hot reload: POST /api/v1/sites/{site}/reload and SIGHUP re-read the site from disk and run
//! its rule tests; a broken file or a failing test keeps the running version and returns (or
//! logs) every problem, unless an admin applies it anyway (recorded).

mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use rules_common::{call, config_for, copy_dir, submit};
use serde_json::{json, Value};
use std::path::Path;

/// A copy of the demo site and plugins that the test may edit.
fn demo_copy(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("deployment");
    copy_dir(&common::repo().join("sites"), &root.join("sites"));
    copy_dir(&common::repo().join("plugins"), &root.join("plugins"));
    root
}

fn parking_answers() -> Value {
    json!({ "aware": "yes", "tried": "no", "contact_ok": "no", "comments": "no parking at all" })
}

#[actix_web::test]
async fn a_broken_rule_keeps_the_running_version_and_a_fixed_one_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "admin", "demo-clinic", Role::Admin).await;
    let url = "/api/v1/sites/demo-clinic/reload";
    let rule = root.join("sites/demo-clinic/rules/parking.rhai");

    let (_, before) = submit(&app, "demo-clinic", "patient-enrollment", parking_answers()).await;
    assert_eq!(before["tags"], json!(["parking"]));

    std::fs::write(&rule, "fn tag(response) {\n    [\"parking\"\n}\n").unwrap();
    let (status, out) = call(&app, "POST", url, Some(&admin), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert_eq!(out["error"]["code"], "site_invalid");
    let errors = out["error"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{out}");
    let line = errors[0].as_str().unwrap();
    assert!(
        line.starts_with(&format!("{}:3:1: ", rule.display())),
        "{line}"
    );

    // Still the old rule.
    let (status, after) =
        submit(&app, "demo-clinic", "patient-enrollment", parking_answers()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(after["tags"], json!(["parking"]));

    // A valid new version that fails the parking rule tests is refused: each failing test at
    // its place, and the old rule still runs.
    std::fs::write(
        &rule,
        "fn tag(response) {\n    if has_word(response.answers.comments, \"parking\") { [\"access_technology\"] } else { [] }\n}\n",
    )
    .unwrap();
    let (status, out) = call(&app, "POST", url, Some(&admin), None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    assert_eq!(out["error"]["code"], "rule_tests_failed");
    let tests_file = root.join("sites/demo-clinic/rules/tests/parking.toml");
    let failing = out["error"]["errors"].as_array().unwrap();
    assert!(!failing.is_empty());
    for line in failing {
        let line = line.as_str().unwrap();
        assert!(
            line.starts_with(&format!("{}:", tests_file.display())) && line.contains(": case \""),
            "{line}"
        );
    }
    assert!(out["error"]["message"]
        .as_str()
        .unwrap()
        .contains("rule test(s) fail"));
    let (_, still) = submit(&app, "demo-clinic", "patient-enrollment", parking_answers()).await;
    assert_eq!(still["tags"], json!(["parking"]));

    // Applied anyway, it takes over, and the answer records who and which tests fail.
    let (status, out) = call(
        &app,
        "POST",
        &format!("{url}?apply_anyway=true"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["applied_anyway"]["by"], "admin");
    assert_eq!(
        out["applied_anyway"]["failing_tests"]
            .as_array()
            .unwrap()
            .len(),
        failing.len()
    );
    assert_eq!(
        out["sources"],
        json!([
            "barrier_keywords",
            "enrollment_followup",
            "rules/enrollment_review.rhai",
            "rules/parking.rhai"
        ])
    );
    let (_, now) = submit(&app, "demo-clinic", "patient-enrollment", parking_answers()).await;
    assert_eq!(now["tags"], json!(["access_technology"]));
}

#[actix_web::test]
async fn a_missing_plugin_is_refused_with_its_place_in_site_toml() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "admin", "*", Role::Admin).await;
    let site_toml = root.join("sites/demo-clinic/site.toml");
    let text = std::fs::read_to_string(&site_toml).unwrap().replace(
        "plugins = [\"barrier_keywords\", \"enrollment_followup\"]",
        "plugins = [\"barrier_keywords\", \"no_such_plugin\"]",
    );
    std::fs::write(&site_toml, text).unwrap();
    let (status, out) = call(
        &app,
        "POST",
        "/api/v1/sites/demo-clinic/reload",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{out}");
    let line = out["error"]["errors"][0].as_str().unwrap().to_string();
    assert!(
        line.starts_with(&format!(
            "{}:5:32: plugin \"no_such_plugin\" not found",
            site_toml.display()
        )),
        "{line}"
    );
    // The running version still has both plugins.
    let rt = t.state.sites.get("demo-clinic").unwrap();
    assert_eq!(rt.rules.sources()[1], "enrollment_followup");

    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/sites/nowhere/reload",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let viewer = common::add_user(&t.state, "viewer", "demo-clinic", Role::Viewer).await;
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/sites/demo-clinic/reload",
        Some(&viewer),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[::core::prelude::v1::test]
fn sighup_reloads_the_sites_of_a_running_server() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    let data = dir.path().join("data");
    let port = common::server::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chorus"))
        .arg("serve")
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data")
        .arg(&data)
        .arg("--sites")
        .arg(root.join("sites"))
        .arg("--plugins")
        .arg(root.join("plugins"))
        .arg("--templates")
        .arg(common::repo().join("templates"))
        .envs(common::pg::env_for(&data))
        .env("CHORUS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("serve.log")).unwrap())
        .spawn()
        .expect("start chorus serve");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::new();
    let wait_until = |what: &str, ok: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ok() {
            assert!(
                Instant::now() < deadline,
                "gave up waiting for {what}; server log:\n{}",
                std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait_until("health", &|| {
        client
            .get(format!("{base}/healthz"))
            .send()
            .is_ok_and(|r| r.status().is_success())
    });
    let token = std::fs::read_to_string(data.join("initial-admin-token")).unwrap();
    let dry_run_tags = || -> Value {
        let res = client
            .post(format!("{base}/api/v1/sites/demo-clinic/rules/dry-run"))
            .bearer_auth(token.trim())
            .json(&json!({ "survey": "patient-enrollment", "answers": parking_answers() }))
            .send()
            .unwrap();
        let body: Value = res.json().unwrap();
        body["tags"].clone()
    };
    assert_eq!(dry_run_tags()[0]["code"], "parking");

    let hup = |pid: u32| {
        Command::new("kill")
            .args(["-HUP", &pid.to_string()])
            .status()
            .unwrap()
    };
    // A broken rule: the running version stays.
    let rule = root.join("sites/demo-clinic/rules/parking.rhai");
    std::fs::write(&rule, "fn tag(response) { oops }\n").unwrap();
    assert!(hup(child.id()).success());
    let log = || std::fs::read_to_string(dir.path().join("serve.log")).unwrap_or_default();
    wait_until("the refused reload", &|| {
        log().contains("its running version (if any) is kept")
    });
    assert_eq!(dry_run_tags()[0]["code"], "parking");
    // A valid one that fails the rule tests is refused too, with the failing tests logged.
    std::fs::write(&rule, "fn tag(response) { [\"value_unclear\"] }\n").unwrap();
    assert!(hup(child.id()).success());
    wait_until("the reload refused by the rule tests", &|| {
        log().contains("parking.toml:")
    });
    assert_eq!(dry_run_tags()[0]["code"], "parking");
    // Without the tests it breaks, it replaces the running version.
    std::fs::remove_dir_all(root.join("sites/demo-clinic/rules/tests")).unwrap();
    assert!(hup(child.id()).success());
    wait_until("the reloaded rule", &|| {
        dry_run_tags()[0]["code"] == "value_unclear"
    });

    let _ = child.kill();
    let _ = child.wait();
}
