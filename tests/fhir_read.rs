//! The read side of the FHIR endpoint (docs/fhir.md, "The endpoint"): the CapabilityStatement,
//! Questionnaires (public) and QuestionnaireResponses (a token of the site, the JSON API's
//! scoping), searchset Bundles paged by `next` links, and every error an OperationOutcome with
//! the status a FHIR server gives.

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;
use chorus::domain::time::rfc3339_of_id;
use chorus::domain::Role;
use common::fhir::{get, BASE, PATIENT_ID};
use common::TestStore;
use serde_json::Value;

macro_rules! app {
    ($t:expr) => {
        test::init_service(create_app($t.state.clone())).await
    };
}

const DAY_MS: u64 = 86_400_000;
/// 2026-03-01T00:00:00Z.
const MARCH_1: u64 = 1_772_323_200_000;

/// Stores a response of a demo survey submitted at `ms`; returns its id.
async fn stored_at(state: &chorus::AppState, survey: &str, ms: u64) -> String {
    let mut r = common::followups::response("demo-clinic", survey, "");
    let at = uuid::Timestamp::from_unix(uuid::NoContext, ms / 1000, (ms % 1000) as u32 * 1_000_000);
    r.id = uuid::Uuid::new_v7(at);
    r.submitted_at = rfc3339_of_id(r.id);
    state.store.insert(&r).await.unwrap();
    r.id.to_string()
}

async fn call(
    app: &impl actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>,
        Error = actix_web::Error,
    >,
    req: test::TestRequest,
) -> (StatusCode, Value) {
    let res = test::call_service(app, req.to_request()).await;
    let status = res.status();
    let content_type = res.headers().get("Content-Type").cloned();
    let body: Value = test::read_body_json(res).await;
    assert_eq!(
        content_type.unwrap().to_str().unwrap(),
        "application/fhir+json",
        "{body}"
    );
    (status, body)
}

fn issue_code(outcome: &Value) -> &str {
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
    outcome["issue"][0]["code"].as_str().unwrap()
}

