//! Errors of the FHIR endpoint as OperationOutcome, with the status a FHIR server gives: the
//! same statuses as the JSON API (`http::error`), plus 405 and 406 for what only FHIR
//! clients ask.

use super::super::error::ApiError;
use crate::fhir::rest::{item_expression, Issue, IssueType, OperationOutcome, FHIR_JSON};
use crate::fhir::search::SearchError;
use crate::services::ServiceError;
use crate::store::StoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

#[derive(Debug, thiserror::Error)]
pub enum FhirError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(
        "this server answers in application/fhir+json only (send Accept: application/fhir+json)"
    )]
    NotAcceptable,
    /// The methods the path takes, for the `Allow` header.
    #[error("this endpoint takes {0} only")]
    MethodNotAllowed(&'static str),
    #[error("no such FHIR endpoint; GET metadata for what this server supports")]
    NoEndpoint,
}

impl From<ServiceError> for FhirError {
    fn from(e: ServiceError) -> Self {
        FhirError::Api(e.into())
    }
}

impl From<StoreError> for FhirError {
    fn from(e: StoreError) -> Self {
        FhirError::Api(e.into())
    }
}

impl From<SearchError> for FhirError {
    fn from(e: SearchError) -> Self {
        ServiceError::invalid_query(&e.param, e.message).into()
    }
}

/// The issue type of what the JSON API would answer with `e`, from its status (decided once,
/// in `http::error`).
fn issue_type(e: &ApiError) -> IssueType {
    match (e.status_code(), e.service()) {
        (_, Some(ServiceError::IdempotencyKeyReused)) => IssueType::Conflict,
        (_, _) if matches!(e, ApiError::MalformedJson(_)) => IssueType::Structure,
        (StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY, _) => IssueType::Invalid,
        (StatusCode::UNAUTHORIZED | StatusCode::SEE_OTHER, _) => IssueType::Login,
        (StatusCode::FORBIDDEN, _) => IssueType::Forbidden,
        (StatusCode::NOT_FOUND | StatusCode::GONE, _) => IssueType::NotFound,
        (StatusCode::CONFLICT, _) => IssueType::Conflict,
        (StatusCode::REQUEST_TIMEOUT, _) => IssueType::Timeout,
        (StatusCode::PAYLOAD_TOO_LARGE, _) => IssueType::TooCostly,
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, _) => IssueType::NotSupported,
        (StatusCode::SERVICE_UNAVAILABLE, _) => IssueType::Transient,
        (status, _) if status.is_server_error() => IssueType::Exception,
        _ => IssueType::Processing,
    }
}

fn issue(code: IssueType, diagnostics: String, expression: Option<String>) -> Issue {
    Issue {
        severity: "error",
        code,
        diagnostics,
        expression: expression.into_iter().collect(),
    }
}

impl FhirError {
    fn outcome(&self) -> OperationOutcome {
        let api = match self {
            FhirError::Api(api) => api,
            FhirError::NotAcceptable | FhirError::MethodNotAllowed(_) => {
                return OperationOutcome::error(IssueType::NotSupported, self.to_string(), None)
            }
            FhirError::NoEndpoint => {
                return OperationOutcome::error(IssueType::NotFound, self.to_string(), None)
            }
        };
        match api.service() {
            Some(ServiceError::InvalidResource(problems)) => {
                OperationOutcome::of_problems(problems)
            }
            // What the survey validator refused, one issue per item.
            Some(ServiceError::InvalidAnswers(errors)) => OperationOutcome::new(
                errors
                    .iter()
                    .map(|e| {
                        let code = match e.message.contains("needs an answer") {
                            true => IssueType::Required,
                            false => IssueType::Invalid,
                        };
                        let text = format!("item \"{}\": {}", e.field, e.message);
                        issue(code, text, Some(item_expression(&e.field)))
                    })
                    .collect(),
            ),
            Some(ServiceError::InvalidLanguage(_)) => OperationOutcome::error(
                IssueType::Value,
                api.to_string(),
                Some("QuestionnaireResponse.language".into()),
            ),
            _ => OperationOutcome::error(issue_type(api), api.to_string(), None),
        }
    }
}

impl ResponseError for FhirError {
    fn status_code(&self) -> StatusCode {
        match self {
            FhirError::Api(api) => api.status_code(),
            FhirError::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            FhirError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            FhirError::NoEndpoint => StatusCode::NOT_FOUND,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "FHIR request failed");
        }
        let mut res = HttpResponse::build(status);
        match self {
            FhirError::Api(ApiError::MissingToken | ApiError::InvalidToken) => {
                res.insert_header(("WWW-Authenticate", "Bearer"));
            }
            FhirError::MethodNotAllowed(allow) => {
                res.insert_header(("Allow", *allow));
            }
            _ => {}
        }
        res.content_type(FHIR_JSON).json(self.outcome())
    }
}
