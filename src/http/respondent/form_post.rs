//! `POST /s/{site}/{survey}`: a form sent by a respondent. Stored → 303 to the thank-you page;
//! invalid → the form again with the answers kept and each problem beside its question.

use super::page::{html, PageContext, Visit};
use super::view::FormValues;
use super::{error_page, find_survey, form_url, form_url_of, invitation_page, render_form};
use crate::app::AppState;
use crate::domain::invitation::token_sha256;
use crate::domain::Channel;
use crate::http::body::FormFields;
use crate::http::error::ApiError;
use crate::services::sites::SiteRuntime;
use crate::services::submit::{submit, Submission, Submitted};
use crate::services::ServiceError;
use crate::survey::{FieldError, RawAnswer, Survey};
use actix_web::http::{header, StatusCode};
use actix_web::{post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

/// The hidden field that makes a double submit harmless. Form-internal fields start with `_`,
/// which question ids (`[a-z0-9_]`, checked at load) never do.
pub(super) const SUBMISSION_FIELD: &str = "_submission_id";
/// The language the form was shown in, so that errors and the thank-you page stay in it.
const LANG_FIELD: &str = "_lang";
/// The invitation token of a personal link (`?t=` on the form's URL).
const TOKEN_FIELD: &str = "_t";

/// The form's own fields (those starting with `_`).
#[derive(Default)]
pub(super) struct FormMeta {
    pub(super) submission_id: Option<Uuid>,
    pub(super) lang: Option<String>,
    token: Option<String>,
}

/// Splits the posted fields into answers (by question id) and the form's own fields. Fields
/// that name no question are dropped: a form loaded before the survey changed must still go
/// through.
pub(super) fn read_fields(
    survey: &Survey,
    fields: Vec<(String, String)>,
) -> (FormValues, FormMeta) {
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
    let (values, _) = read_fields(survey, crate::http::body::decode_form(body)?);
    Ok(values
        .into_iter()
        .map(|(id, v)| (id, RawAnswer::Form(v)))
        .collect())
}

#[utoipa::path(
    tag = "respondent pages",
    params(crate::http::openapi::SurveyPath),
    request_body(content = crate::http::openapi::SurveyForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Stored: to the thank-you page", body = String, content_type = "text/html"),
        (status = 400, description = "The form again with what to fix", body = String, content_type = "text/html"),
        (status = 404, description = "not found", body = String, content_type = "text/html"),
        (status = 413, description = "too large", body = String, content_type = "text/html"),
        (status = 422, description = "The form again with what to fix", body = String, content_type = "text/html"),
        (status = 503, description = "could not store now", body = String, content_type = "text/html"),
        (status = 415, description = "Not a form (unsupported_media_type)", body = String, content_type = "text/html")
    )
)]
#[post("/s/{site}/{survey}")]
pub(super) async fn form_submit(
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
        None => form_url_of(&runtime, &survey, &ctx),
    });
    ctx.token = visit.token.clone();
    let answers = values
        .iter()
        .map(|(id, v)| (id.clone(), RawAnswer::Form(v.clone())))
        .collect();
    let invitation = match &visit.token {
        None => None,
        Some(token) => match token_sha256(token) {
            Some(hash) => Some(hash),
            None => {
                let e = ServiceError::InvitationUnknown.into();
                return invitation_page(&state, &ctx, &runtime, &survey, e);
            }
        },
    };
    let submission = Submission {
        site: runtime.site.id().to_string(),
        survey: survey.id.clone(),
        answers,
        idempotency_key: meta.submission_id,
        language: Some(ctx.lang.clone()),
        channel: match (&invitation, visit.qr) {
            (Some(_), _) => Channel::Invitation,
            (None, true) => Channel::Qr,
            (None, false) => Channel::Link,
        },
        kiosk: None,
        invitation,
    };
    let outcome = submit(&state, submission).await;
    let sent = Sent {
        runtime: &runtime,
        survey: &survey,
        values: &values,
        submission_id: meta.submission_id,
    };
    answer(&state, &ctx, sent, outcome)
}

/// What was posted, for the answer to it.
struct Sent<'a> {
    runtime: &'a SiteRuntime,
    survey: &'a Survey,
    values: &'a FormValues,
    submission_id: Option<Uuid>,
}

/// The thank-you page once stored; otherwise the form again or the page that explains.
fn answer(
    state: &AppState,
    ctx: &PageContext,
    sent: Sent<'_>,
    outcome: Result<Submitted, ServiceError>,
) -> HttpResponse {
    let Sent {
        runtime,
        survey,
        values,
        ..
    } = sent;
    let form_again = |id: String, problems: &[FieldError]| match render_form(
        state, ctx, runtime, survey, &id, values, problems,
    ) {
        Ok(page) => html(StatusCode::UNPROCESSABLE_ENTITY, page),
        Err(e) => error_page(state, ctx, e),
    };
    match outcome {
        Ok(_) => HttpResponse::SeeOther()
            .insert_header((
                header::LOCATION,
                format!(
                    "{}/thanks{}",
                    form_url(runtime, survey),
                    ctx.lang_query('?')
                ),
            ))
            .finish(),
        Err(ServiceError::InvalidAnswers(errors)) => form_again(
            sent.submission_id.unwrap_or_else(Uuid::new_v4).to_string(),
            &errors,
        ),
        Err(ServiceError::IdempotencyKeyReused) => {
            // The same form sent before with other answers (Back, change, send again): say so
            // and give the form a new id, so that sending it again stores these answers.
            let problem = [FieldError {
                field: SUBMISSION_FIELD.into(),
                message: ctx.ui.already_sent.into(),
            }];
            form_again(Uuid::new_v4().to_string(), &problem)
        }
        Err(
            e @ (ServiceError::InvitationUnknown
            | ServiceError::InvitationUsed
            | ServiceError::InvitationExpired),
        ) => invitation_page(state, ctx, runtime, survey, e.into()),
        Err(e) => error_page(state, ctx, e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
