//! Two nodes on one database appending to the audit trail at the same moment (every listing
//! of responses is an entry), and a third handle appending in this process beside them: the
//! trail stays one chain with no gap and no fork, and `chorus audit verify` says so.

mod common;

use chorus::domain::NewAuditEntry;
use common::nodes::{client, Nodes};
use common::server::command;
use std::collections::BTreeMap;
use std::sync::Barrier;

const LISTINGS: usize = 25;

fn list_responses(base: &str, token: &str) {
    let res = client()
        .get(format!("{base}/api/v1/sites/demo-clinic/responses?limit=5"))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[test]
fn appends_from_two_nodes_and_a_third_handle_at_once_make_one_verified_chain() {
    let Some(nodes) = Nodes::start(
        "appends_from_two_nodes_and_a_third_handle_at_once_make_one_verified_chain",
        &common::repo().join("sites"),
        "",
        &[],
    ) else {
        return;
    };
    let before = nodes.with_store(async |s| s.audit_head().await.unwrap().unwrap().seq);
    let barrier = Barrier::new(3);
    std::thread::scope(|s| {
        for base in [&nodes.a().base, &nodes.b().base] {
            let (barrier, token) = (&barrier, &nodes.token);
            s.spawn(move || {
                barrier.wait();
                for _ in 0..LISTINGS {
                    list_responses(base, token);
                }
            });
        }
        s.spawn(|| {
            barrier.wait();
            nodes.with_store(async |store| {
                let appends = (0..LISTINGS as i64).map(|i| {
                    store.append_audit(NewAuditEntry {
                        at_ms: 1_700_000_000_000 + i,
                        actor: "system".into(),
                        action: "test_append".into(),
                        site: None,
                        target: None,
                        details: BTreeMap::new(),
                    })
                });
                for appended in futures_util::future::join_all(appends).await {
                    appended.unwrap();
                }
            });
        });
    });
    let head = nodes.with_store(async |s| s.audit_head().await.unwrap().unwrap().seq);
    assert!(
        head >= before + 3 * LISTINGS as u64,
        "every append is an entry: {before} then {head}"
    );
    let out = command(&["audit", "verify"], &nodes.dir.path().join("verify"))
        .env("CHORUS_STORE", &nodes.url)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains(&format!("intact: {head} entries")), "{text}");
}
