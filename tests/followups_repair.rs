//! After a crash, the tasks, outbox entries and rule-error index entries derived from stored
//! responses are re-created from the response records; existing ones are never reset.

mod common;

use chorus::domain::{records_for, DeliveryStatus, FollowUpRecords, TaskStatus};
use chorus::domain::{Action, FollowUp, Priority, RuleError, StoredResponse, Tag};
use chorus::store::{Claim, NewResponse};
use common::TestStore;
use uuid::Uuid;

fn response_with_everything() -> StoredResponse {
    StoredResponse {
        id: Uuid::now_v7(),
        site: "test-clinic".into(),
        survey: "every-kind".into(),
        survey_version: 3,
        group: "patient".into(),
        submitted_at: chorus::domain::time::rfc3339_of_id(Uuid::now_v7()),
        language: None,
        submission_id: None,
        channel: None,
        kiosk: None,
        answers: Default::default(),
        tags: vec![Tag {
            code: "enrollment_technical".into(),
            source: "rule".into(),
        }],
        rule_errors: vec![RuleError {
            source: "rules/x.rhai".into(),
            hook: "tag".into(),
            line: Some(1),
            col: Some(1),
            message: "boom".into(),
            superseded_at: None,
        }],
        follow_ups: vec![
            FollowUp {
                id: Uuid::now_v7(),
                source: "rule".into(),
                added_at: None,
                action: Action::Task {
                    queue: "enrollment-help".into(),
                    title: "Call back".into(),
                    due_hours: Some(48),
                    priority: Priority::Normal,
                    note: None,
                },
            },
            FollowUp {
                id: Uuid::now_v7(),
                source: "rule".into(),
                added_at: None,
                action: Action::Webhook {
                    target: "helpdesk".into(),
                    payload: None,
                },
            },
        ],
    }
}

#[actix_web::test]
async fn after_a_crash_missing_records_are_recreated_once_and_existing_ones_kept() {
    if common::pg::skip_on_postgres(
        "after_a_crash_missing_records_are_recreated_once_and_existing_ones_kept",
        "the repair pass of the sled backend; on PostgreSQL a response and its records are one transaction",
    ) {
        return;
    }
    let t = common::fixture_state().await;
    let r = response_with_everything();
    // As if the crash struck right after the response record and its rule-error entry.
    t.state
        .store
        .insert_response(NewResponse {
            response: r.clone(),
            follow_ups: FollowUpRecords::default(),
            idempotency: None,
            invitation: None,
        })
        .await
        .unwrap();
    assert!(t
        .state
        .store
        .all_tasks("test-clinic")
        .await
        .unwrap()
        .is_empty());
    assert!(t
        .state
        .store
        .all_deliveries("test-clinic", None)
        .await
        .unwrap()
        .is_empty());

    // The process dies (no clean stop); the next start repairs.
    let config = t.state.config.clone();
    let common::TestState { dir, state } = t;
    drop(state);
    let state = chorus::AppState::open(config.clone()).await.unwrap();
    let store = &state.store;
    let tasks = store.all_tasks("test-clinic").await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].id, r.follow_ups[0].id);
    let deliveries = store
        .all_deliveries("test-clinic", Some(DeliveryStatus::Pending))
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].id, r.follow_ups[1].id);
    let claim = Claim {
        node: "test".into(),
        now_ms: i64::MAX / 2,
        lease_until_ms: i64::MAX / 2 + 1,
        limit: 10,
    };
    assert_eq!(
        store.claim_deliveries(&claim).await.unwrap().len(),
        1,
        "the delivery is scheduled"
    );
    assert_eq!(
        store
            .list_rule_errors("test-clinic", None, 10)
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // A task someone claimed in the meantime is not reset by the repair of a second crash.
    let change = tasks[0]
        .change_to(TaskStatus::Claimed, "sam", None, "now".into())
        .unwrap();
    store
        .transition_task("test-clinic", tasks[0].id, TaskStatus::Open, &change)
        .await
        .unwrap();
    drop(state);
    let state = chorus::AppState::open(config).await.unwrap();
    let tasks = state.store.all_tasks("test-clinic").await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].status, TaskStatus::Claimed);
    assert_eq!(records_for(&r).tasks.len(), 1);
    drop(dir);
}
