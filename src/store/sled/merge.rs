//! Time-ordered merge of key-ordered scans whose keys end in a UUID v7.

use super::keys;
use crate::store::StoreError;
use sled::IVec;
use std::iter::Peekable;
use uuid::Uuid;

pub(super) type Scan = Box<dyn Iterator<Item = sled::Result<(IVec, IVec)>>>;

/// K-way merge by the id at the end of each key (oldest first).
pub(super) struct MergeByTime {
    iters: Vec<Peekable<Scan>>,
}

impl MergeByTime {
    pub fn new(scans: Vec<Scan>) -> Self {
        MergeByTime {
            iters: scans.into_iter().map(Iterator::peekable).collect(),
        }
    }
}

impl Iterator for MergeByTime {
    type Item = Result<(IVec, IVec), StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut best: Option<(usize, Uuid)> = None;
        for (i, it) in self.iters.iter_mut().enumerate() {
            match it.peek() {
                None => {}
                Some(Err(_)) => {
                    let err = it.next()?.err()?;
                    return Some(Err(err.into()));
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
        Some(self.iters[i].next()?.map_err(Into::into))
    }
}

/// K-way merge of index scans by the key suffix after each scan's own prefix (for task index
/// scans: due time, then id).
pub(super) struct MergeBySuffix {
    iters: Vec<(usize, Peekable<Scan>)>,
}

impl MergeBySuffix {
    /// Each scan with the length of the prefix its keys share.
    pub fn new(scans: Vec<(usize, Scan)>) -> Self {
        MergeBySuffix {
            iters: scans.into_iter().map(|(p, s)| (p, s.peekable())).collect(),
        }
    }
}

impl Iterator for MergeBySuffix {
    type Item = Result<IVec, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut best: Option<(usize, Vec<u8>)> = None;
        for (i, (prefix, it)) in self.iters.iter_mut().enumerate() {
            match it.peek() {
                None => {}
                Some(Err(_)) => {
                    let err = it.next()?.err()?;
                    return Some(Err(err.into()));
                }
                Some(Ok((k, _))) => {
                    let suffix = k.get(*prefix..).unwrap_or_default();
                    if best.as_ref().is_none_or(|(_, b)| suffix < b.as_slice()) {
                        best = Some((i, suffix.to_vec()));
                    }
                }
            }
        }
        let (i, _) = best?;
        Some(self.iters[i].1.next()?.map(|(k, _)| k).map_err(Into::into))
    }
}
