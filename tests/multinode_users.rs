//! User management across two nodes on one PostgreSQL database: a password link posted to both
//! nodes at once sets one password, and a user disabled on one node is signed out on the other.
//! Needs the PostgreSQL pass (tests/run.sh).

mod common;

use common::nodes::{client, Nodes};
use serde_json::{json, Value};

fn post_json(base: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
    let mut req = client().post(format!("{base}{path}")).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().unwrap();
    let status = res.status().as_u16();
    (status, res.json().unwrap_or(Value::Null))
}

#[test]
fn a_link_raced_on_two_nodes_is_used_once_and_disabling_reaches_every_node() {
    let Some(nodes) = Nodes::start(
        "a_link_raced_on_two_nodes_is_used_once_and_disabling_reaches_every_node",
        &common::repo().join("sites"),
        "",
        &[],
    ) else {
        return;
    };
    let (a, b) = (nodes.a().base.clone(), nodes.b().base.clone());
    let (status, body) = post_json(
        &a,
        "/api/v1/users",
        &nodes.token,
        Some(json!({"name": "nia", "site": "demo-clinic", "role": "staff"})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = post_json(&b, "/api/v1/users/nia/invite", &nodes.token, None);
    assert_eq!(status, 201, "{body}");
    let url = body["url"].as_str().unwrap();
    let path = url[url.find("/admin/password/").unwrap()..].to_string();

    // The same link to both nodes at the same moment, with two different passwords.
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let racers: Vec<_> = [
        (a.clone(), "password of node a"),
        (b.clone(), "password of node b"),
    ]
    .into_iter()
    .map(|(base, password)| {
        let (barrier, path) = (barrier.clone(), path.clone());
        std::thread::spawn(move || {
            barrier.wait();
            let res = client()
                .post(format!("{base}{path}"))
                .form(&[("password", password), ("confirm_password", password)])
                .send()
                .unwrap();
            (res.status().as_u16(), password)
        })
    })
    .collect();
    let mut outcomes: Vec<(u16, &str)> = racers.into_iter().map(|r| r.join().unwrap()).collect();
    outcomes.sort();
    assert_eq!(
        outcomes.iter().map(|o| o.0).collect::<Vec<_>>(),
        [200, 410],
        "{outcomes:?}"
    );
    let winner = outcomes[0].1;
    let loser = outcomes[1].1;

    // The winner's password works on both nodes; the loser's on neither.
    let session_b = common::signin::sign_in(&b, "nia", winner);
    common::signin::sign_in(&a, "nia", winner);
    assert!(common::signin::try_sign_in(&a, "nia", loser).is_none());

    // Disabled through node A: node B's session ends at its next request.
    let page = |cookie: &str| {
        client()
            .get(format!("{b}/admin/sites/demo-clinic"))
            .header("Cookie", cookie)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(page(&session_b), 200);
    let (status, _) = post_json(&a, "/api/v1/users/nia/disable", &nodes.token, None);
    assert_eq!(status, 200);
    assert_eq!(page(&session_b), 303);
    assert!(common::signin::try_sign_in(&b, "nia", winner).is_none());
}
