//! The site admin web app under /admin: server-rendered tera pages, usable without JavaScript.
//!
//! Signing in gives a session cookie (see `extract` and `services::sessions`); every page checks
//! the user's role and site like the JSON API does; every form that changes anything carries
//! the session's CSRF token.

mod audit;
mod dashboard;
mod dashboard_view;
mod extract;
mod followups;
mod kiosks;
mod login;
mod responses;
mod rule_editor;
mod rule_editor_page;
mod rules;
mod users;

use super::error::ApiError;
use crate::app::AppState;
use crate::domain::{Action, Priority, TaskAction};
use actix_web::dev::ServiceResponse;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, HttpResponse};
use utoipa_actix_web::service_config::ServiceConfig;

pub use extract::{AdminSession, SiteSession};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        utoipa_actix_web::scope("/admin")
            .wrap(ErrorHandlers::new().default_handler(html_error))
            .configure(login::configure)
            .configure(audit::configure)
            .configure(dashboard::configure)
            .configure(responses::configure)
            .configure(followups::configure)
            .configure(rules::configure)
            .configure(rule_editor::configure)
            .configure(kiosks::configure)
            .configure(users::configure),
    );
}

/// Renders an admin template; a template error is a 500, never a half page.
pub(crate) fn render(
    state: &AppState,
    template: &str,
    context: &tera::Context,
) -> Result<String, ApiError> {
    // The stylesheet (`templates/static/admin.css`) is served by the static-file handler,
    // under a URL versioned by its content.
    let mut context = context.clone();
    context.insert("admin_css", &state.assets.url("admin.css"));
    state.templates.render(template, &context).map_err(|e| {
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            msg.push_str(&format!(": {s}"));
            source = s.source();
        }
        ApiError::Render(msg)
    })
}

pub(crate) fn html(body: String) -> HttpResponse {
    html_with(actix_web::http::StatusCode::OK, body)
}

/// An admin page answered with `status` (a refused form is a 422 page).
pub(crate) fn html_with(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

/// The context every admin page starts from: the signed-in user and the CSRF token for the
/// sign-out form in the header.
pub(crate) fn base_context(session: &AdminSession) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("user", &session.user.name);
    ctx.insert("csrf", &session.session.csrf);
    ctx.insert(
        "manages_users",
        &(session.user.role >= crate::domain::Role::Admin),
    );
    ctx
}

/// An action in words, for the pages: its kind, what it is, and its details.
pub(crate) fn describe_action(action: &Action) -> (&'static str, String, String) {
    match action {
        Action::Webhook { target, payload } => (
            "webhook",
            format!("webhook to {target}"),
            payload.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        ),
        Action::Task { .. } => TaskAction::of(action)
            .map(describe_task)
            .unwrap_or_default(),
    }
}

fn describe_task(task: TaskAction<'_>) -> (&'static str, String, String) {
    let mut details = vec![format!("queue {}", task.queue)];
    if let Some(h) = task.due_hours {
        details.push(format!("due in {h} h"));
    }
    if task.priority == Priority::High {
        details.push("high priority".into());
    }
    details.extend(task.note.map(str::to_string));
    ("task", task.title.to_string(), details.join("; "))
}

/// Error answers inside /admin are pages, not JSON: same status, the message escaped.
fn html_error<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    if res.response().error().is_none() {
        // A page the handler rendered itself (e.g. the sign-in form with a 401): keep it.
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let message = match res.response().error() {
        // Details of server errors go to the log (ApiError does that), not to the page.
        Some(e) if !status.is_server_error() => e.to_string(),
        _ => status
            .canonical_reason()
            .unwrap_or("Something went wrong")
            .to_string(),
    };
    let (req, _) = res.into_parts();
    let mut ctx = tera::Context::new();
    ctx.insert("status", &status.as_u16());
    ctx.insert("message", &message);
    let body = req
        .app_data::<web::Data<AppState>>()
        .and_then(|state| render(state, "admin/error.html", &ctx).ok())
        .unwrap_or_else(|| {
            format!(
                "{} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )
        });
    let res = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body);
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(req, res).map_into_right_body(),
    ))
}
