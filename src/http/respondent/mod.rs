//! Respondent pages (SPEC "HTTP → Respondent pages"): the survey form, the thank-you page and
//! friendly HTML error pages. Server-rendered; works without JavaScript.

mod assets;
mod cache;
mod form_post;
mod kiosk;
mod kiosk_strings;
mod lang;
mod page;
mod poster;
mod qr;
mod strings;
mod view;

pub use assets::StaticAssets;
pub use form_post::form_answers;

use crate::app::AppState;
use crate::http::error::ApiError;
use crate::services::sites::SiteRuntime;
use crate::services::ServiceError;
use crate::survey::{FieldError, Survey};
use actix_web::http::{header, StatusCode};
use actix_web::{route, web, HttpRequest, HttpResponse};
use page::{html, render, Link, PageContext, Visit};
use serde::Serialize;
use std::sync::Arc;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use view::{FormInput, FormValues};

pub fn configure(cfg: &mut ServiceConfig) {
    // Per worker (create_app runs once per worker), so it needs no sharing across threads.
    cfg.app_data(web::Data::new(cache::EmptyForms::default()))
        .service(static_file)
        .service(site_index)
        .service(poster::qr_svg)
        .service(poster::poster_page)
        .service(kiosk::enrol_page)
        .service(kiosk::enrol_submit)
        .service(kiosk::start_page)
        .service(kiosk::kiosk_form)
        .service(kiosk::kiosk_submit)
        .service(kiosk::kiosk_thanks)
        .service(form_page)
        .service(form_post::form_submit)
        .service(thanks_page);
}

#[derive(Serialize)]
struct ErrorView {
    title: &'static str,
    body: &'static str,
    link: Option<Link>,
}

/// A friendly HTML page for a failed request; never a stack trace or an internal message.
fn error_page(state: &AppState, ctx: &PageContext, err: ApiError) -> HttpResponse {
    error_page_with(state, ctx, err, None)
}

/// As `error_page`, with a link to what the respondent can do instead.
fn error_page_with(
    state: &AppState,
    ctx: &PageContext,
    err: ApiError,
    link: Option<Link>,
) -> HttpResponse {
    let ui = ctx.ui;
    let status = actix_web::ResponseError::status_code(&err);
    let (title, body) = match err.service() {
        _ if matches!(err, ApiError::PayloadTooLarge(_)) => (ui.too_large_title, ui.too_large_body),
        Some(ServiceError::SiteNotFound(_) | ServiceError::SurveyNotFound(_)) => {
            (ui.not_found_title, ui.not_found_body)
        }
        Some(ServiceError::SiteUnavailable(_)) => (ui.site_down_title, ui.site_down_body),
        Some(ServiceError::InvitationUsed) => (ui.invitation_used_title, ui.invitation_used_body),
        Some(ServiceError::InvitationExpired) => {
            (ui.invitation_expired_title, ui.invitation_expired_body)
        }
        Some(ServiceError::InvitationUnknown) => {
            (ui.invitation_unknown_title, ui.invitation_unknown_body)
        }
        Some(ServiceError::Store(_) | ServiceError::Unavailable)
            if status == StatusCode::SERVICE_UNAVAILABLE =>
        {
            (ui.unavailable_title, ui.unavailable_body)
        }
        _ if status.is_server_error() => (ui.server_error_title, ui.server_error_body),
        _ => (ui.bad_request_title, ui.bad_request_body),
    };
    if status.is_server_error() {
        tracing::error!(code = err.code(), error = %err, "respondent page failed");
    }
    let page = render(state, "error.html", ctx, title.to_string(), |c| {
        c.insert("error", &ErrorView { title, body, link })
    });
    let mut res = match page {
        Ok(page) => html(status, page),
        Err(e) => {
            tracing::error!(code = e.code(), error = %e, "error page failed");
            HttpResponse::build(status)
                .content_type("text/plain; charset=utf-8")
                .body(format!("{title}\n\n{body}\n"))
        }
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("30"));
    }
    res
}

