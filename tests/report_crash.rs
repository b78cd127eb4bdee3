//! The report after `kill -9` (sled): a server killed while it takes responses, re-tags old
//! days and dismisses tasks of old days — some of them after those days' marks were removed
//! — opens with the report counts that `chorus rebuild-report` gives by counting every stored
//! response and task again.

mod common;

use chorus::domain::time::{now_ms, rfc3339_of_ms, DAY_MS};
use chorus::domain::{records_for, Action, FollowUp, Priority, Role};
use chorus::store::{CountQuery, CountRow, FollowUpCountQuery, NewResponse, QueueCounts, Store};
use common::server::Server;
use serde_json::json;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const SITE: &str = "demo-clinic";
/// Old days seeded, and responses (each with a task) per day.
const DAYS: u64 = 6;
const PER_DAY: u64 = 5;

async fn figures(store: &dyn Store) -> (Vec<CountRow>, Vec<QueueCounts>) {
    let counts = CountQuery {
        site: SITE.into(),
        by_day: true,
        ..CountQuery::default()
    };
    let tasks = FollowUpCountQuery {
        site: SITE.into(),
        survey: None,
        since_ms: None,
        until_ms: None,
    };
    (
        store.report_counts(&counts).await.unwrap(),
        store.follow_up_counts(&tasks).await.unwrap(),
    )
}

/// An admin and responses of past days, each with a task; returns the admin's token and the
/// tasks' ids.
async fn seed(data: &Path) -> (String, Vec<uuid::Uuid>) {
    let t = common::state_with(|_| common::demo_config(data)).await;
    let token = common::add_user(&t.state, "admin", "*", Role::Admin).await;
    let mut tasks = Vec::new();
    let today = now_ms() as u64 / DAY_MS;
    for day in today - DAYS..today {
        for n in 0..PER_DAY {
            let at = rfc3339_of_ms(((day * DAY_MS) + n * 3_600_000) as i64);
            let survey = ("patient-enrollment", 1);
            // A tag the demo rules do not give these answers: the re-tag changes it.
            let mut r = common::response_at(SITE, survey, "patient", &at, &["parking"]);
            let answers = json!({ "aware": "no", "tried": "no", "contact_ok": "yes",
                                  "contact_phone": "555-0100", "comments": "no computer" });
            r.answers = serde_json::from_value(answers).unwrap();
            r.follow_ups = vec![FollowUp {
                id: r.id,
                source: "fixture".into(),
                action: Action::Task {
                    queue: "enrollment-help".into(),
                    title: "Call back".into(),
                    due_hours: Some(24),
                    priority: Priority::Normal,
                    note: None,
                },
                added_at: None,
            }];
            tasks.push(r.id);
            let new = NewResponse {
                follow_ups: records_for(&r),
                response: r,
                idempotency: None,
                invitation: None,
            };
            t.state.store.insert_response(new).await.unwrap();
        }
    }
    t.state.store.close().await.unwrap();
    (token, tasks)
}

/// Posts patient responses from four threads until `stop`.
fn load(base: &str, stop: &AtomicBool) {
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let client = reqwest::blocking::Client::new();
                let url =
                    format!("{base}/api/v1/sites/{SITE}/surveys/patient-enrollment/responses");
                let body = json!({ "answers": { "aware": "yes", "tried": "yes", "enrolled": "no",
                    "what_happened": ["error"], "contact_ok": "no", "comments": "captcha" } });
                while !stop.load(Ordering::Relaxed) {
                    // A refusal or a dropped connection (the kill) is fine here.
                    let _ = client.post(&url).json(&body).send();
                }
            });
        }
    });
}

fn post(base: &str, path: &str, token: &str, body: serde_json::Value) -> u16 {
    reqwest::blocking::Client::new()
        .post(format!("{base}/api/v1/sites/{SITE}{path}"))
        .bearer_auth(token.trim())
        .json(&body)
        .send()
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// One round: under load, dismiss a task of each old day, wait until the sweeps have removed
/// the quiet old days' marks, then dismiss more and re-tag, and kill the server after `after`.
fn crash_round(data: &Path, token: &str, tasks: &[uuid::Uuid], after: Duration) {
    let server = Server::start(data);
    let (base, stop) = (server.base.clone(), AtomicBool::new(false));
    std::thread::scope(|s| {
        s.spawn(|| load(&base, &stop));
        let dismiss = |id: &uuid::Uuid| {
            let body = json!({ "status": "dismissed", "reason": "moved away" });
            // 409 once a round before dismissed it.
            let status = post(&base, &format!("/follow-ups/{id}"), token, body);
            assert!(status == 200 || status == 409, "dismiss: {status}");
        };
        tasks.iter().step_by(PER_DAY as usize).for_each(dismiss);
        // Two sweeps (one a second): the old days, quiet since, lose their marks.
        std::thread::sleep(Duration::from_millis(2500));
        tasks
            .iter()
            .skip(1)
            .step_by(PER_DAY as usize)
            .for_each(dismiss);
        let status = post(&base, "/retag", token, json!({}));
        assert!(status == 202 || status == 409, "re-tag: {status}");
        std::thread::sleep(after);
        server.kill9();
        stop.store(true, Ordering::Relaxed);
    });
}

#[test]
fn the_report_after_kill_9_is_a_full_recount() {
    if common::pg::on_postgres() {
        // Its counts are in every write's transaction: nothing to recount.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let rt = actix_web::rt::System::new();
    let (token, tasks) = rt.block_on(seed(&data));
    let config = chorus::app::store_config(&common::demo_config(&data));
    for after in [
        Duration::ZERO,
        Duration::from_millis(700),
        Duration::from_millis(1500),
    ] {
        crash_round(&data, &token, &tasks, after);
        let reopened = rt.block_on(async {
            let store = chorus::store::open(&config).await.unwrap();
            let shown = figures(store.as_ref()).await;
            store.close().await.unwrap();
            shown
        });
        let out = common::server::run(&["rebuild-report"], &data);
        assert!(out.status.success(), "{out:?}");
        let recounted = rt.block_on(async {
            let store = chorus::store::open(&config).await.unwrap();
            let shown = figures(store.as_ref()).await;
            store.close().await.unwrap();
            shown
        });
        assert_eq!(
            reopened, recounted,
            "killed {after:?} after the last writes"
        );
        let old_days = reopened
            .0
            .iter()
            .filter(|r| r.key.day.is_some_and(|d| d < now_ms() as u64 / DAY_MS));
        assert_eq!(
            old_days.count() as u64,
            DAYS,
            "every old day is in the report"
        );
        let dismissed: u64 = reopened.1.iter().map(|q| q.counts.dismissed).sum();
        assert!(dismissed >= 2 * DAYS, "dismissed on old days: {dismissed}");
    }
}
