//! The audit trail: tree `audit` (big-endian seq → entry) and the index tree `audit_site`
//! (`site 0 seq` → nothing) for one site's entries. Appends hold `audit_lock` from reading the
//! last key to writing the next, so sequence numbers have no gap and the chain never forks
//! (sled allows one process per data directory, so a lock in the process is enough).

use super::{decode, encode, keys, Db, SledStore};
use crate::domain::audit::GENESIS_HASH;
use crate::domain::{AuditEntry, NewAuditEntry};
use crate::store::{AuditPage, AuditQuery, AuditStore, StoreError, MAX_PAGE};
use async_trait::async_trait;

fn site_key(site: &str, seq: u64) -> Vec<u8> {
    let mut k = keys::site_prefix(site);
    k.extend_from_slice(&seq.to_be_bytes());
    k
}

fn seq_of(key: &[u8]) -> Option<u64> {
    let start = key.len().checked_sub(8)?;
    Some(u64::from_be_bytes(key[start..].try_into().ok()?))
}

fn matches(q: &AuditQuery, e: &AuditEntry) -> bool {
    q.site.as_ref().is_none_or(|s| e.site.as_ref() == Some(s))
        && q.action.as_ref().is_none_or(|a| &e.action == a)
        && q.actor.as_ref().is_none_or(|a| &e.actor == a)
        && q.since_ms.is_none_or(|t| e.at_ms >= t)
        && q.until_ms.is_none_or(|t| e.at_ms < t)
}

impl Db {
    fn audit_head(&self) -> Result<Option<AuditEntry>, StoreError> {
        self.audit.last()?.map(|(_, v)| decode(&v)).transpose()
    }

    fn append_audit(&self, new: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let _appending = self.audit_lock.lock();
        let entry = match self.audit_head()? {
            Some(head) => new.chain(head.seq + 1, &head.hash),
            None => new.chain(1, GENESIS_HASH),
        };
        self.put_audit(&entry)?;
        Ok(entry)
    }

    /// The index entry first, then the entry (a reader skips an index entry without its
    /// entry, or whose entry is of another site).
    pub(super) fn put_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        if let Some(site) = &entry.site {
            self.audit_site.insert(site_key(site, entry.seq), &[])?;
        }
        self.audit.insert(entry.seq.to_be_bytes(), encode(entry)?)?;
        Ok(())
    }

    fn list_audit(&self, q: &AuditQuery) -> Result<AuditPage, StoreError> {
        let limit = q.limit.clamp(1, MAX_PAGE);
        let (start, end) = match (q.cursor, q.oldest_first) {
            (None, _) => (0, u64::MAX),
            (Some(c), true) => (c.saturating_add(1), u64::MAX),
            (Some(c), false) => (0, c),
        };
        // A site's entries through its index; every entry through the trail itself. Both keys
        // end in the big-endian seq.
        let range = match &q.site {
            Some(site) => self
                .audit_site
                .range(site_key(site, start)..site_key(site, end)),
            None => self
                .audit
                .range(start.to_be_bytes().to_vec()..end.to_be_bytes().to_vec()),
        };
        let keys = range.map(|kv| {
            let (k, _) = kv?;
            seq_of(&k).ok_or_else(|| StoreError::corrupt("an audit key"))
        });
        let seqs: Box<dyn Iterator<Item = Result<u64, StoreError>>> = if q.oldest_first {
            Box::new(keys)
        } else {
            Box::new(keys.rev())
        };
        let mut items = Vec::new();
        for seq in seqs {
            let Some(entry) = self.get::<AuditEntry>(&self.audit, &seq?.to_be_bytes())? else {
                continue;
            };
            if matches(q, &entry) {
                items.push(entry);
                if items.len() > limit {
                    break;
                }
            }
        }
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|e| e.seq)
        } else {
            None
        };
        Ok(AuditPage { items, next })
    }
}

#[async_trait]
impl AuditStore for SledStore {
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        self.write(move |db| db.append_audit(entry)).await
    }

    async fn list_audit(&self, query: &AuditQuery) -> Result<AuditPage, StoreError> {
        let query = query.clone();
        self.read(move |db| db.list_audit(&query)).await
    }

    async fn audit_head(&self) -> Result<Option<AuditEntry>, StoreError> {
        self.read(|db| db.audit_head()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn new(site: Option<&str>, action: &str, at_ms: i64) -> NewAuditEntry {
        NewAuditEntry {
            at_ms,
            actor: "ann".into(),
            action: action.into(),
            site: site.map(Into::into),
            target: None,
            details: BTreeMap::new(),
        }
    }

    /// Appends from many tasks at once get 1..=n without a gap, each chained to the one before.
    #[actix_web::test]
    async fn concurrent_appends_make_one_chain_and_queries_page_through_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(SledStore::open(dir.path(), 8 << 20, 2).unwrap());
        let appends = (0..40).map(|i| {
            let store = store.clone();
            let site = if i % 2 == 0 { Some("a") } else { Some("b") };
            async move { store.append_audit(new(site, "x", i)).await.unwrap() }
        });
        futures_util::future::join_all(appends).await;
        let all = AuditQuery {
            oldest_first: true,
            limit: 1000,
            ..AuditQuery::default()
        };
        let entries = store.list_audit(&all).await.unwrap().items;
        assert_eq!(entries.len(), 40);
        let mut prev = GENESIS_HASH.to_string();
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1);
            assert_eq!(e.prev_hash, prev);
            assert_eq!(e.hash, e.computed_hash());
            prev = e.hash.clone();
        }
        assert_eq!(store.audit_head().await.unwrap().unwrap().hash, prev);

        // Site a, newest first, 7 a page: 20 entries in 3 pages, all of site a.
        let mut q = AuditQuery {
            site: Some("a".into()),
            limit: 7,
            ..AuditQuery::default()
        };
        let mut seen = Vec::new();
        loop {
            let page = store.list_audit(&q).await.unwrap();
            seen.extend(page.items.iter().map(|e| e.seq));
            assert!(page.items.iter().all(|e| e.site.as_deref() == Some("a")));
            match page.next {
                Some(n) => q.cursor = Some(n),
                None => break,
            }
        }
        assert_eq!(seen.len(), 20);
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");
        let timed = AuditQuery {
            since_ms: Some(10),
            until_ms: Some(20),
            limit: 100,
            ..AuditQuery::default()
        };
        assert_eq!(store.list_audit(&timed).await.unwrap().items.len(), 10);
    }
}
