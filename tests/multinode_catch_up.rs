//! Catch-up of follow-ups on two real nodes sharing one PostgreSQL database (docs/retag.md):
//! started on both at once, with a third racer calling the store, each response gets one
//! task; either node shows the shared progress. Needs the PostgreSQL pass.

mod common;

use chorus::domain::{Action, FollowUp};
use common::TestStore;
use std::time::Duration;

const SITE: &str = "demo-clinic";

/// Two real nodes on one PostgreSQL database: a catch-up started on both at once (and a third
/// racer in this process calling the store) gives each response one task; either node shows
/// the progress.
#[test]
fn two_nodes_catching_up_at_once_create_one_task_per_response() {
    use common::nodes::{client, provider_answers, within, Nodes};
    let Some(nodes) = Nodes::demo("two_nodes_catching_up_at_once_create_one_task_per_response")
    else {
        return;
    };
    // Provider responses that say no one can help, stored without their follow-ups (as if the
    // plugin had failed on them).
    let answers: chorus::domain::Answers = serde_json::from_value(provider_answers()).unwrap();
    let ids: Vec<uuid::Uuid> = nodes.with_store(async |store| {
        let mut ids = Vec::new();
        for day in 1..=20 {
            let mut r = common::response_at(
                SITE,
                ("provider-enrollment", 1),
                "provider",
                &format!("2026-01-{day:02}T09:00:00Z"),
                &[],
            );
            r.answers = answers.clone();
            store.insert(&r).await.unwrap();
            ids.push(r.id);
        }
        ids
    });
    let http = client();
    let post = |base: &str| {
        http.post(format!(
            "{base}/api/v1/sites/{SITE}/catch-up?since=2026-01-01"
        ))
        .bearer_auth(&nodes.token)
        .send()
        .unwrap()
        .status()
        .as_u16()
    };
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| post(&nodes.a().base));
        let b = s.spawn(|| post(&nodes.b().base));
        // A third racer: this process adds the same task to every response at once.
        nodes.with_store(async |store| {
            for id in &ids {
                let wanted = [FollowUp {
                    id: uuid::Uuid::now_v7(),
                    source: "enrollment_followup".into(),
                    added_at: Some(chorus::domain::time::now_rfc3339()),
                    action: Action::Task {
                        queue: "practice-manager".into(),
                        title: "Care team reports no one can help patients sign up for the portal"
                            .into(),
                        due_hours: Some(168),
                        priority: Default::default(),
                        note: None,
                    },
                }];
                store
                    .add_follow_ups(SITE, "provider-enrollment", *id, &wanted)
                    .await
                    .unwrap();
            }
        });
        (a.join().unwrap(), b.join().unwrap())
    });
    assert!([a, b].contains(&202), "{a} {b}");
    assert!([a, b].iter().all(|s| *s == 202 || *s == 409), "{a} {b}");
    // Either node shows the shared progress.
    within(Duration::from_secs(30), "the catch-up finished", || {
        let shown = common::server::get_json(
            &nodes.b().base,
            &format!("/api/v1/sites/{SITE}/catch-up"),
            &nodes.token,
        );
        shown["status"] == "done"
    });
    nodes.with_store(async |store| {
        let tasks = store.all_tasks(SITE).await.unwrap();
        for id in &ids {
            let n = tasks
                .iter()
                .filter(|t| t.queue == "practice-manager" && t.origin.response_id() == Some(*id))
                .count();
            assert_eq!(n, 1, "response {id}");
            let r = store.response(SITE, *id).await.unwrap().unwrap();
            assert_eq!(r.follow_ups.len(), 1, "{:?}", r.follow_ups);
        }
    });
}
