//! Kiosk mode through the real app: an admin registers a kiosk (API and admin page), the
//! single-use enrolment link gives the tablet an HttpOnly cookie whose hash alone is stored,
//! the kiosk pages (start, form, thank-you) are never cached, each form has a new submission
//! id, responses are stored on the `kiosk` channel with the kiosk's id, the thank-you page
//! returns to the start by a meta refresh, and a missing, unknown or revoked cookie falls back
//! to the public survey (never an error page). The browser half is tests/browser/kiosk.mjs.

mod admin_support;
mod common;

use actix_web::cookie::Cookie;
use actix_web::http::{header, StatusCode};
use actix_web::test;
use chorus::create_app;
use chorus::domain::{Channel, Role};
use common::TestStore;
use serde_json::{json, Value};
use sha2::Digest;

const KIOSKS: &str = "/api/v1/sites/demo-clinic/kiosks";
const START: &str = "/s/demo-clinic/patient-enrollment/kiosk";
const PUBLIC: &str = "/s/demo-clinic/patient-enrollment";

macro_rules! call {
    ($app:expr, $req:expr) => {{
        let res = test::call_service($app, $req.to_request()).await;
        let status = res.status();
        let headers = res.headers().clone();
        let cookies: Vec<Cookie<'static>> =
            res.response().cookies().map(|c| c.into_owned()).collect();
        let body = String::from_utf8(test::read_body(res).await.to_vec())
            .unwrap()
            .replace("&#x2F;", "/");
        (status, headers, cookies, body)
    }};
}

fn bearer(token: &str) -> (header::HeaderName, String) {
    (header::AUTHORIZATION, format!("Bearer {token}"))
}

fn location(h: &header::HeaderMap) -> String {
    h.get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let at = html.find(&marker).expect("the field") + marker.len();
    html[at..][..html[at..].find('"').unwrap()].to_string()
}

fn form_post(
    uri: &str,
    cookie: Option<&Cookie<'static>>,
    fields: &[(&str, &str)],
) -> test::TestRequest {
    let mut req = test::TestRequest::post()
        .uri(uri)
        .insert_header((header::CONTENT_TYPE, "application/x-www-form-urlencoded"))
        .set_payload(serde_urlencoded::to_string(fields).unwrap());
    if let Some(c) = cookie {
        req = req.cookie(c.clone());
    }
    req
}

fn get(uri: &str, cookie: Option<&Cookie<'static>>) -> test::TestRequest {
    let mut req = test::TestRequest::get().uri(uri);
    if let Some(c) = cookie {
        req = req.cookie(c.clone());
    }
    req
}