fn entry_ids(bundle: &Value) -> Vec<String> {
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "searchset");
    bundle["entry"]
        .as_array()
        .map(|entries| {
            entries
                .iter()
                .map(|e| e["resource"]["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn next_link(bundle: &Value) -> Option<String> {
    bundle["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .map(|l| l["url"].as_str().unwrap().to_string())
}

#[actix_web::test]
async fn metadata_states_exactly_what_is_served() {
    let t = common::demo_state().await;
    let app = app!(t);
    let (status, cs) = call(&app, get("/metadata", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(cs["resourceType"], "CapabilityStatement");
    assert_eq!(cs["fhirVersion"], "4.0.1");
    assert_eq!(cs["kind"], "instance");
    assert_eq!(cs["implementation"]["url"], BASE);
    let resources = cs["rest"][0]["resource"].as_array().unwrap();
    let summary: Vec<(String, Vec<String>, Vec<String>)> = resources
        .iter()
        .map(|r| {
            let names = |key: &str, field: &str| -> Vec<String> {
                r[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i[field].as_str().unwrap().to_string())
                    .collect()
            };
            (
                r["type"].as_str().unwrap().to_string(),
                names("interaction", "code"),
                names("searchParam", "name"),
            )
        })
        .collect();
    let owned = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        summary,
        vec![
            (
                "Questionnaire".to_string(),
                owned(&["read", "search-type"]),
                owned(&["url", "version", "status"])
            ),
            (
                "QuestionnaireResponse".to_string(),
                owned(&["read", "search-type", "create"]),
                owned(&["questionnaire", "authored"])
            ),
        ]
    );
}

#[actix_web::test]
async fn questionnaires_are_public_read_and_searched() {
    let t = common::demo_state().await;
    let app = app!(t);
    let (status, q) = call(&app, get(&format!("/Questionnaire/{PATIENT_ID}"), None)).await;
    assert_eq!(status, StatusCode::OK);
    let site = t.state.site("demo-clinic").unwrap();
    let survey = site.site.survey("patient-enrollment").unwrap();
    let expected = chorus::fhir::questionnaire(&site.site, survey, "http://localhost:8080");
    assert_eq!(q, serde_json::to_value(&expected).unwrap());

    let (_, all) = call(&app, get("/Questionnaire", None)).await;
    assert_eq!(all["total"], 3, "the three demo surveys");
    assert_eq!(
        entry_ids(&all),
        [
            "demo-clinic.leadership-enrollment",
            "demo-clinic.patient-enrollment",
            "demo-clinic.provider-enrollment"
        ]
    );
    assert_eq!(
        all["entry"][1]["fullUrl"],
        format!("{BASE}/Questionnaire/{PATIENT_ID}")
    );
    let url = format!("{BASE}/Questionnaire/{PATIENT_ID}");
    let search = |query: String| get(&format!("/Questionnaire?{query}"), None);
    for query in [
        format!("url={url}&version=1&status=active"),
        format!("url={url}|1"),
    ] {
        let (_, one) = call(&app, search(query)).await;
        assert_eq!(entry_ids(&one), [PATIENT_ID]);
        assert_eq!(one["total"], 1);
    }
    for query in [
        format!("url={url}&version=2"),
        format!("url={url}|2"),
        "status=draft".to_string(),
        "url=https://elsewhere.org/Questionnaire/x".to_string(),
    ] {
        let (status, none) = call(&app, search(query.clone())).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(none["total"], 0, "{query}");
        assert!(entry_ids(&none).is_empty());
    }

    for path in [
        "/Questionnaire/demo-clinic.nope",
        "/Questionnaire/nodot",
        "/Questionnaire/x.y",
    ] {
        let (status, outcome) = call(&app, get(path, None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(issue_code(&outcome), "not-found");
    }
}

#[actix_web::test]
async fn responses_need_a_token_of_their_site() {
    let t = common::demo_state().await;
    let app = app!(t);
    let id = stored_at(&t.state, "patient-enrollment", MARCH_1).await;
    let viewer = common::add_user(&t.state, "viewer", "demo-clinic", Role::Viewer).await;
    let admin = common::add_user(&t.state, "root", "*", Role::Admin).await;
    let other = common::add_user(&t.state, "other", "other-clinic", Role::Admin).await;
    let path = format!("/QuestionnaireResponse/{id}");

    let res = test::call_service(&app, get(&path, None).to_request()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers().get("WWW-Authenticate").unwrap(), "Bearer");
    let (status, outcome) = call(&app, get(&path, Some("chorus_not-a-token"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(issue_code(&outcome), "login");

    for token in [&viewer, &admin] {
        let (status, r) = call(&app, get(&path, Some(token))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(r["resourceType"], "QuestionnaireResponse");
        assert_eq!(r["id"], id.as_str());
        assert_eq!(r["authored"], "2026-03-01T00:00:00.000Z");
    }
    // Another site's token finds nothing by id, and may not search this site.
    let (status, outcome) = call(&app, get(&path, Some(&other))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(issue_code(&outcome), "not-found");
    let search = format!("/QuestionnaireResponse?questionnaire={PATIENT_ID}");
    let (status, outcome) = call(&app, get(&search, Some(&other))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(issue_code(&outcome), "forbidden");
    // Without a questionnaire, a site's token searches its own site; every site's must name one.
    let (status, own) = call(&app, get("/QuestionnaireResponse", Some(&other))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(entry_ids(&own).is_empty());
    let (_, own) = call(&app, get("/QuestionnaireResponse", Some(&viewer))).await;
    assert_eq!(entry_ids(&own), vec![id.clone()]);
    let (status, outcome) = call(&app, get("/QuestionnaireResponse", Some(&admin))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(outcome.to_string().contains("questionnaire"));
    let unknown = format!("/QuestionnaireResponse/{}", uuid::Uuid::now_v7());
    for path in [unknown.as_str(), "/QuestionnaireResponse/not-a-uuid"] {
        let (status, _) = call(&app, get(path, Some(&admin))).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[actix_web::test]
async fn response_searches_filter_and_page_through_next_links() {
    let t = common::demo_state().await;
    let app = app!(t);
    let token = common::add_user(&t.state, "viewer", "demo-clinic", Role::Viewer).await;
    let mut patients = Vec::new();
    for day in 0..5 {
        patients.push(stored_at(&t.state, "patient-enrollment", MARCH_1 + day * DAY_MS).await);
    }
    let provider = stored_at(&t.state, "provider-enrollment", MARCH_1 + DAY_MS + 1).await;

    // Paged two at a time: following `next` gives every patient response once, in order.
    let mut url =
        format!("/QuestionnaireResponse?questionnaire={BASE}/Questionnaire/{PATIENT_ID}&_count=2");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let (status, bundle) = call(&app, get(&url, Some(&token))).await;
        assert_eq!(status, StatusCode::OK, "{bundle}");
        pages += 1;
        seen.extend(entry_ids(&bundle));
        assert!(bundle.get("total").is_none() || pages == 1 && next_link(&bundle).is_none());
        match next_link(&bundle) {
            Some(next) => url = next.strip_prefix(BASE).unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, patients);

    let search = |query: &str| get(&format!("/QuestionnaireResponse?{query}"), Some(&token));
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("authored=2026-03-02", vec![patients[1].clone(), provider.clone()]),
        ("authored=ge2026-03-04", patients[3..].to_vec()),
        ("authored=gt2026-03-04", patients[4..].to_vec()),
        ("authored=lt2026-03-02", patients[..1].to_vec()),
        ("authored=le2026-03-02&questionnaire=demo-clinic.patient-enrollment", patients[..2].to_vec()),
        ("authored=ge2026-03-02&authored=lt2026-03-04&questionnaire=demo-clinic.patient-enrollment", patients[1..3].to_vec()),
        ("authored=2026-03", [&patients[..2], std::slice::from_ref(&provider), &patients[2..]].concat()),
        ("authored=2025", vec![]),
        ("questionnaire=demo-clinic.provider-enrollment|1", vec![provider.clone()]),
        ("questionnaire=demo-clinic.provider-enrollment|2", vec![]),
    ];
    for (query, expected) in cases {
        let (status, bundle) = call(&app, search(query)).await;
        assert_eq!(status, StatusCode::OK, "{query}: {bundle}");
        assert_eq!(entry_ids(&bundle), expected, "{query}");
        assert_eq!(bundle["total"], expected.len(), "{query}");
    }
}

#[actix_web::test]
async fn errors_are_operation_outcomes_with_the_fhir_status() {
    let t = common::demo_state().await;
    let app = app!(t);
    let token = common::add_user(&t.state, "viewer", "demo-clinic", Role::Viewer).await;
    let search = |query: &str| get(&format!("/QuestionnaireResponse?{query}"), Some(&token));
    for query in [
        "status=completed",
        "_count=0",
        "_count=1001",
        "_count=many",
        "_cursor=nonsense",
        "authored=yesterday",
        "authored=ne2026-01-01",
        "questionnaire=nodot",
        "questionnaire=a.b&questionnaire=c.d",
        "_format=xml",
    ] {
        let (status, outcome) = call(&app, search(query)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {outcome}");
        assert_eq!(issue_code(&outcome), "invalid", "{query}");
    }
    let (status, _) = call(&app, search("_format=json")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&app, get("/metadata?foo=bar", None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // 405 with the methods the path takes; 404 for what is not served.
    for (method, path, allow) in [
        (actix_web::http::Method::DELETE, "/metadata", "GET"),
        (
            actix_web::http::Method::PUT,
            "/Questionnaire/demo-clinic.patient-enrollment",
            "GET",
        ),
        (actix_web::http::Method::POST, "/Questionnaire", "GET"),
        (
            actix_web::http::Method::DELETE,
            "/QuestionnaireResponse",
            "GET, POST",
        ),
    ] {
        let req = test::TestRequest::default()
            .method(method)
            .uri(&format!("/fhir/r4{path}"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{path}");
        assert_eq!(res.headers().get("Allow").unwrap(), allow);
        let outcome: Value = test::read_body_json(res).await;
        assert_eq!(issue_code(&outcome), "not-supported");
    }
    for path in ["/Patient", "/Patient/1", "/Questionnaire/a/b"] {
        let (status, outcome) = call(&app, get(path, None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(issue_code(&outcome), "not-found");
    }

    // 406 unless the client takes FHIR JSON, JSON or anything.
    let accept = |value: &str| get("/metadata", None).insert_header(("Accept", value.to_string()));
    for value in [
        "application/fhir+xml",
        "text/html",
        "text/csv, application/xml",
    ] {
        let (status, outcome) = call(&app, accept(value)).await;
        assert_eq!(status, StatusCode::NOT_ACCEPTABLE, "{value}");
        assert_eq!(issue_code(&outcome), "not-supported");
    }
    for value in [
        "application/fhir+json",
        "application/fhir+json; fhirVersion=4.0",
        "application/json",
        "text/html,application/xhtml+xml,*/*;q=0.8",
    ] {
        let (status, _) = call(&app, accept(value)).await;
        assert_eq!(status, StatusCode::OK, "{value}");
    }
}
