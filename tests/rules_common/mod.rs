//! Helpers shared by the tests/rules_*.rs files.
#![allow(dead_code)]

use crate::common;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use chorus::Config;
use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn fixtures() -> PathBuf {
    common::repo().join("tests/fixtures/rules")
}

/// Config for a fixture root holding `sites/` and `plugins/`.
pub fn config_for(root: &Path, data: &Path) -> Config {
    Config {
        sites: root.join("sites"),
        plugins: root.join("plugins"),
        ..common::demo_config(data)
    }
}

pub fn hostile_config(data: &Path) -> Config {
    Config {
        // Generous, so that a loaded debug build reaches each size limit before the clock.
        rule_deadline: std::time::Duration::from_millis(1500),
        ..config_for(&fixtures().join("hostile"), data)
    }
}

/// Copies a folder tree (fixtures that a test edits are copied to a temp dir first).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A request with an optional bearer token and JSON body; returns status and JSON body.
pub async fn call<S, B>(
    app: &S,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    let mut req = match method {
        "GET" => test::TestRequest::get(),
        "POST" => test::TestRequest::post(),
        other => panic!("unsupported method {other}"),
    }
    .uri(path);
    if let Some(t) = token {
        req = req.insert_header(("Authorization", format!("Bearer {t}")));
    }
    if let Some(b) = body {
        req = req.set_json(b);
    }
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let bytes = test::read_body(res).await;
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

/// Submits answers to a survey through the public JSON API.
pub async fn submit<S, B>(app: &S, site: &str, survey: &str, answers: Value) -> (StatusCode, Value)
where
    S: Service<actix_http::Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: actix_web::body::MessageBody,
{
    call(
        app,
        "POST",
        &format!("/api/v1/sites/{site}/surveys/{survey}/responses"),
        None,
        Some(serde_json::json!({ "answers": answers })),
    )
    .await
}

/// A copy of the demo site and the shipped plugins that a test may edit, under `dir`.
pub fn demo_copy(dir: &Path) -> PathBuf {
    let root = dir.join("deployment");
    copy_dir(&common::repo().join("sites"), &root.join("sites"));
    copy_dir(&common::repo().join("plugins"), &root.join("plugins"));
    root
}

/// The title of the task the demo's rules/parking.rhai opens, and a shorter one tests apply.
pub const PARKING_TITLE: &str =
    "Offer portal sign-up by phone: the patient could not get to the enrollment desk";
pub const SHORTER_TITLE: &str = "Call to sign up by phone: could not reach the desk";

/// A patient who could not park and wants a call: parking.rhai opens its task first.
pub fn wants_a_call() -> Value {
    serde_json::json!({ "aware": "yes", "tried": "no", "contact_ok": "yes",
        "contact_phone": "555-0100", "comments": "there is no parking" })
}

/// Makes the demo site of a `demo_copy` keep its rules in the store (`rules_source =
/// "store"`, before the first table of its site.toml).
pub fn rules_in_store(root: &Path) {
    let file = root.join("sites/demo-clinic/site.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("rules_source = \"store\"\n{text}")).unwrap();
}

/// `chorus check` (the real binary) on `root/sites` and `root/plugins`.
pub fn chorus_check(root: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_chorus"))
        .arg("check")
        .arg("--sites")
        .arg(root.join("sites"))
        .arg("--plugins")
        .arg(root.join("plugins"))
        .env("CHORUS_LOG", "warn")
        .output()
        .expect("run chorus check")
}
