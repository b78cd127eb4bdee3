//! The `review` hook: the demo site's rule opens one task for the practice manager when
//! patients report sign-up failures at 30% or more while leadership names them under 10%; not
//! again while that task is open or claimed; again once it is done and the condition holds.
//! Responses go through the real submission pipeline; the review runs are triggered directly.

mod admin_support;
mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::domain::Role;
use chorus::domain::{Task, TaskStatus};
use chorus::services::follow_ups::change_task_status;
use chorus::services::review::{last_run, review_changed, run_site};
use chorus::AppState;
use common::TestStore;
use rules_common::{call, config_for, copy_dir, submit};
use serde_json::{json, Value};
use std::sync::Arc;

const SITE: &str = "demo-clinic";
const TITLE: &str = "Patients report sign-up failures that leadership does not see";

/// Tried, not signed up, did not say why: tagged enrollment_technical.
fn failed_patient() -> Value {
    json!({ "aware": "yes", "tried": "yes", "enrolled": "no", "contact_ok": "no" })
}

fn content_patient() -> Value {
    json!({ "aware": "yes", "tried": "no", "why_not": ["not_useful"], "contact_ok": "no" })
}

/// Names awareness only.
fn leader() -> Value {
    json!({ "role": "executive", "patient_barriers": ["dont_know"], "who_should": "physician", "help_available": "yes" })
}

fn technical_leader() -> Value {
    json!({ "role": "practice_manager", "patient_barriers": ["technical"], "who_should": "physician", "help_available": "yes" })
}

async fn review_tasks(state: &AppState) -> Vec<Task> {
    state
        .store
        .all_tasks(SITE)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| t.origin.is_review())
        .collect()
}

macro_rules! send {
    ($app:expr, $survey:expr, $answers:expr, $n:expr) => {
        for _ in 0..$n {
            let (status, out) = submit(&$app, SITE, $survey, $answers).await;
            assert_eq!(status, StatusCode::CREATED, "{out}");
        }
    };
}

#[actix_web::test]
async fn fires_once_for_the_condition_not_while_open_and_again_after_done() {
    let t = common::demo_state().await;
    let app = test::init_service(chorus::create_app(t.state.clone())).await;
    let state: Arc<AppState> = t.state.clone().into_inner();

    // Below min_cell (5) for leadership: suppressed, so no review task yet.
    send!(app, "patient-enrollment", failed_patient(), 4);
    send!(app, "patient-enrollment", content_patient(), 6);
    send!(app, "leadership-enrollment", leader(), 4);
    let runs = review_changed(&state).await;
    assert_eq!(runs.len(), 1);
    assert!(runs[0].opened.is_empty(), "{:?}", runs[0]);
    assert!(review_tasks(&state).await.is_empty());

    // 4 of 10 patients (40%), 0 of 5 leaders: the task is opened, once.
    send!(app, "leadership-enrollment", leader(), 1);
    let runs = review_changed(&state).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].opened, vec![TITLE.to_string()]);
    let tasks = review_tasks(&state).await;
    assert_eq!(tasks.len(), 1);
    let task = &tasks[0];
    assert_eq!(task.queue, "practice-manager");
    assert_eq!(task.source, "rules/enrollment_review.rhai");
    assert_eq!(task.status, TaskStatus::Open);
    assert!(task.due_at_ms.is_some());
    assert!(task
        .note
        .as_deref()
        .unwrap()
        .contains("4 patient respondents"));

    // Nothing changed: no run at all.
    assert!(review_changed(&state).await.is_empty());

    // The report changes, the condition still holds: not opened again while open...
    send!(app, "patient-enrollment", failed_patient(), 1);
    let runs = review_changed(&state).await;
    assert_eq!(runs.len(), 1);
    assert!(runs[0].opened.is_empty());
    assert_eq!(runs[0].already_open, vec![TITLE.to_string()]);
    assert_eq!(review_tasks(&state).await.len(), 1);

    // ... nor while claimed.
    change_task_status(
        &state,
        SITE,
        task.id,
        TaskStatus::Claimed,
        "pat",
        None,
        None,
    )
    .await
    .unwrap();
    let run = run_site(&state, SITE).await.unwrap().unwrap();
    assert_eq!(run.already_open, vec![TITLE.to_string()]);
    assert_eq!(review_tasks(&state).await.len(), 1);

    // Done, and the condition still holds at the next change: a new task.
    change_task_status(
        &state,
        SITE,
        task.id,
        TaskStatus::Done,
        "pat",
        None,
        Some("acted_on".into()),
    )
    .await
    .unwrap();
    send!(app, "patient-enrollment", failed_patient(), 1);
    let runs = review_changed(&state).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].opened, vec![TITLE.to_string()]);
    let tasks = review_tasks(&state).await;
    assert_eq!(tasks.len(), 2);
    assert_eq!(
        tasks
            .iter()
            .filter(|t| t.status == TaskStatus::Open)
            .count(),
        1
    );

    // Review tasks are follow-ups like the others: in the API, with a nil response id.
    let staff = common::add_user(&state, "staff", SITE, Role::Staff).await;
    let (status, out) = call(
        &app,
        "GET",
        "/api/v1/sites/demo-clinic/follow-ups?queue=practice-manager&status=open",
        Some(&staff),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let listed = out["follow_ups"].as_array().unwrap();
    assert!(
        listed
            .iter()
            .any(|t| t["title"] == TITLE
                && t["response_id"] == "00000000-0000-0000-0000-000000000000"),
        "{out}"
    );

    // ... and on the follow-ups page, without a link to a response.
    admin_support::add_person(&state, "pat", SITE, Role::Staff).await;
    let session = admin_support::sign_in(&app, "pat", admin_support::PASSWORD)
        .await
        .session
        .unwrap();
    let (status, _, page) = admin_support::get_page(
        &app,
        &session,
        "/admin/sites/demo-clinic/follow-ups?queue=practice-manager",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(TITLE));
    assert!(page.contains("From the review of the report"));
}

