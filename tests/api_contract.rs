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
    } else if rel.contains("/http/fhir/") {
        "/fhir/r4"
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

/// The schema `s`, with a `$ref` to `#/components/schemas/...` followed.
fn resolve<'a>(doc: &'a Value, s: &'a Value) -> &'a Value {
    match s["$ref"].as_str() {
        Some(r) => resolve(doc, doc.pointer(&r[1..]).unwrap_or_else(|| panic!("{r}"))),
        None => s,
    }
}

/// Whether `v` is one of the JSON types of `ty` (a name or a list of names).
fn has_type(v: &Value, ty: &Value) -> bool {
    let names: Vec<&str> = match ty {
        Value::String(t) => vec![t],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return true,
    };
    names.iter().any(|t| match *t {
        "null" => v.is_null(),
        "boolean" => v.is_boolean(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => false,
    })
}

/// A check of `v` against a schema of the document: the keywords utoipa writes (`$ref`, type,
/// required, properties, additionalProperties, items, prefixItems, allOf, oneOf, anyOf, enum,
/// minimum, maximum).
fn conforms(doc: &Value, schema: &Value, v: &Value, at: &str) -> Result<(), String> {
    let s = resolve(doc, schema);
    if !s["type"].is_null() && !has_type(v, &s["type"]) {
        return Err(format!("{at}: {v} is not of type {}", s["type"]));
    }
    if let Some(values) = s["enum"].as_array() {
        if !values.contains(v) {
            return Err(format!("{at}: {v} is not one of {values:?}"));
        }
    }
    if let (Some(n), Some(min)) = (v.as_f64(), s["minimum"].as_f64()) {
        if n < min {
            return Err(format!("{at}: {n} is below the minimum {min}"));
        }
    }
    if let (Some(n), Some(max)) = (v.as_f64(), s["maximum"].as_f64()) {
        if n > max {
            return Err(format!("{at}: {n} is above the maximum {max}"));
        }
    }
    for part in s["allOf"].as_array().into_iter().flatten() {
        conforms(doc, part, v, at)?;
    }
    if let Some(parts) = s["oneOf"].as_array() {
        let fits = parts
            .iter()
            .filter(|p| conforms(doc, p, v, at).is_ok())
            .count();
        if fits != 1 {
            return Err(format!("{at}: {v} fits {fits} of the oneOf {parts:?}"));
        }
    }
    if let Some(parts) = s["anyOf"].as_array() {
        if !parts.iter().any(|p| conforms(doc, p, v, at).is_ok()) {
            return Err(format!("{at}: {v} fits none of the anyOf {parts:?}"));
        }
    }
    if let Some(obj) = v.as_object() {
        for name in s["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap();
            if !obj.contains_key(name) {
                return Err(format!("{at}: the required {name} is missing from {v}"));
            }
        }
        for (name, field) in obj {
            let at = format!("{at}.{name}");
            match s["properties"].get(name) {
                Some(p) => conforms(doc, p, field, &at)?,
                None if s["additionalProperties"].is_object() => {
                    conforms(doc, &s["additionalProperties"], field, &at)?
                }
                None => {}
            }
        }
    }
    if let Some(items) = v.as_array() {
        for (i, item) in items.iter().enumerate() {
            let at = format!("{at}[{i}]");
            match s["prefixItems"].get(i) {
                Some(p) => conforms(doc, p, item, &at)?,
                None if s["items"].is_object() => conforms(doc, &s["items"], item, &at)?,
                None => {}
            }
        }
    }
    Ok(())
}

/// The schema of the JSON body of `method path` answering `status`.
fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: &str) -> &'a Value {
    let schema =
        &doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {path} {status} has no schema");
    schema
}

