//! K-way merge of key-ordered scans into one ordered stream: each scan's keys share a prefix
//! (of its own length), and the merge orders by what follows it. For responses that is the
//! UUID v7 id (so time order across surveys), for the task index the due time and id.

use crate::store::StoreError;
use sled::IVec;
use std::iter::Peekable;

pub(super) type Scan = Box<dyn Iterator<Item = sled::Result<(IVec, IVec)>>>;

pub(super) struct Merge {
    iters: Vec<(usize, Peekable<Scan>)>,
}

impl Merge {
    /// Each scan with the length of the prefix its keys share.
    pub fn new(scans: Vec<(usize, Scan)>) -> Self {
        Merge {
            iters: scans.into_iter().map(|(p, s)| (p, s.peekable())).collect(),
        }
    }
}

impl Iterator for Merge {
    type Item = Result<(IVec, IVec), StoreError>;

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
        Some(self.iters[i].1.next()?.map_err(Into::into))
    }
}
