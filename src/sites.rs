//! The running sites: each one's definition with its compiled rules, swapped atomically on
//! reload so that in-flight submissions finish on the version they started with.

use crate::followups::address_policy::{check_site, AddressPolicy};
use crate::plugins::{Limits, SiteRules};
use crate::survey::{load_site, load_sites, LoadError, Site};
use arc_swap::ArcSwap;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct SiteRuntime {
    pub site: Site,
    pub rules: SiteRules,
}

impl SiteRuntime {
    pub fn build(
        site: Site,
        plugins_dir: &Path,
        limits: &Limits,
    ) -> Result<SiteRuntime, Vec<LoadError>> {
        let rules = SiteRules::compile_with_limits(&site, plugins_dir, limits.clone())?;
        Ok(SiteRuntime { site, rules })
    }
}

fn build_all(
    sites_dir: &Path,
    plugins_dir: &Path,
    limits: &Limits,
    policy: &AddressPolicy,
) -> Result<BTreeMap<String, Arc<SiteRuntime>>, Vec<LoadError>> {
    let mut map = BTreeMap::new();
    let mut errors = Vec::new();
    for site in load_sites(sites_dir)? {
        let refused = check_site(&site, policy);
        if !refused.is_empty() {
            errors.extend(refused);
            continue;
        }
        let id = site.config.id.clone();
        match SiteRuntime::build(site, plugins_dir, limits) {
            Ok(rt) => {
                map.insert(id, Arc::new(rt));
            }
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(map)
    } else {
        Err(errors)
    }
}

pub struct SiteRegistry {
    sites: ArcSwap<BTreeMap<String, Arc<SiteRuntime>>>,
    sites_dir: PathBuf,
    plugins_dir: PathBuf,
    limits: Limits,
    webhook_policy: AddressPolicy,
}

impl SiteRegistry {
    /// Loads and compiles every site with the default script limits; any problem anywhere
    /// (a webhook URL the policy refuses included) fails the whole load.
    pub fn load(
        sites_dir: &Path,
        plugins_dir: &Path,
        webhook_policy: AddressPolicy,
    ) -> Result<SiteRegistry, Vec<LoadError>> {
        SiteRegistry::load_with_limits(sites_dir, plugins_dir, Limits::default(), webhook_policy)
    }

    /// As `load`, with these script limits for every site (and every later reload).
    pub fn load_with_limits(
        sites_dir: &Path,
        plugins_dir: &Path,
        limits: Limits,
        webhook_policy: AddressPolicy,
    ) -> Result<SiteRegistry, Vec<LoadError>> {
        Ok(SiteRegistry {
            sites: ArcSwap::from_pointee(build_all(
                sites_dir,
                plugins_dir,
                &limits,
                &webhook_policy,
            )?),
            sites_dir: sites_dir.to_path_buf(),
            plugins_dir: plugins_dir.to_path_buf(),
            limits,
            webhook_policy,
        })
    }

    pub fn get(&self, id: &str) -> Option<Arc<SiteRuntime>> {
        self.sites.load().get(id).cloned()
    }

    pub fn ids(&self) -> Vec<String> {
        self.sites.load().keys().cloned().collect()
    }

    /// Re-reads one site from disk; the running version is replaced only if all of it is valid.
    pub fn reload(&self, id: &str) -> Result<(), Vec<LoadError>> {
        let dir = self.sites_dir.join(id);
        let site = load_site(&dir)?;
        let refused = check_site(&site, &self.webhook_policy);
        if !refused.is_empty() {
            return Err(refused);
        }
        let runtime = Arc::new(SiteRuntime::build(site, &self.plugins_dir, &self.limits)?);
        self.sites.rcu(|current| {
            let mut next = BTreeMap::clone(current);
            next.insert(id.to_string(), Arc::clone(&runtime));
            next
        });
        Ok(())
    }

    /// Re-reads every site (SIGHUP): all of them are swapped in together only if all are valid.
    pub fn reload_all(&self) -> Result<(), Vec<LoadError>> {
        let map = build_all(
            &self.sites_dir,
            &self.plugins_dir,
            &self.limits,
            &self.webhook_policy,
        )?;
        self.sites.store(Arc::new(map));
        Ok(())
    }
}
