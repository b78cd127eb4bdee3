//! Where webhooks may go (SSRF): `chorus check` and `serve` refuse link-local and metadata
//! addresses always, private and loopback ones unless chorus.toml's `webhook_allow_private`
//! lists them, credentials, control characters and other schemes; a host name is judged by
//! the addresses it resolves to when the worker connects (DNS rebinding). A webhook whose
//! secret is not set says so at start and on the follow-ups page.

mod admin_support;
mod common;

use actix_web::test;
use admin_support::{add_person, get_page, sign_in, PASSWORD};
use chorus::create_app;
use chorus::domain::{Action, Delivery, DeliveryStatus, Role};
use chorus::services::webhooks::{DeliveryWorker, RetryPolicy};
use common::followups::{now_rfc3339, store_with_actions};
use common::receiver::Receiver;
use common::server::{bin, free_port};
use common::TestStore;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ==";

/// The hook-clinic fixture with these webhook URLs (TOML strings, so escapes such as `\r\n`
/// work).
fn hook_sites(helpdesk: &str, down: &str) -> PathBuf {
    common::followups::hook_clinic_sites(helpdesk, down)
}

fn chorus(args: &[&str], config_text: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("chorus.toml");
    std::fs::write(&config, config_text).unwrap();
    Command::new(bin())
        .args(args)
        .arg("--config")
        .arg(&config)
        .arg("--plugins")
        .arg(common::repo().join("plugins"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .envs(common::pg::env_for(&dir.path().join("data")))
        .env("CHORUS_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn check(sites: &Path, config_text: &str) -> (Option<i32>, String) {
    let out = chorus(&["check", "--sites", sites.to_str().unwrap()], config_text);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[::core::prelude::v1::test]
fn check_refuses_special_addresses_always_and_private_ones_unless_allowed() {
    let always = [
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        (
            "http://metadata.google.internal/computeMetadata/v1/",
            "cloud metadata",
        ),
        ("http://[fd00:ec2::254]/", "cloud metadata"),
        ("http://[fe80::1]/hook", "link-local"),
        (
            "http://user:pw@helpdesk.example.org/hook",
            "user name or password",
        ),
        (
            "http://helpdesk.example.org/hook\\r\\nX-Evil: 1",
            "control character",
        ),
        ("http://helpdesk.example.org/a hook", "whitespace"),
        ("ftp://helpdesk.example.org/hook", "http:// or https://"),
    ];
    let private = [
        ("http://127.0.0.1:22/", "loopback"),
        ("http://10.0.0.1/hook", "private"),
        ("http://192.168.1.20/hook", "private"),
        ("http://100.64.0.1/hook", "shared"),
        ("http://[::1]:8080/hook", "loopback"),
    ];
    let allow_all = "webhook_allow_private = [\"0.0.0.0/0\", \"::/0\"]\n";
    for (url, why) in always {
        let sites = hook_sites(url, "https://helpdesk.example.org/ok");
        for config in ["", allow_all] {
            let (code, out) = check(&sites, config);
            assert_eq!(code, Some(1), "{url} with {config:?}: {out}");
            assert!(
                out.contains("site.toml:9:7: webhook \"helpdesk\": ") && out.contains(why),
                "{url}: {out}"
            );
        }
    }
    for (url, why) in private {
        let sites = hook_sites(url, "https://helpdesk.example.org/ok");
        let (code, out) = check(&sites, "");
        assert_eq!(code, Some(1), "{url}: {out}");
        assert!(
            out.contains(why) && out.contains("webhook_allow_private"),
            "{url}: {out}"
        );
        let (code, out) = check(&sites, allow_all);
        assert_eq!(code, Some(0), "{url} is allowed when listed: {out}");
    }
    // Only what the list covers.
    let sites = hook_sites("http://10.20.3.4/hook", "http://10.21.0.1/hook");
    let (code, out) = check(&sites, "webhook_allow_private = [\"10.20.0.0/16\"]\n");
    assert_eq!(code, Some(1));
    assert!(
        out.contains("webhook \"down\": 10.21.0.1 is a private address"),
        "{out}"
    );
    assert!(!out.contains("\"helpdesk\""), "{out}");
    // A bad entry stops the command with its location.
    let out = chorus(
        &["check", "--sites", sites.to_str().unwrap()],
        "webhook_allow_private = [\"10.0.0.0/33\"]\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("chorus.toml:1:") && stderr.contains("CIDR"),
        "{stderr}"
    );
}

#[::core::prelude::v1::test]
fn serve_refuses_the_demo_help_desk_unless_loopback_is_allowed() {
    let sites = common::repo().join("sites");
    let out = chorus(
        &[
            "serve",
            "--sites",
            sites.to_str().unwrap(),
            "--bind",
            "127.0.0.1:0",
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "site.toml:16:7: webhook \"helpdesk\": 127.0.0.1 is a loopback address: webhooks reach it only when webhook_allow_private in chorus.toml lists it"
        ),
        "{stderr}"
    );
    // The repository's own chorus.toml allows it, so the demo works out of the box.
    let repo_config = std::fs::read_to_string(common::repo().join("chorus.toml")).unwrap();
    let (code, out) = check(&sites, &repo_config);
    assert_eq!(code, Some(0), "{out}");
}

/// Polls the outbox until `done` holds (bounded).
async fn wait_for(state: &chorus::AppState, done: impl Fn(&[Delivery]) -> bool) -> Vec<Delivery> {
    for _ in 0..400 {
        let list = state
            .store
            .all_deliveries("hook-clinic", None)
            .await
            .unwrap();
        if done(&list) {
            return list;
        }
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "deliveries never reached the expected state: {:?}",
        state
            .store
            .all_deliveries("hook-clinic", None)
            .await
            .unwrap()
    );
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        first_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        ..RetryPolicy::default()
    }
}

async fn hook_state(sites: PathBuf, allow: &[&str]) -> common::TestState {
    std::env::set_var("HOOK_CLINIC_HELPDESK_SECRET", SECRET);
    common::state_with(|data| chorus::Config {
        sites,
        webhook_allow_private: allow.iter().map(|a| a.parse().unwrap()).collect(),
        ..common::fixture_config(data)
    })
    .await
}

/// One webhook action to `http://localhost:PORT/…` (a receiver on 127.0.0.1) with these
/// ranges allowed, delivered until it settles: what was recorded and what reached the receiver.
async fn deliver_to_localhost(allow: &str, settled: DeliveryStatus) -> (Delivery, usize) {
    let receiver = Receiver::start(|_| (204, vec![]));
    let url = format!("http://localhost:{}/hooks/chorus", receiver.port);
    // `down` uses the allowed address itself, so that the site loads.
    let down = format!("http://{}:9/down", allow.trim_end_matches("/32"));
    let t = hook_state(hook_sites(&url, &down), &[allow]).await;
    actix_web::rt::spawn(DeliveryWorker::new(t.state.chorus.clone(), policy()).run());
    let action = Action::Webhook {
        target: "helpdesk".into(),
        payload: None,
    };
    store_with_actions(
        &t.state,
        "hook-clinic",
        "patient",
        &now_rfc3339(),
        vec![action],
    )
    .await;
    let list = wait_for(&t.state, |l| l.iter().all(|d| d.status == settled)).await;
    (list[0].clone(), receiver.received().len())
}

#[actix_web::test]
async fn a_name_that_resolves_to_a_refused_address_is_never_contacted() {
    // Loading passes: a name is judged when connecting, by every address it resolves to.
    let (delivery, received) = deliver_to_localhost("127.0.0.2/32", DeliveryStatus::Failed).await;
    let error = delivery.last_error.as_deref().unwrap();
    assert!(
        error.starts_with("refused: localhost resolves to ")
            && error.contains("127.0.0.1 is a loopback address")
            && error.contains("webhook_allow_private"),
        "{error}"
    );
    assert_eq!(delivery.attempts, 1, "a refusal is not retried");
    assert_eq!(received, 0, "no request reached the receiver");
}

#[actix_web::test]
async fn a_name_is_delivered_to_the_addresses_the_policy_allows() {
    let (delivery, received) =
        deliver_to_localhost("127.0.0.1/32", DeliveryStatus::Delivered).await;
    assert_eq!(delivery.attempts, 1);
    assert_eq!(received, 1);
}

/// Starts the real server on the demo site with these environment variables; returns its
/// stderr once it is healthy, and stops it.
fn start_log(envs: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let repo = common::repo();
    let log = dir.path().join("stderr.log");
    let port = free_port();
    let mut child = Command::new(bin())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("--sites")
        .arg(repo.join("sites"))
        .arg("--plugins")
        .arg(repo.join("plugins"))
        .arg("--templates")
        .arg(repo.join("templates"))
        .env_remove("DEMO_HELPDESK_SECRET")
        .envs(common::pg::env_for(&dir.path().join("data")))
        .envs(envs.iter().copied())
        .env("CHORUS_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = reqwest::blocking::Client::new();
    while !client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .is_ok_and(|r| r.status().is_success())
    {
        assert!(Instant::now() < deadline, "server did not become healthy");
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    without_colours(&std::fs::read_to_string(&log).unwrap())
}

/// The log without its ANSI colour sequences (`ESC [ … m`).
fn without_colours(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[::core::prelude::v1::test]
fn a_missing_or_broken_secret_is_logged_at_start_without_the_secret() {
    let log = start_log(&[]);
    let line = log
        .lines()
        .find(|l| l.contains("webhook secret unavailable"))
        .unwrap_or_else(|| panic!("no warning in {log}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("webhook=helpdesk"), "{line}");
    assert!(
        line.contains("environment variable DEMO_HELPDESK_SECRET is not set"),
        "{line}"
    );

    let broken = "whsec_n0t-base64!secret-value";
    let log = start_log(&[("DEMO_HELPDESK_SECRET", broken)]);
    assert!(
        log.contains("DEMO_HELPDESK_SECRET starts with whsec_ but the rest is not valid base64"),
        "{log}"
    );
    assert!(
        !log.contains("n0t-base64") && !log.contains("secret-value"),
        "{log}"
    );

    let log = start_log(&[("DEMO_HELPDESK_SECRET", SECRET)]);
    assert!(!log.contains("webhook secret unavailable"), "{log}");
}

#[actix_web::test]
async fn the_follow_ups_page_says_which_webhook_has_no_secret() {
    std::env::remove_var("DEMO_HELPDESK_SECRET");
    let t = common::demo_state().await;
    add_person(&t.state, "sam", "demo-clinic", Role::Staff).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let cookie = sign_in(&app, "sam", PASSWORD).await.session.unwrap();
    let (status, _, page) = get_page(&app, &cookie, "/admin/sites/demo-clinic/follow-ups").await;
    assert_eq!(status.as_u16(), 200);
    assert!(page.contains("Webhooks cannot be sent"), "{page}");
    assert!(
        page.contains(
            "Webhook <strong>helpdesk</strong>: environment variable DEMO_HELPDESK_SECRET is not set."
        ),
        "{page}"
    );
}