#[actix_web::test]
async fn no_task_when_leadership_sees_the_problem_too() {
    let t = common::demo_state().await;
    let app = test::init_service(chorus::create_app(t.state.clone())).await;
    let state: Arc<AppState> = t.state.clone().into_inner();
    send!(app, "patient-enrollment", failed_patient(), 5);
    send!(app, "leadership-enrollment", leader(), 4);
    send!(app, "leadership-enrollment", technical_leader(), 1);
    // 100% of patients, 20% of leaders: leadership sees it.
    let run = run_site(&state, SITE).await.unwrap().unwrap();
    assert!(run.opened.is_empty() && run.errors.is_empty(), "{run:?}");
    assert!(review_tasks(&state).await.is_empty());
}

#[actix_web::test]
async fn a_failing_review_is_a_rule_error_on_the_api_and_the_rules_page() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("deployment");
    copy_dir(&common::repo().join("sites"), &root.join("sites"));
    copy_dir(&common::repo().join("plugins"), &root.join("plugins"));
    std::fs::write(
        root.join("sites/demo-clinic/rules/zz_bad_review.rhai"),
        "fn review(report, settings) {\n    [#{ action: \"task\", queue: \"x\" }, #{ action: \"webhook\", target: \"helpdesk\", payload: #{ groups: report.groups.len() } }]\n}\n",
    )
    .unwrap();
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(chorus::create_app(t.state.clone())).await;
    let state: Arc<AppState> = t.state.clone().into_inner();

    let run = run_site(&state, SITE).await.unwrap().unwrap();
    assert_eq!(run.errors.len(), 1, "{run:?}");
    assert_eq!(run.errors[0].hook, "review");
    assert!(run.errors[0].message.contains("needs title"), "{run:?}");
    // The valid webhook of the same hook still goes to the outbox.
    assert_eq!(run.webhooks, vec!["helpdesk".to_string()]);
    let deliveries = state.store.all_deliveries(SITE, None).await.unwrap();
    assert_eq!(deliveries.len(), 1);
    assert!(deliveries[0].origin.is_review());
    let body: Value = serde_json::from_str(&deliveries[0].body).unwrap();
    assert_eq!(body["type"], "chorus.review");
    assert_eq!(body["payload"], json!({ "groups": 3 }));

    let admin = common::add_user(&state, "root", SITE, Role::Admin).await;
    let (status, out) = call(
        &app,
        "GET",
        "/api/v1/sites/demo-clinic/rule-errors",
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let errors = out["rule_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{out}");
    assert_eq!(errors[0]["hook"], "review");
    assert_eq!(errors[0]["source"], "rules/zz_bad_review.rhai");
    assert_eq!(errors[0]["survey"], "");
    assert_eq!(errors[0]["response_id"], run.id.to_string());

    admin_support::add_person(&state, "ada", SITE, Role::Admin).await;
    let session = admin_support::sign_in(&app, "ada", admin_support::PASSWORD)
        .await
        .session
        .unwrap();
    let (status, _, page) =
        admin_support::get_page(&app, &session, "/admin/sites/demo-clinic/rules").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("action 1: needs title"), "{page}");
    assert!(page.contains("review run"));
    assert!(page.contains("1 error(s)"));
}

