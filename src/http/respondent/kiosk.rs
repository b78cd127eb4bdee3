//! The waiting-room kiosk (docs/kiosk.md): a tablet enrolled with a kiosk cookie shows a start
//! screen, a fresh form for each person and a thank-you page that returns to the start by
//! itself. Every page is `no-store` (`page::html`); the form has `autocomplete="off"` and a new
//! submission id each time; chorus.kiosk.js adds the idle reset and keeps Back off the previous
//! answers. No cookie, or one that is unknown, revoked or for another survey: the public
//! survey, never an error page.

use super::form_post::{read_fields, SUBMISSION_FIELD};
use super::kiosk_strings::{self, KioskUi};
use super::page::{html, render, PageContext, Visit};
use super::view::FormValues;
use super::{error_page, find_survey, form_url, render_form_as, ErrorView, SentForm};
use crate::app::AppState;
use crate::domain::kiosk::IDLE_WARNING_S;
use crate::domain::{Channel, Kiosk};
use crate::http::body::FormFields;
use crate::http::error::ApiError;
use crate::services::kiosks;
use crate::services::submit::{submit, Submission};
use crate::services::ServiceError;
use crate::survey::{FieldError, RawAnswer, Survey};
use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{post, route, web, HttpRequest, HttpResponse};
use serde::Serialize;
use uuid::Uuid;

pub(super) const KIOSK_COOKIE: &str = "chorus_kiosk";
/// Chromium keeps a cookie at most 400 days.
const COOKIE_DAYS: i64 = 400;

/// The shared 303, never kept by a browser's cache (the next person must not get it).
fn see_other(to: String) -> HttpResponse {
    let mut res = crate::http::see_other(&to);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

/// What a kiosk page's address says besides the language: the larger text of the person at
/// the tablet now (carried from page to page, dropped at the start of the next person).
fn large_text(req: &HttpRequest) -> bool {
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    query.iter().any(|(k, v)| k == "text" && v == "large")
}

/// The kiosk of this request's cookie for this survey, if it is live.
async fn kiosk_of(
    state: &AppState,
    req: &HttpRequest,
    site: &str,
    survey: &str,
) -> Result<Option<Kiosk>, ServiceError> {
    let cookie = req.cookie(KIOSK_COOKIE);
    kiosks::of_cookie(state, cookie.as_ref().map(|c| c.value()), site, survey).await
}

/// Everything a kiosk page needs to draw its links and its script's settings.
#[derive(Serialize)]
struct KioskView {
    name: String,
    /// The start screen for the next person: the kiosk's own language, normal text.
    start: String,
    /// The form in the page's language and text size.
    form: String,
    /// `lang` of the page when it is not the site's default (the text-size form keeps it).
    lang: Option<String>,
    large: bool,
    idle_s: u32,
    warning_s: u32,
    return_delay_s: u32,
    /// The idle warning's sentence with its full count.
    idle_body: String,
    css: String,
    js: String,
}

struct Opened {
    kiosk: Kiosk,
    survey: std::sync::Arc<Survey>,
    ctx: PageContext,
    large: bool,
}

impl Opened {
    fn base(&self) -> String {
        format!("/s/{}/{}/kiosk", self.kiosk.site, self.kiosk.survey)
    }

    /// `?lang=..&text=large` as this page has them (empty parts left out).
    fn query(&self, large: bool) -> String {
        let mut parts = Vec::new();
        if !self.ctx.lang_query('?').is_empty() {
            parts.push(format!("lang={}", self.ctx.lang));
        }
        if large {
            parts.push("text=large".to_string());
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }

    fn view(&self, state: &AppState) -> KioskView {
        let base = self.base();
        KioskView {
            name: self.kiosk.name.clone(),
            start: base.clone(),
            form: format!("{base}/form{}", self.query(self.large)),
            lang: (!self.ctx.lang_query('?').is_empty()).then(|| self.ctx.lang.clone()),
            large: self.large,
            idle_s: self.kiosk.idle_s,
            warning_s: IDLE_WARNING_S.min(self.kiosk.idle_s),
            return_delay_s: self.kiosk.return_delay_s,
            idle_body: self
                .ui()
                .idle_body
                .replace("{n}", &IDLE_WARNING_S.min(self.kiosk.idle_s).to_string()),
            css: state.assets.url("chorus.kiosk.css"),
            js: state.assets.url("chorus.kiosk.js"),
        }
    }

    fn ui(&self) -> &'static KioskUi {
        kiosk_strings::for_language(&self.ctx.lang)
    }

    fn fill(&self, state: &AppState, c: &mut tera::Context) {
        c.insert("kiosk", &self.view(state));
        c.insert("k", self.ui());
        if self.large {
            c.insert("html_class", "kiosk-large");
        }
    }
}

/// Opens a kiosk page, or says where to go instead: the public survey for a request without
/// a live kiosk, an error page for a site or survey that does not exist.
async fn open(
    state: &AppState,
    req: &HttpRequest,
    site: &str,
    survey: &str,
) -> Result<Opened, HttpResponse> {
    let mut visit = Visit::of(req);
    let kiosk = match kiosk_of(state, req, site, survey).await {
        Ok(k) => k,
        Err(e) => {
            let ctx = PageContext::new(None, None, &visit);
            return Err(error_page(state, &ctx, e.into()));
        }
    };
    let (_, survey, ctx) = match &kiosk {
        Some(k) => {
            visit.lang = visit.lang.or_else(|| k.language.clone());
            find_survey(state, site, survey, &visit).map_err(|page| *page)?
        }
        None => {
            let (runtime, survey, ctx) =
                find_survey(state, site, survey, &visit).map_err(|page| *page)?;
            let to = format!("{}{}", form_url(&runtime, &survey), ctx.lang_query('?'));
            return Err(see_other(to));
        }
    };
    let kiosk = kiosk.expect("checked above");
    let large = large_text(req);
    let mut opened = Opened {
        kiosk,
        survey,
        ctx,
        large,
    };
    opened.ctx.switch_base = None;
    Ok(opened)
}

#[utoipa::path(
    get,
    path = "/s/{site}/{survey}/kiosk",
    tag = "respondent pages",
    params(crate::http::openapi::SurveyPath),
    responses(
        (status = 200, description = "A kiosk's start screen (with its kiosk cookie)", body = String, content_type = "text/html"),
        (status = 303, description = "No live kiosk cookie: to the public survey", body = String, content_type = "text/html"),
        crate::http::openapi::PageErrors
    )
)]
#[route("/s/{site}/{survey}/kiosk", method = "GET", method = "HEAD")]
pub(super) async fn start_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (site, survey) = path.into_inner();
    let mut o = match open(&state, &req, &site, &survey).await {
        Ok(o) => o,
        Err(res) => return res,
    };
    // The language switch stays on the start screen, in the page's text size.
    let text = if o.large { "?text=large" } else { "" };
    o.ctx.switch_base = Some(format!("{}{text}", o.base()));
    let title = super::view::survey_title(&o.survey, o.ctx.translation(&o.survey)).to_string();
    let intro = o.survey_intro();
    match render(&state, "kiosk_start.html", &o.ctx, title.clone(), |c| {
        o.fill(&state, c);
        c.insert("title", &title);
        c.insert("intro", &intro);
    }) {
        Ok(page) => html(StatusCode::OK, page),
        Err(e) => error_page(&state, &o.ctx, e),
    }
}

