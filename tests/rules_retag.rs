//! Re-tagging: POST /api/v1/sites/{site}/retag re-runs the current tag hooks over stored
//! responses in the background (GET shows progress); old responses get the new tags with their
//! sources, never new follow-ups; an interrupted run resumes after its cursor.

mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::StoredResponse;
use chorus::domain::{RetagProgress, RetagStatus, Role};
use common::TestStore;
use rules_common::{call, config_for, copy_dir, submit};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const SITE: &str = "demo-clinic";

/// A rule that tags "kiosk" comments and would create a task for them, and throws on "boom".
const KIOSK_RULE: &str = r#"
fn tag(response) {
    let text = response.answers.comments;
    if has_word(text, "boom") { throw "boom in the comments"; }
    if has_word(text, "kiosk") { ["access_technology"] } else { [] }
}

fn follow_up(response) {
    if "access_technology" in response.tags {
        return [#{ action: "task", queue: "kiosk", title: "Check the lobby kiosk" }];
    }
    []
}
"#;

fn deployment(dir: &Path) -> std::path::PathBuf {
    let root = dir.join("deployment");
    copy_dir(&common::repo().join("sites"), &root.join("sites"));
    copy_dir(&common::repo().join("plugins"), &root.join("plugins"));
    root
}

fn patient(comments: &str) -> Value {
    json!({ "aware": "yes", "tried": "no", "contact_ok": "no", "comments": comments })
}

async fn stored(state: &chorus::AppState, body: &Value) -> StoredResponse {
    let id = uuid::Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    state.store.response(SITE, id).await.unwrap().unwrap()
}

async fn wait_done(state: &chorus::AppState) -> RetagProgress {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(p) = state.store.retag_progress(SITE).await.unwrap() {
            if p.status != RetagStatus::Running {
                return p;
            }
        }
        assert!(Instant::now() < deadline, "re-tag did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[actix_web::test]
async fn a_new_rule_applies_to_old_responses_without_new_follow_ups() {
    let dir = tempfile::tempdir().unwrap();
    let root = deployment(dir.path());
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "admin", SITE, Role::Admin).await;
    let url = format!("/api/v1/sites/{SITE}/retag");

    let (status, never) = call(&app, "GET", &url, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(never, json!({ "status": "never" }));

    let (_, kiosk) = submit(
        &app,
        SITE,
        "patient-enrollment",
        patient("The kiosk ate my card"),
    )
    .await;
    let (_, plain) = submit(
        &app,
        SITE,
        "patient-enrollment",
        patient("All good, thanks"),
    )
    .await;
    let (_, boom) = submit(
        &app,
        SITE,
        "patient-enrollment",
        patient("boom, and no parking"),
    )
    .await;
    assert_eq!(kiosk["tags"], json!([]));
    let before_plain = stored(&t.state, &plain).await;
    assert_eq!(stored(&t.state, &boom).await.tag_codes(), ["parking"]);

    std::fs::write(root.join("sites/demo-clinic/rules/kiosk.rhai"), KIOSK_RULE).unwrap();
    let (status, _) = call(
        &app,
        "POST",
        &format!("/api/v1/sites/{SITE}/reload"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let (status, started) = call(&app, "POST", &url, Some(&admin), None).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{started}");
    assert_eq!(started["total"], 3);
    assert!(started["started_at"].is_string());
    let progress = wait_done(&t.state).await;
    assert_eq!(progress.status, RetagStatus::Done);
    assert_eq!((progress.done, progress.total), (3, 3));
    assert_eq!(progress.changed, 2, "{progress:?}");
    assert_eq!(progress.with_errors, 1);
    let (_, shown) = call(&app, "GET", &url, Some(&admin), None).await;
    assert_eq!(shown["status"], "done");
    assert_eq!(shown["done"], 3);

    // The old kiosk response has the new tag with its source, and no new follow-up.
    let k = stored(&t.state, &kiosk).await;
    assert_eq!(k.tags.len(), 1);
    assert_eq!(
        (k.tags[0].code.as_str(), k.tags[0].source.as_str()),
        ("access_technology", "rules/kiosk.rhai")
    );
    assert!(k.follow_ups.is_empty());
    assert_eq!(stored(&t.state, &plain).await, before_plain);
    // A tag hook that fails during the re-tag is recorded like at submission.
    let b = stored(&t.state, &boom).await;
    assert_eq!(b.tag_codes(), ["parking"]);
    assert_eq!(b.rule_errors.len(), 1);
    assert_eq!(b.rule_errors[0].source, "rules/kiosk.rhai");
    let (_, errors) = call(
        &app,
        "GET",
        &format!("/api/v1/sites/{SITE}/rule-errors"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(errors["rule_errors"][0]["response_id"], boom["id"]);
    assert_eq!(
        errors["rule_errors"][0]["message"],
        "threw: boom in the comments"
    );

    // New responses get the rule's follow-up as usual.
    let (_, new) = submit(&app, SITE, "patient-enrollment", patient("kiosk again")).await;
    assert_eq!(new["follow_ups"][0]["queue"], "kiosk");

    // Once fixed, a second re-tag marks the error superseded: the history stays, on the
    // response and in the index, and a third re-tag changes nothing.
    std::fs::write(
        root.join("sites/demo-clinic/rules/kiosk.rhai"),
        KIOSK_RULE.replace("throw \"boom in the comments\";", "return [];"),
    )
    .unwrap();
    call(
        &app,
        "POST",
        &format!("/api/v1/sites/{SITE}/reload"),
        Some(&admin),
        None,
    )
    .await;
    let (status, _) = call(&app, "POST", &url, Some(&admin), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let second = wait_done(&t.state).await;
    assert_eq!(second.total, 4);
    assert_eq!(second.with_errors, 0);
    let b = stored(&t.state, &boom).await;
    assert_eq!(b.rule_errors.len(), 1, "{:?}", b.rule_errors);
    assert_eq!(b.rule_errors[0].message, "threw: boom in the comments");
    let superseded = b.rule_errors[0].superseded_at.clone().expect("marked");
    let (_, errors) = call(
        &app,
        "GET",
        &format!("/api/v1/sites/{SITE}/rule-errors"),
        Some(&admin),
        None,
    )
    .await;
    let listed = errors["rule_errors"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{errors}");
    assert_eq!(listed[0]["response_id"], boom["id"]);
    assert_eq!(listed[0]["superseded_at"], superseded.as_str());
    let (status, _) = call(&app, "POST", &url, Some(&admin), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let third = wait_done(&t.state).await;
    assert_eq!(third.changed, 0, "{third:?}");
    assert_eq!(stored(&t.state, &boom).await, b);
}

#[actix_web::test]
async fn an_interrupted_re_tag_resumes_after_its_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let root = deployment(dir.path());
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;

    let mut ids = Vec::new();
    for _ in 0..3 {
        let (_, body) = submit(&app, SITE, "patient-enrollment", patient("kiosk trouble")).await;
        ids.push(stored(&t.state, &body).await.id);
    }
    std::fs::write(root.join("sites/demo-clinic/rules/kiosk.rhai"), KIOSK_RULE).unwrap();
    t.state.sites.reload(SITE, None).unwrap();

    // What a stopped process leaves behind: running, one response done.
    t.state
        .store
        .put_retag_progress(
            SITE,
            &RetagProgress {
                status: RetagStatus::Running,
                started_at: "2026-01-01T00:00:00.000Z".into(),
                finished_at: None,
                total: 3,
                done: 1,
                changed: 1,
                with_errors: 0,
                until_ms: u64::MAX / 2,
                since_ms: None,
                started_by: None,
                cursor: Some(ids[0]),
                message: None,
            },
        )
        .await
        .unwrap();
    chorus::services::retag::resume(t.state.chorus.clone()).await;
    let progress = wait_done(&t.state).await;
    assert_eq!((progress.done, progress.changed, progress.total), (3, 3, 3));
    // The first response was already done before the stop: it is not re-tagged again.
    let first = t.state.store.response(SITE, ids[0]).await.unwrap().unwrap();
    assert!(first.tags.is_empty());
    for id in &ids[1..] {
        let r = t.state.store.response(SITE, *id).await.unwrap().unwrap();
        assert_eq!(r.tag_codes(), ["access_technology"]);
        assert!(r.follow_ups.is_empty());
    }
}

#[actix_web::test]
async fn retag_needs_an_admin() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let viewer = common::add_user(&t.state, "viewer", SITE, Role::Viewer).await;
    let url = format!("/api/v1/sites/{SITE}/retag");
    let (status, _) = call(&app, "POST", &url, Some(&viewer), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&app, "GET", &url, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(t.state.store.retag_progress(SITE).await.unwrap().is_none());
}

/// A re-tag is a job one node holds under a lease: a start while another node's lease is live
/// is refused, and a resume leaves a live run alone.
#[actix_web::test]
async fn a_re_tag_another_node_holds_is_not_started_twice() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "root", SITE, Role::Admin).await;
    let running = RetagProgress {
        status: RetagStatus::Running,
        started_at: "2026-01-01T00:00:00.000Z".into(),
        finished_at: None,
        total: 0,
        done: 0,
        changed: 0,
        with_errors: 0,
        until_ms: 1,
        since_ms: None,
        started_by: None,
        cursor: None,
        message: None,
    };
    let live = chorus::domain::Lease {
        node: "another-node".into(),
        until_ms: chorus::domain::time::now_ms() + 600_000,
    };
    t.state
        .store
        .start_retag(SITE, &live, chorus::domain::time::now_ms(), &running)
        .await
        .unwrap();
    let url = format!("/api/v1/sites/{SITE}/retag");
    let (status, body) = call(&app, "POST", &url, Some(&admin), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "conflict");
    chorus::services::retag::resume(t.state.chorus.clone()).await;
    let progress = t.state.store.retag_progress(SITE).await.unwrap().unwrap();
    assert_eq!(progress, running, "the other node's run is left alone");
}
