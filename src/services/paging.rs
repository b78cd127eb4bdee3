//! Cursor paging, the same on every listing: `limit` 1–1000 (default 50) and `cursor`, the
//! `next_cursor` a previous page returned.

use super::ServiceError;
use crate::store::MAX_PAGE;
use uuid::Uuid;

pub const DEFAULT_PAGE: usize = 50;

/// A `limit` parameter: `DEFAULT_PAGE` when absent, 1..=1000 otherwise.
pub fn limit(limit: Option<usize>) -> Result<usize, ServiceError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ServiceError::invalid_query(
            "limit",
            format!("must be between 1 and {MAX_PAGE}"),
        ));
    }
    Ok(limit)
}

/// A `cursor` parameter (`field` names it in the error); empty means none.
pub fn cursor(field: &str, cursor: Option<&str>) -> Result<Option<Uuid>, ServiceError> {
    match cursor.map(str::trim).filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => Uuid::parse_str(c).map(Some).map_err(|_| bad_cursor(field)),
    }
}

pub fn bad_cursor(field: &str) -> ServiceError {
    ServiceError::invalid_query(field, "not a cursor returned by this endpoint")
}
