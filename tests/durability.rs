//! A 201 means the response is on disk: kill -9 right after a burst of acknowledged
//! submissions loses none of them.

mod common;

use common::server::{run, Server};
use serde_json::json;
use std::collections::BTreeSet;

#[test]
fn kill_9_after_acknowledged_submissions_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let url = format!(
        "{}/api/v1/sites/demo-clinic/surveys/provider-enrollment/responses",
        server.base
    );
    let acknowledged: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let url = url.clone();
                s.spawn(move || {
                    let client = reqwest::blocking::Client::new();
                    let mut ids = Vec::new();
                    for _ in 0..40 {
                        let body = json!({ "answers": {
                            "role": "physician", "offer_to": "some", "when_best": "check_out",
                            "who_should": "nurse_ma", "help_available": "no"
                        }});
                        let res = client.post(&url).json(&body).send().unwrap();
                        assert_eq!(res.status().as_u16(), 201);
                        let v: serde_json::Value = res.json().unwrap();
                        ids.push(v["id"].as_str().unwrap().to_string());
                    }
                    ids
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(acknowledged.len(), 320);
    server.kill9();

    let out = run(
        &["export", "--site", "demo-clinic", "--format", "jsonl"],
        &data,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stored: BTreeSet<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged responses lost",
        missing.len()
    );
}

#[test]
fn sigterm_finishes_and_flushes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let url = format!(
        "{}/api/v1/sites/demo-clinic/surveys/leadership-enrollment/responses",
        server.base
    );
    let body = json!({ "answers": { "role": "executive", "patient_barriers": ["dont_know"], "who_should": "physician", "help_available": "yes" }});
    let res = reqwest::blocking::Client::new()
        .post(&url)
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let status = server.terminate();
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    let out = run(
        &["export", "--site", "demo-clinic", "--format", "jsonl"],
        &data,
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1);
}
