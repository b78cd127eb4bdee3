//! Time-ordered merge of per-survey response scans.

use super::keys;
use super::sled::{backend, decode};
use super::StoreError;
use crate::domain::StoredResponse;
use uuid::Uuid;

/// K-way merge of per-survey scans by the UUID v7 at the end of each key.
pub(super) struct MergeByTime {
    pub(super) iters: Vec<std::iter::Peekable<sled::Iter>>,
}

impl Iterator for MergeByTime {
    type Item = Result<StoredResponse, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut best: Option<(usize, Uuid)> = None;
        for (i, it) in self.iters.iter_mut().enumerate() {
            match it.peek() {
                None => {}
                Some(Err(_)) => {
                    let err = it.next()?.err()?;
                    return Some(Err(backend(err)));
                }
                Some(Ok((k, _))) => {
                    let id = keys::id_of(k).unwrap_or_default();
                    if best.is_none_or(|(_, b)| id < b) {
                        best = Some((i, id));
                    }
                }
            }
        }
        let (i, _) = best?;
        let (_, value) = self.iters[i].next()?.ok()?;
        Some(decode(&value))
    }
}
