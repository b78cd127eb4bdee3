//! Closing the loop, through the real app: a queue's outcomes are required when a task is
//! marked done (API and admin page), refused otherwise; the report's `follow_ups` figures
//! (opened, done, dismissed, on time, median hours to done, outcomes), small queues suppressed,
//! survey and time filters, the same figures after a restart; the dashboard's sentence.

mod admin_support;
mod common;
mod report_support;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::time::{now_ms, rfc3339_of_ms};
use chorus::domain::{Action, FollowUp, Role, TaskStatus};
use common::TestStore;
use report_support::SITE;
use serde_json::{json, Value};

const HOUR_MS: i64 = 3_600_000;

macro_rules! post {
    ($app:expr, $token:expr, $uri:expr, $body:expr) => {{
        let req = test::TestRequest::post()
            .uri(&$uri)
            .insert_header(("Authorization", format!("Bearer {}", $token)))
            .set_json($body)
            .to_request();
        let res = test::call_service(&$app, req).await;
        let status = res.status();
        let body: Value = test::read_body_json(res).await;
        (status, body)
    }};
}

/// A patient response `hours_ago` with one task in `queue` (due in 48 hours), stored with it;
/// the task's id carries its opening time.
async fn task_opened(state: &chorus::AppState, queue: &str, hours_ago: i64) -> uuid::Uuid {
    let at = now_ms() - hours_ago * HOUR_MS;
    let mut r = common::response_at(SITE, ("patient", 2), "patient", &rfc3339_of_ms(at), &[]);
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        (at / 1000) as u64,
        ((at % 1000) * 1_000_000) as u32,
    );
    let id = uuid::Uuid::new_v7(ts);
    r.follow_ups = vec![FollowUp {
        id,
        source: "rules/answers.rhai".into(),
        added_at: None,
        action: Action::Task {
            queue: queue.into(),
            title: "Call back".into(),
            due_hours: Some(48),
            priority: Default::default(),
            note: None,
        },
    }];
    state.store.insert(&r).await.unwrap();
    id
}

fn follow_ups(report: &Value) -> &Value {
    &report["follow_ups"]
}

#[actix_web::test]
async fn outcomes_are_required_and_the_report_counts_them() {
    let t = common::state_with(common::report_config).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let staff = common::add_user(&t.state, "sam", SITE, Role::Staff).await;
    // Four patients ask for a call through the API; two asked 30 and 72 hours ago.
    for _ in 0..4 {
        submit!(app, "patient", json!({ "barriers": [], "call_me": "yes" }));
    }
    let day_old = task_opened(&t.state, "call-back", 30).await;
    let late = task_opened(&t.state, "call-back", 72).await;
    let audit = [
        task_opened(&t.state, "audit", 1).await,
        task_opened(&t.state, "audit", 1).await,
    ];
    let tasks = t.state.store.all_tasks(SITE).await.unwrap();
    let now_tasks: Vec<uuid::Uuid> = tasks
        .iter()
        .filter(|t| t.queue == "call-back" && t.id != day_old && t.id != late)
        .map(|t| t.id)
        .collect();
    assert_eq!(now_tasks.len(), 4);
    let uri = |id: &uuid::Uuid| format!("/api/v1/sites/{SITE}/follow-ups/{id}");

    // An outcome is only for `done`.
    let (status, e) = post!(
        app,
        staff,
        uri(&now_tasks[0]),
        json!({"status": "claimed", "outcome": "enrolled"})
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "invalid_outcome");
    assert_eq!(e["error"]["field"], "outcome");
    for id in now_tasks.iter().chain([&day_old, &late]).chain(&audit) {
        let (status, _) = post!(app, staff, uri(id), json!({"status": "claimed"}));
        assert_eq!(status, StatusCode::OK);
    }
    // Done without an outcome, or with one the queue does not list: refused, nothing changes.
    let (status, e) = post!(app, staff, uri(&now_tasks[0]), json!({"status": "done"}));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        e["error"]["message"],
        "marking a task of \"call-back\" done needs an outcome: one of enrolled, not_reached, declined"
    );
    let (status, e) = post!(
        app,
        staff,
        uri(&now_tasks[0]),
        json!({"status": "done", "outcome": "maybe"})
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("\"maybe\" is not an outcome of \"call-back\""));
    let task = t
        .state
        .store
        .task(SITE, now_tasks[0])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(task.status, TaskStatus::Claimed, "still claimed");
    // A queue without outcomes takes none.
    let (status, e) = post!(
        app,
        staff,
        uri(&audit[0]),
        json!({"status": "done", "outcome": "enrolled"})
    );
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("lists no outcomes"));
    let (status, _) = post!(app, staff, uri(&audit[0]), json!({"status": "done"}));
    assert_eq!(status, StatusCode::OK);

    // Two done now, one a day after it was opened, one late; one dismissed, one still open.
    for (id, outcome) in [
        (&now_tasks[0], "enrolled"),
        (&now_tasks[1], "not_reached"),
        (&day_old, "enrolled"),
        (&late, "declined"),
    ] {
        let (status, done) = post!(
            app,
            staff,
            uri(id),
            json!({"status": "done", "outcome": outcome})
        );
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["outcome"], outcome);
        assert_eq!(
            done["history"].as_array().unwrap().last().unwrap()["outcome"],
            outcome
        );
    }
    let (status, _) = post!(
        app,
        staff,
        uri(&now_tasks[2]),
        json!({"status": "dismissed", "reason": "wrong number"})
    );
    assert_eq!(status, StatusCode::OK);

    let viewer = common::add_user(&t.state, "v", SITE, Role::Viewer).await;
    let (_, r) = get!(app, Some(&viewer), format!("/api/v1/sites/{SITE}/report"));
    let expected = json!([
        {"queue": "call-back", "opened": 6, "done": 4, "dismissed": 1, "on_time": 3,
         "median_hours_to_done": 15.0,
         "outcomes": {"enrolled": 2, "not_reached": 1, "declined": 1}},
        {"queue": "audit", "suppressed": true}
    ]);
    assert_eq!(follow_ups(&r), &expected, "{r}");
    // In the last 48 hours (a window that starts inside a day): the late task is not in it.
    let since = rfc3339_of_ms(now_ms() - 48 * HOUR_MS);
    let (_, r) = get!(
        app,
        Some(&viewer),
        format!("/api/v1/sites/{SITE}/report?since={since}")
    );
    assert_eq!(
        follow_ups(&r)[0],
        json!({"queue": "call-back", "opened": 5, "done": 3, "dismissed": 1, "on_time": 3,
               "median_hours_to_done": 0.0,
               "outcomes": {"enrolled": 2, "not_reached": 1, "declined": 0}})
    );
    // Another survey's follow-ups: none from the leadership survey.
    let (_, r) = get!(
        app,
        Some(&viewer),
        format!("/api/v1/sites/{SITE}/report?survey=leadership")
    );
    assert_eq!(
        follow_ups(&r),
        &json!([{"queue": "call-back", "suppressed": true}, {"queue": "audit", "suppressed": true}])
    );

    // The dashboard says it in words.
    admin_support::add_person(&t.state, "vic", SITE, Role::Viewer).await;
    let cookie = admin_support::sign_in(&app, "vic", admin_support::PASSWORD)
        .await
        .session
        .unwrap();
    let (status, _, page) =
        admin_support::get_page(&app, &cookie, &format!("/admin/sites/{SITE}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(
            "Of 6 patients who asked for a call back, 4 were done, 3 of them on time; half \
             within 15 hours. 2 enrolled, 1 not reached, 1 declined. 1 was dismissed; 1 is \
             still open."
        ),
        "{page}"
    );
    assert!(page.contains("Fewer than 3 audits so far: too few to report."));

    // After a restart the store counts the same from the tasks.
    let config = t.state.config.clone();
    t.state.store.close().await.unwrap();
    let common::TestState { dir, state } = t;
    drop(app);
    drop(state);
    let reopened = actix_web::web::Data::new(chorus::AppState::open(config).await.unwrap());
    let app = test::init_service(create_app(reopened.clone())).await;
    let (_, r) = get!(app, Some(&viewer), format!("/api/v1/sites/{SITE}/report"));
    assert_eq!(follow_ups(&r), &expected);
    drop(dir);
}

