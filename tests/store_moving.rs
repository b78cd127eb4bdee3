//! Moving data between backends: `chorus backup` of a sled store restores into PostgreSQL,
//! and a backup of that restores into sled again, with an identical `chorus export` (and the
//! same backup file) each way.

mod common;

use common::server::Server;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A chorus command on the demo site with the given store ("" is sled in `data`).
fn chorus(args: &[&str], data: &Path, store: &str) -> Output {
    let repo = common::repo();
    let out = Command::new(common::server::bin())
        .args(args)
        .arg("--data")
        .arg(data)
        .arg("--sites")
        .arg(repo.join("sites"))
        .arg("--plugins")
        .arg(repo.join("plugins"))
        .env("CHORUS_STORE", store)
        .env("CHORUS_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn exports(data: &Path, store: &str) -> (Vec<u8>, Vec<u8>) {
    let jsonl = chorus(
        &["export", "--site", "demo-clinic", "--format", "jsonl"],
        data,
        store,
    )
    .stdout;
    let csv = chorus(
        &["export", "--site", "demo-clinic", "--format", "csv"],
        data,
        store,
    )
    .stdout;
    (jsonl, csv)
}

#[test]
fn a_sled_backup_restores_into_postgres_and_back_with_the_same_export() {
    let dir = tempfile::tempdir().unwrap();
    let Some(pg) = common::pg::store_for(&dir.path().join("pg")) else {
        common::pg::skip_unless_postgres(
            "a_sled_backup_restores_into_postgres_and_back_with_the_same_export",
        );
        return;
    };
    let sled = dir.path().join("sled");
    // A sled store with responses, tasks, deliveries, rule errors and idempotency keys.
    let server = Server::start_opts(
        &sled,
        &common::repo().join("sites"),
        &[],
        &[("CHORUS_STORE", "")],
    );
    let c = reqwest::blocking::Client::new();
    let answers = [
        (
            "patient-enrollment",
            serde_json::json!({ "aware": "yes", "tried": "yes", "enrolled": "no",
                "what_happened": ["error"], "contact_ok": "yes", "contact_phone": "555-0100" }),
        ),
        ("provider-enrollment", common::nodes::provider_answers()),
        (
            "patient-enrollment",
            serde_json::json!({ "aware": "no", "tried": "no", "contact_ok": "no" }),
        ),
    ];
    for (i, (survey, a)) in answers.iter().enumerate() {
        let res = c
            .post(format!(
                "{}/api/v1/sites/demo-clinic/surveys/{survey}/responses",
                server.base
            ))
            .header("Idempotency-Key", format!("moving-{i}"))
            .json(&serde_json::json!({ "answers": a }))
            .send()
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    assert_eq!(server.terminate().code(), Some(0));
    let from_sled = exports(&sled, "");
    assert!(
        from_sled
            .0
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .count()
            == 3
    );

    let backup = dir.path().join("sled.backup");
    chorus(&["backup", backup.to_str().unwrap()], &sled, "");
    chorus(
        &["restore", backup.to_str().unwrap()],
        &dir.path().join("unused"),
        &pg,
    );
    assert_eq!(
        exports(&dir.path().join("unused"), &pg),
        from_sled,
        "PostgreSQL exports what sled did"
    );

    let again = dir.path().join("pg.backup");
    chorus(
        &["backup", again.to_str().unwrap()],
        &dir.path().join("unused"),
        &pg,
    );
    let (first, second) = (
        std::fs::read(&backup).unwrap(),
        std::fs::read(&again).unwrap(),
    );
    // The same file, but for the audit entries the restore and the exports since added (the
    // trail comes last in a backup and is only ever appended to).
    assert!(
        second.starts_with(&first),
        "the backup of the restored store begins with the whole first backup"
    );
    let added: Vec<String> = String::from_utf8(second[first.len()..].to_vec())
        .unwrap()
        .lines()
        .map(|l| {
            let record: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(record["type"], "audit", "only audit entries added: {l}");
            record["action"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        added,
        ["restore", "responses_exported", "responses_exported"],
        "the restore and the two exports are in the trail"
    );

    let back = dir.path().join("sled-again");
    chorus(&["restore", again.to_str().unwrap()], &back, "");
    assert_eq!(exports(&back, ""), from_sled, "and back into sled");
}
