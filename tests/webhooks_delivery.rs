//! Webhook deliveries against real receivers on 127.0.0.1: Standard Webhooks signatures, retries
//! with the same webhook-id, Retry-After, dead-lettering, replay, and endpoint independence.

mod common;

use actix_web::test;
use chorus::create_app;
use chorus::followups::delivery::{DeliveryWorker, RetryPolicy};
use chorus::followups::signing::{secret_bytes, verify};
use chorus::followups::{now_ms, Delivery, DeliveryStatus};
use chorus::response::Action;
use chorus::store::Role;
use common::followups::{now_rfc3339, store_with_actions};
use common::receiver::Receiver;
use serde_json::{json, Value};
use std::time::Duration;

const SECRET: &str = "whsec_c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seQ==";

/// The hook-clinic fixture with its two webhooks pointed at the given URLs.
fn state_with_hooks(helpdesk: &str, down: &str) -> common::TestState {
    std::env::set_var("HOOK_CLINIC_HELPDESK_SECRET", SECRET);
    let sites = common::followups::hook_clinic_sites(helpdesk, down);
    common::state_with(|data| chorus::Config {
        sites: sites.clone(),
        ..common::fixture_config(data)
    })
}

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        span: Duration::from_secs(3600),
        first_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        request_timeout: Duration::from_secs(10),
        per_endpoint: 4,
        max_per_second: 500,
    }
}

fn webhook(target: &str) -> Action {
    Action::Webhook {
        target: target.into(),
        payload: Some(json!({ "reason": "enrollment error" })),
    }
}

/// Polls the outbox until `done` holds (bounded; the test fails if it never does).
async fn wait_for(
    state: &chorus::AppState,
    site: &str,
    done: impl Fn(&[Delivery]) -> bool,
) -> Vec<Delivery> {
    for _ in 0..400 {
        let list = state.store.list_deliveries(site, None).unwrap();
        if done(&list) {
            return list;
        }
        actix_web::rt::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "deliveries never reached the expected state: {:?}",
        state.store.list_deliveries(site, None).unwrap()
    );
}

#[actix_web::test]
async fn retries_keep_one_webhook_id_and_a_valid_signature() {
    let receiver = Receiver::start(|attempt| {
        if attempt <= 2 {
            (500, vec![])
        } else {
            (204, vec![])
        }
    });
    let t = state_with_hooks(&receiver.url, "http://127.0.0.1:9/unused");
    actix_web::rt::spawn(DeliveryWorker::new(t.state.clone().into_inner(), fast_policy()).run());
    let r = store_with_actions(
        &t.state,
        "hook-clinic",
        "patient",
        &now_rfc3339(),
        vec![webhook("helpdesk")],
    );

    let list = wait_for(&t.state, "hook-clinic", |l| {
        l.iter().all(|d| d.status == DeliveryStatus::Delivered)
    })
    .await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].attempts, 3);
    let got = receiver.received();
    assert_eq!(got.len(), 3, "two failures, then the success");
    let ids: std::collections::BTreeSet<&String> =
        got.iter().map(|g| &g.headers["webhook-id"]).collect();
    assert_eq!(ids.len(), 1, "every attempt carries the same webhook-id");
    let key = secret_bytes(SECRET).unwrap();
    for g in &got {
        let ts: i64 = g.headers["webhook-timestamp"].parse().unwrap();
        assert!(verify(
            &key,
            &g.headers["webhook-id"],
            ts,
            &g.body,
            &g.headers["webhook-signature"]
        ));
        assert!((ts - now_ms() / 1000).abs() < 600);
    }
    let body: Value = serde_json::from_str(&got[2].body).unwrap();
    assert_eq!(body["type"], "chorus.follow_up");
    assert_eq!(body["site"], "hook-clinic");
    assert_eq!(body["response_id"], r.id.to_string());
    assert_eq!(body["follow_up_id"], r.follow_ups[0].id.to_string());
    assert_eq!(body["tags"], json!(["enrollment_technical"]));
    assert_eq!(body["payload"]["reason"], "enrollment error");
}