#[actix_web::test]
async fn every_json_success_has_a_real_schema() {
    let doc = document().await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, answer) in op["responses"].as_object().into_iter().flatten() {
                let Some(json) = answer["content"].get("application/json") else {
                    continue;
                };
                if !status.starts_with('2') {
                    continue;
                }
                let s = resolve(&doc, &json["schema"]);
                let described = ["properties", "items", "allOf", "oneOf", "anyOf", "$ref"]
                    .iter()
                    .any(|k| !s[*k].is_null())
                    || s["additionalProperties"].is_object();
                assert!(
                    described,
                    "{method} {path} {status} answers any JSON: {}",
                    json["schema"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 15, "only {checked} JSON answers found");
}

#[actix_web::test]
async fn real_answers_fit_their_schemas() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let token = common::add_user(&t.state, "ana", "demo-clinic", chorus::domain::Role::Admin).await;
    let doc: Value = test::call_and_read_body_json(
        &app,
        test::TestRequest::get()
            .uri("/api/v1/openapi.json")
            .to_request(),
    )
    .await;
    // A patient who wants a call: a tag, a rule's follow-up task and a stored response.
    let submit = "/api/v1/sites/demo-clinic/surveys/patient-enrollment/responses";
    let answers = serde_json::json!({"answers": {"aware": "yes", "tried": "no",
        "why_not": ["no_one_showed"], "contact_ok": "yes", "contact_phone": "555-0103",
        "comments": "The enrollment desk was closed when my bus got in."}});
    let req = test::TestRequest::post()
        .uri(submit)
        .set_json(&answers)
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), 201);
    let created: Value = test::read_body_json(res).await;
    let path = "/api/v1/sites/{site}/surveys/{survey}/responses";
    conforms(
        &doc,
        response_schema(&doc, "post", path, "201"),
        &created,
        "$",
    )
    .unwrap();
    // Enough patients (min_cell 5) for counted cells beside suppressed and not-asked ones.
    for _ in 0..5 {
        let calm = serde_json::json!({"answers": {"aware": "yes", "tried": "no",
            "why_not": ["no_device"], "contact_ok": "no"}});
        let req = test::TestRequest::post()
            .uri(submit)
            .set_json(&calm)
            .to_request();
        assert_eq!(test::call_service(&app, req).await.status(), 201);
    }

    let get = |uri: &str| {
        test::TestRequest::get()
            .uri(uri)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .to_request()
    };
    for (uri, path, key) in [
        ("/responses", "/responses", "responses"),
        ("/follow-ups", "/follow-ups", "follow_ups"),
        ("/report", "/report", "barriers"),
        ("/report?interval=week", "/report", "periods"),
        (
            "/surveys/patient-enrollment",
            "/surveys/{survey}",
            "questions",
        ),
        ("/rule-errors", "/rule-errors", "rule_errors"),
        ("/retag", "/retag", "status"),
    ] {
        let uri = format!("/api/v1/sites/demo-clinic{uri}");
        let res = test::call_service(&app, get(&uri)).await;
        assert_eq!(res.status(), 200, "{uri}");
        let body: Value = test::read_body_json(res).await;
        assert!(!body[key].is_null(), "{uri}: no {key} in {body}");
        let schema = response_schema(&doc, "get", &format!("/api/v1/sites/{{site}}{path}"), "200");
        conforms(&doc, schema, &body, &uri).unwrap_or_else(|e| panic!("{e}"));
        if key == "barriers" {
            let cells = body["barriers"][0]["by_group"].as_object().unwrap();
            assert!(cells["patient"]["share"].is_number(), "{body}");
            assert_eq!(cells["provider"]["suppressed"], true, "{body}");
        }
    }
    // The task, after a change, as POST .../follow-ups/{id} answers it.
    let res = test::call_service(&app, get("/api/v1/sites/demo-clinic/follow-ups")).await;
    let page: Value = test::read_body_json(res).await;
    let task = &page["follow_ups"][0];
    assert_eq!(task["queue"], "front-desk", "{page}");
    let req = test::TestRequest::post()
        .uri(&format!(
            "/api/v1/sites/demo-clinic/follow-ups/{}",
            task["id"].as_str().unwrap()
        ))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .set_json(serde_json::json!({"status": "claimed"}))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), 200);
    let changed: Value = test::read_body_json(res).await;
    assert_eq!(changed["status"], "claimed");
    let schema = response_schema(&doc, "post", "/api/v1/sites/{site}/follow-ups/{id}", "200");
    conforms(&doc, schema, &changed, "task").unwrap_or_else(|e| panic!("{e}"));
    // The check itself refuses what breaks a schema.
    let mut broken = changed.clone();
    broken.as_object_mut().unwrap().remove("history");
    assert!(
        conforms(&doc, schema, &broken, "task").is_err(),
        "history is required"
    );
}
