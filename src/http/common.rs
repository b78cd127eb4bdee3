//! Small pieces the JSON handlers share: query parameters and ids of the path.

use crate::services::ServiceError;
use uuid::Uuid;

/// A `status` query parameter parsed into one of the status enums.
pub fn status_param<T: std::str::FromStr<Err = String>>(
    status: Option<&str>,
) -> Result<Option<T>, ServiceError> {
    status
        .map(str::parse::<T>)
        .transpose()
        .map_err(|message| ServiceError::invalid_query("status", message))
}

/// A `since`/`until` query parameter: an RFC 3339 time or a `YYYY-MM-DD` date (UTC midnight).
pub fn instant_param(field: &str, value: Option<&str>) -> Result<Option<u64>, ServiceError> {
    value
        .map(|v| {
            crate::domain::time::parse_instant_ms(v.trim())
                .map_err(|m| ServiceError::invalid_query(field, m))
        })
        .transpose()
}

/// An id of the path that is not even a UUID names nothing: 404, like any unknown id.
pub fn path_id(raw: &str, not_found: fn(String) -> ServiceError) -> Result<Uuid, ServiceError> {
    Uuid::parse_str(raw).map_err(|_| not_found(raw.to_string()))
}
