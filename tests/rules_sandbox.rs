//! Hostile scripts through the real app: the response is stored (201) with the other hooks'
//! tags and follow-ups, the error is stored with it, listed by GET rule-errors and counted in
//! /metrics, and the next request is normal. Bad tags and actions are refused, never dropped.

mod common;
mod rules_common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::Role;
use chorus::domain::StoredResponse;
use rules_common::{call, hostile_config, submit};
use serde_json::{json, Value};

const SITE: &str = "hostile-clinic";

async fn stored(state: &chorus::AppState, body: &Value) -> StoredResponse {
    let id = uuid::Uuid::parse_str(body["id"].as_str().expect("id")).unwrap();
    state
        .store
        .response(SITE, id)
        .await
        .unwrap()
        .expect("response stored")
}

/// Submits one attack; the response must be stored with exactly one error from `source` whose
/// message contains `needle`, and the benign plugin's tag and task must still be there.
async fn assert_contained<S, B>(
    state: &chorus::AppState,
    app: &S,
    attack: &str,
    source: &str,
    needle: &str,
) where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let (status, body) = submit(app, SITE, "attack", json!({ "attack": attack })).await;
    assert_eq!(status, StatusCode::CREATED, "{attack}: {body}");
    assert_eq!(body["tags"], json!(["awareness"]), "{attack}: {body}");
    assert_eq!(
        body["follow_ups"].as_array().unwrap().len(),
        1,
        "{attack}: {body}"
    );
    let r = stored(state, &body).await;
    assert_eq!(r.rule_errors.len(), 1, "{attack}: {:?}", r.rule_errors);
    let e = &r.rule_errors[0];
    assert_eq!(e.source, source);
    assert_eq!(e.hook, "tag");
    assert!(e.line.is_some(), "{attack}: {e:?}");
    assert!(e.message.contains(needle), "{attack}: {}", e.message);
    assert_eq!(r.tag_codes(), ["awareness"]);
    assert_eq!(r.follow_ups.len(), 1);

    // The next request is normal.
    let (status, body) = submit(app, SITE, "attack", json!({ "attack": "none" })).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["tags"], json!(["awareness"]));
    assert!(stored(state, &body).await.rule_errors.is_empty());
}

