//! Signing in to the real server over TCP, as a browser would (cookies by hand).

use super::server::command;
use std::io::Write;
use std::process::Stdio;

/// Sets a web-login password with `chorus user passwd` (the server must be stopped).
pub fn set_password(data: &std::path::Path, name: &str, password: &str) {
    let out = passwd(data, name, password);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `chorus user passwd NAME` with `password` on its standard input.
pub fn passwd(data: &std::path::Path, name: &str, password: &str) -> std::process::Output {
    let mut child = command(&["user", "passwd", name], data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

/// `name=value` of a Set-Cookie header, and the whole header.
pub fn cookie(res: &reqwest::blocking::Response, name: &str) -> Option<(String, String)> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| (v.split(';').next().unwrap().to_string(), v.to_string()))
}

/// Signs in through the login form; returns the session cookie (`name=value`).
pub fn sign_in(base: &str, name: &str, password: &str) -> String {
    sign_in_with_header(base, name, password).0
}

/// As `sign_in`, with the whole Set-Cookie header of the session cookie.
pub fn sign_in_with_header(base: &str, name: &str, password: &str) -> (String, String) {
    try_sign_in_with_header(base, name, password).expect("sign-in refused")
}

/// Signs in through the login form: the session cookie, or `None` when refused.
pub fn try_sign_in(base: &str, name: &str, password: &str) -> Option<String> {
    try_sign_in_with_header(base, name, password).map(|c| c.0)
}

fn try_sign_in_with_header(base: &str, name: &str, password: &str) -> Option<(String, String)> {
    let client = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = client.get(format!("{base}/admin/login")).send().unwrap();
    assert_eq!(form.status(), 200);
    let (login_cookie, _) = cookie(&form, "chorus_login").unwrap();
    let html = form.text().unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).unwrap() + marker.len();
    let csrf = &html[start..start + html[start..].find('"').unwrap()];
    let res = client
        .post(format!("{base}/admin/login"))
        .header("Cookie", &login_cookie)
        .form(&[("csrf", csrf), ("name", name), ("password", password)])
        .send()
        .unwrap();
    if res.status() != 303 {
        return None;
    }
    Some(cookie(&res, "chorus_session").expect("session cookie"))
}
