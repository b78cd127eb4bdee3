//! Black-box: `chorus user passwd` then signing in to the real server over TCP, as a browser
//! would (cookies by hand, no redirects followed).

mod common;

use common::server::{bin, run, Server};
use std::io::Write;
use std::process::{Command, Stdio};

fn set_password(data: &std::path::Path, name: &str, password: &str) {
    let out = passwd(data, name, password);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn passwd(data: &std::path::Path, name: &str, password: &str) -> std::process::Output {
    let repo = common::repo();
    let mut child = Command::new(bin())
        .args(["user", "passwd", name, "--data"])
        .arg(data)
        .arg("--sites")
        .arg(repo.join("sites"))
        .arg("--plugins")
        .arg(repo.join("plugins"))
        .envs(common::pg::env_for(data))
        .env("CHORUS_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_short_password_is_refused_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let add = [
        "user",
        "add",
        "--site",
        "demo-clinic",
        "--name",
        "ana",
        "--role",
        "staff",
    ];
    assert!(run(&add, &data).status.success());
    let out = passwd(&data, "ana", "short pw");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "chorus: the password is too short: it has 8 character(s), it needs at least 12"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("configuration"), "{stderr}");
    // Nothing was set: a password of the right length still works afterwards.
    set_password(&data, "ana", "twelve chars or more");
}

/// `name=value` of a Set-Cookie header, and the whole header.
fn cookie(res: &reqwest::blocking::Response, name: &str) -> Option<(String, String)> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| (v.split(';').next().unwrap().to_string(), v.to_string()))
}

#[test]
fn sign_in_to_the_real_server() {
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
            "staff",
        ],
        &data,
    );
    assert!(out.status.success());
    set_password(&data, "maria", "twelve chars or more");
    let server = Server::start(&data);
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let form = client
        .get(format!("{}/admin/login", server.base))
        .send()
        .unwrap();
    assert_eq!(form.status(), 200);
    let (login_cookie, _) = cookie(&form, "chorus_login").unwrap();
    let html = form.text().unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = &html[start..start + html[start..].find('"').unwrap()];

    let res = client
        .post(format!("{}/admin/login", server.base))
        .header("Cookie", &login_cookie)
        .form(&[
            ("csrf", csrf),
            ("name", "maria"),
            ("password", "twelve chars or more"),
        ])
        .send()
        .unwrap();
    assert_eq!(res.status(), 303);
    let (session, header) = cookie(&res, "chorus_session").expect("session cookie");
    assert!(header.contains("HttpOnly"), "{header}");
    assert!(header.contains("SameSite=Lax"), "{header}");
    assert!(!header.contains("Secure"), "plain http: {header}");

    let res = client
        .get(format!("{}/admin", server.base))
        .header("Cookie", &session)
        .send()
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers().get("location").unwrap(),
        "/admin/sites/demo-clinic"
    );
    let res = client
        .get(format!("{}/admin/sites/demo-clinic", server.base))
        .header("Cookie", &session)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("content-security-policy").is_some());
    let page = res.text().unwrap();
    assert!(page.contains("Demo Primary Care Clinic"));
    assert!(page.contains("<svg"));
    let res = client
        .get(format!(
            "{}/admin/sites/demo-clinic/follow-ups",
            server.base
        ))
        .header("Cookie", &session)
        .send()
        .unwrap();
    assert_eq!(res.status(), 200, "staff work follow-ups");
    server.terminate();
}