#[actix_web::test]
async fn a_kiosk_is_registered_enrolled_used_and_revoked() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "boss", "demo-clinic", Role::Admin).await;
    let viewer = common::add_user(&t.state, "ana", "demo-clinic", Role::Viewer).await;

    // Registering needs an admin, a survey of the site and settings in range.
    let body = json!({"name": "Front desk", "survey": "patient-enrollment"});
    let req = test::TestRequest::post().uri(KIOSKS).set_json(&body);
    let (status, ..) = call!(&app, req.insert_header(bearer(&viewer)));
    assert_eq!(status, StatusCode::FORBIDDEN);
    for (bad, code) in [
        (json!({"name": "A", "survey": "nope"}), "survey_not_found"),
        (
            json!({"name": " ", "survey": "patient-enrollment"}),
            "invalid_body",
        ),
        (
            json!({"name": "A", "survey": "patient-enrollment", "idle_s": 5}),
            "invalid_body",
        ),
        (
            json!({"name": "A", "survey": "patient-enrollment", "return_delay_s": 0}),
            "invalid_body",
        ),
        (
            json!({"name": "A", "survey": "patient-enrollment", "language": "fr"}),
            "invalid_language",
        ),
        (
            json!({"name": "A", "survey": "patient-enrollment", "cookie": "x"}),
            "invalid_body",
        ),
    ] {
        let req = test::TestRequest::post().uri(KIOSKS).set_json(&bad);
        let (status, _, _, body) = call!(&app, req.insert_header(bearer(&admin)));
        assert!(status.is_client_error(), "{bad}: {status}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], code, "{bad}");
    }
    assert!(t
        .state
        .store
        .list_kiosks("demo-clinic")
        .await
        .unwrap()
        .is_empty());

    let req = test::TestRequest::post().uri(KIOSKS).set_json(&body);
    let (status, _, _, created) = call!(&app, req.insert_header(bearer(&admin)));
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let created: Value = serde_json::from_str(&created).unwrap();
    assert_eq!(created["status"], "waiting");
    assert_eq!(created["return_delay_s"], 15);
    assert_eq!(created["idle_s"], 180);
    let url = created["enrolment_url"].as_str().unwrap();
    let token = url.split("?t=").nth(1).unwrap().to_string();
    assert!(url.contains("/s/demo-clinic/kiosk/enrol?t="));
    // Only the hash of the token is stored, and the API never shows a hash.
    let stored = &t.state.store.list_kiosks("demo-clinic").await.unwrap()[0];
    let hash = hex::encode(sha2::Sha256::digest(token.as_bytes()));
    assert_eq!(stored.enrolment_sha256.as_deref(), Some(hash.as_str()));
    let req = test::TestRequest::get()
        .uri(KIOSKS)
        .insert_header(bearer(&admin));
    let (_, _, _, list) = call!(&app, req);
    assert!(!list.contains(&hash) && !list.contains(&token), "{list}");
    assert!(!list.contains("sha256"));

    // Without a kiosk cookie the kiosk pages are the public survey.
    for path in [
        START.to_string(),
        format!("{START}/form"),
        format!("{START}/thanks"),
    ] {
        let (status, h, ..) = call!(&app, get(&path, None));
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&h), PUBLIC, "{path}");
    }

    // The link shows what it will do; a GET uses nothing up.
    let enrol = format!("/s/demo-clinic/kiosk/enrol?t={token}");
    let (status, _, _, page) = call!(&app, get(&enrol, None));
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("as the kiosk “Front desk”"), "{page}");
    // Posted to another site's address, the token is refused and not used up.
    let (status, _, cookies, _) = call!(
        &app,
        form_post("/s/other-clinic/kiosk/enrol", None, &[("t", &token)])
    );
    assert_eq!(status, StatusCode::GONE);
    assert!(cookies.is_empty());
    let (status, h, cookies, _) = call!(
        &app,
        form_post("/s/demo-clinic/kiosk/enrol", None, &[("t", &token)])
    );
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&h), START);
    let cookie = cookies
        .iter()
        .find(|c| c.name() == "chorus_kiosk")
        .unwrap()
        .clone();
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(actix_web::cookie::SameSite::Lax));
    assert_ne!(cookie.secure(), Some(true), "plain http in the test");
    assert!(cookie.max_age().unwrap().whole_days() >= 365);
    let stored = &t.state.store.list_kiosks("demo-clinic").await.unwrap()[0];
    let cookie_hash = hex::encode(sha2::Sha256::digest(cookie.value().as_bytes()));
    assert_eq!(stored.cookie_sha256.as_deref(), Some(cookie_hash.as_str()));
    assert_eq!(stored.enrolment_sha256, None);
    // Single use.
    let (status, _, cookies, page) = call!(
        &app,
        form_post("/s/demo-clinic/kiosk/enrol", None, &[("t", &token)])
    );
    assert_eq!(status, StatusCode::GONE);
    assert!(cookies.is_empty());
    assert!(page.contains("This set-up link cannot be used"));
    let (status, ..) = call!(&app, get(&enrol, None));
    assert_eq!(status, StatusCode::GONE);

    // The start screen: never cached, a Start button, the text size and the languages.
    let c = Some(&cookie);
    let (status, h, _, start) = call!(&app, get(START, c));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(start.contains("href=\"/s/demo-clinic/patient-enrollment/kiosk/form\">Start</a>"));
    assert!(start.contains("name=\"text\" value=\"large\" aria-pressed=\"false\">Larger text"));
    assert!(
        start.contains("href=\"/s/demo-clinic/patient-enrollment/kiosk?lang=es\""),
        "{start}"
    );
    let (_, _, _, large) = call!(&app, get(&format!("{START}?text=large"), c));
    assert!(large.contains("<html lang=\"en\" class=\"kiosk-large\">"));
    assert!(large.contains("href=\"/s/demo-clinic/patient-enrollment/kiosk/form?text=large\""));
    let (_, _, _, es) = call!(&app, get(&format!("{START}?lang=es"), c));
    assert!(es.contains("<html lang=\"es\">") && es.contains(">Empezar</a>"));

    // Each form: no-store, autocomplete off, the idle settings, a new submission id.
    let (status, h, _, form) = call!(&app, get(&format!("{START}/form"), c));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(form.contains("autocomplete=\"off\" data-kiosk-page=\"form\""));
    assert!(form.contains("data-kiosk-idle=\"180\" data-kiosk-warning=\"30\""));
    assert!(form.contains("action=\"/s/demo-clinic/patient-enrollment/kiosk/form\""));
    assert!(form.contains("id=\"kiosk-continue\">Continue</button>"));
    let (_, _, _, again) = call!(&app, get(&format!("{START}/form"), c));
    let id = hidden(&form, "_submission_id");
    assert_ne!(id, hidden(&again, "_submission_id"));

    // A missing answer: the form again (kept), nothing stored.
    let post = |fields: &[(&str, &str)]| form_post(&format!("{START}/form"), c, fields);
    let (status, _, _, page) = call!(&app, post(&[("_submission_id", &id), ("aware", "yes")]));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("data-kiosk-page=\"form\""));
    assert_eq!(
        t.state.store.count_responses("demo-clinic").await.unwrap(),
        0
    );
    let answers = [
        ("_submission_id", id.as_str()),
        ("aware", "yes"),
        ("tried", "no"),
        ("contact_ok", "no"),
        ("channel", "api"),
    ];
    let (status, h, ..) = call!(&app, post(&answers));
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&h), format!("{START}/thanks"));
    let responses = common::stored_responses(&t.state, "demo-clinic").await;
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0].channel, Some(Channel::Kiosk));
    assert_eq!(responses[0].kiosk, Some(stored.id));

    // The thank-you page returns to the start by itself, without a script.
    let (status, h, _, thanks) = call!(&app, get(&format!("{START}/thanks"), c));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(thanks.contains(&format!(
        "<meta http-equiv=\"refresh\" content=\"15;url={START}\">"
    )));
    assert!(thanks.contains("goes back to the start in 15 seconds"));

    // An unknown cookie is the public survey.
    let unknown = Cookie::new("chorus_kiosk", "x".repeat(43));
    let (status, h, ..) = call!(&app, get(START, Some(&unknown)));
    assert_eq!(
        (status, location(&h)),
        (StatusCode::SEE_OTHER, PUBLIC.to_string())
    );

    // Revoked: the public survey, and a form still open on it counts on the public link.
    let revoke = format!("{KIOSKS}/{}/revoke", stored.id);
    let req = test::TestRequest::post()
        .uri(&revoke)
        .insert_header(bearer(&admin));
    let (status, _, _, body) = call!(&app, req);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["status"],
        "revoked"
    );
    let (status, h, ..) = call!(&app, get(START, c));
    assert_eq!(
        (status, location(&h)),
        (StatusCode::SEE_OTHER, PUBLIC.to_string())
    );
    let mut late = answers;
    let other = uuid::Uuid::new_v4().to_string();
    late[0] = ("_submission_id", &other);
    let (status, h, ..) = call!(&app, post(&late));
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&h), format!("{PUBLIC}/thanks"));
    let responses = common::stored_responses(&t.state, "demo-clinic").await;
    assert_eq!(responses[1].channel, Some(Channel::Link));
    assert_eq!(responses[1].kiosk, None);
    let unknown_id = format!("{KIOSKS}/{}/revoke", uuid::Uuid::new_v4());
    let req = test::TestRequest::post()
        .uri(&unknown_id)
        .insert_header(bearer(&admin));
    let (status, ..) = call!(&app, req);
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The backup holds the kiosk, and a restore finds it again.
    let backup = t.state.store.backup_text().await.unwrap();
    assert!(backup.contains("\"type\":\"kiosk\""));
    let restored = common::demo_state().await;
    let records =
        chorus::store::read_backup(&mut std::io::BufReader::new(backup.as_bytes())).unwrap();
    restored.state.store.import_records(&records).await.unwrap();
    let back = restored
        .state
        .store
        .kiosk("demo-clinic", stored.id)
        .await
        .unwrap();
    assert_eq!(back.unwrap().status(), "revoked");
}

