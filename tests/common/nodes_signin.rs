//! Signing in to a node of `Nodes` with a password user made in the shared store.

use super::nodes::{client, Nodes};
use chorus::domain::Role;
use chorus::services::audit::Actor;

fn cookie(res: &reqwest::blocking::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// The `csrf` hidden field of a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a csrf field") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

/// Makes an admin of demo-clinic named `name` and signs in on `base`; returns the session
/// cookie (`chorus_session=...`).
pub fn sign_in(nodes: &Nodes, base: &str, name: &str) -> String {
    let password = "twelve chars or more";
    nodes.with_store(async |store| {
        chorus::services::users::add(store.as_ref(), Actor::Cli, name, "demo-clinic", Role::Admin)
            .await
            .unwrap();
        chorus::services::users::set_password(store.as_ref(), Actor::Cli, name, password)
            .await
            .unwrap();
    });
    let c = client();
    let form = c.get(format!("{base}/admin/login")).send().unwrap();
    let login = cookie(&form, "chorus_login").unwrap();
    let csrf = csrf_of(&form.text().unwrap());
    let res = c
        .post(format!("{base}/admin/login"))
        .header("Cookie", &login)
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", name),
            ("password", password),
        ])
        .send()
        .unwrap();
    assert_eq!(res.status(), 303, "signed in");
    cookie(&res, "chorus_session").expect("a session cookie")
}