/// The site and survey of a request, or the error page to answer with.
fn find_survey(
    state: &AppState,
    site: &str,
    survey: &str,
    visit: &Visit,
) -> Result<(Arc<SiteRuntime>, Arc<Survey>, PageContext), Box<HttpResponse>> {
    let runtime = match state.site(site) {
        Ok(runtime) => runtime,
        Err(e) => {
            let ctx = PageContext::new(None, None, visit);
            return Err(Box::new(error_page(state, &ctx, e.into())));
        }
    };
    match runtime.site.survey(survey).cloned() {
        Some(found) => {
            let ctx = PageContext::new(Some(&runtime), Some(&found), visit);
            Ok((runtime, found, ctx))
        }
        None => {
            let ctx = PageContext::new(Some(&runtime), None, visit);
            Err(Box::new(error_page(
                state,
                &ctx,
                ServiceError::SurveyNotFound(survey.to_string()).into(),
            )))
        }
    }
}

/// The page for an invitation link that cannot be used, with a way to the public form.
fn invitation_page(
    state: &AppState,
    ctx: &PageContext,
    runtime: &SiteRuntime,
    survey: &Survey,
    err: ApiError,
) -> HttpResponse {
    let link = Link {
        href: format!("{}{}", form_url(runtime, survey), ctx.lang_query('?')),
        text: ctx.ui.invitation_public_link.to_string(),
        lang: None,
    };
    error_page_with(state, ctx, err, Some(link))
}

fn form_url(runtime: &SiteRuntime, survey: &Survey) -> String {
    format!("/s/{}/{}", runtime.site.id(), survey.id)
}

/// The form's address as the page came by it: with the QR code's marker, so that the post
/// (and a language switch) keeps the `qr` channel.
fn form_url_of(runtime: &SiteRuntime, survey: &Survey, ctx: &PageContext) -> String {
    if ctx.qr {
        format!("{}?{}", form_url(runtime, survey), page::QR_MARKER)
    } else {
        form_url(runtime, survey)
    }
}

/// Renders the form, empty or with the answers sent and the problems found.
fn render_form(
    state: &AppState,
    ctx: &PageContext,
    runtime: &SiteRuntime,
    survey: &Survey,
    submission_id: &str,
    values: &FormValues,
    errors: &[FieldError],
) -> Result<String, ApiError> {
    let sent = SentForm {
        submission_id,
        values,
        errors,
    };
    let action = form_url_of(runtime, survey, ctx);
    render_form_as(state, ctx, survey, ("form.html", action), sent, |_| {})
}

/// A form's submission id, answers and problems, as a page renders them.
struct SentForm<'a> {
    submission_id: &'a str,
    values: &'a FormValues,
    errors: &'a [FieldError],
}

/// As `render_form`, with another template (which extends form.html) and form action.
fn render_form_as(
    state: &AppState,
    ctx: &PageContext,
    survey: &Survey,
    (template, action): (&str, String),
    sent: SentForm<'_>,
    fill: impl FnOnce(&mut tera::Context),
) -> Result<String, ApiError> {
    let SentForm {
        submission_id,
        values,
        errors,
    } = sent;
    let form = view::form_view(
        FormInput {
            survey,
            translation: ctx.translation(survey),
            action,
            submission_id: submission_id.to_string(),
            lang: ctx.lang.clone(),
            token: ctx.token.clone(),
            values,
            errors,
        },
        ctx.ui,
    );
    let title = if errors.is_empty() {
        form.title.clone()
    } else {
        format!("{}{}", ctx.ui.error_title_prefix, form.title)
    };
    render(state, template, ctx, title, |c| {
        c.insert("form", &form);
        fill(c);
    })
}

