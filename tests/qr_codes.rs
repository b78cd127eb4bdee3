//! QR codes and the printable poster: the SVG served decodes back to the survey's public link
//! (rasterised here and read with the `rqrr` decoder), built from `public_url` when set and
//! from the request's host otherwise; the poster has the title, why it matters, the code and
//! the address, with print styles for A4 and US Letter and no inline styles.

mod common;

use actix_web::http::{header, StatusCode};
use actix_web::test;
use chorus::create_app;

/// Reads the dark modules back out of the served SVG (`M x y h run v1 h-run z` per run) and
/// draws them, 4 pixels per module, as a greyscale bitmap.
fn rasterise(svg: &str) -> (usize, Vec<u8>) {
    let view_box = svg.split("viewBox=\"0 0 ").nth(1).unwrap();
    let size: usize = view_box.split(' ').next().unwrap().parse().unwrap();
    let d = svg
        .split(" d=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    const SCALE: usize = 4;
    let px = size * SCALE;
    let mut pixels = vec![255u8; px * px];
    for run in d.split('z').filter(|r| !r.is_empty()) {
        let rest = run.strip_prefix('M').expect("a run starts with M");
        let (xy, rest) = rest.split_once('h').unwrap();
        let (x, y) = xy.split_once(' ').unwrap();
        let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
        let len: usize = rest.split_once('v').unwrap().0.parse().unwrap();
        assert!(rest.ends_with(&format!("v1h-{len}")), "{run}");
        for mx in x..x + len {
            for dy in 0..SCALE {
                for dx in 0..SCALE {
                    pixels[(y * SCALE + dy) * px + mx * SCALE + dx] = 0;
                }
            }
        }
    }
    (px, pixels)
}

fn decode(svg: &str) -> String {
    let (px, pixels) = rasterise(svg);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(px, px, |x, y| pixels[y * px + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the SVG");
    grids[0].decode().expect("the QR code decodes").1
}

#[actix_web::test]
async fn the_qr_code_decodes_to_the_public_link_from_the_request_host() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let req = test::TestRequest::get()
        .uri("/s/demo-clinic/patient-enrollment/qr.svg")
        .insert_header((header::HOST, "clinic.example.org:8443"))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "image/svg+xml"
    );
    let svg = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(svg.contains("<title>QR code that opens http://clinic.example.org:8443/s/demo-clinic/patient-enrollment</title>"));
    assert!(svg.len() < 8 * 1024, "{} bytes", svg.len());
    assert_eq!(
        decode(&svg),
        "http://clinic.example.org:8443/s/demo-clinic/patient-enrollment?via=qr"
    );

    // In Spanish the link opens the Spanish form.
    let req = test::TestRequest::get()
        .uri("/s/demo-clinic/patient-enrollment/qr.svg?lang=es")
        .insert_header((header::HOST, "clinic.example.org"))
        .to_request();
    let svg = String::from_utf8(
        test::read_body(test::call_service(&app, req).await)
            .await
            .to_vec(),
    )
    .unwrap();
    assert_eq!(
        decode(&svg),
        "http://clinic.example.org/s/demo-clinic/patient-enrollment?lang=es&via=qr"
    );
}

#[actix_web::test]
async fn public_url_from_the_configuration_wins_over_the_host() {
    let t = common::state_with(|data| chorus::Config {
        public_url: Some("https://survey.example.org/chorus".into()),
        ..common::demo_config(data)
    })
    .await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let req = test::TestRequest::get()
        .uri("/s/demo-clinic/provider-enrollment/qr.svg")
        .insert_header((header::HOST, "evil.example.com"))
        .to_request();
    let svg = String::from_utf8(
        test::read_body(test::call_service(&app, req).await)
            .await
            .to_vec(),
    )
    .unwrap();
    assert_eq!(
        decode(&svg),
        "https://survey.example.org/chorus/s/demo-clinic/provider-enrollment?via=qr"
    );
}

#[actix_web::test]
async fn the_poster_has_title_reason_code_and_address_and_prints_on_a4_or_letter() {
    let t = common::demo_state().await;
    let app = test::init_service(create_app(t.state.clone())).await;
    let req = test::TestRequest::get()
        .uri("/s/demo-clinic/patient-enrollment/poster?paper=a4")
        .insert_header((header::HOST, "clinic.example.org"))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = String::from_utf8(test::read_body(res).await.to_vec())
        .unwrap()
        .replace("&#x2F;", "/");
    assert!(html.contains("<h1>Signing up for the patient portal</h1>"));
    assert!(html.contains("<p class=\"why\">Your answers help the clinic make the patient portal easier for everyone to use.</p>"));
    assert!(html.contains("<img class=\"qr\" src=\"/s/demo-clinic/patient-enrollment/qr.svg\" alt=\"QR code that opens clinic.example.org/s/demo-clinic/patient-enrollment\""));
    assert!(html.contains(
        "<span class=\"url\">clinic.example.org/s/demo-clinic/patient-enrollment</span>"
    ));
    assert!(html.contains("<div class=\"poster paper-a4\">"));
    assert!(html.contains("/static/chorus.poster.css?v="));
    assert!(!html.contains("style="), "no inline styles");
    assert!(!html.contains("<style"), "no inline styles");

    let css =
        std::fs::read_to_string(common::repo().join("templates/static/chorus.poster.css")).unwrap();
    assert!(css.contains("@page a4 { size: A4 portrait;"));
    assert!(css.contains("@page letter { size: letter portrait;"));
    assert!(css.contains("@media print"));

    let req = test::TestRequest::get()
        .uri("/s/demo-clinic/patient-enrollment/poster?lang=es")
        .to_request();
    let html = String::from_utf8(
        test::read_body(test::call_service(&app, req).await)
            .await
            .to_vec(),
    )
    .unwrap();
    assert!(html.contains("<html lang=\"es\">"));
    assert!(html.contains("Escanee el código con la cámara de su teléfono."));
    assert!(html.contains("<div class=\"poster paper-any\">"));

    let req = test::TestRequest::get()
        .uri("/s/demo-clinic/nope/poster")
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let req = test::TestRequest::get()
        .uri("/s/demo-clinic/nope/qr.svg")
        .to_request();
    assert_eq!(
        test::call_service(&app, req).await.status(),
        StatusCode::NOT_FOUND
    );
}
