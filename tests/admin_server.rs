//! Black-box: `chorus user passwd` then signing in to the real server over TCP, as a browser
//! would (cookies by hand, no redirects followed).

mod common;

use common::server::{run, Server};
use common::signin::{set_password, sign_in_with_header};

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