#[actix_web::test]
async fn each_limit_keeps_the_response_and_records_the_error() {
    let t = common::state_with(hostile_config).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    // The loop may meet the operation limit or the deadline first, depending on the build.
    let cases = [
        ("loop", "rules/loop.rhai", "stopped after"),
        ("recursion", "rules/recursion.rhai", "levels deep"),
        (
            "big_string",
            "rules/big_string.rhai",
            "a string grew past 65536 bytes",
        ),
        (
            "big_array",
            "rules/big_array.rhai",
            "an array grew past 10000 items",
        ),
        (
            "big_map",
            "rules/big_map.rhai",
            "a map grew past 1000 entries",
        ),
        ("slow", "rules/slow.rhai", "time limit"),
        ("throw", "rules/throw.rhai", "threw: boom"),
    ];
    for (attack, source, needle) in cases {
        assert_contained(&t.state, &app, attack, source, needle).await;
    }

    let admin = common::add_user(&t.state, "admin", SITE, Role::Admin).await;
    let (status, body) = call(
        &app,
        "GET",
        &format!("/api/v1/sites/{SITE}/rule-errors"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed = body["rule_errors"].as_array().unwrap();
    assert_eq!(listed.len(), cases.len());
    // Newest first, each with its response id, survey and location.
    let sources: Vec<&str> = listed
        .iter()
        .map(|e| e["source"].as_str().unwrap())
        .collect();
    let expected: Vec<&str> = cases.iter().rev().map(|c| c.1).collect();
    assert_eq!(sources, expected);
    for e in listed {
        let id = uuid::Uuid::parse_str(e["response_id"].as_str().unwrap()).unwrap();
        let r = t.state.store.response(SITE, id).await.unwrap().unwrap();
        assert_eq!(r.rule_errors[0].message, e["message"].as_str().unwrap());
        assert_eq!(e["survey"], "attack");
        assert_eq!(e["hook"], "tag");
        assert!(e["line"].is_u64() && e["col"].is_u64());
    }

    let (_, page) = call(
        &app,
        "GET",
        &format!("/api/v1/sites/{SITE}/rule-errors?limit=2"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(page["rule_errors"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_string();
    let (_, rest) = call(
        &app,
        "GET",
        &format!("/api/v1/sites/{SITE}/rule-errors?limit=50&cursor={cursor}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(
        rest["rule_errors"].as_array().unwrap().len(),
        cases.len() - 2
    );
    assert!(rest["next_cursor"].is_null());

    let ops = common::add_user(&t.state, "ops", "*", Role::Viewer).await;
    let req = test::TestRequest::get()
        .uri("/metrics")
        .insert_header(("Authorization", format!("Bearer {ops}")))
        .to_request();
    let res = test::call_service(&app, req).await;
    let metrics = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(
        metrics.contains(
            "chorus_rule_errors_total{site=\"hostile-clinic\",source=\"rules/throw.rhai\"} 1"
        ),
        "{metrics}"
    );
}

#[actix_web::test]
async fn tags_outside_the_codebook_and_wrong_return_types_are_refused_and_recorded() {
    let t = common::state_with(hostile_config).await;
    let app = test::init_service(create_app(t.state.clone())).await;

    let (status, body) = submit(&app, SITE, "attack", json!({ "attack": "bad_tag" })).await;
    assert_eq!(status, StatusCode::CREATED);
    // The valid code of the same hook is kept, with its source.
    assert_eq!(body["tags"], json!(["awareness", "privacy_concern"]));
    let r = stored(&t.state, &body).await;
    assert_eq!(r.tags[1].source, "rules/tags.rhai");
    assert_eq!(r.rule_errors.len(), 1);
    assert!(r.rule_errors[0]
        .message
        .contains("\"not_a_code\" is not in the site's codebook"));
    assert_eq!(
        (r.rule_errors[0].line, r.rule_errors[0].col),
        (Some(1), Some(1))
    );

    for (attack, needle) in [
        (
            "wrong_type",
            "must return an array of barrier codes, not a string",
        ),
        ("no_return", "not () (nothing)"),
    ] {
        let (status, body) = submit(&app, SITE, "attack", json!({ "attack": attack })).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(body["tags"], json!(["awareness"]));
        let r = stored(&t.state, &body).await;
        assert_eq!(r.rule_errors.len(), 1, "{attack}");
        assert!(
            r.rule_errors[0].message.contains(needle),
            "{}",
            r.rule_errors[0].message
        );
    }
}

#[actix_web::test]
async fn actions_of_unknown_shape_are_refused_and_recorded() {
    let t = common::state_with(hostile_config).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    for (attack, needle) in [
        ("bad_action", "action 1: unknown action \"email\""),
        (
            "unknown_webhook",
            "webhook target \"nowhere\" is not a [[webhooks]] name in site.toml (helpdesk)",
        ),
        (
            "bad_priority",
            "priority \"urgent\" is not \"normal\" or \"high\"",
        ),
        ("unknown_field", "a task has no field \"due\""),
    ] {
        let (status, body) = submit(&app, SITE, "attack", json!({ "attack": attack })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let r = stored(&t.state, &body).await;
        assert_eq!(r.rule_errors.len(), 1, "{attack}: {:?}", r.rule_errors);
        let e = &r.rule_errors[0];
        assert_eq!(
            (e.source.as_str(), e.hook.as_str()),
            ("rules/actions.rhai", "follow_up")
        );
        assert!(e.message.contains(needle), "{attack}: {}", e.message);
        let queues: Vec<Value> = body["follow_ups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["queue"].clone())
            .collect();
        if attack == "bad_action" {
            // The valid action next to the bad one is kept.
            assert_eq!(queues, [json!("benign"), json!("kept")]);
        } else {
            assert_eq!(queues, [json!("benign")]);
        }
    }
}

#[actix_web::test]
async fn rule_errors_need_an_admin_of_the_site() {
    let t = common::state_with(hostile_config).await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let url = format!("/api/v1/sites/{SITE}/rule-errors");
    let (status, _) = call(&app, "GET", &url, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let viewer = common::add_user(&t.state, "viewer", SITE, Role::Viewer).await;
    let (status, body) = call(&app, "GET", &url, Some(&viewer), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let other = common::add_user(&t.state, "other", "demo-clinic", Role::Admin).await;
    let (status, _) = call(&app, "GET", &url, Some(&other), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let admin = common::add_user(&t.state, "admin", SITE, Role::Admin).await;
    let (status, body) = call(&app, "GET", &format!("{url}?limit=0"), Some(&admin), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["field"], "limit");
    let (status, body) = call(&app, "GET", &url, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "rule_errors": [], "next_cursor": null }));
}