#[actix_web::test]
async fn a_kiosk_opens_in_its_language_and_admins_manage_kiosks_on_a_page() {
    let t = admin_support::admin_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    admin_support::add_person(&t.state, "boss", "clinic-a", Role::Admin).await;
    admin_support::add_person(&t.state, "ana", "clinic-a", Role::Viewer).await;
    let session = admin_support::sign_in(&app, "ana", admin_support::PASSWORD)
        .await
        .session
        .unwrap();
    let (status, ..) =
        admin_support::get_page(&app, &session, "/admin/sites/clinic-a/kiosks").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let session = admin_support::sign_in(&app, "boss", admin_support::PASSWORD)
        .await
        .session
        .unwrap();
    let (status, _, page) =
        admin_support::get_page(&app, &session, "/admin/sites/clinic-a/kiosks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No kiosks yet."));
    let csrf = admin_support::csrf_of(&page);
    let register = |fields: Vec<(&'static str, String)>| {
        test::TestRequest::post()
            .uri("/admin/sites/clinic-a/kiosks")
            .cookie(session.clone())
            .set_form(fields)
    };
    let mut fields = vec![
        ("csrf", csrf.clone()),
        ("name", "Lobby".to_string()),
        ("survey", "patient-pulse".to_string()),
        ("language", String::new()),
        ("return_delay_s", "20".to_string()),
        ("idle_s", "abc".to_string()),
    ];
    let (status, _, _, page) = call!(&app, register(fields.clone()));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("whole number of seconds"), "{page}");
    fields[5].1 = "60".into();
    let (status, _, _, page) = call!(&app, register(fields));
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Kiosk “Lobby” registered"));
    let marker = "<code class=\"enrolment\">";
    let at = page.find(marker).unwrap() + marker.len();
    let url = &page[at..][..page[at..].find('<').unwrap()];
    assert!(url.contains("/s/clinic-a/kiosk/enrol?t="), "{url}");
    // The tablet enrols and a patient answers: the response's page names the kiosk.
    let token = url.split("?t=").nth(1).unwrap();
    let (_, _, cookies, _) = call!(
        &app,
        form_post("/s/clinic-a/kiosk/enrol", None, &[("t", token)])
    );
    let tablet = cookies
        .into_iter()
        .find(|c| c.name() == "chorus_kiosk")
        .unwrap();
    let id = uuid::Uuid::new_v4().to_string();
    let answers = [("_submission_id", id.as_str()), ("tried", "no")];
    let post = form_post(
        "/s/clinic-a/patient-pulse/kiosk/form",
        Some(&tablet),
        &answers,
    );
    let (status, ..) = call!(&app, post);
    assert_eq!(status, StatusCode::SEE_OTHER);
    let response = &common::stored_responses(&t.state, "clinic-a").await[0];
    let uri = format!("/admin/sites/clinic-a/responses/{}", response.id);
    let (_, _, page) = admin_support::get_page(&app, &session, &uri).await;
    let kiosk_id = response.kiosk.unwrap();
    assert!(
        page.contains(&format!(
            "<dt>Channel</dt><dd>kiosk <span class=\"muted\">(kiosk “Lobby”, {kiosk_id})</span>"
        )),
        "{page}"
    );
    // Shown once: the page afterwards lists it without the link.
    let (_, _, page) =
        admin_support::get_page(&app, &session, "/admin/sites/clinic-a/kiosks").await;
    assert!(page.contains("<td>Lobby</td>") && page.contains("<td>20 s</td><td>60 s</td>"));
    assert!(!page.contains("enrol?t="));
    let kiosk = &t.state.store.list_kiosks("clinic-a").await.unwrap()[0];
    let revoke = format!("/admin/sites/clinic-a/kiosks/{}/revoke", kiosk.id);
    let req = test::TestRequest::post()
        .uri(&revoke)
        .cookie(session.clone())
        .set_form([("csrf", csrf.as_str())]);
    let (status, h, ..) = call!(&app, req);
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location(&h), "/admin/sites/clinic-a/kiosks");
    let kiosk = t
        .state
        .store
        .kiosk("clinic-a", kiosk.id)
        .await
        .unwrap()
        .unwrap();
    assert!(kiosk.is_revoked() && kiosk.cookie_sha256.is_none());
    // Without the CSRF token nothing is revoked or registered.
    let req = test::TestRequest::post()
        .uri("/admin/sites/clinic-a/kiosks")
        .cookie(session.clone())
        .set_form([("name", "X"), ("survey", "patient-pulse")]);
    let (status, ..) = call!(&app, req);
    assert!(status.is_client_error());
    assert_eq!(
        t.state.store.list_kiosks("clinic-a").await.unwrap().len(),
        1
    );
}

