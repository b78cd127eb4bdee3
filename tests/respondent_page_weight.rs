//! The form page is light and self-contained: under 30 KB with its stylesheet and script, and
//! nothing it loads or links to leaves the server (no fonts, CDNs or trackers).

mod common;

use actix_web::http::StatusCode;
use actix_web::test;
use chorus::create_app;

/// Every `src="…"` and `href="…"` in a page.
fn urls(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for part in html.split(attr).skip(1) {
            out.push(part.split('"').next().unwrap().replace("&#x2F;", "/"));
        }
    }
    out
}

fn external(url: &str) -> bool {
    let u = url.to_ascii_lowercase();
    u.starts_with("http:") || u.starts_with("https:") || u.starts_with("//")
}

#[actix_web::test]
async fn every_form_is_under_30_kb_with_no_external_requests() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    for survey in [
        "patient-enrollment",
        "provider-enrollment",
        "leadership-enrollment",
    ] {
        for lang in ["en", "es"] {
            let uri = format!("/s/demo-clinic/{survey}?lang={lang}");
            let res =
                test::call_service(&app, test::TestRequest::get().uri(&uri).to_request()).await;
            assert_eq!(res.status(), StatusCode::OK);
            let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
            let links = urls(&html);
            assert!(links.iter().any(|u| u.starts_with("/static/chorus.css?v=")));
            let mut total = html.len();
            for url in &links {
                assert!(!external(url), "{uri} links to {url}");
                if url.starts_with("/static/") {
                    let res =
                        test::call_service(&app, test::TestRequest::get().uri(url).to_request())
                            .await;
                    assert_eq!(res.status(), StatusCode::OK, "{url}");
                    let body = test::read_body(res).await;
                    let text = String::from_utf8_lossy(&body);
                    assert!(
                        !text.contains("http://") && !text.contains("https://"),
                        "{url}"
                    );
                    assert!(!text.contains("@import") && !text.contains("url("), "{url}");
                    total += body.len();
                }
            }
            assert!(total < 30 * 1024, "{uri}: {total} bytes with its assets");
        }
    }
}
