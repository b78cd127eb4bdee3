//! What a clinic prints: the survey's public link as a QR code (`qr.svg`) and a poster page
//! (`poster`) with the title, why it matters, the code and the address, for A4 or US Letter.

use super::page::QR_MARKER;
use super::{find_survey, form_url, html, qr, render, Visit};
use crate::app::AppState;
use crate::http::error::ApiError;
use actix_web::http::{header, StatusCode};
use actix_web::{route, web, HttpRequest, HttpResponse};
use serde::Serialize;

/// The absolute public link of a survey, in the page language when that is not the default.
fn public_link(state: &AppState, req: &HttpRequest, path: &str, lang_query: &str) -> String {
    format!("{}{path}{lang_query}", crate::http::public_base(state, req))
}

#[utoipa::path(
    get,
    path = "/s/{site}/{survey}/qr.svg",
    tag = "respondent pages",
    params(crate::http::openapi::SurveyPath),
    responses(
        (status = 200, description = "The QR code of the survey link (image/svg+xml)", body = String, content_type = "image/svg+xml"),
        crate::http::openapi::PageErrors
    )
)]
#[route("/s/{site}/{survey}/qr.svg", method = "GET", method = "HEAD")]
pub(super) async fn qr_svg(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (site, survey) = path.into_inner();
    let (runtime, survey, ctx) = match find_survey(&state, &site, &survey, &Visit::of(&req)) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let url = public_link(
        &state,
        &req,
        &form_url(&runtime, &survey),
        &ctx.lang_query('?'),
    );
    let title = ctx.ui.poster_qr_alt.replace("{url}", &url);
    // The code carries the `qr` channel's marker; the address printed beside it does not, so
    // a typed address counts as the public link.
    let sep = if url.contains('?') { '&' } else { '?' };
    let data = format!("{url}{sep}{QR_MARKER}");
    match qr::svg(&data, &title) {
        Ok(svg) => HttpResponse::Ok()
            .content_type("image/svg+xml")
            .insert_header((header::CACHE_CONTROL, "no-cache"))
            .insert_header((header::VARY, "Accept-Language"))
            .body(svg),
        Err(e) => super::error_page(&state, &ctx, ApiError::Render(e)),
    }
}

#[derive(Serialize)]
struct PosterView {
    title: String,
    /// `a4`, `letter`, or `any` (fits both).
    paper: &'static str,
    qr: String,
    qr_alt: String,
    /// The address without its scheme, as people type it.
    url: String,
    a4: String,
    letter: String,
}

#[utoipa::path(
    get,
    path = "/s/{site}/{survey}/poster",
    tag = "respondent pages",
    params(crate::http::openapi::SurveyPath),
    responses(
        (status = 200, description = "A printable poster with the QR code", body = String, content_type = "text/html"),
        crate::http::openapi::PageErrors
    )
)]
#[route("/s/{site}/{survey}/poster", method = "GET", method = "HEAD")]
pub(super) async fn poster_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (site, survey) = path.into_inner();
    let (runtime, survey, mut ctx) = match find_survey(&state, &site, &survey, &Visit::of(&req)) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let paper = match query
        .iter()
        .find(|(k, _)| k == "paper")
        .map(|(_, v)| v.as_str())
    {
        Some("a4") => "a4",
        Some("letter") => "letter",
        _ => "any",
    };
    let base = format!("{}/poster", form_url(&runtime, &survey));
    ctx.switch_base = Some(format!("{base}?paper={paper}"));
    let lang = ctx.lang_query('&');
    let url = public_link(
        &state,
        &req,
        &form_url(&runtime, &survey),
        &ctx.lang_query('?'),
    );
    let shown_url = url
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .to_string();
    let title = super::view::survey_title(&survey, ctx.translation(&survey)).to_string();
    let view = PosterView {
        qr: format!(
            "{}/qr.svg{}",
            form_url(&runtime, &survey),
            ctx.lang_query('?')
        ),
        qr_alt: ctx.ui.poster_qr_alt.replace("{url}", &shown_url),
        url: shown_url,
        a4: format!("{base}?paper=a4{lang}"),
        letter: format!("{base}?paper=letter{lang}"),
        title: title.clone(),
        paper,
    };
    let extra_css = state.assets.url("chorus.poster.css");
    match render(&state, "poster.html", &ctx, title, |c| {
        c.insert("poster", &view);
        c.insert("extra_css", &extra_css);
    }) {
        Ok(page) => html(StatusCode::OK, page),
        Err(e) => super::error_page(&state, &ctx, e),
    }
}