#[utoipa::path(
    get,
    path = "/s/{site}/{survey}",
    tag = "respondent pages",
    params(crate::http::openapi::SurveyPath),
    responses(
        (status = 200, description = "The survey form", body = String, content_type = "text/html"),
        crate::http::openapi::PageErrors
    )
)]
#[route("/s/{site}/{survey}", method = "GET", method = "HEAD")]
async fn form_page(
    state: web::Data<AppState>,
    forms: web::Data<cache::EmptyForms>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (site, survey) = path.into_inner();
    let visit = Visit::of(&req);
    let (runtime, survey, mut ctx) = match find_survey(&state, &site, &survey, &visit) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let no_answers = FormValues::new();
    if let Some(token) = &visit.token {
        // A personal link: checked now so that a used or expired one says so before the
        // patient answers anything. Rendered each time: the page carries the token.
        let checked = crate::services::invitations::check_link(&state, &site, &survey.id, token);
        if let Err(e) = checked.await {
            return invitation_page(&state, &ctx, &runtime, &survey, e.into());
        }
        ctx.switch_base = Some(format!("{}?t={token}", form_url(&runtime, &survey)));
        ctx.token = Some(token.clone());
        let id = Uuid::new_v4().to_string();
        return match render_form(&state, &ctx, &runtime, &survey, &id, &no_answers, &[]) {
            Ok(page) => html(StatusCode::OK, page),
            Err(e) => error_page(&state, &ctx, e),
        };
    }
    ctx.switch_base = Some(form_url_of(&runtime, &survey, &ctx));
    // The QR code's form differs from the plain one by its action only.
    let variant = format!("{}{}", ctx.lang, if ctx.qr { "|qr" } else { "" });
    let page = forms.page(&survey, &variant, Uuid::new_v4(), || {
        let placeholder = cache::PLACEHOLDER;
        render_form(
            &state,
            &ctx,
            &runtime,
            &survey,
            placeholder,
            &no_answers,
            &[],
        )
    });
    match page {
        Ok(page) => html(StatusCode::OK, page),
        Err(e) => error_page(&state, &ctx, e),
    }
}

#[utoipa::path(
    get,
    path = "/s/{site}/{survey}/thanks",
    tag = "respondent pages",
    params(crate::http::openapi::SurveyPath),
    responses(
        (status = 200, description = "The thank-you page", body = String, content_type = "text/html"),
        crate::http::openapi::PageErrors
    )
)]
#[route("/s/{site}/{survey}/thanks", method = "GET", method = "HEAD")]
async fn thanks_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (site, survey) = path.into_inner();
    let (_, survey, ctx) = match find_survey(&state, &site, &survey, &Visit::of(&req)) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let title = format!(
        "{} – {}",
        ctx.ui.thanks_title,
        view::survey_title(&survey, ctx.translation(&survey))
    );
    match render(&state, "thanks.html", &ctx, title, |_| {}) {
        Ok(page) => html(StatusCode::OK, page),
        Err(e) => error_page(&state, &ctx, e),
    }
}

#[derive(Serialize)]
struct SurveyLink {
    href: String,
    title: String,
    lang: Option<String>,
}

