//! The published contract: `GET /api/v1/openapi.json` (OpenAPI 3.1, generated from the
//! handlers as they are registered) lists every route the app registers, with the bearer
//! scheme and every stable error code; a known path with another method answers 405 + `Allow`.

mod common;

use actix_web::http::{Method, StatusCode};
use actix_web::test;
use chorus::create_app;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

async fn document() -> Value {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/openapi.json")
            .to_request(),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert!(res
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    test::read_body_json(res).await
}

/// (METHOD, path) of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "head", "post", "put", "patch", "delete", "options"]
                .contains(&method.as_str())
            {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

/// The scope a handler file's routes are mounted under (src/http/mod.rs, admin/mod.rs).
fn prefix_of(file: &Path) -> &'static str {
    let rel = file.to_string_lossy();
    if rel.contains("/admin/") {
        "/admin"
    } else if rel.contains("/respondent/") || rel.ends_with("health.rs") {
        ""
    } else {
        "/api/v1"
    }
}

/// Every route attribute (`#[get("…")]`, `#[post("…")]`, `#[route("…", method = …)]`) in
/// src/http, as (METHOD, full path), and whether a `#[utoipa::path` precedes each.
fn registered_routes() -> Vec<((String, String), bool)> {
    let mut files = Vec::new();
    let mut dirs = vec![common::repo().join("src/http")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut routes = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let line = line.trim();
            let (methods, rest): (Vec<String>, &str) =
                if let Some(rest) = line.strip_prefix("#[route(\"") {
                    let methods = rest
                        .split("method = \"")
                        .skip(1)
                        .map(|m| m[..m.find('"').unwrap()].to_string())
                        .collect();
                    (methods, rest)
                } else if let Some((m, rest)) = ["get", "post", "put", "patch", "delete"]
                    .iter()
                    .find_map(|m| line.strip_prefix(&format!("#[{m}(\"")).map(|r| (m, r)))
                {
                    (vec![m.to_uppercase()], rest)
                } else {
                    continue;
                };
            let path = format!("{}{}", prefix_of(&file), &rest[..rest.find('"').unwrap()]);
            // The annotation ends right above the route attribute.
            let documented = lines[..i]
                .iter()
                .rev()
                .take_while(|l| !l.trim().is_empty() && !l.trim_start().starts_with("///"))
                .any(|l| l.trim_start().starts_with("#[utoipa::path"));
            for method in methods {
                routes.push(((method, path.clone()), documented));
            }
        }
    }
    routes
}

#[actix_web::test]
async fn the_document_is_openapi_3_1_with_the_bearer_scheme_and_every_error_code() {
    let doc = document().await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );
    let codes: Vec<&str> = doc["components"]["schemas"]["ErrorDetail"]["properties"]["code"]
        ["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    for code in [
        "site_not_found",
        "site_unavailable",
        "invalid_answer",
        "idempotency_key_reused",
        "missing_token",
        "method_not_allowed",
        "not_found",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    // A staff endpoint names the scheme; the public submission does not.
    let list = &doc["paths"]["/api/v1/sites/{site}/responses"]["get"];
    assert_eq!(list["security"][0]["token"], serde_json::json!([]));
    let submit = &doc["paths"]["/api/v1/sites/{site}/surveys/{survey}/responses"]["post"];
    assert!(submit["security"].is_null(), "{submit}");
    assert!(submit["responses"]["422"].is_object());
    assert!(submit["requestBody"]["content"]["application/json"].is_object());
    let params: Vec<&str> = list["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in ["site", "survey", "since", "until", "limit", "cursor"] {
        assert!(params.contains(&name), "{name} missing from {params:?}");
    }
}

#[actix_web::test]
async fn every_registered_route_is_in_the_document_and_nothing_else() {
    let doc = document().await;
    let documented = operations(&doc);
    let routes = registered_routes();
    assert!(
        routes.len() > 30,
        "the route scan found too little: {routes:?}"
    );
    let mut registered = BTreeSet::new();
    for (route, annotated) in &routes {
        assert!(annotated, "{route:?} has no #[utoipa::path] right above it");
        assert!(
            documented.contains(route),
            "{route:?} is registered but not in the document"
        );
        registered.insert(route.clone());
    }
    // The document's own route is registered like any other.
    assert!(registered.contains(&("GET".into(), "/api/v1/openapi.json".into())));
    let extra: Vec<_> = documented.difference(&registered).collect();
    assert!(extra.is_empty(), "documented but not registered: {extra:?}");
}

#[actix_web::test]
async fn every_documented_operation_reaches_a_handler() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let doc = {
        let req = test::TestRequest::get()
            .uri("/api/v1/openapi.json")
            .to_request();
        let v: Value = test::call_and_read_body_json(&app, req).await;
        v
    };
    for (method, path) in operations(&doc) {
        let uri = path
            .replace("{site}", "demo-clinic")
            .replace("{survey}", "patient-enrollment")
            .replace("{id}", "00000000-0000-0000-0000-000000000000")
            .replace("{name}", "chorus.css");
        let req = test::TestRequest::default()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(&uri)
            .to_request();
        let res = test::call_service(&app, req).await;
        let status = res.status();
        let body = test::read_body(res).await;
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert!(
            !String::from_utf8_lossy(&body).contains("\"code\":\"not_found\""),
            "{method} {uri} reached no handler"
        );
    }
}

#[actix_web::test]
async fn another_method_on_a_known_path_is_405_with_allow() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    for (method, uri, allow) in [
        (Method::POST, "/healthz", "GET"),
        (Method::DELETE, "/api/v1/sites/demo-clinic/responses", "GET"),
        (
            Method::PUT,
            "/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses",
            "POST",
        ),
        (Method::GET, "/api/v1/sites/demo-clinic/retag", "GET, POST"),
        (
            Method::PUT,
            "/s/demo-clinic/patient-enrollment",
            "GET, HEAD, POST",
        ),
        (Method::DELETE, "/admin/login", "GET, POST"),
    ] {
        let req = test::TestRequest::default()
            .method(method.clone())
            .uri(uri)
            .to_request();
        let res = test::call_service(&app, req).await;
        if method == Method::GET {
            // The retag progress itself: not a 405 (it needs a token).
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{uri}");
            continue;
        }
        assert_eq!(
            res.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri}"
        );
        assert_eq!(res.headers().get("allow").unwrap(), allow, "{method} {uri}");
        let body: Value = test::read_body_json(res).await;
        assert_eq!(body["error"]["code"], "method_not_allowed");
    }
    let req = test::TestRequest::get().uri("/no/such/path").to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = test::read_body_json(res).await;
    assert_eq!(body["error"]["code"], "not_found");
}
