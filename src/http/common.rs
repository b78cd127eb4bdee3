//! Small pieces every JSON handler needs: the site of the path, blocking calls, paging.

use crate::app::AppState;
use crate::errors::ApiError;
use crate::sites::SiteRuntime;
use actix_web::web;
use std::sync::Arc;
use uuid::Uuid;

/// The running site named in the path, or 404.
pub fn site(state: &AppState, id: &str) -> Result<Arc<SiteRuntime>, ApiError> {
    state
        .sites
        .get(id)
        .ok_or_else(|| ApiError::SiteNotFound(id.to_string()))
}

/// Runs store or script work on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    web::block(f).await.map_err(|_| ApiError::Unavailable)?
}

/// A `limit` query parameter: `default` when absent, 1..=`max` otherwise.
pub fn page_limit(limit: Option<usize>, default: usize, max: usize) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(default);
    if limit == 0 || limit > max {
        return Err(ApiError::InvalidQuery {
            field: "limit".into(),
            message: format!("must be between 1 and {max}"),
        });
    }
    Ok(limit)
}

/// A `cursor` query parameter: a response id this API returned.
pub fn cursor(cursor: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    cursor
        .map(|c| {
            Uuid::parse_str(c).map_err(|_| ApiError::InvalidQuery {
                field: "cursor".into(),
                message: "not a cursor returned by this endpoint".into(),
            })
        })
        .transpose()
}

/// A `status` query parameter parsed into one of the status enums.
pub fn status_param<T: std::str::FromStr<Err = String>>(
    status: Option<&str>,
) -> Result<Option<T>, ApiError> {
    status
        .map(str::parse::<T>)
        .transpose()
        .map_err(|message| ApiError::InvalidQuery {
            field: "status".into(),
            message,
        })
}