impl Opened {
    fn survey_intro(&self) -> String {
        let translated = self
            .ctx
            .translation(&self.survey)
            .and_then(|t| t.intro.clone());
        translated.unwrap_or_else(|| self.survey.intro.clone())
    }

    /// The kiosk form, empty with a new submission id or with the answers sent and problems.
    fn form_page(
        &self,
        state: &AppState,
        status: StatusCode,
        id: Uuid,
        values: &FormValues,
        errors: &[FieldError],
    ) -> HttpResponse {
        let action = format!("{}/form{}", self.base(), self.query(self.large));
        let sent = SentForm {
            submission_id: &id.to_string(),
            values,
            errors,
        };
        let page = render_form_as(
            state,
            &self.ctx,
            &self.survey,
            ("kiosk_form.html", action),
            sent,
            |c| self.fill(state, c),
        );
        match page {
            Ok(page) => html(status, page),
            Err(e) => error_page(state, &self.ctx, e),
        }
    }
}

#[utoipa::path(
    get,
    path = "/s/{site}/{survey}/kiosk/form",
    tag = "respondent pages",
    params(crate::http::openapi::SurveyPath),
    responses(
        (status = 200, description = "A fresh kiosk form", body = String, content_type = "text/html"),
        (status = 303, description = "No live kiosk cookie: to the public survey", body = String, content_type = "text/html"),
        crate::http::openapi::PageErrors
    )
)]
#[route("/s/{site}/{survey}/kiosk/form", method = "GET", method = "HEAD")]
pub(super) async fn kiosk_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (site, survey) = path.into_inner();
    match open(&state, &req, &site, &survey).await {
        Ok(o) => o.form_page(
            &state,
            StatusCode::OK,
            Uuid::new_v4(),
            &FormValues::new(),
            &[],
        ),
        Err(res) => res,
    }
}

