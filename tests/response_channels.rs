//! Channels: the server records how each response arrived (the public link, the QR code's
//! link, a personal invitation, the JSON API), never from what the client sends; the pages,
//! the exports, the JSON API and the backup show it; a response stored before channels were
//! recorded reads back as `null` / "not recorded"; the report filters by `?channel=` and
//! counts respondents per channel per group with small-cell suppression.

mod admin_support;
mod common;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use admin_support::{admin_state, get_page, sign_in, store_response, PASSWORD};
use chorus::create_app;
use chorus::domain::invitation::{new_token, token_sha256, Invitation};
use chorus::domain::{Channel, Role};
use common::TestStore;
use serde_json::{json, Value};

const FORM: &str = "/s/clinic-a/patient-pulse";
const API: &str = "/api/v1/sites/clinic-a/surveys/patient-pulse/responses";

fn form_post(uri: &str, extra: &[(&str, &str)]) -> actix_http::Request {
    let id = uuid::Uuid::new_v4().to_string();
    let mut fields = vec![("_submission_id", id.as_str()), ("tried", "no")];
    fields.extend_from_slice(extra);
    test::TestRequest::post()
        .uri(uri)
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(serde_urlencoded::to_string(&fields).unwrap())
        .to_request()
}

/// GET a JSON endpoint with a bearer token: (status, body).
macro_rules! api_get {
    ($app:expr, $token:expr, $uri:expr) => {{
        let req = test::TestRequest::get()
            .uri($uri)
            .insert_header((header::AUTHORIZATION, format!("Bearer {}", $token)));
        let res = test::call_service($app, req.to_request()).await;
        (res.status(), test::read_body_json::<Value, _>(res).await)
    }};
}