#[actix_web::test]
async fn the_follow_ups_page_asks_for_the_outcome() {
    let t = common::state_with(common::report_config).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let id = task_opened(&t.state, "call-back", 2).await;
    admin_support::add_person(&t.state, "pat", SITE, Role::Staff).await;
    let cookie = admin_support::sign_in(&app, "pat", admin_support::PASSWORD)
        .await
        .session
        .unwrap();
    let page_uri = format!("/admin/sites/{SITE}/follow-ups");
    let (_, _, page) = admin_support::get_page(&app, &cookie, &page_uri).await;
    let csrf = admin_support::csrf_of(&page);
    let post = |form: Vec<(&'static str, String)>| {
        test::TestRequest::post()
            .uri(&format!("/admin/sites/{SITE}/follow-ups/{id}"))
            .cookie(cookie.clone())
            .set_form(form)
            .to_request()
    };
    let claim = post(vec![("csrf", csrf.clone()), ("status", "claimed".into())]);
    assert_eq!(
        test::call_service(&app, claim).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, _, page) = admin_support::get_page(&app, &cookie, &page_uri).await;
    assert!(
        page.contains(&format!(
            "<select id=\"outcome-{id}\" name=\"outcome\" required><option value=\"\">Choose…</option><option value=\"enrolled\">enrolled</option><option value=\"not_reached\">not reached</option><option value=\"declined\">declined</option></select>"
        )),
        "{page}"
    );
    let done = post(vec![("csrf", csrf.clone()), ("status", "done".into())]);
    let res = test::call_service(&app, done).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = admin_support::body_text(res).await;
    assert!(
        body.contains("needs an outcome: one of enrolled, not_reached, declined"),
        "{body}"
    );
    let done = post(vec![
        ("csrf", csrf),
        ("status", "done".into()),
        ("outcome", "enrolled".into()),
    ]);
    assert_eq!(
        test::call_service(&app, done).await.status(),
        StatusCode::SEE_OTHER
    );
    let task = t.state.store.task(SITE, id).await.unwrap().unwrap();
    assert_eq!(
        (task.status, task.outcome()),
        (TaskStatus::Done, Some("enrolled"))
    );
    let (_, _, page) =
        admin_support::get_page(&app, &cookie, &format!("{page_uri}?status=done")).await;
    assert!(page.contains("done: enrolled"), "{page}");
}