#[actix_web::test]
async fn a_dead_endpoint_does_not_delay_another() {
    let up = Receiver::start(|_| (200, vec![]));
    // Port 9 (discard) on loopback refuses connections: a dead help desk.
    let t = state_with_hooks(&up.url, "http://127.0.0.1:9/hooks/chorus");
    actix_web::rt::spawn(DeliveryWorker::new(t.state.clone().into_inner(), fast_policy()).run());
    for _ in 0..5 {
        store_with_actions(
            &t.state,
            "hook-clinic",
            "patient",
            &now_rfc3339(),
            vec![webhook("down")],
        );
    }
    for _ in 0..20 {
        store_with_actions(
            &t.state,
            "hook-clinic",
            "patient",
            &now_rfc3339(),
            vec![webhook("helpdesk")],
        );
    }
    let list = wait_for(&t.state, "hook-clinic", |l| {
        l.iter()
            .filter(|d| d.webhook == "helpdesk" && d.status == DeliveryStatus::Delivered)
            .count()
            == 20
    })
    .await;
    assert_eq!(up.received().len(), 20, "one request per delivery");
    for d in list.iter().filter(|d| d.webhook == "down") {
        assert_eq!(
            d.status,
            DeliveryStatus::Pending,
            "the dead endpoint keeps retrying"
        );
        assert!(
            d.last_error.as_deref().unwrap_or("").contains("connect"),
            "{:?}",
            d.last_error
        );
    }
}

#[actix_web::test]
async fn retry_after_is_honoured_and_4xx_dead_letters_until_replayed() {
    let receiver = Receiver::start(|attempt| match attempt {
        1 => (429, vec![("Retry-After".into(), "120".into())]),
        _ => (200, vec![]),
    });
    let refusing = Receiver::start(|attempt| {
        if attempt == 1 {
            (410, vec![])
        } else {
            (200, vec![])
        }
    });
    let t = state_with_hooks(&receiver.url, &refusing.url);
    let app = test::init_service(create_app(t.state.clone())).await;
    actix_web::rt::spawn(DeliveryWorker::new(t.state.clone().into_inner(), fast_policy()).run());
    let before = now_ms();
    store_with_actions(
        &t.state,
        "hook-clinic",
        "patient",
        &now_rfc3339(),
        vec![webhook("helpdesk")],
    );
    store_with_actions(
        &t.state,
        "hook-clinic",
        "patient",
        &now_rfc3339(),
        vec![webhook("down")],
    );

    let list = wait_for(&t.state, "hook-clinic", |l| {
        l.iter().all(|d| d.attempts >= 1)
    })
    .await;
    let limited = list.iter().find(|d| d.webhook == "helpdesk").unwrap();
    assert_eq!(limited.status, DeliveryStatus::Pending);
    assert_eq!(limited.last_status, Some(429));
    assert!(
        limited.next_attempt_ms >= before + 119_000,
        "Retry-After: 120 is honoured"
    );
    let refused = list.iter().find(|d| d.webhook == "down").unwrap().clone();
    assert_eq!(refused.status, DeliveryStatus::Failed);
    assert_eq!(refused.last_status, Some(410));

    let admin = common::add_user(&t.state, "ada", "hook-clinic", Role::Admin);
    let failed: Value = test::call_and_read_body_json(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/sites/hook-clinic/deliveries?status=failed")
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .to_request(),
    )
    .await;
    assert_eq!(failed["deliveries"].as_array().unwrap().len(), 1);
    let res = test::call_service(
        &app,
        test::TestRequest::post()
            .uri(&format!(
                "/api/v1/sites/hook-clinic/deliveries/{}/retry",
                refused.id
            ))
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 202);
    let list = wait_for(&t.state, "hook-clinic", |l| {
        l.iter()
            .any(|d| d.id == refused.id && d.status == DeliveryStatus::Delivered)
    })
    .await;
    assert_eq!(
        list.iter().find(|d| d.id == refused.id).unwrap().attempts,
        2
    );
    let ids: Vec<String> = refusing
        .received()
        .iter()
        .map(|g| g.headers["webhook-id"].clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1], "the replay keeps the webhook-id");

    let again = test::call_service(
        &app,
        test::TestRequest::post()
            .uri(&format!(
                "/api/v1/sites/hook-clinic/deliveries/{}/retry",
                refused.id
            ))
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .to_request(),
    )
    .await;
    assert_eq!(again.status(), 409, "a delivered entry is not sent again");
}
