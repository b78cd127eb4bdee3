//! Reading stored responses for people: every listing and every opened response is audited
//! (who, which site, the filters, how many rows), and nothing of the answers goes into it.

use super::audit::{self, Actor, Event};
use super::{Chorus, ServiceError};
use crate::domain::StoredResponse;
use crate::store::{Page, ResponseQuery};
use uuid::Uuid;

/// One page of a site's responses, its reading recorded.
pub async fn list(
    chorus: &Chorus,
    actor: Actor<'_>,
    query: &ResponseQuery,
) -> Result<Page<StoredResponse>, ServiceError> {
    let page = chorus.store.list_responses(query).await?;
    let rows = page.items.len() as u64;
    audit::record(
        chorus.store.as_ref(),
        actor,
        Event::ResponsesListed { query, rows },
    )
    .await?;
    Ok(page)
}

/// One response of a site, its reading recorded; `ResponseNotFound` (unrecorded) without it.
pub async fn read(
    chorus: &Chorus,
    actor: Actor<'_>,
    site: &str,
    id: Uuid,
) -> Result<StoredResponse, ServiceError> {
    let response = chorus
        .store
        .response(site, id)
        .await?
        .ok_or_else(|| ServiceError::ResponseNotFound(id.to_string()))?;
    let id = id.to_string();
    audit::record(
        chorus.store.as_ref(),
        actor,
        Event::ResponseRead { site, id: &id },
    )
    .await?;
    Ok(response)
}
