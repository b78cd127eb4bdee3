//! Invitation links in sled: tree `invitations`, key the hex SHA-256 of the token, value the
//! JSON `Invitation`. A response admitted by a link is written in one transaction with the
//! link's "used" mark (and its submission id), so a link can never admit two responses, nor be
//! used up by a response that was not stored. Its derived records follow as for any response.

use super::keys;
use super::sled::{backend, decode, encode, from_transaction, SledStore, SUBMISSION_STRIPES};
use super::{Inserted, Store as _, StoreError};
use crate::domain::invitation::{check, Invitation};
use crate::domain::FollowUpRecords;
use crate::domain::StoredResponse;
use sled::transaction::{ConflictableTransactionError, Transactional};

pub(super) const TREE_INVITATIONS: &str = "invitations";

impl SledStore {
    pub(super) fn save_invitations(
        &self,
        invitations: &[(String, Invitation)],
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (hash, invitation) in invitations {
            batch.insert(hash.as_bytes(), encode(invitation)?);
        }
        self.invitations.apply_batch(batch).map_err(backend)?;
        self.flush()
    }

    pub(super) fn load_invitation(&self, hash: &str) -> Result<Option<Invitation>, StoreError> {
        match self.invitations.get(hash.as_bytes()).map_err(backend)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|e| StoreError::Corrupt(e.to_string())),
        }
    }

    pub(super) fn insert_invited(
        &self,
        response: &StoredResponse,
        follow_ups: &FollowUpRecords,
        hash: &str,
        now_ms: i64,
    ) -> Result<Inserted, StoreError> {
        let key = keys::response_key(&response.site, &response.survey, response.id);
        let value = encode(response)?;
        let sub_key = response
            .submission_id
            .map(|s| keys::submission_key(&response.site, s));
        let _guard = response.submission_id.map(|s| {
            self.submission_locks[(s.as_u128() % SUBMISSION_STRIPES as u128) as usize].lock()
        });
        // A repeat of a stored submission (a double click) gets the first response, even though
        // its link is now used.
        if let Some(sub_key) = &sub_key {
            if let Some(existing_key) = self.submissions.get(sub_key).map_err(backend)? {
                if let Some(existing) = self.responses.get(&existing_key).map_err(backend)? {
                    return Ok(Inserted::Duplicate(Box::new(decode(&existing)?)));
                }
            }
        }
        // The response, its submission id and the link's "used" mark in one transaction; then,
        // as for every response, its derived records (rule-error index entry, tasks, outbox),
        // which a restart after an unclean stop repairs.
        (&self.responses, &self.submissions, &self.invitations)
            .transaction(|(responses, submissions, invitations)| {
                let abort = |e: StoreError| ConflictableTransactionError::Abort(e);
                let stored = invitations.get(hash.as_bytes())?;
                let mut invitation: Option<Invitation> = stored
                    .map(|v| serde_json::from_slice(&v))
                    .transpose()
                    .map_err(|e| abort(StoreError::Corrupt(e.to_string())))?;
                check(
                    invitation.as_ref(),
                    &response.site,
                    &response.survey,
                    now_ms,
                )
                .map_err(|p| abort(p.into()))?;
                if let Some(i) = invitation.as_mut() {
                    i.used = true;
                    invitations.insert(hash.as_bytes(), encode(i).map_err(abort)?)?;
                }
                if let Some(sub_key) = &sub_key {
                    submissions.insert(sub_key.as_slice(), key.as_slice())?;
                }
                responses.insert(key.as_slice(), value.as_slice())?;
                Ok(())
            })
            .map_err(from_transaction)?;
        self.write_side_records(response, follow_ups, false)?;
        Ok(Inserted::New)
    }
}
