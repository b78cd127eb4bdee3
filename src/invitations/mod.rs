//! Issuing invitation links (see `domain::invitation`).

use crate::domain::invitation::{new_token, token_sha256, Invitation, Issued};
use crate::store::{Store, StoreError};

/// Creates `count` links valid for `expires_in_days` from `now_ms`, stored in one batch.
pub fn issue(
    store: &dyn Store,
    site: &str,
    survey: &str,
    count: u32,
    expires_in_days: u32,
    now_ms: i64,
) -> Result<Vec<Issued>, StoreError> {
    let expires_at_ms = now_ms + i64::from(expires_in_days) * 24 * 3600 * 1000;
    let expires_at = crate::domain::time::rfc3339_of_ms(expires_at_ms);
    let mut records = Vec::with_capacity(count as usize);
    let mut issued = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let token = new_token();
        let hash = token_sha256(&token).expect("a new token is well-formed");
        records.push((
            hash,
            Invitation {
                site: site.to_string(),
                survey: survey.to_string(),
                expires_at: expires_at.clone(),
                expires_at_ms,
                used: false,
            },
        ));
        issued.push(Issued {
            token,
            expires_at: expires_at.clone(),
        });
    }
    store.put_invitations(&records)?;
    Ok(issued)
}
