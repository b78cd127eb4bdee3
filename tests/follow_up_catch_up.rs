//! Catch-up of follow-ups through the JSON API (docs/retag.md): a rule added after responses
//! came in; the preview counts what it would create per kind and place and lists the
//! responses concerned; the run creates exactly one task and one webhook (in the outbox) per
//! response and action, audited with counts and never answers; a second run, and runs racing
//! in the store, create nothing more; bad input changes nothing.

mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::{
    Action, CatchUpProgress, DeliveryStatus, FollowUp, RetagStatus, Role, StoredResponse,
};
use common::TestStore;
use rules_common::{call, config_for, demo_copy, submit};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const SITE: &str = "demo-clinic";

fn patient(comments: &str) -> Value {
    json!({ "aware": "yes", "tried": "no", "contact_ok": "no", "comments": comments })
}

async fn wait_done(state: &chorus::AppState) -> CatchUpProgress {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(p) = state.store.catch_up_progress(SITE).await.unwrap() {
            if p.status != RetagStatus::Running {
                return p;
            }
        }
        assert!(Instant::now() < deadline, "catch-up did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn id_of(body: &Value) -> uuid::Uuid {
    uuid::Uuid::parse_str(body["id"].as_str().unwrap()).unwrap()
}

/// The kiosk tasks and help-desk deliveries of one response.
async fn follow_ups_of(state: &chorus::AppState, id: uuid::Uuid) -> (usize, usize) {
    let tasks = state.store.all_tasks(SITE).await.unwrap();
    let deliveries = state.store.all_deliveries(SITE, None).await.unwrap();
    let t = tasks
        .iter()
        .filter(|t| t.queue == "kiosk" && t.origin.response_id() == Some(id))
        .count();
    let d = deliveries
        .iter()
        .filter(|d| d.webhook == "helpdesk" && d.origin.response_id() == Some(id))
        .count();
    (t, d)
}

async fn audit_of(state: &chorus::AppState, action: &str) -> Vec<chorus::domain::AuditEntry> {
    state
        .store
        .list_audit(&chorus::store::AuditQuery {
            action: Some(action.into()),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
}

#[actix_web::test]
async fn a_rule_added_later_catches_up_once_per_response_and_action() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo_copy(dir.path());
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "admin", SITE, Role::Admin).await;
    let url = format!("/api/v1/sites/{SITE}/catch-up");

    let (status, never) = call(&app, "GET", &url, Some(&admin), None).await;
    assert_eq!(
        (status, never),
        (StatusCode::OK, json!({ "status": "never" }))
    );

    let (_, first) = submit(
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
    let (_, second) = submit(
        &app,
        SITE,
        "patient-enrollment",
        patient("kiosk frozen again"),
    )
    .await;
    std::fs::copy(
        common::repo().join("tests/fixtures/catch-up/kiosk.rhai"),
        root.join("sites/demo-clinic/rules/kiosk.rhai"),
    )
    .unwrap();
    let (status, body) = call(
        &app,
        "POST",
        &format!("/api/v1/sites/{SITE}/reload"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // A response after the rule got its follow-ups at submission.
    let (_, live) = submit(&app, SITE, "patient-enrollment", patient("kiosk once more")).await;
    assert_eq!(follow_ups_of(&t.state, id_of(&live)).await, (1, 1));

    // The preview: what would be created, per kind and place, and for which responses.
    let (status, preview) = call(&app, "GET", &format!("{url}/preview"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["looked_at"], 4);
    assert_eq!(preview["responses"], 2);
    assert_eq!(
        (preview["tasks"].clone(), preview["webhooks"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(
        preview["counts"],
        json!([
            { "kind": "task", "place": "kiosk", "count": 2 },
            { "kind": "webhook", "place": "helpdesk", "count": 2 },
        ])
    );
    let items = preview["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], first["id"]);
    assert_eq!(items[1]["id"], second["id"]);
    assert_eq!(items[0]["missing"][0]["title"], "Check the lobby kiosk");
    assert_eq!(items[0]["missing"][1]["place"], "helpdesk");
    assert!(
        !preview.to_string().contains("ate my card"),
        "no answers: {preview}"
    );
    // Paged: one at a time, the counts over the whole range each time.
    let (_, page1) = call(
        &app,
        "GET",
        &format!("{url}/preview?limit=1"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(page1["items"].as_array().unwrap().len(), 1);
    let cursor = page1["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (_, page2) = call(
        &app,
        "GET",
        &format!("{url}/preview?limit=1&cursor={cursor}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(page2["items"][0]["id"], second["id"]);
    assert_eq!(page2["tasks"], 2);
    assert!(page2.get("next_cursor").is_none(), "{page2}");
    // The preview stored nothing.
    assert_eq!(follow_ups_of(&t.state, id_of(&first)).await, (0, 0));
    let before = t
        .state
        .store
        .response(SITE, id_of(&first))
        .await
        .unwrap()
        .unwrap();

    // Two starts at once: one runs, the other is refused or (the first already done) finds
    // nothing left; either way one task and one webhook per response and action.
    let (a, b) = futures_util::future::join(
        call(&app, "POST", &url, Some(&admin), None),
        call(&app, "POST", &url, Some(&admin), None),
    )
    .await;
    let statuses = [a.0, b.0];
    assert!(statuses.contains(&StatusCode::ACCEPTED), "{a:?} {b:?}");
    for (status, body) in [&a, &b] {
        if *status == StatusCode::CONFLICT {
            assert_eq!(body["error"]["code"], "conflict");
        } else {
            assert_eq!(*status, StatusCode::ACCEPTED, "{body}");
            assert_eq!(body["started_by"], "admin");
        }
    }
    let done = wait_done(&t.state).await;
    assert_eq!(done.status, RetagStatus::Done);
    let (_, shown) = call(&app, "GET", &url, Some(&admin), None).await;
    assert_eq!(shown["status"], "done");
    assert_eq!(shown["done"], 4);
    for r in [&first, &second] {
        assert_eq!(follow_ups_of(&t.state, id_of(r)).await, (1, 1), "{r}");
    }
    assert_eq!(follow_ups_of(&t.state, id_of(&plain)).await, (0, 0));
    assert_eq!(follow_ups_of(&t.state, id_of(&live)).await, (1, 1));
    let stored: StoredResponse = t
        .state
        .store
        .response(SITE, id_of(&first))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.follow_ups.len(), 2);
    assert!(stored.follow_ups.iter().all(|f| f.added_at.is_some()));
    assert_eq!(stored.tags, before.tags, "tags unchanged");
    assert_eq!(stored.rule_errors, before.rule_errors);
    // The webhooks wait in the outbox like any other.
    let pending = t.state.store.all_deliveries(SITE, None).await.unwrap();
    let caught: Vec<_> = pending
        .iter()
        .filter(|d| d.origin.response_id() == Some(id_of(&first)))
        .collect();
    assert_eq!(caught.len(), 1);
    assert_ne!(caught[0].status, DeliveryStatus::Delivered);
    assert!(
        caught[0].body.contains("\"event\":\"kiosk\""),
        "{}",
        caught[0].body
    );

    // Audited with the counts (the run that created them says 2 and 2), never the answers.
    let finished = audit_of(&t.state, "catch_up_finished").await;
    assert!(finished
        .iter()
        .any(|e| e.details["tasks"] == "2" && e.details["webhooks"] == "2"));
    assert_eq!(finished[0].details["status"], "done");
    let started = audit_of(&t.state, "catch_up_started").await;
    assert!(started
        .iter()
        .all(|e| e.actor == "admin" && e.site.as_deref() == Some(SITE)));
    let all = serde_json::to_string(&audit_of(&t.state, "catch_up_started").await).unwrap();
    assert!(!all.contains("kiosk ate"));

    // Again: nothing more.
    let (status, _) = call(&app, "POST", &url, Some(&admin), None).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let again = wait_done(&t.state).await;
    assert_eq!(
        (again.tasks_created, again.webhooks_created),
        (0, 0),
        "{again:?}"
    );
    for r in [&first, &second, &live] {
        assert_eq!(follow_ups_of(&t.state, id_of(r)).await, (1, 1));
    }
    let (_, preview) = call(&app, "GET", &format!("{url}/preview"), Some(&admin), None).await;
    assert_eq!(
        (preview["responses"].clone(), preview["items"].clone()),
        (json!(0), json!([]))
    );
}

#[actix_web::test]
async fn racing_catch_ups_in_the_store_add_each_action_once() {
    let t = common::demo_state().await;
    let r = common::response_at(
        SITE,
        ("patient-enrollment", 1),
        "patient",
        "2026-03-02T10:00:00Z",
        &[],
    );
    t.state.store.insert(&r).await.unwrap();
    let candidate = |source: &str| FollowUp {
        id: uuid::Uuid::now_v7(),
        source: source.into(),
        added_at: Some("2026-03-05T09:00:00.000Z".into()),
        action: Action::Task {
            queue: "front-desk".into(),
            title: "Call back".into(),
            due_hours: Some(24),
            priority: Default::default(),
            note: None,
        },
    };
    // Sixteen callers at once, each with its own ids (as two nodes' runs would have).
    let calls = (0..16).map(|i| {
        let store = t.state.store.clone();
        let wanted = vec![candidate(if i % 2 == 0 {
            "rules/a.rhai"
        } else {
            "rules/b.rhai"
        })];
        let id = r.id;
        tokio::spawn(async move {
            store
                .add_follow_ups(SITE, "patient-enrollment", id, &wanted)
                .await
                .unwrap()
                .len()
        })
    });
    let added: usize = futures_util::future::join_all(calls)
        .await
        .into_iter()
        .map(|n| n.unwrap())
        .sum();
    assert_eq!(added, 1);
    let tasks = t.state.store.all_tasks(SITE).await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].origin.response_id(), Some(r.id));
    // Opened, and due, from the catch-up, not from the submission.
    assert_eq!(tasks[0].created_at, "2026-03-05T09:00:00.000Z");
    let stored = t.state.store.response(SITE, r.id).await.unwrap().unwrap();
    assert_eq!(stored.follow_ups.len(), 1);
    assert_eq!(stored.follow_ups[0].id, tasks[0].id);
    // An unknown response gets nothing and nothing is written.
    let none = t
        .state
        .store
        .add_follow_ups(
            SITE,
            "patient-enrollment",
            uuid::Uuid::now_v7(),
            &[candidate("x")],
        )
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(t.state.store.all_tasks(SITE).await.unwrap().len(), 1);
}

#[actix_web::test]
async fn a_bad_range_or_another_site_is_refused_and_changes_nothing() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "admin", SITE, Role::Admin).await;
    let other = common::add_user(&t.state, "other", "other-clinic", Role::Admin).await;
    let staff = common::add_user(&t.state, "staff", SITE, Role::Staff).await;
    let url = format!("/api/v1/sites/{SITE}/catch-up");

    let backwards = "?since=2026-02-01&until=2026-01-01";
    for path in [
        format!("{url}{backwards}"),
        format!("{url}/preview{backwards}"),
    ] {
        let method = if path.contains("preview") {
            "GET"
        } else {
            "POST"
        };
        let (status, body) = call(&app, method, &path, Some(&admin), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_eq!(body["error"]["code"], "invalid_query");
        assert_eq!(body["error"]["field"], "until");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("later than since"));
    }
    let (status, body) = call(
        &app,
        "POST",
        &format!("{url}?since=yesterday"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("neither an RFC 3339 time"));
    let (status, _) = call(
        &app,
        "POST",
        &format!("{url}?from=2026-01-01"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "an unknown parameter");
    let (status, _) = call(&app, "POST", &url, Some(&other), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(&app, "GET", &format!("{url}/preview"), Some(&staff), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = call(
        &app,
        "POST",
        "/api/v1/sites/no-such/catch-up",
        Some(&other),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "access is checked before existence"
    );

    // Nothing ran, nothing was audited.
    assert!(t
        .state
        .store
        .catch_up_progress(SITE)
        .await
        .unwrap()
        .is_none());
    assert!(audit_of(&t.state, "catch_up_started").await.is_empty());
    let (_, never) = call(&app, "GET", &url, Some(&admin), None).await;
    assert_eq!(never, json!({ "status": "never" }));
}
