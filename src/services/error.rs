//! The one error type of the service layer. Each variant has a stable `code()`; `http::error`
//! is the one place that turns it into a status and the SPEC error body.

use crate::domain::InvitationProblem;
use crate::store::StoreError;
use crate::survey::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("no site \"{0}\"")]
    SiteNotFound(String),
    /// The site's files have problems, so it does not run (the admin pages and `chorus check`
    /// list them); nothing of the problems is told here.
    #[error("site \"{0}\" is not running: its files have problems an administrator must fix")]
    SiteUnavailable(String),
    #[error("site has no survey \"{0}\"")]
    SurveyNotFound(String),
    #[error("no response \"{0}\"")]
    ResponseNotFound(String),
    /// A FHIR resource (`Questionnaire/<id>`, `QuestionnaireResponse/<id>`) this server lacks.
    #[error("no {0} on this server")]
    ResourceNotFound(String),
    #[error("no follow-up \"{0}\"")]
    FollowUpNotFound(String),
    #[error("no webhook delivery \"{0}\"")]
    DeliveryNotFound(String),
    #[error("no kiosk \"{0}\"")]
    KioskNotFound(String),
    /// Not one of the site's `rules/*.rhai` files.
    #[error("the site has no rule file \"{0}\"")]
    RuleFileNotFound(String),
    /// A change of rules through the admin app or `chorus rules push` for a site whose rules
    /// are its files (`rules_source = "files"`, the default).
    #[error("site \"{0}\" keeps its rules in files (rules_source = \"files\" in site.toml): edit its rules/ folder and reload, or set rules_source = \"store\" to edit them here")]
    RulesInFiles(String),
    #[error("{}", .0.first().map(|e| e.message.as_str()).unwrap_or("invalid answers"))]
    InvalidAnswers(Vec<FieldError>),
    /// A FHIR resource that cannot be taken as it is (docs/fhir.md): every problem, each item
    /// named by its linkId.
    #[error("{}", .0.first().map(|p| p.to_string()).unwrap_or_else(|| "invalid resource".into()))]
    InvalidResource(Vec<crate::fhir::Problem>),
    /// The `language` of a submission is not one the site serves (the list it serves).
    #[error("language is not one this site serves (it serves: {})", .0.join(", "))]
    InvalidLanguage(Vec<String>),
    #[error("invalid query parameter {field}: {message}")]
    InvalidQuery { field: String, message: String },
    #[error("request body does not match the expected shape: {message}")]
    InvalidBody {
        message: String,
        field: Option<String>,
    },
    /// A task status change the lifecycle does not allow; the message says what is possible.
    #[error("{0}")]
    TransitionRefused(String),
    /// A task's `outcome` is missing, unknown to its queue, or not wanted; the message says
    /// which outcomes there are.
    #[error("{0}")]
    InvalidOutcome(String),
    #[error("this delivery was already delivered")]
    AlreadyDelivered,
    #[error("a re-tag of \"{0}\" is already running; GET this path for its progress")]
    RetagRunning(String),
    /// The idempotency key (or submission id) was used for another request; nothing of that
    /// request is told.
    #[error("this idempotency key was already used for a different request; send a new key")]
    IdempotencyKeyReused,
    #[error("no user named \"{0}\"")]
    UserNotFound(String),
    #[error("a user named \"{0}\" already exists")]
    UserExists(String),
    #[error("this link is not valid: it is unknown, used already or expired; ask an admin for a new one")]
    LinkUnusable,
    #[error("this invitation link is not known")]
    InvitationUnknown,
    #[error("this invitation link has already been used")]
    InvitationUsed,
    #[error("this invitation link has expired")]
    InvitationExpired,
    /// A reload found problems; the running version of the site is kept.
    #[error("the site has {} problem(s), the running version is kept: {}", .0.len(), .0.first().map(String::as_str).unwrap_or(""))]
    SiteInvalid(Vec<String>),
    /// A reload whose files are valid but whose rule tests fail; the running version is kept.
    #[error("{} rule test(s) fail with the new version, the running version is kept (an admin may apply it anyway): {}", .0.len(), .0.first().map(String::as_str).unwrap_or(""))]
    RuleTestsFailed(Vec<String>),
    #[error("the server is busy or shutting down")]
    Unavailable,
    #[error("the store is unavailable: {0}")]
    Store(StoreError),
}

impl ServiceError {
    pub fn code(&self) -> &'static str {
        match self {
            ServiceError::SiteNotFound(_) => "site_not_found",
            ServiceError::SiteUnavailable(_) => "site_unavailable",
            ServiceError::SurveyNotFound(_) => "survey_not_found",
            ServiceError::ResponseNotFound(_) => "response_not_found",
            ServiceError::ResourceNotFound(_) => "resource_not_found",
            ServiceError::FollowUpNotFound(_) => "follow_up_not_found",
            ServiceError::DeliveryNotFound(_) => "delivery_not_found",
            ServiceError::KioskNotFound(_) => "kiosk_not_found",
            ServiceError::UserNotFound(_) => "user_not_found",
            ServiceError::UserExists(_) => "user_exists",
            ServiceError::LinkUnusable => "link_unusable",
            ServiceError::RuleFileNotFound(_) => "rule_file_not_found",
            ServiceError::RulesInFiles(_) => "rules_in_files",
            ServiceError::InvalidAnswers(_) => "invalid_answer",
            ServiceError::InvalidResource(_) => "invalid_resource",
            ServiceError::InvalidLanguage(_) => "invalid_language",
            ServiceError::InvalidQuery { .. } => "invalid_query",
            ServiceError::InvalidBody { .. } => "invalid_body",
            ServiceError::InvalidOutcome(_) => "invalid_outcome",
            // One public code for every refused change of state, as before these were apart.
            ServiceError::TransitionRefused(_)
            | ServiceError::AlreadyDelivered
            | ServiceError::RetagRunning(_) => "conflict",
            ServiceError::IdempotencyKeyReused => "idempotency_key_reused",
            ServiceError::InvitationUnknown => "invitation_unknown",
            ServiceError::InvitationUsed => "invitation_used",
            ServiceError::InvitationExpired => "invitation_expired",
            ServiceError::SiteInvalid(_) => "site_invalid",
            ServiceError::RuleTestsFailed(_) => "rule_tests_failed",
            ServiceError::Unavailable => "unavailable",
            ServiceError::Store(_) => "store_unavailable",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            ServiceError::InvalidAnswers(errors) => errors.first().map(|e| e.field.as_str()),
            ServiceError::InvalidBody { field, .. } => field.as_deref(),
            ServiceError::InvalidResource(problems) => problems.first()?.link_id.as_deref(),
            ServiceError::InvalidLanguage(_) => Some("language"),
            ServiceError::InvalidOutcome(_) => Some("outcome"),
            ServiceError::InvalidQuery { field, .. } => Some(field),
            _ => None,
        }
    }

    pub fn invalid_query(field: &str, message: impl Into<String>) -> ServiceError {
        ServiceError::InvalidQuery {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn invalid_body(field: &str, message: impl Into<String>) -> ServiceError {
        ServiceError::InvalidBody {
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        ServiceError::Store(e)
    }
}

impl From<InvitationProblem> for ServiceError {
    fn from(problem: InvitationProblem) -> Self {
        match problem {
            InvitationProblem::Unknown => ServiceError::InvitationUnknown,
            InvitationProblem::Used => ServiceError::InvitationUsed,
            InvitationProblem::Expired => ServiceError::InvitationExpired,
        }
    }
}
