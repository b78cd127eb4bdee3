//! After a crash, the tasks, outbox entries and rule-error index entries derived from stored
//! responses are re-created from the response records; existing ones are never reset.

mod common;

use chorus::domain::{records_for, DeliveryStatus, FollowUpRecords, TaskStatus};
use chorus::domain::{Action, FollowUp, Priority, RuleError, StoredResponse, Tag};
use chorus::followups::repair;
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
        }],
        follow_ups: vec![
            FollowUp {
                id: Uuid::now_v7(),
                source: "rule".into(),
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
                action: Action::Webhook {
                    target: "helpdesk".into(),
                    payload: None,
                },
            },
        ],
    }
}

#[actix_web::test]
async fn repair_recreates_missing_records_once_and_keeps_existing_ones() {
    let t = common::fixture_state();
    let store = &t.state.store;
    let r = response_with_everything();
    // As if the crash struck right after the response record and its rule-error entry.
    store
        .insert_response(&r, &FollowUpRecords::default())
        .unwrap();
    assert!(store.list_tasks("test-clinic").unwrap().is_empty());
    assert!(store
        .list_deliveries("test-clinic", None)
        .unwrap()
        .is_empty());

    let written = repair(&t.state, 0).unwrap();
    assert_eq!(
        written, 2,
        "the task and the delivery; the rule-error entry was there"
    );
    let tasks = store.list_tasks("test-clinic").unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].id, r.follow_ups[0].id);
    let deliveries = store
        .list_deliveries("test-clinic", Some(DeliveryStatus::Pending))
        .unwrap();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].id, r.follow_ups[1].id);
    assert_eq!(
        store.due_deliveries(i64::MAX, 10).unwrap().len(),
        1,
        "the delivery is scheduled"
    );
    assert_eq!(
        store
            .list_rule_errors("test-clinic", None, 10)
            .unwrap()
            .len(),
        1
    );

    // A task someone claimed in the meantime is not reset by a second repair.
    store
        .update_task("test-clinic", tasks[0].id, &mut |t| {
            let change = t.change_to(TaskStatus::Claimed, "sam", None, "now".into())?;
            t.apply(change);
            Ok(())
        })
        .unwrap();
    assert_eq!(repair(&t.state, 0).unwrap(), 0);
    assert_eq!(
        store.list_tasks("test-clinic").unwrap()[0].status,
        TaskStatus::Claimed
    );
    assert_eq!(records_for(&r).tasks.len(), 1);
}