/// What the last review saw is a content hash of the site's files: a reload that changed a
/// file counts as a change, one that changed nothing does not.
#[actix_web::test]
async fn a_reload_that_changes_the_rules_counts_as_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("deployment");
    copy_dir(&common::repo().join("sites"), &root.join("sites"));
    copy_dir(&common::repo().join("plugins"), &root.join("plugins"));
    let t = common::state_with(|data| config_for(&root, data)).await;
    let app = test::init_service(chorus::create_app(t.state.clone())).await;
    let state: Arc<AppState> = t.state.clone().into_inner();
    send!(app, "patient-enrollment", failed_patient(), 5);
    send!(app, "leadership-enrollment", leader(), 5);
    assert_eq!(review_changed(&state).await.len(), 1);
    assert!(review_changed(&state).await.is_empty());

    let admin = common::add_user(&state, "root", SITE, Role::Admin).await;
    let reload = || {
        call(
            &app,
            "POST",
            "/api/v1/sites/demo-clinic/reload",
            Some(&admin),
            None,
        )
    };
    let (status, out) = reload().await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert!(
        review_changed(&state).await.is_empty(),
        "the same files again: nothing changed"
    );
    let rule = root.join("sites/demo-clinic/rules/enrollment_review.rhai");
    let text = std::fs::read_to_string(&rule).unwrap();
    std::fs::write(&rule, format!("// edited\n{text}")).unwrap();
    let (status, out) = reload().await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let runs = review_changed(&state).await;
    assert_eq!(runs.len(), 1, "the reloaded rules review the same report");
    assert_eq!(runs[0].already_open, vec![TITLE.to_string()]);
    assert_eq!(review_tasks(&state).await.len(), 1);
}

#[actix_web::test]
async fn review_cases_in_rule_tests_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("deployment");
    copy_dir(&common::repo().join("sites"), &root.join("sites"));
    copy_dir(&common::repo().join("plugins"), &root.join("plugins"));
    let t = common::state_with(|data| config_for(&root, data)).await;
    let rt = t.state.sites.get(SITE).unwrap();
    let passing = chorus::services::rule_tests::run_rule_tests(&rt.site, &rt.rules);
    assert!(passing.problems.is_empty(), "{:#?}", passing.problems);

    let file = root.join("sites/demo-clinic/rules/tests/enrollment_review.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen("queue = \"practice-manager\"", "queue = \"front-desk\"", 1),
    )
    .unwrap();
    let failing = chorus::services::rule_tests::run_rule_tests(&rt.site, &rt.rules);
    assert_eq!(failing.problems.len(), 1, "{:#?}", failing.problems);
    let line = &failing.problems[0];
    assert!(
        line.starts_with(&format!("{}:11:", file.display())),
        "{line}"
    );
    assert!(line.contains("review \"patients fail at 40%"), "{line}");
    assert!(line.contains("\"queue\":\"practice-manager\""), "{line}");
}

#[actix_web::test]
async fn the_background_loop_reviews_after_a_change() {
    let t = common::demo_state().await;
    let app = test::init_service(chorus::create_app(t.state.clone())).await;
    let state: Arc<AppState> = t.state.clone().into_inner();
    state
        .reviews
        .set_interval(std::time::Duration::from_millis(20));
    actix_web::rt::spawn(chorus::services::review::run_loop(state.chorus.clone()));
    send!(app, "patient-enrollment", failed_patient(), 5);
    send!(app, "leadership-enrollment", leader(), 5);
    // Polls (no timing assertion): the loop must get there eventually. The run that opens the
    // task records itself just after opening it, so wait for both.
    let recorded = |run: Option<chorus::domain::ReviewRun>| {
        run.is_some_and(|run| run.opened.len() + run.already_open.len() == 1)
    };
    for _ in 0..500 {
        let run = last_run(&state, SITE).await.unwrap();
        if !review_tasks(&state).await.is_empty() && recorded(run) {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let tasks = review_tasks(&state).await;
    assert_eq!(tasks.len(), 1, "the loop opened the task");
    let last = last_run(&state, SITE)
        .await
        .unwrap()
        .expect("a run is recorded");
    assert!(last.opened.len() + last.already_open.len() == 1, "{last:?}");
}

/// What the last review saw is in the store: after a restart an unchanged report under
/// unchanged rules is not reviewed again, and the last run is still shown.
#[actix_web::test]
async fn the_review_state_survives_a_restart() {
    let t = common::demo_state().await;
    let app = test::init_service(chorus::create_app(t.state.clone())).await;
    send!(app, "patient-enrollment", failed_patient(), 5);
    send!(app, "leadership-enrollment", leader(), 5);
    let runs = review_changed(&t.state).await;
    assert_eq!(runs.len(), 1);
    let config = t.state.config.clone();
    let common::TestState { dir, state } = t;
    drop(app);
    drop(state);
    let state = chorus::AppState::open(config).await.unwrap();
    assert!(review_changed(&state).await.is_empty(), "nothing changed");
    let last = last_run(&state, SITE)
        .await
        .unwrap()
        .expect("the last run is kept");
    assert_eq!(last.id, runs[0].id);
    drop(dir);
}
