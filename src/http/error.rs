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
    /// A known path with a method it does not answer; the methods it does (`Allow`).
    #[error("this path answers {0} only")]
    MethodNotAllowed(String),
    #[error("no such path")]
    RouteNotFound,
}

/// Every `code` an error body can carry (the OpenAPI document's enum; docs/api.md explains
/// each). `every_code_is_listed` below keeps it complete.
pub const ERROR_CODES: &[&str] = &[
    "site_not_found",
    "site_unavailable",
    "survey_not_found",
    "response_not_found",
    "follow_up_not_found",
    "delivery_not_found",
    "kiosk_not_found",
    "user_not_found",
    "user_exists",
    "link_unusable",
    "invalid_answer",
    "invalid_language",
    "invalid_query",
    "invalid_body",
    "conflict",
    "idempotency_key_reused",
    "invitation_unknown",
    "invitation_used",
    "invitation_expired",
    "site_invalid",
    "rule_file_not_found",
    "rules_in_files",
    "rule_tests_failed",
    "unavailable",
    "store_unavailable",
    "malformed_json",
    "unsupported_media_type",
    "payload_too_large",
    "body_timeout",
    "missing_token",
    "invalid_token",
    "forbidden",
    "login_required",
    "csrf_rejected",
    "render_failed",
    "method_not_allowed",
    "not_found",
];

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
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::RouteNotFound => "not_found",
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
        | S::ResourceNotFound(_)
        | S::FollowUpNotFound(_)
        | S::DeliveryNotFound(_)
        | S::KioskNotFound(_)
        | S::UserNotFound(_)
        | S::RuleFileNotFound(_)
        | S::InvitationUnknown => StatusCode::NOT_FOUND,
        S::InvitationUsed | S::InvitationExpired | S::LinkUnusable => StatusCode::GONE,
        S::InvalidAnswers(_)
        | S::InvalidResource(_)
        | S::InvalidLanguage(_)
        | S::SiteInvalid(_)
        | S::RuleTestsFailed(_)
        | S::InvalidOutcome(_)
        | S::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        S::InvalidQuery { .. } | S::InvalidBody { .. } => StatusCode::BAD_REQUEST,
        S::TransitionRefused(_)
        | S::AlreadyDelivered
        | S::RetagRunning(_)
        | S::UserExists(_)
        | S::RulesInFiles(_) => StatusCode::CONFLICT,
        S::Store(StoreError::Corrupt(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        S::Store(_) | S::Unavailable | S::SiteUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Every error answer of the JSON API.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorDetail<'a> {
    /// One of the stable codes (the document lists them).
    code: &'a str,
    /// For people; may change.
    message: String,
    /// The field or query parameter at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// Every problem when there are several (SPEC extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<&'a [FieldError]>,
    /// Every `file:line:col: message` of a refused reload: the files' problems, or the failing
    /// rule tests (SPEC extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [String]>,
}

/// The body of the 303 that sends an admin page without a session to the sign-in form.
const SIGN_IN_PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in · Chorus admin</title></head>\n<body><p>Please <a href=\"/admin/login\">sign in</a>.</p></body></html>\n";

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
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::RouteNotFound => StatusCode::NOT_FOUND,
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
            Some(ServiceError::SiteInvalid(list) | ServiceError::RuleTestsFailed(list)) => {
                Some(list.as_slice())
            }
            _ => None,
        };
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::MissingToken | ApiError::InvalidToken) {
            res.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let ApiError::MethodNotAllowed(allow) = self {
            res.insert_header(("Allow", allow.as_str()));
        }
        if matches!(self, ApiError::LoginRequired) {
            // A browser follows the Location; anything that shows the body shows a link.
            return res
                .insert_header(("Location", "/admin/login"))
                .content_type("text/html; charset=utf-8")
                .body(SIGN_IN_PAGE);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each variant: adding a variant without listing its code fails here (the match in
    /// `code` makes the variant list itself exhaustive).
    #[test]
    fn every_code_is_listed() {
        let s = String::new;
        let service = [
            ServiceError::SiteNotFound(s()),
            ServiceError::SiteUnavailable(s()),
            ServiceError::SurveyNotFound(s()),
            ServiceError::ResponseNotFound(s()),
            ServiceError::FollowUpNotFound(s()),
            ServiceError::DeliveryNotFound(s()),
            ServiceError::KioskNotFound(s()),
            ServiceError::UserNotFound(s()),
            ServiceError::UserExists(s()),
            ServiceError::LinkUnusable,
            ServiceError::InvalidAnswers(vec![]),
            ServiceError::InvalidLanguage(vec![]),
            ServiceError::invalid_query("f", "m"),
            ServiceError::invalid_body("f", "m"),
            ServiceError::TransitionRefused(s()),
            ServiceError::AlreadyDelivered,
            ServiceError::RetagRunning(s()),
            ServiceError::RuleTestsFailed(vec![]),
            ServiceError::RuleFileNotFound(s()),
            ServiceError::RulesInFiles(s()),
            ServiceError::IdempotencyKeyReused,
            ServiceError::InvitationUnknown,
            ServiceError::InvitationUsed,
            ServiceError::InvitationExpired,
            ServiceError::SiteInvalid(vec![]),
            ServiceError::Unavailable,
            ServiceError::Store(StoreError::Backend(s())),
        ];
        let api = [
            ApiError::MalformedJson(s()),
            ApiError::UnsupportedMediaType("application/json"),
            ApiError::PayloadTooLarge(1),
            ApiError::BodyTimeout,
            ApiError::MissingToken,
            ApiError::InvalidToken,
            ApiError::Forbidden(s()),
            ApiError::NotAllowed(s()),
            ApiError::LoginRequired,
            ApiError::CsrfRejected,
            ApiError::Render(s()),
            ApiError::MethodNotAllowed(s()),
            ApiError::RouteNotFound,
        ];
        let mut codes: Vec<&str> = service
            .into_iter()
            .map(|e| ApiError::from(e).code())
            .collect();
        codes.extend(api.iter().map(ApiError::code));
        for code in &codes {
            assert!(ERROR_CODES.contains(code), "{code} is not in ERROR_CODES");
        }
        for listed in ERROR_CODES {
            assert!(codes.contains(listed), "{listed} is listed but never used");
        }
    }
}
