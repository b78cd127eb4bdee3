//! Black-box: `chorus user passwd` then signing in to the real server over TCP, as a browser
//! would (cookies by hand, no redirects followed).

mod common;

use common::server::{run, Server};
use common::signin::{passwd, set_password, sign_in_with_header};

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
    let (session, header) = sign_in_with_header(&server.base, "maria", "twelve chars or more");
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
