//! One site must not harm the others: each site's rule work queues apart in the work pool and
//! holds at most its share of the threads, so a site whose rules burn their deadline slows
//! only itself. And a job that panics fails only itself.

mod common;

use actix_web::test;
use chorus::create_app;
use chorus::Config;
use futures_util::future::{join, join_all};
use serde_json::json;
use std::time::Duration;

fn submit(site: &str) -> actix_http::Request {
    test::TestRequest::post()
        .uri(&format!("/api/v1/sites/{site}/surveys/pulse/responses"))
        .set_json(json!({ "answers": { "tried": "yes" } }))
        .to_request()
}

#[actix_web::test]
async fn a_site_with_slow_rules_does_not_hold_up_another_site() {
    let t = common::state_with(|data| Config {
        sites: common::repo().join("tests/fixtures/fair-sites"),
        plugins: common::repo().join("tests/fixtures/plugins"),
        rule_deadline: Duration::from_millis(300),
        workers: 2,
        ..common::demo_config(data)
    })
    .await;
    let state = t.state.clone();
    let per_site = state.work.per_key();
    assert_eq!(per_site, 2, "4 work threads, 2 per site");
    let app = test::init_service(create_app(t.state.clone())).await;

    let slow = join_all((0..16).map(|_| test::call_service(&app, submit("slow-clinic"))));
    let quick = async {
        // Wait until all 16 slow submissions are in the pool: some running, the rest queued.
        let give_up = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let load = state.work.load("slow-clinic");
            if load.running + load.waiting == 16 {
                break;
            }
            assert!(
                std::time::Instant::now() < give_up,
                "the slow submissions never all reached the pool: {load:?}"
            );
            actix_web::rt::time::sleep(Duration::from_millis(5)).await;
        }
        for _ in 0..8 {
            let res = test::call_service(&app, submit("quick-clinic")).await;
            assert_eq!(res.status(), 201);
        }
        // Every quick submission is answered while the slow site still waits behind itself.
        let load = state.work.load("slow-clinic");
        assert!(load.running <= per_site, "{load:?}");
        assert!(
            load.waiting > 0,
            "the quick site was served before the slow site's queue: {load:?}"
        );
        common::stored_responses(&state, "slow-clinic").await.len()
    };
    let (slow, slow_stored_meanwhile) = join(slow, quick).await;
    assert!(slow_stored_meanwhile < 16);
    // The slow site's submissions are all answered and stored too, each with its rule error.
    for res in slow {
        assert_eq!(res.status(), 201);
    }
    let stored = common::stored_responses(&state, "slow-clinic").await;
    assert_eq!(stored.len(), 16);
    for r in &stored {
        assert_eq!(r.rule_errors.len(), 1, "{:?}", r.rule_errors);
        assert!(
            r.rule_errors[0]
                .message
                .contains("the time limit of one hook"),
            "{:?}",
            r.rule_errors
        );
    }
    assert_eq!(
        common::stored_responses(&state, "quick-clinic").await.len(),
        8
    );
}

/// A job that panics fails only itself: after more panics than the pool has threads, every
/// thread still takes work, and a submission is answered and stored.
#[actix_web::test]
async fn panicking_jobs_leave_every_pool_thread_working() {
    let t = common::state_with(|data| Config {
        sites: common::repo().join("tests/fixtures/fair-sites"),
        plugins: common::repo().join("tests/fixtures/plugins"),
        workers: 2,
        ..common::demo_config(data)
    })
    .await;
    let state = t.state.clone();
    for _ in 0..8 {
        let failed = state
            .run_for_site("quick-clinic", || -> u32 { panic!("a job that panics") })
            .await;
        assert!(matches!(
            failed,
            Err(chorus::services::ServiceError::Unavailable)
        ));
    }
    let app = test::init_service(create_app(t.state.clone())).await;
    let answered = join_all((0..8).map(|_| test::call_service(&app, submit("quick-clinic")))).await;
    for res in answered {
        assert_eq!(res.status(), 201);
    }
    assert_eq!(
        common::stored_responses(&state, "quick-clinic").await.len(),
        8
    );
}
