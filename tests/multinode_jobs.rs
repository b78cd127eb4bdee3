//! Background work shared by two nodes on one database: webhook deliveries claimed with
//! `FOR UPDATE SKIP LOCKED` and a lease (1,000 deliveries with both nodes' workers: every
//! webhook-id reaches the receiver once; a node killed mid-delivery leaves its claims to the
//! other after the lease), and the review hook on one node at a time.

mod common;

use chorus::domain::Action;
use common::followups::{hook_clinic_sites, now_rfc3339, response};
use common::nodes::{client, within, Nodes};
use common::receiver::Receiver;
use common::TestStore;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ==";
const ENV: [(&str, &str); 1] = [("HOOK_CLINIC_HELPDESK_SECRET", SECRET)];

/// Stores `n` responses of hook-clinic, each with one help-desk webhook action.
fn store_webhooks(nodes: &Nodes, n: usize) {
    nodes.with_store(async |store| {
        for _ in 0..n {
            let mut r = response("hook-clinic", "patient", &now_rfc3339());
            r.follow_ups = vec![chorus::domain::FollowUp {
                id: uuid::Uuid::now_v7(),
                source: "test_rule".into(),
                added_at: None,
                action: Action::Webhook {
                    target: "helpdesk".into(),
                    payload: None,
                },
            }];
            store.insert(&r).await.unwrap();
        }
    });
}

fn delivered(nodes: &Nodes) -> usize {
    nodes.with_store(async |store| {
        store
            .all_deliveries(
                "hook-clinic",
                Some(chorus::domain::DeliveryStatus::Delivered),
            )
            .await
            .unwrap()
            .len()
    })
}

#[test]
fn a_thousand_deliveries_with_two_workers_reach_the_receiver_once_each() {
    let receiver = Receiver::start(|_| (200, vec![]));
    let sites = hook_clinic_sites(&receiver.url, "http://127.0.0.1:9/hooks/chorus");
    let Some(nodes) = Nodes::start(
        "a_thousand_deliveries_with_two_workers_reach_the_receiver_once_each",
        &sites,
        "",
        &ENV,
    ) else {
        return;
    };
    store_webhooks(&nodes, 1000);
    within(
        Duration::from_secs(60),
        "1,000 deliveries delivered",
        || delivered(&nodes) == 1000,
    );
    let ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(
        distinct.len(),
        1000,
        "every webhook-id reached the receiver"
    );
    assert_eq!(ids.len(), 1000, "none was sent twice");
}

#[test]
fn a_node_killed_mid_delivery_leaves_its_claims_to_the_other_after_the_lease() {
    let hang = Arc::new(AtomicBool::new(true));
    let hanging = Arc::clone(&hang);
    let receiver = Receiver::start(move |_| {
        // While `hang` is set, answer only after the sender is long gone.
        if hanging.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_secs(5));
        }
        (200, vec![])
    });
    let sites = hook_clinic_sites(&receiver.url, "http://127.0.0.1:9/hooks/chorus");
    // A lease of 4 s; an attempt (1 s at most) starts only while 2 s of it are left.
    let config = "webhook_lease_secs = 4\nwebhook_timeout_secs = 1\n";
    let Some(mut nodes) = Nodes::start(
        "a_node_killed_mid_delivery_leaves_its_claims_to_the_other_after_the_lease",
        &sites,
        config,
        &ENV,
    ) else {
        return;
    };
    // Only A delivers at first: B stops, and comes back once A is dead.
    nodes.b.take().unwrap().terminate();
    store_webhooks(&nodes, 10);
    within(Duration::from_secs(10), "A is sending all ten", || {
        receiver.received().len() == 10
    });
    let killed = Instant::now();
    nodes.a.take().unwrap().kill9();
    hang.store(false, Ordering::SeqCst);
    nodes.b = Some(nodes.node("b", &ENV));
    within(Duration::from_secs(30), "B delivers A's claims", || {
        delivered(&nodes) == 10
    });
    let retried = killed.elapsed();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in receiver.received() {
        *seen.entry(r.headers["webhook-id"].clone()).or_default() += 1;
    }
    assert_eq!(seen.len(), 10);
    assert!(
        seen.values().all(|n| *n == 2),
        "each was cut off on A and sent again by B, once: {seen:?}"
    );
    // A claimed them (4 s leases) just before the kill: B could take them only after that.
    assert!(
        retried >= Duration::from_secs(3),
        "B waited for A's lease to end ({retried:?})"
    );
}

#[test]
fn the_review_hook_runs_on_one_node_at_a_time() {
    let receiver = Receiver::start(|_| (200, vec![]));
    let sites = hook_clinic_sites(&receiver.url, "http://127.0.0.1:9/hooks/chorus");
    // A review that reports, with a webhook, the respondents it saw.
    let rules = sites.join("hook-clinic/rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(
        rules.join("count.rhai"),
        r#"fn review(report) {
    let n = 0;
    for g in report.groups { if g.respondents != () { n += g.respondents; } }
    [#{ action: "webhook", target: "helpdesk", payload: #{ respondents: n } }]
}
"#,
    )
    .unwrap();
    let Some(nodes) = Nodes::start(
        "the_review_hook_runs_on_one_node_at_a_time",
        &sites,
        "review_interval_ms = 20\n",
        &ENV,
    ) else {
        return;
    };
    let c = client();
    for i in 0..30 {
        let base = if i % 2 == 0 {
            &nodes.a().base
        } else {
            &nodes.b().base
        };
        let res = c
            .post(format!(
                "{base}/api/v1/sites/hook-clinic/surveys/patient/responses"
            ))
            .json(&serde_json::json!({ "answers": { "tried": "yes" } }))
            .send()
            .unwrap();
        assert_eq!(res.status(), 201);
        std::thread::sleep(Duration::from_millis(30));
    }
    let counts = || -> Vec<i64> {
        receiver
            .received()
            .iter()
            .map(|r| {
                let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
                v["payload"]["respondents"].as_i64().unwrap()
            })
            .collect()
    };
    within(
        Duration::from_secs(20),
        "a review saw all 30 responses",
        || counts().contains(&30),
    );
    let all = counts();
    let distinct: BTreeSet<i64> = all.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        all.len(),
        "each report was reviewed once, by one node: {all:?}"
    );
    assert!(all.len() >= 2, "the reviews followed the changes: {all:?}");
}
