//! The one place errors become HTTP answers: a status and the SPEC error body
//! `{"error": {"code", "message", "field"?, "problems"?, "errors"?}}`.

use crate::services::users::UserError;
use crate::services::ServiceError;
use crate::store::StoreError;
use crate::survey::FieldError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

/// A request error: what a service refused, or what was wrong with the request itself.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Service(#[from] ServiceError),
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("expected Content-Type {0}")]
    UnsupportedMediaType(&'static str),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("request body did not arrive in time")]
    BodyTimeout,
    #[error("this endpoint needs an Authorization: Bearer token")]
    MissingToken,
    #[error("the token is not valid")]
    InvalidToken,
    #[error("this token may not {0}")]
    Forbidden(String),
    /// As `Forbidden`, for a signed-in person rather than a token.
    #[error("you may not {0}")]
    NotAllowed(String),
    #[error("please sign in")]
    LoginRequired,
    #[error("the form has expired or did not come from this site; reload the page and try again")]
    CsrfRejected,
    #[error("could not render the page: {0}")]
    Render(String),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Service(e.into())
    }
}

impl From<UserError> for ApiError {
    fn from(e: UserError) -> Self {
        use UserError as U;
        match e {
            U::BadName => ApiError::invalid_body(e.to_string(), Some("name")),
            U::ShortPassword(_) => ApiError::invalid_body(e.to_string(), Some("password")),
            U::WrongPassword => ApiError::invalid_body(e.to_string(), Some("current_password")),
            U::Exists(name) => ServiceError::UserExists(name).into(),
            U::Unknown(name) => ServiceError::UserNotFound(name).into(),
            U::NotAllowed(doing) => ApiError::NotAllowed(doing),
            U::LinkUnusable => ServiceError::LinkUnusable.into(),
            U::Service(e) => e.into(),
            U::Hash(_) | U::NotANewInstall => {
                tracing::error!(error = %e, "user change failed");
                ServiceError::Unavailable.into()
            }
        }
    }
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Service(e) => e.code(),
            ApiError::MalformedJson(_) => "malformed_json",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::BodyTimeout => "body_timeout",
            ApiError::MissingToken => "missing_token",
            ApiError::InvalidToken => "invalid_token",
            ApiError::Forbidden(_) | ApiError::NotAllowed(_) => "forbidden",
            ApiError::LoginRequired => "login_required",
            ApiError::CsrfRejected => "csrf_rejected",
            ApiError::Render(_) => "render_failed",
        }
    }

    /// The service error inside, if any.
    pub fn service(&self) -> Option<&ServiceError> {
        match self {
            ApiError::Service(e) => Some(e),
            _ => None,
        }
    }

    pub fn invalid_body(message: impl Into<String>, field: Option<&str>) -> ApiError {
        ApiError::Service(ServiceError::InvalidBody {
            message: message.into(),
            field: field.map(str::to_string),
        })
    }
}

fn service_status(e: &ServiceError) -> StatusCode {
    use ServiceError as S;
    match e {
        S::SiteNotFound(_)
        | S::SurveyNotFound(_)
        | S::ResponseNotFound(_)
        | S::FollowUpNotFound(_)
        | S::DeliveryNotFound(_)
        | S::KioskNotFound(_)
        | S::UserNotFound(_)
        | S::InvitationUnknown => StatusCode::NOT_FOUND,
        S::InvitationUsed | S::InvitationExpired | S::LinkUnusable => StatusCode::GONE,
        S::InvalidAnswers(_)
        | S::InvalidLanguage(_)
        | S::SiteInvalid(_)
        | S::InvalidOutcome(_)
        | S::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        S::InvalidQuery { .. } | S::InvalidBody { .. } => StatusCode::BAD_REQUEST,
        S::TransitionRefused(_) | S::AlreadyDelivered | S::RetagRunning(_) | S::UserExists(_) => {
            StatusCode::CONFLICT
        }
        S::Store(StoreError::Corrupt(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        S::Store(_) | S::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
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
            ApiError::Service(e) => service_status(e),
            ApiError::MalformedJson(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::MissingToken | ApiError::InvalidToken => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::NotAllowed(_) | ApiError::CsrfRejected => {
                StatusCode::FORBIDDEN
            }
            // Admin pages: send the browser to the sign-in form.
            ApiError::LoginRequired => StatusCode::SEE_OTHER,
            ApiError::Render(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if self.status_code().is_server_error() {
            tracing::error!(code = self.code(), error = %self, "request failed");
        }
        let service = self.service();
        let problems = match service {
            Some(ServiceError::InvalidAnswers(list)) if list.len() > 1 => Some(list.as_slice()),
            _ => None,
        };
        let errors = match service {
            Some(ServiceError::SiteInvalid(list)) => Some(list.as_slice()),
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
                field: service.and_then(ServiceError::field),
                problems,
                errors,
            },
        })
    }
}
