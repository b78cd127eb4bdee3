//! The command line, black-box: the real binary on real data directories.

mod common;

use common::server::{bin, run, Server};
use serde_json::json;
use std::process::Command;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn first_start_creates_an_admin_token_file_with_mode_0600() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let token_file = data.join("initial-admin-token");
    let token = std::fs::read_to_string(&token_file)
        .unwrap()
        .trim()
        .to_string();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let res = reqwest::blocking::Client::new()
        .get(format!(
            "{}/api/v1/sites/demo-clinic/responses",
            server.base
        ))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[test]
fn user_add_prints_a_working_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(
        &[
            "user",
            "add",
            "--site",
            "demo-clinic",
            "--name",
            "maria",
            "--role",
            "viewer",
        ],
        &data,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = stdout(&out).trim().to_string();
    assert!(token.starts_with("chorus_") && token.len() > 60);
    let again = run(
        &[
            "user",
            "add",
            "--site",
            "demo-clinic",
            "--name",
            "maria",
            "--role",
            "viewer",
        ],
        &data,
    );
    assert!(!again.status.success());
    assert!(stderr(&again).contains("already exists"));
    let bad_role = run(
        &[
            "user", "add", "--site", "*", "--name", "x", "--role", "owner",
        ],
        &data,
    );
    assert!(!bad_role.status.success());
    assert!(stderr(&bad_role).contains("unknown role"));

    let server = Server::start(&data);
    let client = reqwest::blocking::Client::new();
    let ok = client
        .get(format!(
            "{}/api/v1/sites/demo-clinic/responses",
            server.base
        ))
        .bearer_auth(&token)
        .send()
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
}

#[test]
fn commands_on_a_running_servers_data_say_so_in_one_line() {
    if common::pg::skip_on_postgres(
        "commands_on_a_running_servers_data_say_so_in_one_line",
        "sled admits one process per data directory; PostgreSQL admits any number",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _server = Server::start(&data);
    for args in [
        vec!["export", "--site", "demo-clinic"],
        vec![
            "user", "add", "--site", "*", "--name", "x", "--role", "admin",
        ],
        vec!["backup", "/tmp/never-written.jsonl"],
    ] {
        let out = run(&args, &data);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("in use by another Chorus process"),
            "{args:?}: {err}"
        );
        assert_eq!(
            err.trim().lines().count(),
            1,
            "one line, no backtrace: {err}"
        );
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn export_csv_has_one_row_per_response_with_answers_and_tags() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let client = reqwest::blocking::Client::new();
    let url = format!(
        "{}/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses",
        server.base
    );
    let answers = json!({ "answers": {
        "aware": "yes", "tried": "yes", "enrolled": "no", "what_happened": ["error", "no_help"],
        "contact_ok": "no", "comments": "The code, \"never\" came"
    }});
    for _ in 0..3 {
        assert_eq!(
            client
                .post(&url)
                .json(&answers)
                .send()
                .unwrap()
                .status()
                .as_u16(),
            201
        );
    }
    server.terminate();
    let out = run(
        &["export", "--site", "demo-clinic", "--format", "csv"],
        &data,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers = reader.headers().unwrap().clone();
    for col in [
        "id",
        "submitted_at",
        "survey",
        "group",
        "tags",
        "aware",
        "what_happened",
        "comments",
    ] {
        assert!(headers.iter().any(|h| h == col), "column {col}");
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][col("what_happened")], "error;no_help");
    assert_eq!(&rows[0][col("comments")], "The code, \"never\" came");
    assert_eq!(&rows[0][col("group")], "patient");
}

#[test]
fn backup_then_restore_gives_the_same_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data);
    let url = format!(
        "{}/api/v1/sites/demo-clinic/surveys/provider-enrollment/responses",
        server.base
    );
    let body = json!({ "answers": { "role": "physician", "offer_to": "all", "when_best": "check_in", "who_should": "physician", "help_available": "yes" }});
    for _ in 0..5 {
        reqwest::blocking::Client::new()
            .post(&url)
            .json(&body)
            .send()
            .unwrap();
    }
    server.terminate();
    let file = dir.path().join("chorus.backup");
    let out = run(&["backup", file.to_str().unwrap()], &data);
    assert!(out.status.success(), "{}", stderr(&out));

    let restored = dir.path().join("restored");
    let out = run(&["restore", file.to_str().unwrap()], &restored);
    assert!(out.status.success(), "{}", stderr(&out));
    let export = |d: &std::path::Path| {
        stdout(&run(
            &["export", "--site", "demo-clinic", "--format", "jsonl"],
            d,
        ))
    };
    assert_eq!(export(&data), export(&restored));
    assert_eq!(export(&restored).lines().count(), 5);

    // Restoring again over data is refused and changes nothing.
    let again = run(&["restore", file.to_str().unwrap()], &restored);
    assert!(!again.status.success());
    assert_eq!(export(&restored).lines().count(), 5);

    // A damaged backup writes nothing.
    let damaged = dir.path().join("damaged.backup");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&damaged, format!("{text}{{not json\n")).unwrap();
    let fresh = dir.path().join("fresh");
    let out = run(&["restore", damaged.to_str().unwrap()], &fresh);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("not valid"));
    assert_eq!(export(&fresh).lines().count(), 0);
}

#[test]
fn a_broken_site_stops_serve_and_check_with_file_line_col() {
    let dir = tempfile::tempdir().unwrap();
    let sites = common::repo().join("tests/fixtures/broken-sites");
    let check = Command::new(bin())
        .args(["check", "--sites"])
        .arg(&sites)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(1));
    let printed = stdout(&check);
    assert!(printed.contains("a-syntax.toml:4:11:"), "{printed}");
    assert!(
        printed.contains("b-semantic.toml:13:8: unknown variant `colour`"),
        "{printed}"
    );
    assert!(
        printed
            .contains("c-semantic.toml:2:9: group \"leadership\" is not one of the site's groups"),
        "{printed}"
    );
    assert_eq!(
        printed.lines().count(),
        4,
        "one line per problem: {printed}"
    );
    assert!(
        printed.contains("c-semantic.toml:15:11: \"b\" is not an option of \"pick\""),
        "{printed}"
    );

    let serve = Command::new(bin())
        .args(["serve", "--bind", "127.0.0.1:0", "--sites"])
        .arg(&sites)
        .arg("--data")
        .arg(dir.path().join("data"))
        .envs(common::pg::env_for(&dir.path().join("data")))
        .output()
        .unwrap();
    assert!(!serve.status.success());
    assert!(
        stderr(&serve).contains("a-syntax.toml:4:11:"),
        "{}",
        stderr(&serve)
    );
}

#[test]
fn a_bad_config_file_fails_fast() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("chorus.toml");
    std::fs::write(&config, "bind = \"127.0.0.1:0\"\ncolour = \"red\"\n").unwrap();
    let out = Command::new(bin())
        .arg("serve")
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("chorus.toml:2:1: unknown field `colour`"),
        "{}",
        stderr(&out)
    );
}
