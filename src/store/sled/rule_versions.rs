//! Rule-file versions. Tree: `rule_versions` (`site 0 file 0 number`, the number big-endian so
//! that key order is version order → the version).

use super::{decode, encode, Db, SledStore};
use crate::domain::RuleVersion;
use crate::store::{RuleVersionStore, StoreError};
use async_trait::async_trait;

fn file_prefix(site: &str, file: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(site.len() + file.len() + 2);
    key.extend_from_slice(site.as_bytes());
    key.push(0);
    key.extend_from_slice(file.as_bytes());
    key.push(0);
    key
}

fn version_key(site: &str, file: &str, number: u64) -> Vec<u8> {
    let mut key = file_prefix(site, file);
    key.extend_from_slice(&number.to_be_bytes());
    key
}

impl Db {
    /// Writes a version as it is, number included (restore).
    pub(super) fn put_rule_version(&self, version: &RuleVersion) -> Result<(), StoreError> {
        let key = version_key(&version.site, &version.file, version.number);
        self.rule_versions.insert(key, encode(version)?)?;
        Ok(())
    }

    fn add_rule_version(&self, version: &RuleVersion) -> Result<RuleVersion, StoreError> {
        let prefix = file_prefix(&version.site, &version.file);
        loop {
            let last = match self.rule_versions.scan_prefix(&prefix).next_back() {
                Some(kv) => decode::<RuleVersion>(&kv?.1)?.number,
                None => 0,
            };
            let stored = RuleVersion {
                number: last + 1,
                ..version.clone()
            };
            let key = version_key(&stored.site, &stored.file, stored.number);
            // Insert only if no other writer took this number meanwhile.
            let swapped =
                self.rule_versions
                    .compare_and_swap(key, None::<&[u8]>, Some(encode(&stored)?))?;
            if swapped.is_ok() {
                return Ok(stored);
            }
        }
    }
}

#[async_trait]
impl RuleVersionStore for SledStore {
    async fn add_rule_version(&self, version: &RuleVersion) -> Result<RuleVersion, StoreError> {
        let version = version.clone();
        self.write(move |db| db.add_rule_version(&version)).await
    }

    async fn rule_versions(&self, site: &str, file: &str) -> Result<Vec<RuleVersion>, StoreError> {
        let prefix = file_prefix(site, file);
        self.read(move |db| {
            db.rule_versions
                .scan_prefix(&prefix)
                .rev()
                .map(|kv| decode(&kv?.1))
                .collect()
        })
        .await
    }

    async fn current_rule_versions(&self, site: &str) -> Result<Vec<RuleVersion>, StoreError> {
        let mut prefix = site.as_bytes().to_vec();
        prefix.push(0);
        self.read(move |db| {
            // Keys run file by file, each file's versions in number order: the last one wins.
            let mut newest = std::collections::BTreeMap::new();
            for kv in db.rule_versions.scan_prefix(&prefix) {
                let v: RuleVersion = decode(&kv?.1)?;
                newest.insert(v.file.clone(), v);
            }
            Ok(newest.into_values().collect())
        })
        .await
    }

    async fn rule_version(
        &self,
        site: &str,
        file: &str,
        number: u64,
    ) -> Result<Option<RuleVersion>, StoreError> {
        let key = version_key(site, file, number);
        self.read(move |db| db.get(&db.rule_versions, &key)).await
    }
}