#[actix_web::test]
async fn a_kiosk_with_a_language_opens_in_it() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "boss", "demo-clinic", Role::Admin).await;
    let body = json!({"name": "Mostrador", "survey": "patient-enrollment", "language": "es",
                      "return_delay_s": 5, "idle_s": 30});
    let req = test::TestRequest::post().uri(KIOSKS).set_json(&body);
    let (_, _, _, created) = call!(&app, req.insert_header(bearer(&admin)));
    let created: Value = serde_json::from_str(&created).unwrap();
    let token = created["enrolment_url"]
        .as_str()
        .unwrap()
        .split("?t=")
        .nth(1)
        .unwrap()
        .to_string();
    let (_, _, cookies, _) = call!(
        &app,
        form_post("/s/demo-clinic/kiosk/enrol", None, &[("t", &token)])
    );
    let cookie = cookies
        .into_iter()
        .find(|c| c.name() == "chorus_kiosk")
        .unwrap();
    let req = get(START, Some(&cookie)).insert_header((header::ACCEPT_LANGUAGE, "en"));
    let (_, _, _, start) = call!(&app, req);
    assert!(start.contains("<html lang=\"es\">"), "{start}");
    // The next person starts in the kiosk's language: the start link carries none.
    let (_, _, _, form) = call!(&app, get(&format!("{START}/form?lang=es"), Some(&cookie)));
    assert!(
        form.contains(&format!("data-kiosk-start=\"{START}\"")),
        "{form}"
    );
    assert!(form.contains("data-kiosk-idle=\"30\" data-kiosk-warning=\"30\""));
}

