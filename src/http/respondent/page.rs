//! What every respondent page shares: the language and invitation a request asks for, the
//! page context built from them (language, interface strings, language switch), rendering.

use super::lang;
use super::strings::{self, Ui};
use super::view::PageMeta;
use crate::app::AppState;
use crate::http::error::ApiError;
use crate::services::sites::SiteRuntime;
use crate::survey::definition::SurveyTranslation;
use crate::survey::Survey;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

/// What a request says about the page language and the invitation link.
#[derive(Default)]
pub(super) struct Visit {
    /// `?lang=` or, on a form post, the form's `_lang`.
    pub(super) lang: Option<String>,
    pub(super) accept_language: Option<String>,
    /// `?t=` or, on a form post, the form's `_t`.
    pub(super) token: Option<String>,
    /// `?via=qr`: the link of the poster's QR code (the `qr` channel).
    pub(super) qr: bool,
}

/// The query the QR code's link carries, kept by the form it opens.
pub(super) const QR_MARKER: &str = "via=qr";

impl Visit {
    pub(super) fn of(req: &HttpRequest) -> Visit {
        let query: Vec<(String, String)> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        let get = |name: &str| {
            query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        Visit {
            lang: get("lang"),
            accept_language: req
                .headers()
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            token: get("t"),
            qr: get("via").as_deref() == Some("qr"),
        }
    }
}

/// A link in a page (language switch, way out of an error page).
#[derive(Serialize, Clone)]
pub(super) struct Link {
    pub(super) href: String,
    pub(super) text: String,
    pub(super) lang: Option<String>,
}

/// What every page of one site and language shares.
pub(super) struct PageContext {
    pub(super) lang: String,
    pub(super) ui: &'static Ui,
    pub(super) site_name: Option<String>,
    /// Every language the page can be shown in, the site's default first.
    pub(super) languages: Vec<String>,
    /// The page's own path and query without `lang`, for the language switch; none when the
    /// page offers no switch.
    pub(super) switch_base: Option<String>,
    /// The invitation token the page carries, on a personal link.
    pub(super) token: Option<String>,
    /// The page came by the QR code's link; its form posts with the marker.
    pub(super) qr: bool,
}

/// The languages a survey can be shown in: the site's default, then its translations.
fn languages(runtime: Option<&SiteRuntime>, survey: Option<&Survey>) -> Vec<String> {
    match runtime {
        Some(rt) => crate::survey::language::served(&rt.site, survey),
        // No site: the languages of the interface itself.
        None => vec!["en".into(), "es".into()],
    }
}

impl PageContext {
    pub(super) fn new(
        runtime: Option<&SiteRuntime>,
        survey: Option<&Survey>,
        visit: &Visit,
    ) -> PageContext {
        let languages = languages(runtime, survey);
        let lang = lang::choose(
            &languages,
            visit.lang.as_deref(),
            visit.accept_language.as_deref(),
        );
        PageContext {
            ui: strings::for_language(&lang),
            lang,
            site_name: runtime.map(|rt| rt.site.config.name.clone()),
            languages,
            switch_base: None,
            token: None,
            qr: visit.qr,
        }
    }

    pub(super) fn translation<'a>(&self, survey: &'a Survey) -> Option<&'a SurveyTranslation> {
        survey.translations.get(&self.lang)
    }

    /// `?lang=xx` for a link to another page, empty in the site's default language.
    pub(super) fn lang_query(&self, sep: char) -> String {
        if self.languages.first() == Some(&self.lang) {
            String::new()
        } else {
            format!("{sep}lang={}", self.lang)
        }
    }

    pub(super) fn switch_links(&self) -> Vec<Link> {
        let Some(base) = &self.switch_base else {
            return Vec::new();
        };
        let sep = if base.contains('?') { '&' } else { '?' };
        self.languages
            .iter()
            .filter(|l| **l != self.lang)
            .map(|l| Link {
                href: format!("{base}{sep}lang={l}"),
                text: lang::native_name(l).to_string(),
                lang: Some(l.clone()),
            })
            .collect()
    }

    pub(super) fn meta(&self, state: &AppState, title: String) -> PageMeta {
        PageMeta {
            lang: self.lang.clone(),
            title,
            site_name: self.site_name.clone(),
            css: state.assets.url("chorus.css"),
            js: state.assets.url("chorus.js"),
        }
    }
}

pub(super) fn render(
    state: &AppState,
    template: &str,
    ctx: &PageContext,
    title: String,
    fill: impl FnOnce(&mut tera::Context),
) -> Result<String, ApiError> {
    let mut context = tera::Context::new();
    context.insert("page", &ctx.meta(state, title));
    context.insert("languages", &ctx.switch_links());
    context.insert("t", ctx.ui);
    fill(&mut context);
    state
        .templates
        .render(template, &context)
        .map_err(|e| ApiError::Render(format!("{template}: {e}")))
}

/// Pages are never cached: a form carries a one-time submission id, and on a shared waiting-room
/// tablet the next patient must not get the previous one's answers back.
pub(super) fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Accept-Language"))
        .body(body)
}
