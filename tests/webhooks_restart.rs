//! Pending webhook deliveries survive kill -9: the help desk is down while Chorus runs, comes up,
//! and after a restart every action is delivered exactly once per webhook-id.

mod common;

use common::receiver::Receiver;
use common::server::{free_port, get_json, Server};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

const SECRET: &str = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ==";

/// The demo site, with its help desk webhook pointed at a loopback port.
fn demo_sites_with_helpdesk(port: u16) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = common::repo().join("sites/demo-clinic");
    let dst = dir.path().join("demo-clinic");
    copy_dir(&src, &dst);
    let toml = std::fs::read_to_string(dst.join("site.toml")).unwrap();
    let toml = toml.replace(
        "http://127.0.0.1:9000/hooks/chorus",
        &format!("http://127.0.0.1:{port}/hooks/chorus"),
    );
    std::fs::write(dst.join("site.toml"), toml).unwrap();
    dir
}

fn copy_dir(src: &std::path::Path, dst: &std::path::Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), to).unwrap();
        }
    }
}

#[test]
fn deliveries_pending_at_kill_9_are_sent_after_restart() {
    let port = free_port();
    let sites = demo_sites_with_helpdesk(port);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let envs = [("DEMO_HELPDESK_SECRET", SECRET)];
    let server = Server::start_opts(&data, &sites.path().join(""), &[], &envs);
    let client = reqwest::blocking::Client::new();
    let url = format!(
        "{}/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses",
        server.base
    );
    let mut follow_ups = BTreeSet::new();
    for _ in 0..5 {
        let body = json!({ "answers": {
            "aware": "yes", "tried": "yes", "enrolled": "no", "what_happened": ["error"], "contact_ok": "no"
        }});
        let res = client.post(&url).json(&body).send().unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let v: Value = res.json().unwrap();
        let hooks: Vec<&Value> = v["follow_ups"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["action"] == "webhook")
            .collect();
        assert_eq!(hooks.len(), 1, "{v}");
        follow_ups.insert(hooks[0]["id"].as_str().unwrap().to_string());
    }
    // Let the worker try (and fail: nothing listens yet), then crash.
    let token = std::fs::read_to_string(data.join("initial-admin-token")).unwrap();
    let attempted = || -> bool {
        let list: Value = client
            .get(format!(
                "{}/api/v1/sites/demo-clinic/deliveries",
                server.base
            ))
            .bearer_auth(token.trim())
            .send()
            .unwrap()
            .json()
            .unwrap();
        list["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["attempts"].as_u64() > Some(0))
    };
    for _ in 0..400 {
        if attempted() {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(
        attempted(),
        "every delivery was tried once before the crash"
    );
    server.kill9();

    let receiver = Receiver::start_on(port, |_| (200, vec![]));
    let server = Server::start_opts(&data, &sites.path().join(""), &[], &envs);
    let mut delivered = 0;
    for _ in 0..240 {
        let path = "/api/v1/sites/demo-clinic/deliveries?status=delivered";
        let list = get_json(&server.base, path, &token);
        delivered = list["deliveries"].as_array().unwrap().len();
        if delivered == follow_ups.len() {
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    assert_eq!(
        delivered, 5,
        "every pending delivery is sent after the restart"
    );
    let got = receiver.received();
    let ids: BTreeSet<String> = got
        .iter()
        .map(|g| g.headers["webhook-id"].clone())
        .collect();
    assert_eq!(ids.len(), 5, "one webhook-id per action");
    let sent: BTreeSet<String> = got
        .iter()
        .map(|g| {
            serde_json::from_str::<Value>(&g.body).unwrap()["follow_up_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(sent, follow_ups);
}
