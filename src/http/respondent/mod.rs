//! Respondent pages (SPEC "HTTP → Respondent pages"): the survey form, the thank-you page and
//! friendly HTML error pages. Server-rendered; works without JavaScript.

mod assets;
mod cache;
mod strings;
mod view;

pub use assets::StaticAssets;

use crate::app::AppState;
use crate::errors::ApiError;
use crate::sites::SiteRuntime;
use crate::submit::{submit, Submission};
use crate::survey::definition::SurveyTranslation;
use crate::survey::{FieldError, RawAnswer, Survey};
use actix_web::http::{header, StatusCode};
use actix_web::{post, route, web, HttpRequest, HttpResponse};
use serde::Serialize;
use std::sync::Arc;
use strings::Ui;
use uuid::Uuid;
use view::{FormInput, FormValues, PageMeta};

use super::body::FormFields;

/// The hidden field that makes a double submit harmless. Form-internal fields start with `_`,
/// which question ids (`[a-z0-9_]`, checked at load) never do.
const SUBMISSION_FIELD: &str = "_submission_id";

pub fn configure(cfg: &mut web::ServiceConfig) {
    // Per worker (create_app runs once per worker), so it needs no sharing across threads.
    cfg.app_data(web::Data::new(cache::EmptyForms::default()))
        .service(static_file)
        .service(site_index)
        .service(form_page)
        .service(form_submit)
        .service(thanks_page);
}

/// What every page of one site and language shares.
struct PageContext {
    lang: String,
    ui: &'static Ui,
    site_name: Option<String>,
}

impl PageContext {
    fn for_site(runtime: Option<&SiteRuntime>) -> PageContext {
        // The site's language until surveys carry translations a request can choose.
        let lang = runtime.map_or_else(
            || "en".to_string(),
            |rt| rt.site.config.default_language.clone(),
        );
        PageContext {
            ui: strings::for_language(&lang),
            lang,
            site_name: runtime.map(|rt| rt.site.config.name.clone()),
        }
    }

    fn translation<'a>(&self, survey: &'a Survey) -> Option<&'a SurveyTranslation> {
        survey.translations.get(&self.lang)
    }

    fn meta(&self, state: &AppState, title: String) -> PageMeta {
        PageMeta {
            lang: self.lang.clone(),
            title,
            site_name: self.site_name.clone(),
            css: state.assets.url("chorus.css"),
            js: state.assets.url("chorus.js"),
        }
    }
}

fn render(
    state: &AppState,
    template: &str,
    ctx: &PageContext,
    title: String,
    fill: impl FnOnce(&mut tera::Context),
) -> Result<String, ApiError> {
    let mut context = tera::Context::new();
    context.insert("page", &ctx.meta(state, title));
    context.insert("t", ctx.ui);
    fill(&mut context);
    state
        .templates
        .render(template, &context)
        .map_err(|e| ApiError::Render(format!("{template}: {e}")))
}

/// Pages are never cached: a form carries a one-time submission id, and on a shared waiting-room
/// tablet the next patient must not get the previous one's answers back.
fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body)
}

#[derive(Serialize)]
struct ErrorView {
    title: &'static str,
    body: &'static str,
}

