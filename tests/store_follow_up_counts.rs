//! `ReportStore::follow_up_counts` against its contract, on whichever backend the suite runs
//! on (tests/run.sh runs it on sled and on PostgreSQL): tasks of two surveys and a review in
//! two queues, opened over ten days, some done on time or late with outcomes, some dismissed;
//! the store's figures for windows with partial hours and for each survey must equal
//! `TaskTally::count` over the stored tasks the contract names.

mod common;

use chorus::domain::time::{ms_of_id, now_ms, rfc3339_of_ms};
use chorus::domain::{Action, FollowUp, Origin, StatusChange, Task, TaskStatus, TaskTally};
use chorus::store::{FollowUpCountQuery, QueueCounts};
use common::TestStore;
use std::collections::BTreeMap;

const SITE: &str = "demo-clinic";
const HOUR_MS: i64 = 3_600_000;

fn id_at(ms: i64) -> uuid::Uuid {
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        (ms / 1000) as u64,
        ((ms % 1000) * 1_000_000) as u32,
    );
    uuid::Uuid::new_v7(ts)
}

/// A response of `survey` at `at` with one task in `queue`, due 24 hours later.
async fn task_at(state: &chorus::AppState, survey: &str, queue: &str, at: i64) -> uuid::Uuid {
    let group = if survey == "patient-enrollment" {
        "patient"
    } else {
        "provider"
    };
    let mut r = common::response_at(SITE, (survey, 1), group, &rfc3339_of_ms(at), &[]);
    let id = id_at(at);
    r.follow_ups = vec![FollowUp {
        id,
        source: "rules/answers.rhai".into(),
        added_at: None,
        action: Action::Task {
            queue: queue.into(),
            title: "Call back".into(),
            due_hours: Some(24),
            priority: Default::default(),
            note: None,
        },
    }];
    state.store.insert(&r).await.unwrap();
    id
}

fn change(status: TaskStatus, at: i64, outcome: Option<&str>) -> StatusChange {
    StatusChange {
        status,
        by: "ada".into(),
        at: rfc3339_of_ms(at),
        reason: None,
        outcome: outcome.map(str::to_string),
    }
}

/// What the contract says the answer is, from the stored tasks.
fn expected(tasks: &[Task], q: &FollowUpCountQuery) -> Vec<QueueCounts> {
    let mut out: BTreeMap<String, TaskTally> = BTreeMap::new();
    for t in tasks {
        let ms = ms_of_id(t.id);
        let inside = q.since_ms.is_none_or(|s| ms >= s) && q.until_ms.is_none_or(|u| ms < u);
        let of_survey = match (&q.survey, &t.origin) {
            (None, _) => true,
            (Some(want), Origin::Response { survey, .. }) => want == survey,
            (Some(_), Origin::Review) => false,
        };
        if inside && of_survey {
            out.entry(t.queue.clone()).or_default().count(t);
        }
    }
    out.into_iter()
        .map(|(queue, counts)| QueueCounts { queue, counts })
        .collect()
}

#[actix_web::test]
async fn the_figures_are_the_tally_of_the_tasks_the_window_names() {
    let t = common::demo_state().await;
    let store = &t.state.store;
    let start = now_ms() - 10 * 24 * HOUR_MS;
    let mut ids = Vec::new();
    for i in 0..40i64 {
        let survey = if i % 3 == 0 {
            "provider-enrollment"
        } else {
            "patient-enrollment"
        };
        let queue = if i % 2 == 0 {
            "enrollment-help"
        } else {
            "practice-manager"
        };
        // Every 6 hours and 7 minutes: windows cut through hours and days.
        ids.push((
            task_at(&t.state, survey, queue, start + i * (6 * HOUR_MS + 420_000)).await,
            i,
        ));
    }
    for (id, i) in &ids {
        let opened = start + i * (6 * HOUR_MS + 420_000);
        match i % 5 {
            0 | 1 => {
                store
                    .transition_task(
                        SITE,
                        *id,
                        TaskStatus::Open,
                        &change(TaskStatus::Claimed, opened + HOUR_MS, None),
                    )
                    .await
                    .unwrap();
                // Done after 2.5 hours (on time) or 30 hours (late), with an outcome or none.
                let after = if i % 5 == 0 { 9_000_000 } else { 30 * HOUR_MS };
                let outcome = ["enrolled", "not_reached"].get((*i % 3) as usize).copied();
                store
                    .transition_task(
                        SITE,
                        *id,
                        TaskStatus::Claimed,
                        &change(TaskStatus::Done, opened + after, outcome),
                    )
                    .await
                    .unwrap();
            }
            2 => {
                store
                    .transition_task(
                        SITE,
                        *id,
                        TaskStatus::Open,
                        &change(TaskStatus::Dismissed, opened + HOUR_MS, None),
                    )
                    .await
                    .unwrap();
            }
            _ => {}
        }
    }
    let tasks = store.all_tasks(SITE).await.unwrap();
    assert_eq!(tasks.len(), 40);
    let hours = |h: i64| Some((start + h * HOUR_MS + 1_234) as u64);
    let windows = [
        (None, None),
        (hours(30), None),
        (None, hours(170)),
        (hours(30), hours(170)),
        (hours(0), hours(1)),
        (hours(500), None),
    ];
    let mut compared = 0;
    for (since_ms, until_ms) in windows {
        for survey in [
            None,
            Some("patient-enrollment"),
            Some("provider-enrollment"),
        ] {
            let q = FollowUpCountQuery {
                site: SITE.into(),
                survey: survey.map(str::to_string),
                since_ms,
                until_ms,
            };
            let want = expected(&tasks, &q);
            assert_eq!(store.follow_up_counts(&q).await.unwrap(), want, "{q:?}");
            compared += want.len();
        }
    }
    assert!(
        compared > 20,
        "the windows cover tasks ({compared} queue figures)"
    );
    // Something of everything was counted.
    let all = expected(
        &tasks,
        &FollowUpCountQuery {
            site: SITE.into(),
            ..Default::default()
        },
    );
    let sum = all.iter().fold(TaskTally::default(), |mut s, q| {
        s.add(&q.counts);
        s
    });
    assert_eq!(sum.opened, 40);
    assert!(sum.done > 0 && sum.dismissed > 0 && sum.on_time > 0 && sum.on_time < sum.done);
    assert!(!sum.outcomes.is_empty() && !sum.tenths_to_done.is_empty());
}
