//! Respondent pages (SPEC "HTTP → Respondent pages"): the survey form, the thank-you page and
//! friendly HTML error pages. Server-rendered; works without JavaScript.

mod assets;
mod cache;
mod lang;
mod page;
mod poster;
mod qr;
mod strings;
mod view;

pub use assets::StaticAssets;

use crate::app::AppState;
use crate::errors::ApiError;
use crate::sites::SiteRuntime;
use crate::submit::{submit, submit_invited, Submission};
use crate::survey::{FieldError, RawAnswer, Survey};
use actix_web::http::{header, StatusCode};
use actix_web::{post, route, web, HttpRequest, HttpResponse};
use page::{html, render, Link, PageContext, Visit};
use serde::Serialize;
use std::sync::Arc;
use uuid::Uuid;
use view::{FormInput, FormValues};

use super::body::FormFields;

/// The hidden field that makes a double submit harmless. Form-internal fields start with `_`,
/// which question ids (`[a-z0-9_]`, checked at load) never do.
const SUBMISSION_FIELD: &str = "_submission_id";
/// The language the form was shown in, so that errors and the thank-you page stay in it.
const LANG_FIELD: &str = "_lang";
/// The invitation token of a personal link (`?t=` on the form's URL).
const TOKEN_FIELD: &str = "_t";

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Per worker (create_app runs once per worker), so it needs no sharing across threads.
    cfg.app_data(web::Data::new(cache::EmptyForms::default()))
        .service(static_file)
        .service(site_index)
        .service(poster::qr_svg)
        .service(poster::poster_page)
        .service(form_page)
        .service(form_submit)
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
    let (title, body) = match &err {
        ApiError::SiteNotFound(_) | ApiError::SurveyNotFound(_) => {
            (ui.not_found_title, ui.not_found_body)
        }
        ApiError::PayloadTooLarge(_) => (ui.too_large_title, ui.too_large_body),
        ApiError::InvitationUsed => (ui.invitation_used_title, ui.invitation_used_body),
        ApiError::InvitationExpired => (ui.invitation_expired_title, ui.invitation_expired_body),
        ApiError::InvitationUnknown => (ui.invitation_unknown_title, ui.invitation_unknown_body),
        ApiError::Store(_) | ApiError::Unavailable if status == StatusCode::SERVICE_UNAVAILABLE => {
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
    let Some(runtime) = state.sites.get(site) else {
        let ctx = PageContext::new(None, None, visit);
        return Err(Box::new(error_page(
            state,
            &ctx,
            ApiError::SiteNotFound(site.to_string()),
        )));
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
                ApiError::SurveyNotFound(survey.to_string()),
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

/// Whether an invitation token admits a response now (a store read).
async fn check_invitation(
    state: &AppState,
    site: &str,
    survey: &str,
    token: &str,
) -> Result<String, ApiError> {
    let hash = crate::invitations::token_sha256(token).ok_or(ApiError::InvitationUnknown)?;
    let store = Arc::clone(&state.store);
    let lookup = hash.clone();
    let found = web::block(move || store.invitation(&lookup))
        .await
        .map_err(|_| ApiError::Unavailable)??;
    crate::invitations::check(found.as_ref(), site, survey, crate::invitations::now_ms())?;
    Ok(hash)
}

fn form_url(runtime: &SiteRuntime, survey: &Survey) -> String {
    format!("/s/{}/{}", runtime.site.id(), survey.id)
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
    let form = view::form_view(
        FormInput {
            survey,
            translation: ctx.translation(survey),
            action: form_url(runtime, survey),
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
    render(state, "form.html", ctx, title, |c| c.insert("form", &form))
}

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
        if let Err(e) = check_invitation(&state, &site, &survey.id, token).await {
            return invitation_page(&state, &ctx, &runtime, &survey, e);
        }
        ctx.switch_base = Some(format!("{}?t={token}", form_url(&runtime, &survey)));
        ctx.token = Some(token.clone());
        let id = Uuid::new_v4().to_string();
        return match render_form(&state, &ctx, &runtime, &survey, &id, &no_answers, &[]) {
            Ok(page) => html(StatusCode::OK, page),
            Err(e) => error_page(&state, &ctx, e),
        };
    }
    ctx.switch_base = Some(form_url(&runtime, &survey));
    let page = forms.page(&survey, &ctx.lang, Uuid::new_v4(), || {
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

/// The form's own fields (those starting with `_`).
#[derive(Default)]
struct FormMeta {
    submission_id: Option<Uuid>,
    lang: Option<String>,
    token: Option<String>,
}

/// Splits the posted fields into answers (by question id) and the form's own fields. Fields
/// that name no question are dropped: a form loaded before the survey changed must still go
/// through.
fn read_fields(survey: &Survey, fields: Vec<(String, String)>) -> (FormValues, FormMeta) {
    let mut values = FormValues::new();
    let mut meta = FormMeta::default();
    for (name, value) in fields {
        let value_if_set = || Some(value.trim().to_string()).filter(|v| !v.is_empty());
        match name.as_str() {
            SUBMISSION_FIELD => meta.submission_id = Uuid::parse_str(value.trim()).ok(),
            LANG_FIELD => meta.lang = value_if_set(),
            TOKEN_FIELD => meta.token = value_if_set(),
            _ if survey.question(&name).is_some() => {
                values.entry(name).or_default().push(value);
            }
            _ => {}
        }
    }
    (values, meta)
}

/// A posted form body as the submission pipeline takes it: each question's values (fields
/// that name no question dropped). Public for the fuzz targets.
pub fn form_answers(
    survey: &Survey,
    body: &[u8],
) -> Result<std::collections::BTreeMap<String, RawAnswer>, ApiError> {
    let (values, _) = read_fields(survey, super::body::decode_form(body)?);
    Ok(values
        .into_iter()
        .map(|(id, v)| (id, RawAnswer::Form(v)))
        .collect())
}

#[post("/s/{site}/{survey}")]
async fn form_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Result<FormFields, ApiError>,
) -> HttpResponse {
    let (site, survey) = path.into_inner();
    let mut visit = Visit::of(&req);
    let (runtime, survey, ctx) = match find_survey(&state, &site, &survey, &visit) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let fields = match body {
        Ok(FormFields(fields)) => fields,
        Err(e) => return error_page(&state, &ctx, e),
    };
    let (values, meta) = read_fields(&survey, fields);
    visit.lang = meta.lang.or(visit.lang);
    visit.token = meta.token.or(visit.token);
    let mut ctx = PageContext::new(Some(&runtime), Some(&survey), &visit);
    ctx.switch_base = Some(match &visit.token {
        Some(t) => format!("{}?t={t}", form_url(&runtime, &survey)),
        None => form_url(&runtime, &survey),
    });
    ctx.token = visit.token.clone();
    let answers = values
        .iter()
        .map(|(id, v)| (id.clone(), RawAnswer::Form(v.clone())))
        .collect();
    let submission = Submission {
        site: runtime.site.id().to_string(),
        survey: survey.id.clone(),
        answers,
        submission_id: meta.submission_id,
        language: Some(ctx.lang.clone()),
    };
    let outcome = match &visit.token {
        None => submit(&state, submission).await,
        Some(token) => match crate::invitations::token_sha256(token) {
            Some(hash) => submit_invited(&state, submission, hash).await,
            None => Err(ApiError::InvitationUnknown),
        },
    };
    match outcome {
        Ok(_) => HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!(
                    "{}/thanks{}",
                    form_url(&runtime, &survey),
                    ctx.lang_query('?')
                ),
            ))
            .finish(),
        Err(ApiError::InvalidAnswers(errors)) => {
            let id = meta.submission_id.unwrap_or_else(Uuid::new_v4).to_string();
            match render_form(&state, &ctx, &runtime, &survey, &id, &values, &errors) {
                Ok(page) => html(StatusCode::UNPROCESSABLE_ENTITY, page),
                Err(e) => error_page(&state, &ctx, e),
            }
        }
        Err(
            e @ (ApiError::InvitationUnknown
            | ApiError::InvitationUsed
            | ApiError::InvitationExpired),
        ) => invitation_page(&state, &ctx, &runtime, &survey, e),
        Err(e) => error_page(&state, &ctx, e),
    }
}

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

#[route("/s/{site}", method = "GET", method = "HEAD")]
async fn site_index(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let visit = Visit::of(&req);
    let Some(runtime) = state.sites.get(&path) else {
        return error_page(
            &state,
            &PageContext::new(None, None, &visit),
            ApiError::SiteNotFound(path.into_inner()),
        );
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

    fn fixture_state(data: &std::path::Path) -> AppState {
        let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        AppState::open(Config {
            data: data.to_path_buf(),
            sites: repo.join("tests/fixtures/sites"),
            plugins: repo.join("tests/fixtures/plugins"),
            templates: repo.join("templates"),
            webhook_allow_private: vec!["127.0.0.1/32".parse().unwrap()],
            ..Config::default()
        })
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
        let state = fixture_state(&dir.path().join("data"));
        let ctx = PageContext::new(
            state.sites.get("test-clinic").as_deref(),
            None,
            &Visit::default(),
        );

        let unavailable = ApiError::Store(StoreError::Durability("disk full (secret)".into()));
        let (status, retry, html) = page(error_page(&state, &ctx, unavailable)).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry.as_deref(), Some("30"));
        assert!(html.contains("<h1>We could not save your answers just now</h1>"));
        assert!(html.contains("You will not be counted twice."));
        assert!(html.contains("<header class=\"site\"><p>Test Clinic</p></header>"));
        assert!(!html.contains("secret"));

        let corrupt = ApiError::Store(StoreError::Corrupt("bad record (secret)".into()));
        let (status, retry, html) = page(error_page(&state, &ctx, corrupt)).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(retry, None);
        assert!(html.contains("<h1>Something went wrong on our side</h1>"));
        assert!(!html.contains("secret"));

        let (status, _, html) = page(error_page(&state, &ctx, ApiError::BodyTimeout)).await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert!(html.contains("<h1>We could not read your answers</h1>"));
    }

    #[test]
    fn only_question_fields_are_answers() {
        let survey: Survey = toml::from_str(
            "id = \"s\"\ngroup = \"g\"\ntitle = \"T\"\n\
             [[questions]]\nid = \"a\"\nkind = \"text\"\ntext = \"A\"\n",
        )
        .unwrap();
        let id = Uuid::new_v4();
        let (values, meta) = read_fields(
            &survey,
            vec![
                ("_submission_id".into(), id.to_string()),
                ("_lang".into(), "es".into()),
                ("_t".into(), " ".into()),
                ("a".into(), "one".into()),
                ("a".into(), "two".into()),
                ("_other".into(), "x".into()),
                ("gone".into(), "y".into()),
            ],
        );
        assert_eq!(meta.submission_id, Some(id));
        assert_eq!(meta.lang.as_deref(), Some("es"));
        assert_eq!(meta.token, None);
        assert_eq!(values.len(), 1);
        assert_eq!(values["a"], ["one", "two"]);
    }
}