#[actix_web::test]
async fn two_tablets_racing_with_one_enrolment_link_enrol_one() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let admin = common::add_user(&t.state, "boss", "demo-clinic", Role::Admin).await;
    let body = json!({"name": "Front desk", "survey": "patient-enrollment"});
    let req = test::TestRequest::post().uri(KIOSKS).set_json(&body);
    let (_, _, _, created) = call!(&app, req.insert_header(bearer(&admin)));
    let created: Value = serde_json::from_str(&created).unwrap();
    let url = created["enrolment_url"].as_str().unwrap();
    let token = url.split("?t=").nth(1).unwrap().to_string();
    let enrol = || {
        test::call_service(
            &app,
            form_post("/s/demo-clinic/kiosk/enrol", None, &[("t", &token)]).to_request(),
        )
    };
    let results = futures_util::future::join_all((0..8).map(|_| enrol())).await;
    let enrolled: Vec<String> = results
        .iter()
        .filter(|r| r.status() == StatusCode::SEE_OTHER)
        .flat_map(|r| {
            r.response()
                .cookies()
                .map(|c| c.value().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(enrolled.len(), 1, "exactly one tablet gets the kiosk");
    assert!(results
        .iter()
        .all(|r| r.status() == StatusCode::SEE_OTHER || r.status() == StatusCode::GONE));
    // The cookie it got is the one the store holds.
    let hash = hex::encode(sha2::Sha256::digest(enrolled[0].as_bytes()));
    let kiosk = &t.state.store.list_kiosks("demo-clinic").await.unwrap()[0];
    assert_eq!(kiosk.cookie_sha256.as_deref(), Some(hash.as_str()));
}
