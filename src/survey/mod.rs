//! Pure survey domain: site and survey definitions, loading, answer validation and `show_if`.

pub mod answers;
pub mod asks;
pub mod definition;
pub mod language;
pub mod load;
pub mod plain_language;
pub mod readability;
pub mod sanitize;
pub mod site;
pub mod write;

pub use answers::{
    is_shown, validate, validate_reporting_hidden, AnswerValue, Answers, FieldError, RawAnswer,
};
pub use definition::{ChoiceOption, Literal, Question, QuestionKind, ShowIf, Survey};
pub use load::{load_site, site_dirs, LoadError};
pub use site::{codebook_for, Barrier, QueueConfig, RulesSource, Site, SiteConfig, WebhookConfig};
