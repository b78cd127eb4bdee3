//! Races between two nodes on one database: the same `submission_id` sent to A and B at the
//! same moment stores one response and both answer with it; one invitation link used on A and
//! B at the same moment admits one response.

mod common;

use common::nodes::{client, provider_answers, submit, Nodes};
use std::sync::Barrier;

const ROUNDS: usize = 20;

/// Runs `f(base)` on A and B at the same moment; both results.
fn at_once<T: Send>(a: &str, b: &str, f: impl Fn(&str) -> T + Sync) -> (T, T) {
    let barrier = Barrier::new(2);
    std::thread::scope(|s| {
        let ha = s.spawn(|| {
            barrier.wait();
            f(a)
        });
        let hb = s.spawn(|| {
            barrier.wait();
            f(b)
        });
        (ha.join().unwrap(), hb.join().unwrap())
    })
}

fn stored(nodes: &Nodes, survey: &str) -> usize {
    let c = client();
    let v: serde_json::Value = c
        .get(format!(
            "{}/api/v1/sites/demo-clinic/responses?survey={survey}&limit=1000",
            nodes.a().base
        ))
        .bearer_auth(&nodes.token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    v["responses"].as_array().unwrap().len()
}

#[test]
fn one_submission_id_on_a_and_b_at_once_stores_one_response() {
    let Some(nodes) = Nodes::demo("one_submission_id_on_a_and_b_at_once_stores_one_response")
    else {
        return;
    };
    for _ in 0..ROUNDS {
        let body = serde_json::json!({
            "answers": provider_answers(),
            "submission_id": uuid::Uuid::new_v4(),
        });
        let (ra, rb) = at_once(&nodes.a().base, &nodes.b().base, |base| {
            let res = submit(&client(), base, &body);
            assert_eq!(res.status(), 201);
            res.json::<serde_json::Value>().unwrap()
        });
        assert_eq!(ra, rb, "both nodes answer with the one response");
    }
    assert_eq!(stored(&nodes, "provider-enrollment"), ROUNDS);
}

#[test]
fn one_invitation_on_a_and_b_at_once_admits_one_response() {
    let Some(nodes) = Nodes::demo("one_invitation_on_a_and_b_at_once_admits_one_response") else {
        return;
    };
    let c = client();
    let made: serde_json::Value = c
        .post(format!(
            "{}/api/v1/sites/demo-clinic/surveys/patient-enrollment/invitations",
            nodes.a().base
        ))
        .bearer_auth(&nodes.token)
        .json(&serde_json::json!({ "count": ROUNDS }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let links = made["invitations"].as_array().unwrap();
    assert_eq!(links.len(), ROUNDS);
    for link in links {
        let token = link["url"]
            .as_str()
            .unwrap()
            .split("?t=")
            .nth(1)
            .unwrap()
            .to_string();
        let (a, b) = at_once(&nodes.a().base, &nodes.b().base, |base| {
            // Two different people's answers (their own submission ids) on one link.
            let fields = [
                ("_submission_id", uuid::Uuid::new_v4().to_string()),
                ("_t", token.clone()),
                ("aware", "yes".into()),
                ("tried", "no".into()),
                ("contact_ok", "no".into()),
            ];
            client()
                .post(format!("{base}/s/demo-clinic/patient-enrollment"))
                .form(&fields)
                .send()
                .unwrap()
                .status()
                .as_u16()
        });
        let mut statuses = [a, b];
        statuses.sort();
        assert_eq!(
            statuses,
            [303, 410],
            "one is stored, the other told the link is used"
        );
    }
    assert_eq!(stored(&nodes, "patient-enrollment"), ROUNDS);
}
