//! Users from the command line and the first start, black-box on the real binary: the first
//! start prints a single-use link with which a new install signs in to the web app while the
//! server runs; `chorus user …` changes users with the actor `cli` in the audit trail.

mod common;

use common::server::{free_port, run, serve_command};
use common::signin;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ok(o: std::process::Output) -> std::process::Output {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// The audit trail as (actor, action, target) lines, oldest first.
fn audit(data: &std::path::Path) -> Vec<(String, String, String)> {
    let out = ok(run(&["audit", "export"], data));
    stdout(&out)
        .lines()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("actor"), s("action"), s("target"))
        })
        .collect()
}

#[test]
fn the_first_start_prints_a_link_that_lets_the_admin_sign_in_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let mut child = serve_command(&data, &common::repo().join("sites"), port)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let link = loop {
        let line = lines.next().expect("the link line").unwrap();
        printed.push(line.clone());
        if line.contains("/admin/password/") {
            break line;
        }
    };
    let base = format!("http://127.0.0.1:{port}");
    assert!(link.starts_with(&base), "{link}");
    assert!(
        printed.iter().any(|l| l.starts_with("chorus_")),
        "{printed:?}"
    );
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !client
        .get(format!("{base}/healthz"))
        .send()
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "server did not become healthy");
        std::thread::sleep(Duration::from_millis(50));
    }

    let password = "the first admin's password";
    let page = client.get(&link).send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("admin"));
    let set = client
        .post(&link)
        .form(&[("password", password), ("confirm_password", password)])
        .send()
        .unwrap();
    assert_eq!(set.status(), 200);
    let session = signin::sign_in(&base, "admin", password);
    let users = client
        .get(format!("{base}/admin/users"))
        .header("Cookie", &session)
        .send()
        .unwrap();
    assert_eq!(users.status(), 200);
    // The link is single-use.
    let again = client
        .post(&link)
        .form(&[("password", password), ("confirm_password", password)])
        .send()
        .unwrap();
    assert_eq!(again.status(), 410);

    let _ = child.kill();
    let _ = child.wait();
    let trail = audit(&data);
    let secret = link.rsplit('/').next().unwrap();
    let text = stdout(&run(&["audit", "export"], &data));
    assert!(!text.contains(secret), "the link in the audit trail");
    for want in [
        ("system", "invite_created", "admin"),
        ("admin", "password_set", "admin"),
        ("admin", "sign_in", "admin"),
    ] {
        let want = (want.0.to_string(), want.1.to_string(), want.2.to_string());
        assert!(trail.contains(&want), "{want:?} in {trail:?}");
    }
}

#[test]
fn user_commands_change_users_and_are_audited_as_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = stdout(&ok(run(
        &[
            "user",
            "add",
            "--site",
            "demo-clinic",
            "--name",
            "nia",
            "--role",
            "viewer",
        ],
        &data,
    )));
    assert!(token.trim().starts_with("chorus_"));
    ok(run(&["user", "role", "nia", "staff"], &data));
    ok(run(&["user", "disable", "nia"], &data));
    let list = stdout(&ok(run(&["user", "list"], &data)));
    assert!(list.contains("nia\tdemo-clinic\tstaff\tdisabled"), "{list}");
    ok(run(&["user", "enable", "nia"], &data));
    let new = stdout(&ok(run(&["user", "token", "nia"], &data)));
    assert_ne!(new.trim(), token.trim());
    ok(run(&["user", "revoke-token", "nia"], &data));
    let link = stdout(&ok(run(
        &[
            "user",
            "invite",
            "nia",
            "--base-url",
            "https://chorus.example",
        ],
        &data,
    )));
    assert!(
        link.trim()
            .starts_with("https://chorus.example/admin/password/"),
        "{link}"
    );

    // Refused: an unknown user, an unknown role; nothing is recorded for them.
    let out = run(&["user", "role", "ghost", "staff"], &data);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no user named \"ghost\""));
    let out = run(&["user", "role", "nia", "owner"], &data);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown role"));

    let trail: Vec<(String, String, String)> = audit(&data);
    let cli = |a: &str| ("cli".to_string(), a.to_string(), "nia".to_string());
    assert_eq!(
        trail,
        [
            cli("user_created"),
            cli("token_created"),
            cli("role_changed"),
            cli("user_disabled"),
            cli("user_enabled"),
            cli("token_created"),
            cli("token_revoked"),
            cli("invite_created"),
        ]
    );
    let text = stdout(&run(&["audit", "export"], &data));
    for secret in [
        token.trim(),
        new.trim(),
        link.trim().rsplit('/').next().unwrap(),
    ] {
        assert!(!text.contains(secret));
    }
    ok(run(&["audit", "verify"], &data));
}
