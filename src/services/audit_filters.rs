//! The filters of an audit listing (the API's and the admin page's query), checked into an
//! `AuditQuery`.

use super::audit::ACTIONS;
use super::ServiceError;
use crate::store::AuditQuery;

/// The filters of an audit listing as the API and the admin page receive them; empty is any.
#[derive(Debug, Default, Clone, serde::Deserialize, serde::Serialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilters {
    /// One audited action (docs/audit.md lists them).
    #[serde(default)]
    #[param(required = false)]
    pub action: String,
    /// A user name, `cli` or `system`.
    #[serde(default)]
    #[param(required = false)]
    pub actor: String,
    /// RFC 3339 or YYYY-MM-DD; `since` inclusive, `until` exclusive.
    #[serde(default)]
    #[param(required = false)]
    pub since: String,
    #[serde(default)]
    #[param(required = false)]
    pub until: String,
    /// The `next_cursor` of the previous page.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[param(required = false)]
    pub cursor: String,
    /// Page size, 1 to 1000 (default 50).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
}

fn given(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl AuditFilters {
    /// The newest-first query of these filters over `site`'s entries (every entry: `None`).
    pub fn to_query(&self, site: Option<&str>) -> Result<AuditQuery, ServiceError> {
        let instant = |field: &str, v: &str| {
            given(v)
                .map(|v| crate::domain::time::parse_instant_ms(&v).map(|ms| ms as i64))
                .transpose()
                .map_err(|m| ServiceError::invalid_query(field, m))
        };
        let cursor = given(&self.cursor)
            .map(|c| c.parse::<u64>())
            .transpose()
            .map_err(|_| super::paging::bad_cursor("cursor"))?;
        if let Some(a) = given(&self.action) {
            if !ACTIONS.contains(&a.as_str()) {
                let known = ACTIONS.join(", ");
                return Err(ServiceError::invalid_query(
                    "action",
                    format!("\"{a}\" is not an audited action ({known})"),
                ));
            }
        }
        Ok(AuditQuery {
            site: site.map(str::to_string),
            action: given(&self.action),
            actor: given(&self.actor),
            since_ms: instant("since", &self.since)?,
            until_ms: instant("until", &self.until)?,
            cursor,
            oldest_first: false,
            limit: super::paging::limit(self.limit)?,
        })
    }
}
