//! A version of one rule file or rule test file of a site, as applied from the admin app's
//! editor or pushed by `chorus rules push`.

use serde::{Deserialize, Serialize};

/// One applied version: numbered from 1 per (site, file), never changed once stored.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RuleVersion {
    pub site: String,
    /// The file's path in `rules/`: `parking.rhai` for a rule file, `tests/parking.toml` for
    /// a rule test file.
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
    /// This version deletes the file (`text` is empty); a later version may bring it back.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}