/// A friendly HTML page for a failed request; never a stack trace or an internal message.
fn error_page(state: &AppState, ctx: &PageContext, err: ApiError) -> HttpResponse {
    let ui = ctx.ui;
    let status = actix_web::ResponseError::status_code(&err);
    let (title, body) = match &err {
        ApiError::SiteNotFound(_) | ApiError::SurveyNotFound(_) => {
            (ui.not_found_title, ui.not_found_body)
        }
        ApiError::PayloadTooLarge(_) => (ui.too_large_title, ui.too_large_body),
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
        c.insert("error", &ErrorView { title, body })
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
) -> Result<(Arc<SiteRuntime>, Arc<Survey>, PageContext), Box<HttpResponse>> {
    let Some(runtime) = state.sites.get(site) else {
        let ctx = PageContext::for_site(None);
        return Err(Box::new(error_page(
            state,
            &ctx,
            ApiError::SiteNotFound(site.to_string()),
        )));
    };
    let ctx = PageContext::for_site(Some(&runtime));
    match runtime.site.survey(survey).cloned() {
        Some(found) => Ok((runtime, found, ctx)),
        None => Err(Box::new(error_page(
            state,
            &ctx,
            ApiError::SurveyNotFound(survey.to_string()),
        ))),
    }
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
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (site, survey) = path.into_inner();
    let (runtime, survey, ctx) = match find_survey(&state, &site, &survey) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let page = forms.page(&survey, &ctx.lang, Uuid::new_v4(), || {
        let no_answers = FormValues::new();
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

/// Splits the posted fields into answers (by question id) and the submission id. Fields that
/// name no question are dropped: a form loaded before the survey changed must still go through.
fn read_fields(survey: &Survey, fields: Vec<(String, String)>) -> (FormValues, Option<Uuid>) {
    let mut values = FormValues::new();
    let mut submission_id = None;
    for (name, value) in fields {
        if name == SUBMISSION_FIELD {
            submission_id = Uuid::parse_str(value.trim()).ok();
        } else if survey.question(&name).is_some() {
            values.entry(name).or_default().push(value);
        }
    }
    (values, submission_id)
}

#[post("/s/{site}/{survey}")]
async fn form_submit(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: Result<FormFields, ApiError>,
) -> HttpResponse {
    let (site, survey) = path.into_inner();
    let (runtime, survey, ctx) = match find_survey(&state, &site, &survey) {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let fields = match body {
        Ok(FormFields(fields)) => fields,
        Err(e) => return error_page(&state, &ctx, e),
    };
    let (values, submission_id) = read_fields(&survey, fields);
    let answers = values
        .iter()
        .map(|(id, v)| (id.clone(), RawAnswer::Form(v.clone())))
        .collect();
    let outcome = submit(
        &state,
        Submission {
            site: runtime.site.id().to_string(),
            survey: survey.id.clone(),
            answers,
            submission_id,
            language: Some(ctx.lang.clone()),
        },
    )
    .await;
    match outcome {
        Ok(_) => HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!("{}/thanks", form_url(&runtime, &survey)),
            ))
            .finish(),
        Err(ApiError::InvalidAnswers(errors)) => {
            let id = submission_id.unwrap_or_else(Uuid::new_v4).to_string();
            match render_form(&state, &ctx, &runtime, &survey, &id, &values, &errors) {
                Ok(page) => html(StatusCode::UNPROCESSABLE_ENTITY, page),
                Err(e) => error_page(&state, &ctx, e),
            }
        }
        Err(e) => error_page(&state, &ctx, e),
    }
}

#[route("/s/{site}/{survey}/thanks", method = "GET", method = "HEAD")]
async fn thanks_page(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (site, survey) = path.into_inner();
    let (_, survey, ctx) = match find_survey(&state, &site, &survey) {
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
}

#[route("/s/{site}", method = "GET", method = "HEAD")]
async fn site_index(state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let Some(runtime) = state.sites.get(&path) else {
        return error_page(
            &state,
            &PageContext::for_site(None),
            ApiError::SiteNotFound(path.into_inner()),
        );
    };
    let ctx = PageContext::for_site(Some(&runtime));
    let links: Vec<SurveyLink> = runtime
        .site
        .surveys
        .iter()
        .map(|s| SurveyLink {
            href: form_url(&runtime, s),
            title: view::survey_title(s, ctx.translation(s)).to_string(),
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
        let ctx = PageContext::for_site(state.sites.get("test-clinic").as_deref());

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
        let (values, submission_id) = read_fields(
            &survey,
            vec![
                ("_submission_id".into(), id.to_string()),
                ("a".into(), "one".into()),
                ("a".into(), "two".into()),
                ("_other".into(), "x".into()),
                ("gone".into(), "y".into()),
            ],
        );
        assert_eq!(submission_id, Some(id));
        assert_eq!(values.len(), 1);
        assert_eq!(values["a"], ["one", "two"]);
    }
}