#[actix_web::test]
async fn each_way_in_records_its_channel_and_every_view_shows_it() {
    let t = admin_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    admin_support::add_person(&t.state, "ana", "clinic-a", Role::Viewer).await;
    // A response stored before channels were recorded.
    let old = store_response(
        &t.state,
        "clinic-a",
        "patient-pulse",
        "patient",
        "2026-01-05T10:00:00Z",
        &[],
        &[],
    )
    .await;

    // The QR code's link carries the marker, and the form it opens posts with it.
    let res = test::call_service(
        &app,
        test::TestRequest::get()
            .uri(&format!("{FORM}?via=qr"))
            .to_request(),
    )
    .await;
    let html = admin_support::body_text(res).await.replace("&#x2F;", "/");
    assert!(html.contains("action=\"/s/clinic-a/patient-pulse?via=qr\""));
    // The plain form (cached apart from the QR one) does not.
    let res = test::call_service(&app, test::TestRequest::get().uri(FORM).to_request()).await;
    let html = admin_support::body_text(res).await.replace("&#x2F;", "/");
    assert!(html.contains("action=\"/s/clinic-a/patient-pulse\""));

    let res = test::call_service(&app, form_post(&format!("{FORM}?via=qr"), &[])).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A field named like the channel is not an answer and chooses nothing.
    let res = test::call_service(&app, form_post(FORM, &[("channel", "kiosk")])).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let token = new_token();
    let invitation = Invitation {
        site: "clinic-a".into(),
        survey: "patient-pulse".into(),
        expires_at: "2099-01-01T00:00:00Z".into(),
        expires_at_ms: 4_070_908_800_000,
        used: false,
    };
    let hash = token_sha256(&token).unwrap();
    t.state
        .store
        .put_invitations(&[(hash, invitation)])
        .await
        .unwrap();
    let res = test::call_service(&app, form_post(FORM, &[("_t", token.as_str())])).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let api = |body: Value| {
        test::TestRequest::post()
            .uri(API)
            .set_json(body)
            .to_request()
    };
    let res = test::call_service(&app, api(json!({"answers": {"tried": "yes"}}))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // The API takes no channel from the client.
    let res = test::call_service(
        &app,
        api(json!({"answers": {"tried": "yes"}, "channel": "kiosk"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    let stored = common::stored_responses(&t.state, "clinic-a").await;
    let channels: Vec<Option<Channel>> = stored.iter().map(|r| r.channel).collect();
    assert_eq!(
        channels,
        [
            None,
            Some(Channel::Qr),
            Some(Channel::Link),
            Some(Channel::Invitation),
            Some(Channel::Api)
        ]
    );
    assert!(stored.iter().all(|r| r.kiosk.is_none()));

    // The JSON API: the channel, `null` for the old response.
    let signed = sign_in(&app, "ana", PASSWORD).await;
    let session = signed.session.expect("signed in");
    let token = common::add_user(&t.state, "reader", "clinic-a", Role::Viewer).await;
    let (status, body) = api_get!(&app, &token, "/api/v1/sites/clinic-a/responses");
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed: Vec<Value> = body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["channel"].clone())
        .collect();
    assert_eq!(
        listed,
        [
            Value::Null,
            json!("qr"),
            json!("link"),
            json!("invitation"),
            json!("api")
        ]
    );

    // The responses pages.
    let (_, _, page) = get_page(&app, &session, "/admin/sites/clinic-a/responses").await;
    assert!(page.contains("<th scope=\"col\">Channel</th>"));
    for shown in ["qr", "link", "invitation", "api", "not recorded"] {
        assert!(page.contains(&format!("<td>{shown}</td>")), "{shown}");
    }
    let uri = format!("/admin/sites/clinic-a/responses/{}", old.id);
    let (_, _, page) = get_page(&app, &session, &uri).await;
    assert!(page.contains("<dt>Channel</dt><dd>not recorded"));
    let uri = format!("/admin/sites/clinic-a/responses/{}", stored[1].id);
    let (_, _, page) = get_page(&app, &session, &uri).await;
    assert!(page.contains("<dt>Channel</dt><dd>qr</dd>"));

    // The dashboard: respondents per channel (clinic-a's min_cell is 2: one each is too few).
    let (status, _, page) = get_page(&app, &session, "/admin/sites/clinic-a").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<h2 id=\"channels\">How the responses arrived</h2>"));
    assert!(
        page.contains("<th scope=\"row\">qr</th><td>fewer than 2</td>"),
        "{page}"
    );
    assert!(page.contains("<th scope=\"row\">not recorded</th>"));
    let (status, _, page) = get_page(&app, &session, "/admin/sites/clinic-a?channel=api").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("<option value=\"api\" selected>api</option>"));
    assert!(!page.contains("<th scope=\"row\">qr</th>"));

    // The CSV download: a channel column, empty for the old response.
    let (_, _, csv) = get_page(&app, &session, "/admin/sites/clinic-a/responses.csv").await;
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let headers = rows.headers().unwrap().clone();
    let col = headers.iter().position(|h| h == "channel").unwrap();
    assert_eq!(headers.get(col + 1), Some("kiosk"));
    let cells: Vec<String> = rows
        .records()
        .map(|r| r.unwrap()[col].to_string())
        .collect();
    assert_eq!(cells, ["", "qr", "link", "invitation", "api"]);

    // The backup keeps it, and a restore reads it back.
    let backup = t.state.store.backup_text().await.unwrap();
    assert!(backup.contains("\"channel\":\"qr\""));
    assert!(backup.contains("\"channel\":null"));
}

#[actix_web::test]
async fn the_report_counts_respondents_per_channel_and_filters_by_one() {
    let t = admin_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let api = || {
        test::TestRequest::post()
            .uri(API)
            .set_json(json!({"answers": {"tried": "no"}}))
            .to_request()
    };
    for _ in 0..3 {
        assert_eq!(
            test::call_service(&app, api()).await.status(),
            StatusCode::CREATED
        );
    }
    // One QR respondent: below clinic-a's min_cell of 2.
    let res = test::call_service(&app, form_post(&format!("{FORM}?via=qr"), &[])).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    for at in ["2026-01-05T10:00:00Z", "2026-01-06T10:00:00Z"] {
        store_response(
            &t.state,
            "clinic-a",
            "patient-pulse",
            "patient",
            at,
            &[],
            &[],
        )
        .await;
    }
    let token = common::add_user(&t.state, "reader", "clinic-a", Role::Viewer).await;
    let report = |q: &'static str| {
        let (app, token) = (&app, &token);
        async move { api_get!(app, token, &format!("/api/v1/sites/clinic-a/report{q}")) }
    };
    let (status, all) = report("").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["groups"][0]["respondents"], 6);
    assert_eq!(
        all["channels"],
        json!([
            {"channel": "qr", "by_group": {
                "patient": {"suppressed": true},
                "provider": {"suppressed": true},
                "leadership": {"suppressed": true}}},
            {"channel": "api", "by_group": {
                "patient": {"respondents": 3},
                "provider": {"suppressed": true},
                "leadership": {"suppressed": true}}},
            {"channel": null, "by_group": {
                "patient": {"respondents": 2},
                "provider": {"suppressed": true},
                "leadership": {"suppressed": true}}}
        ])
    );
    let (_, api_only) = report("?channel=api").await;
    assert_eq!(api_only["groups"][0]["respondents"], 3);
    assert_eq!(api_only["channels"].as_array().unwrap().len(), 1);
    // The one QR respondent is suppressed in the filtered report too.
    let (_, qr_only) = report("?channel=qr").await;
    assert_eq!(qr_only["groups"][0]["suppressed"], true);
    let (status, bad) = report("?channel=poster").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(bad["error"]["code"], "invalid_query");
    assert!(bad["error"]["message"]
        .as_str()
        .unwrap()
        .contains("kiosk, invitation, qr, link, api, fhir"));
    // Nothing was lost to the bad request.
    assert_eq!(t.state.store.count_responses("clinic-a").await.unwrap(), 6);
}