#[utoipa::path(
    get,
    path = "/s/{site}",
    tag = "respondent pages",
    params(crate::http::openapi::SitePath),
    responses(
        (status = 200, description = "The site's surveys", body = String, content_type = "text/html"),
        crate::http::openapi::PageErrors
    )
)]
#[route("/s/{site}", method = "GET", method = "HEAD")]
async fn site_index(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let visit = Visit::of(&req);
    let runtime = match state.site(&path) {
        Ok(runtime) => runtime,
        Err(e) => return error_page(&state, &PageContext::new(None, None, &visit), e.into()),
    };
    let mut ctx = PageContext::new(Some(&runtime), None, &visit);
    ctx.switch_base = Some(format!("/s/{}", runtime.site.id()));
    let links: Vec<SurveyLink> = runtime
        .site
        .surveys
        .iter()
        .map(|s| {
            let translated = ctx.translation(s).is_some();
            let default = &runtime.site.config.default_language;
            SurveyLink {
                href: if translated {
                    format!("{}{}", form_url(&runtime, s), ctx.lang_query('?'))
                } else {
                    form_url(&runtime, s)
                },
                title: view::survey_title(s, ctx.translation(s)).to_string(),
                // A title left in the site's language is marked as such (WCAG 3.1.2).
                lang: (!translated && *default != ctx.lang).then(|| default.clone()),
            }
        })
        .collect();
    let title = format!("{} – {}", ctx.ui.surveys_title, runtime.site.config.name);
    match render(&state, "site.html", &ctx, title, |c| {
        c.insert("surveys", &links)
    }) {
        Ok(page) => html(StatusCode::OK, page),
        Err(e) => error_page(&state, &ctx, e),
    }
}

#[utoipa::path(
    get,
    path = "/static/{name}",
    tag = "respondent pages",
    params(("name" = String, Path, description = "File name")),
    responses(
        (status = 200, description = "A stylesheet or script (cached by content)", body = String, content_type = "text/css"),
        (status = 404, description = "not found", body = String, content_type = "text/plain"),
        (status = 503, description = "the site is not running, or the store is unavailable", body = String, content_type = "text/html")
    )
)]
#[route("/static/{name}", method = "GET", method = "HEAD")]
async fn static_file(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let version = query
        .iter()
        .find(|(k, _)| k == "v")
        .map(|(_, v)| v.as_str());
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    state.assets.respond(&path, version, if_none_match)
}

#[cfg(test)]
mod tests {
    //! Failures no request can cause on purpose (a store that fails); the rest of the pages are
    //! tested through the real app in tests/respondent_*.rs.
    use super::*;
    use crate::config::Config;
    use crate::store::StoreError;
    use std::path::PathBuf;

    async fn fixture_state(data: &std::path::Path) -> AppState {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        AppState::open(Config {
            data: data.to_path_buf(),
            sites: repo.join("tests/fixtures/sites"),
            plugins: repo.join("tests/fixtures/plugins"),
            templates: repo.join("templates"),
            webhook_allow_private: vec!["127.0.0.1/32".parse().unwrap()],
            ..Config::default()
        })
        .await
        .expect("fixture state opens")
    }

    async fn page(res: HttpResponse) -> (StatusCode, Option<String>, String) {
        let status = res.status();
        let retry = res
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_string());
        let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        (status, retry, String::from_utf8(body.to_vec()).unwrap())
    }

    #[actix_web::test]
    async fn store_failures_get_friendly_pages_without_internal_messages() {
        let dir = tempfile::tempdir().unwrap();
        let state = fixture_state(&dir.path().join("data")).await;
        let ctx = PageContext::new(
            state.sites.get("test-clinic").as_deref(),
            None,
            &Visit::default(),
        );

        let unavailable: ApiError = StoreError::Durability("disk full (secret)".into()).into();
        let (status, retry, html) = page(error_page(&state, &ctx, unavailable)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry.as_deref(), Some("30"));
        assert!(html.contains("<h1>We could not save your answers just now</h1>"));
        assert!(html.contains("You will not be counted twice."));
        assert!(html.contains("<header class=\"site\"><p>Test Clinic</p></header>"));
        assert!(!html.contains("secret"));

        let corrupt: ApiError = StoreError::Corrupt("bad record (secret)".into()).into();
        let (status, retry, html) = page(error_page(&state, &ctx, corrupt)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(retry, None);
        assert!(html.contains("<h1>Something went wrong on our side</h1>"));
        assert!(!html.contains("secret"));

        let (status, _, html) = page(error_page(&state, &ctx, ApiError::BodyTimeout)).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert!(html.contains("<h1>We could not read your answers</h1>"));
    }
}
