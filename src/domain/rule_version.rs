//! A version of one rule file of a site, as applied from the admin app's editor.

use serde::{Deserialize, Serialize};

/// One applied version: numbered from 1 per (site, file), never changed once stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RuleVersion {
    pub site: String,
    /// The rule file's name in `rules/` (`parking.rhai`).
    pub file: String,
    pub number: u64,
    pub text: String,
    /// The admin's user name (`"(disk)"` for the text found on disk before the first edit).
    pub author: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub message: String,
    /// The rule tests that failed when an admin applied it anyway (empty otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_anyway: Vec<String>,
}
