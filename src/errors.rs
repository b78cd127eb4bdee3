//! Errors. `StartupError` stops the process before it serves anything; `ApiError` is the one
//! request error type, each variant with a stable code and one HTTP status.

use crate::store::StoreError;
use crate::survey::{FieldError, LoadError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("configuration: {0}")]
    Config(String),
    /// What a command was given (a password, a name) is not acceptable; said as it is.
    #[error("{0}")]
    Input(String),
    #[error("{}", join_lines(.0))]
    Sites(Vec<LoadError>),
    #[error("templates: {0}")]
    Templates(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(String),
    /// The store was refused (damaged): the whole explanation.
    #[error("{0}")]
    Refused(String),
}

fn join_lines(errors: &[LoadError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no site \"{0}\"")]
    SiteNotFound(String),
    #[error("site has no survey \"{0}\"")]
    SurveyNotFound(String),
    #[error("no response \"{0}\"")]
    ResponseNotFound(String),
    #[error("no follow-up \"{0}\"")]
    FollowUpNotFound(String),
    #[error("no webhook delivery \"{0}\"")]
    DeliveryNotFound(String),
    #[error("{}", .0.first().map(|e| e.message.as_str()).unwrap_or("invalid answers"))]
    InvalidAnswers(Vec<FieldError>),
    /// The `language` of a submission is not one the site serves (the list it serves).
    #[error("language is not one this site serves (it serves: {})", .0.join(", "))]
    InvalidLanguage(Vec<String>),
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("request body does not match the expected shape: {message}")]
    InvalidBody {
        message: String,
        field: Option<String>,
    },
    #[error("expected Content-Type {0}")]
    UnsupportedMediaType(&'static str),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("request body did not arrive in time")]
    BodyTimeout,
    #[error("invalid query parameter {field}: {message}")]
    InvalidQuery { field: String, message: String },
    #[error("this endpoint needs an Authorization: Bearer token")]
    MissingToken,
    #[error("the token is not valid")]
    InvalidToken,
    #[error("this token may not {0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    /// As `Forbidden`, for a signed-in person rather than a token.
    #[error("you may not {0}")]
    NotAllowed(String),
    #[error("please sign in")]
    LoginRequired,
    #[error("the form has expired or did not come from this site; reload the page and try again")]
    CsrfRejected,
    #[error("the store is unavailable: {0}")]
    Store(#[from] StoreError),
    #[error("could not render the page: {0}")]
    Render(String),
    #[error("the server is busy or shutting down")]
    Unavailable,
    #[error("this invitation link is not known")]
    InvitationUnknown,
    #[error("this invitation link has already been used")]
    InvitationUsed,
    #[error("this invitation link has expired")]
    InvitationExpired,
    /// A reload found problems; the running version of the site is kept.
    #[error("the site has {} problem(s), the running version is kept: {}", .0.len(), .0.first().map(String::as_str).unwrap_or(""))]
    SiteInvalid(Vec<String>),
}

impl From<crate::invitations::InvitationProblem> for ApiError {
    fn from(problem: crate::invitations::InvitationProblem) -> Self {
        use crate::invitations::InvitationProblem as P;
        match problem {
            P::Unknown => ApiError::InvitationUnknown,
            P::Used => ApiError::InvitationUsed,
            P::Expired => ApiError::InvitationExpired,
        }
    }
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::SiteNotFound(_) => "site_not_found",
            ApiError::SurveyNotFound(_) => "survey_not_found",
            ApiError::ResponseNotFound(_) => "response_not_found",
            ApiError::FollowUpNotFound(_) => "follow_up_not_found",
            ApiError::DeliveryNotFound(_) => "delivery_not_found",
            ApiError::InvalidAnswers(_) => "invalid_answer",
            ApiError::InvalidLanguage(_) => "invalid_language",
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::InvalidBody { .. } => "invalid_body",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::BodyTimeout => "body_timeout",
            ApiError::InvalidQuery { .. } => "invalid_query",
            ApiError::MissingToken => "missing_token",
            ApiError::InvalidToken => "invalid_token",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::Conflict(_) => "conflict",
            ApiError::NotAllowed(_) => "forbidden",
            ApiError::LoginRequired => "login_required",
            ApiError::CsrfRejected => "csrf_rejected",
            ApiError::Store(_) => "store_unavailable",
            ApiError::Render(_) => "render_failed",
            ApiError::Unavailable => "unavailable",
            ApiError::InvitationUnknown => "invitation_unknown",
            ApiError::InvitationUsed => "invitation_used",
            ApiError::InvitationExpired => "invitation_expired",
            ApiError::SiteInvalid(_) => "site_invalid",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::InvalidAnswers(errors) => errors.first().map(|e| e.field.as_str()),
            ApiError::InvalidBody { field, .. } => field.as_deref(),
            ApiError::InvalidLanguage(_) => Some("language"),
            ApiError::InvalidQuery { field, .. } => Some(field),
            _ => None,
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// Every problem when there are several (SPEC extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<&'a [FieldError]>,
    /// Every `file:line:col: message` of a refused reload (SPEC extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [String]>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::SiteNotFound(_)
            | ApiError::SurveyNotFound(_)
            | ApiError::ResponseNotFound(_)
            | ApiError::FollowUpNotFound(_)
            | ApiError::DeliveryNotFound(_)
            | ApiError::InvitationUnknown => StatusCode::NOT_FOUND,
            ApiError::InvitationUsed | ApiError::InvitationExpired => StatusCode::GONE,
            ApiError::InvalidAnswers(_)
            | ApiError::InvalidLanguage(_)
            | ApiError::SiteInvalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::MalformedJson(_)
            | ApiError::InvalidBody { .. }
            | ApiError::InvalidQuery { .. } => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::MissingToken | ApiError::InvalidToken => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::NotAllowed(_) | ApiError::CsrfRejected => {
                StatusCode::FORBIDDEN
            }
            // Admin pages: send the browser to the sign-in form.
            ApiError::LoginRequired => StatusCode::SEE_OTHER,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Store(StoreError::Corrupt(_)) | ApiError::Render(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            ApiError::Store(StoreError::Invitation(_)) => StatusCode::GONE,
            ApiError::Store(_) | ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if self.status_code().is_server_error() {
            tracing::error!(code = self.code(), error = %self, "request failed");
        }
        let problems = match self {
            ApiError::InvalidAnswers(list) if list.len() > 1 => Some(list.as_slice()),
            _ => None,
        };
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::MissingToken | ApiError::InvalidToken) {
            res.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if matches!(self, ApiError::LoginRequired) {
            res.insert_header(("Location", "/admin/login"));
        }
        res.json(ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.to_string(),
                field: self.field(),
                problems,
                errors: match self {
                    ApiError::SiteInvalid(list) => Some(list.as_slice()),
                    _ => None,
                },
            },
        })
    }
}