#[utoipa::path(
    tag = "respondent pages",
    params(crate::http::openapi::SurveyPath),
    request_body(content = crate::http::openapi::SurveyForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Stored on the kiosk channel: to the kiosk's thank-you page (without a live kiosk: stored on the link channel, to the public one)", body = String, content_type = "text/html"),
        (status = 422, description = "The form again with what to fix", body = String, content_type = "text/html"),
        (status = 415, description = "Not a form (unsupported_media_type)", body = String, content_type = "text/html"),
        crate::http::openapi::PageErrors
    )
)]
#[post("/s/{site}/{survey}/kiosk/form")]
pub(super) async fn kiosk_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormFields, ApiError>,
) -> HttpResponse {
    let (site, survey_id) = path.into_inner();
    let visit = Visit::of(&req);
    let kiosk = match kiosk_of(&state, &req, &site, &survey_id).await {
        Ok(k) => k,
        Err(e) => return error_page(&state, &PageContext::new(None, None, &visit), e.into()),
    };
    let (runtime, survey, _) = match find_survey(&state, &site, &survey_id, &visit) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let fields = match body {
        Ok(FormFields(fields)) => fields,
        Err(e) => return error_page(&state, &PageContext::new(None, None, &visit), e),
    };
    let (values, meta) = read_fields(&survey, fields);
    let mut visit = visit;
    visit.lang = meta.lang.clone().or(visit.lang);
    let ctx = PageContext::new(Some(&runtime), Some(&survey), &visit);
    let submission = Submission {
        site: runtime.site.id().to_string(),
        survey: survey.id.clone(),
        answers: values
            .iter()
            .map(|(id, v)| (id.clone(), RawAnswer::Form(v.clone())))
            .collect(),
        idempotency_key: meta.submission_id,
        language: Some(ctx.lang.clone()),
        invitation: None,
        // A kiosk revoked while its form was open: the answers still count, on the public link.
        channel: if kiosk.is_some() {
            Channel::Kiosk
        } else {
            Channel::Link
        },
        kiosk: kiosk.as_ref().map(|k| k.id),
    };
    let outcome = submit(&state, submission).await;
    let Some(kiosk) = kiosk else {
        return match outcome {
            Ok(_) => see_other(format!(
                "{}/thanks{}",
                form_url(&runtime, &survey),
                ctx.lang_query('?')
            )),
            Err(e) => error_page(&state, &ctx, e.into()),
        };
    };
    let o = Opened {
        kiosk,
        survey,
        ctx,
        large: large_text(&req),
    };
    match outcome {
        Ok(_) => see_other(format!("{}/thanks{}", o.base(), o.query(o.large))),
        Err(ServiceError::InvalidAnswers(errors)) => {
            let id = meta.submission_id.unwrap_or_else(Uuid::new_v4);
            o.form_page(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                id,
                &values,
                &errors,
            )
        }
        Err(ServiceError::IdempotencyKeyReused) => {
            let problem = [FieldError {
                field: SUBMISSION_FIELD.into(),
                message: o.ctx.ui.already_sent.into(),
            }];
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            o.form_page(&state, status, Uuid::new_v4(), &values, &problem)
        }
        Err(e) => error_page(&state, &o.ctx, e.into()),
    }
}

#[utoipa::path(
    get,
    path = "/s/{site}/{survey}/kiosk/thanks",
    tag = "respondent pages",
    params(crate::http::openapi::SurveyPath),
    responses(
        (status = 200, description = "The kiosk's thank-you page, back to the start by a meta refresh", body = String, content_type = "text/html"),
        (status = 303, description = "No live kiosk cookie: to the public survey", body = String, content_type = "text/html"),
        crate::http::openapi::PageErrors
    )
)]
#[route("/s/{site}/{survey}/kiosk/thanks", method = "GET", method = "HEAD")]
pub(super) async fn kiosk_thanks(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (site, survey) = path.into_inner();
    let o = match open(&state, &req, &site, &survey).await {
        Ok(o) => o,
        Err(res) => return res,
    };
    let title = format!(
        "{} – {}",
        o.ctx.ui.thanks_title,
        super::view::survey_title(&o.survey, o.ctx.translation(&o.survey))
    );
    let next = o
        .ui()
        .thanks_next
        .replace("{n}", &o.kiosk.return_delay_s.to_string());
    match render(&state, "kiosk_thanks.html", &o.ctx, title, |c| {
        o.fill(&state, c);
        c.insert("thanks_next", &next);
    }) {
        Ok(page) => html(StatusCode::OK, page),
        Err(e) => error_page(&state, &o.ctx, e),
    }
}

/// The enrolment token of a link (`?t=`) or of the confirmation form (`t`).
fn token_of(pairs: &[(String, String)]) -> Option<String> {
    pairs
        .iter()
        .find(|(k, _)| k == "t")
        .map(|(_, v)| v.trim().to_string())
}

