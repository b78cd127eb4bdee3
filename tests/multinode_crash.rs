//! kill -9 of node A under load: every response A acknowledged is stored, and B keeps serving
//! throughout.

mod common;

use common::nodes::{client, provider_answers, submit, Nodes};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};

#[test]
fn kill_9_of_a_under_load_loses_nothing_a_acknowledged_and_b_keeps_serving() {
    let Some(mut nodes) =
        Nodes::demo("kill_9_of_a_under_load_loses_nothing_a_acknowledged_and_b_keeps_serving")
    else {
        return;
    };
    let (a, b) = (nodes.a().base.clone(), nodes.b().base.clone());
    let stop = AtomicBool::new(false);
    let (acked_a, acked_b, b_failures) = std::thread::scope(|s| {
        let on_a: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let c = client();
                    let mut ids = Vec::new();
                    // Until A dies: a refused or cut-off request was never acknowledged.
                    while let Ok(res) = c
                        .post(format!(
                            "{a}/api/v1/sites/demo-clinic/surveys/provider-enrollment/responses"
                        ))
                        .json(&serde_json::json!({ "answers": provider_answers() }))
                        .send()
                    {
                        if res.status() != 201 {
                            break;
                        }
                        match res.json::<serde_json::Value>() {
                            Ok(v) => ids.push(v["id"].as_str().unwrap().to_string()),
                            Err(_) => break,
                        }
                    }
                    ids
                })
            })
            .collect();
        let on_b = s.spawn(|| {
            let c = client();
            let (mut ids, mut failures) = (Vec::new(), 0);
            while !stop.load(Ordering::SeqCst) {
                let res = submit(
                    &c,
                    &b,
                    &serde_json::json!({ "answers": provider_answers() }),
                );
                if res.status() == 201 {
                    ids.push(
                        res.json::<serde_json::Value>().unwrap()["id"]
                            .as_str()
                            .unwrap()
                            .to_string(),
                    );
                } else {
                    failures += 1;
                }
            }
            (ids, failures)
        });
        // Let both take load, then kill A in the middle of it.
        common::nodes::within(std::time::Duration::from_secs(20), "load on both", || {
            let v: serde_json::Value = client()
                .get(format!("{b}/api/v1/sites/demo-clinic/report"))
                .bearer_auth(&nodes.token)
                .send()
                .unwrap()
                .json()
                .unwrap();
            v["groups"][1]["respondents"].as_u64().unwrap_or(0) >= 300
        });
        nodes.a.take().unwrap().kill9();
        // B keeps serving after the kill.
        let before = count(&b, &nodes.token);
        common::nodes::within(
            std::time::Duration::from_secs(10),
            "B stores more after the kill",
            || count(&b, &nodes.token) >= before + 100,
        );
        stop.store(true, Ordering::SeqCst);
        let acked_a: Vec<String> = on_a.into_iter().flat_map(|h| h.join().unwrap()).collect();
        let (acked_b, failures) = on_b.join().unwrap();
        (acked_a, acked_b, failures)
    });
    assert_eq!(b_failures, 0, "B answered every request with 201");
    assert!(!acked_a.is_empty() && !acked_b.is_empty());
    let stored = all_ids(&b, &nodes.token);
    let missing: Vec<&String> = acked_a
        .iter()
        .chain(&acked_b)
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but not stored: {missing:?}"
    );
    eprintln!(
        "A acknowledged {} before the kill, B {}; all stored",
        acked_a.len(),
        acked_b.len()
    );
}

fn count(base: &str, token: &str) -> u64 {
    let v: serde_json::Value = client()
        .get(format!("{base}/api/v1/sites/demo-clinic/report"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["groups"][1]["respondents"].as_u64().unwrap_or(0)
}

fn all_ids(base: &str, token: &str) -> BTreeSet<String> {
    let c = client();
    let mut ids = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{base}/api/v1/sites/demo-clinic/responses?limit=1000");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let v: serde_json::Value = c
            .get(url)
            .bearer_auth(token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        for r in v["responses"].as_array().unwrap() {
            ids.insert(r["id"].as_str().unwrap().to_string());
        }
        match v["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return ids,
        }
    }
}
