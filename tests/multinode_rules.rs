//! A site whose rules live in the store (`rules_source = "store"`), on three `chorus serve`
//! processes on one PostgreSQL database: a rule applied in node A's editor, and one pushed
//! with `chorus rules push` while they run, is what every node runs within 5 s, node C with a
//! sites folder of its own (so it can only have got it from the store).

mod common;
mod rules_common;

use common::nodes::{client, within, Nodes};
use common::nodes_signin::{csrf_of, sign_in};
use rules_common::{copy_dir, rules_in_store, PARKING_TITLE, SHORTER_TITLE};
use std::path::Path;
use std::time::Duration;

/// A deployment folder with the demo site (rules in the store) under `dir`.
fn deployment(dir: &Path) -> std::path::PathBuf {
    copy_dir(&common::repo().join("sites"), &dir.join("sites"));
    rules_in_store(dir);
    dir.join("sites")
}

/// The title of the task a patient who wants a call gets from `base` now.
fn task_title(c: &reqwest::blocking::Client, base: &str) -> String {
    let answers = serde_json::json!({ "answers": { "aware": "yes", "tried": "no",
        "contact_ok": "yes", "contact_phone": "555-0100", "comments": "there is no parking" } });
    let body: serde_json::Value = c
        .post(format!(
            "{base}/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses"
        ))
        .json(&answers)
        .send()
        .unwrap()
        .json()
        .unwrap();
    body["follow_ups"][0]["title"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn an_applied_or_pushed_rule_runs_on_every_node_within_5_s() {
    let dir = tempfile::tempdir().unwrap();
    let shared = deployment(&dir.path().join("ab"));
    let own = deployment(&dir.path().join("c"));
    let Some(nodes) = Nodes::start(
        "an_applied_or_pushed_rule_runs_on_every_node_within_5_s",
        &shared,
        "",
        &[],
    ) else {
        return;
    };
    let node_c = nodes.node_on("c", &own, &[]);
    let c = client();
    let (a, b, cc) = (&nodes.a().base, &nodes.b().base, &node_c.base);
    assert_eq!(task_title(&c, cc), PARKING_TITLE);

    // Applied in A's editor: check, diff, confirm.
    let session = sign_in(&nodes, a, "ada");
    let editor = format!("{a}/admin/sites/demo-clinic/rules/files/parking.rhai");
    let page = c.get(&editor).header("Cookie", &session).send().unwrap();
    let csrf = csrf_of(&page.text().unwrap());
    let original = std::fs::read_to_string(own.join("demo-clinic/rules/parking.rhai")).unwrap();
    let better = original.replace(PARKING_TITLE, SHORTER_TITLE);
    let res = c
        .post(format!("{editor}/apply"))
        .header("Cookie", &session)
        .form(&[
            ("csrf", csrf.as_str()),
            ("text", better.as_str()),
            ("message", "shorter title"),
            ("confirm", "yes"),
        ])
        .send()
        .unwrap();
    assert_eq!(res.status(), 303, "{:?}", res.text());
    assert_eq!(task_title(&c, a), SHORTER_TITLE);
    let c_file = own.join("demo-clinic/rules/parking.rhai");
    let took = within(
        Duration::from_secs(5),
        "C writes the applied version",
        || std::fs::read_to_string(&c_file).unwrap() == better,
    );
    within(
        Duration::from_secs(5) - took,
        "C runs the applied version",
        || task_title(&c, cc) == SHORTER_TITLE,
    );
    within(Duration::from_secs(5), "B runs the applied version", || {
        task_title(&c, b) == SHORTER_TITLE
    });
    eprintln!("C had the applied version after {took:?}");

    // Pushed from a working copy while the nodes run.
    let work = dir.path().join("work");
    copy_dir(&shared.join("demo-clinic/rules"), &work);
    std::fs::write(work.join("parking.rhai"), &original).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_chorus"))
        .args(["rules", "push", "--site", "demo-clinic"])
        .arg(&work)
        .arg("--config")
        .arg(&nodes.config)
        .arg("--sites")
        .arg(&shared)
        .arg("--plugins")
        .arg(common::repo().join("plugins"))
        .env("CHORUS_STORE", &nodes.url)
        .env("CHORUS_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let took = within(Duration::from_secs(5), "C runs the pushed version", || {
        task_title(&c, cc) == PARKING_TITLE
    });
    for base in [a, b] {
        within(
            Duration::from_secs(5),
            "A and B run the pushed version",
            || task_title(&c, base) == PARKING_TITLE,
        );
    }
    eprintln!("C ran the pushed version after {took:?}");
}