fn enrol_invalid(state: &AppState, ctx: &PageContext) -> HttpResponse {
    let k = kiosk_strings::for_language(&ctx.lang);
    let view = ErrorView {
        title: k.enrol_invalid_title,
        body: k.enrol_invalid_body,
        link: None,
    };
    let page = render(
        state,
        "error.html",
        ctx,
        k.enrol_invalid_title.into(),
        |c| c.insert("error", &view),
    );
    match page {
        Ok(page) => html(StatusCode::GONE, page),
        Err(e) => error_page(state, ctx, e),
    }
}

/// `GET /s/{site}/kiosk/enrol?t=`: what opening the link on a tablet would do, with a button
/// to do it (a link preview or a prefetch uses nothing up).
#[utoipa::path(
    get,
    path = "/s/{site}/kiosk/enrol",
    tag = "respondent pages",
    params(crate::http::openapi::SitePath),
    responses(
        (status = 200, description = "What the enrolment link will do, with its button (uses nothing up)", body = String, content_type = "text/html"),
        (status = 410, description = "The link was used or its kiosk revoked", body = String, content_type = "text/html"),
        crate::http::openapi::PageErrors
    )
)]
#[route("/s/{site}/kiosk/enrol", method = "GET", method = "HEAD")]
pub(super) async fn enrol_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let visit = Visit::of(&req);
    let runtime = state.sites.get(path.as_str());
    let ctx = PageContext::new(runtime.as_deref(), None, &visit);
    let Some(runtime) = runtime else {
        let e = ServiceError::SiteNotFound(path.into_inner());
        return error_page(&state, &ctx, e.into());
    };
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let token = token_of(&query).unwrap_or_default();
    let pending = kiosks::pending_enrolment(&state, runtime.site.id(), &token).await;
    let kiosk = match pending {
        Ok(Some(k)) => k,
        Ok(None) => return enrol_invalid(&state, &ctx),
        Err(e) => return error_page(&state, &ctx, e.into()),
    };
    let k = kiosk_strings::for_language(&ctx.lang);
    let survey_title = runtime
        .site
        .survey(&kiosk.survey)
        .map(|s| super::view::survey_title(s, ctx.translation(s)).to_string())
        .unwrap_or_else(|| kiosk.survey.clone());
    let body = k
        .enrol_body
        .replace("{survey}", &survey_title)
        .replace("{name}", &kiosk.name);
    let action = format!("/s/{}/kiosk/enrol", runtime.site.id());
    match render(
        &state,
        "kiosk_enrol.html",
        &ctx,
        k.enrol_title.into(),
        |c| {
            c.insert("k", k);
            c.insert("body", &body);
            c.insert("action", &action);
            c.insert("token", &token);
        },
    ) {
        Ok(page) => html(StatusCode::OK, page),
        Err(e) => error_page(&state, &ctx, e),
    }
}

/// `POST /s/{site}/kiosk/enrol`: uses the token up and gives this browser the kiosk cookie
/// (HttpOnly, SameSite=Lax, Secure over https, 400 days); then the start screen.
#[utoipa::path(
    tag = "respondent pages",
    params(crate::http::openapi::SitePath),
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Enrolled: the kiosk cookie is set; to the start screen", body = String, content_type = "text/html"),
        (status = 410, description = "The link was used or its kiosk revoked", body = String, content_type = "text/html"),
        (status = 415, description = "Not a form (unsupported_media_type)", body = String, content_type = "text/html"),
        crate::http::openapi::PageErrors
    )
)]
#[post("/s/{site}/kiosk/enrol")]
pub(super) async fn enrol_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: Result<FormFields, ApiError>,
) -> HttpResponse {
    let visit = Visit::of(&req);
    let runtime = state.sites.get(path.as_str());
    let ctx = PageContext::new(runtime.as_deref(), None, &visit);
    let fields = match body {
        Ok(FormFields(fields)) => fields,
        Err(e) => return error_page(&state, &ctx, e),
    };
    let token = token_of(&fields).unwrap_or_default();
    // A token of another site's kiosk is not used up by this site's address.
    match kiosks::pending_enrolment(&state, path.as_str(), &token).await {
        Ok(Some(_)) => {}
        Ok(None) => return enrol_invalid(&state, &ctx),
        Err(e) => return error_page(&state, &ctx, e.into()),
    }
    let (kiosk, cookie) = match kiosks::enrol(&state, &token).await {
        Ok(Some(done)) => done,
        Ok(None) => return enrol_invalid(&state, &ctx),
        Err(e) => return error_page(&state, &ctx, e.into()),
    };
    let cookie = Cookie::build(KIOSK_COOKIE, cookie)
        .path("/s/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(req.connection_info().scheme() == "https")
        .max_age(Duration::days(COOKIE_DAYS))
        .finish();
    let mut res = see_other(crate::http::kiosks::start_path(&kiosk));
    if let Err(e) = res.add_cookie(&cookie) {
        tracing::error!(error = %e, "kiosk cookie not set");
    }
    res
}
