//! The running sites: each one's definition with its compiled rules, swapped atomically on
//! reload so that in-flight submissions finish on the version they started with; and reloading
//! on SIGHUP.

use super::address_policy::{check_site, AddressPolicy};
use super::audit::{self, Actor, Event};
use super::rule_tests::run_rule_tests;
use crate::plugins::{Limits, SiteRules};
use crate::survey::{load_site, site_dirs, LoadError, Site};
use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct SiteRuntime {
    pub site: Site,
    pub rules: SiteRules,
    /// Hex SHA-256 of the files this version was loaded from (see `digest`).
    pub digest: String,
    /// The site folder's files and their hashes as this version was loaded (for the audit).
    pub files: BTreeMap<String, String>,
    /// Set when an admin loaded this version although rule tests failed.
    pub applied_anyway: Option<AppliedAnyway>,
}

/// A version an admin loaded although some of its rule tests failed ("apply anyway").
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AppliedAnyway {
    /// The admin's user name.
    pub by: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// Each failing test as `file:line:col: case "name": message`.
    pub failing_tests: Vec<String>,
}

/// Why a reload did not replace the running version.
#[derive(Debug)]
pub enum Refusal {
    /// A file does not parse or compile (or a webhook address is refused).
    Invalid(Vec<LoadError>),
    /// Everything compiles but these rule tests fail (`file:line:col: case "name": message`).
    TestsFail(Vec<String>),
}

impl Refusal {
    pub fn lines(&self) -> Vec<String> {
        match self {
            Refusal::Invalid(errors) => lines(errors),
            Refusal::TestsFail(failing) => failing.clone(),
        }
    }
}

/// Whether a reload may replace the running version when rule tests fail: `Some(user)` is an
/// admin's "apply anyway".
fn gate(mut rt: SiteRuntime, anyway: Option<&str>) -> Result<SiteRuntime, Refusal> {
    let failing = run_rule_tests(&rt.site, &rt.rules).problems;
    if failing.is_empty() {
        return Ok(rt);
    }
    match anyway {
        None => Err(Refusal::TestsFail(failing)),
        Some(by) => {
            rt.applied_anyway = Some(AppliedAnyway {
                by: by.to_string(),
                at: crate::domain::time::now_rfc3339(),
                failing_tests: failing,
            });
            Ok(rt)
        }
    }
}

impl SiteRuntime {
    pub fn build(
        site: Site,
        plugins_dir: &Path,
        limits: &Limits,
    ) -> Result<SiteRuntime, Vec<LoadError>> {
        let rules = SiteRules::compile_with_limits(&site, plugins_dir, limits.clone())?;
        let digest = digest(&site, &rules);
        let files = super::site_files::file_hashes(&site.dir);
        Ok(SiteRuntime {
            site,
            rules,
            digest,
            applied_anyway: None,
            files,
        })
    }
}

/// A content hash of a site: every file under its folder (site.toml, surveys, rules, rule
/// tests) and the text of every enabled plugin, so that any change of what the site runs
/// changes it, and nothing else does.
fn digest(site: &Site, rules: &SiteRules) -> String {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&site.dir, &mut files);
    files.sort();
    let mut hash = Sha256::new();
    for path in files {
        hash.update(
            path.strip_prefix(&site.dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .as_bytes(),
        );
        hash.update([0]);
        hash.update(std::fs::read(&path).unwrap_or_default());
        hash.update([0]);
    }
    for script in rules.scripts() {
        hash.update(script.source.as_bytes());
        hash.update([0]);
        hash.update(script.text.as_bytes());
        hash.update([0]);
    }
    hex::encode(hash.finalize())
}

/// Loads one site folder, checks its webhooks and compiles its rules.
fn build_one(
    dir: &Path,
    plugins_dir: &Path,
    limits: &Limits,
    policy: &AddressPolicy,
) -> Result<SiteRuntime, Vec<LoadError>> {
    let site = load_site(dir)?;
    let refused = check_site(&site, policy);
    if !refused.is_empty() {
        return Err(refused);
    }
    SiteRuntime::build(site, plugins_dir, limits)
}

/// Loads a site folder that does not run and runs its rule tests, changing nothing: the
/// failing tests, or the folder's problems (`chorus rules push` checks what it uploads so).
pub fn try_site_folder(
    dir: &Path,
    plugins_dir: &Path,
    limits: &Limits,
    policy: &AddressPolicy,
) -> Result<Vec<String>, Vec<LoadError>> {
    let rt = build_one(dir, plugins_dir, limits, policy)?;
    Ok(run_rule_tests(&rt.site, &rt.rules).problems)
}

/// The id a site folder stands for (its name, which `site.toml` must repeat).
fn folder_id(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A site that did not load, by id: every problem as `file:line:col: message`.
pub type Broken = BTreeMap<String, Vec<String>>;

/// What the registry holds, swapped as one.
#[derive(Default, Clone)]
struct Sites {
    running: BTreeMap<String, Arc<SiteRuntime>>,
    /// Sites that are not running because their files have problems.
    broken: Broken,
}

fn lines(errors: &[LoadError]) -> Vec<String> {
    errors.iter().map(|e| e.to_string()).collect()
}

pub struct SiteRegistry {
    sites: ArcSwap<Sites>,
    /// The reload generation of each site this node has caught up with (see `follow_reloads`).
    seen_reloads: parking_lot::Mutex<std::collections::HashMap<String, u64>>,
    sites_dir: PathBuf,
    plugins_dir: PathBuf,
    limits: Limits,
    webhook_policy: AddressPolicy,
}

impl SiteRegistry {
    /// Loads and compiles every site with the default script limits (see `load_with_limits`).
    pub fn load(
        sites_dir: &Path,
        plugins_dir: &Path,
        webhook_policy: AddressPolicy,
    ) -> Result<SiteRegistry, Vec<LoadError>> {
        SiteRegistry::load_with_limits(sites_dir, plugins_dir, Limits::default(), webhook_policy)
    }

    /// Loads and compiles every site, each on its own: a site with a problem anywhere (a
    /// webhook URL the policy refuses included) is kept out and listed in `broken`, the others
    /// run. Fails when the sites folder cannot be read, holds no site, or holds no valid site.
    pub fn load_with_limits(
        sites_dir: &Path,
        plugins_dir: &Path,
        limits: Limits,
        webhook_policy: AddressPolicy,
    ) -> Result<SiteRegistry, Vec<LoadError>> {
        let registry = SiteRegistry {
            sites: ArcSwap::from_pointee(Sites::default()),
            seen_reloads: Default::default(),
            sites_dir: sites_dir.to_path_buf(),
            plugins_dir: plugins_dir.to_path_buf(),
            limits,
            webhook_policy,
        };
        // A broken site's problems are in `broken` (and `problems`); the load fails only when
        // the folder cannot be read or no site at all is valid (nothing would run).
        // At start nothing runs yet, so the rule tests (run by `chorus check`) gate nothing.
        let problems = registry.load_all(&Sites::default(), false)?;
        if registry.ids().is_empty() {
            return Err(problems
                .into_iter()
                .flat_map(|r| match r {
                    Refusal::Invalid(errors) => errors,
                    Refusal::TestsFail(_) => Vec::new(),
                })
                .collect());
        }
        Ok(registry)
    }

    /// The folder of site `id`.
    pub fn site_dir(&self, id: &str) -> PathBuf {
        self.sites_dir.join(id)
    }

    /// Loads a site folder that is not a running one (a copy with a draft in it) and runs its
    /// rule tests, changing nothing: the failing tests, or the folder's problems.
    pub fn try_folder(&self, dir: &Path) -> Result<Vec<String>, Vec<LoadError>> {
        try_site_folder(dir, &self.plugins_dir, &self.limits, &self.webhook_policy)
    }

    /// Where the sites' webhooks may send (checked at load and at connect time).
    pub fn webhook_policy(&self) -> &AddressPolicy {
        &self.webhook_policy
    }

    /// A registry with no site (for commands that need only the store).
    pub fn empty() -> SiteRegistry {
        SiteRegistry {
            sites: ArcSwap::from_pointee(Sites::default()),
            seen_reloads: Default::default(),
            sites_dir: PathBuf::new(),
            plugins_dir: PathBuf::new(),
            limits: Limits::default(),
            webhook_policy: AddressPolicy::default(),
        }
    }

    /// The running site of that id.
    pub fn get(&self, id: &str) -> Option<Arc<SiteRuntime>> {
        self.sites.load().running.get(id).cloned()
    }

    /// The running sites' ids.
    pub fn ids(&self) -> Vec<String> {
        self.sites.load().running.keys().cloned().collect()
    }

    /// The problems that keep a site from running, if it is broken (and not running).
    pub fn problems(&self, id: &str) -> Option<Vec<String>> {
        self.sites.load().broken.get(id).cloned()
    }

    /// Every site that is not running because of its files.
    pub fn broken(&self) -> Broken {
        self.sites.load().broken.clone()
    }

    /// Re-reads one site from disk and runs its rule tests. Valid and every test passing (or
    /// failing tests and `anyway`, the admin who asked to apply anyway): it runs (a broken site
    /// comes in). Otherwise a running version is kept; a site that was not running stays
    /// broken with these problems.
    pub fn reload(&self, id: &str, anyway: Option<&str>) -> Result<Arc<SiteRuntime>, Refusal> {
        let built = build_one(
            &self.sites_dir.join(id),
            &self.plugins_dir,
            &self.limits,
            &self.webhook_policy,
        )
        .map_err(Refusal::Invalid)
        .and_then(|rt| gate(rt, anyway))
        .map(Arc::new);
        self.sites.rcu(|current| {
            let mut next = Sites::clone(current);
            match &built {
                Ok(runtime) => {
                    next.running.insert(id.to_string(), Arc::clone(runtime));
                    next.broken.remove(id);
                }
                Err(refusal) if !next.running.contains_key(id) => {
                    next.broken.insert(id.to_string(), refusal.lines());
                }
                Err(_) => {}
            }
            next
        });
        built
    }

    /// Re-reads every site (SIGHUP), each on its own, and runs its rule tests: a valid one
    /// whose tests pass replaces its running version (or comes in), any other keeps its running
    /// version or is listed broken; folders that are gone are dropped. The problems found, if
    /// any, as `file:line:col: message`.
    pub fn reload_all(&self) -> Result<(), Vec<String>> {
        let current = Sites::clone(&self.sites.load());
        let problems = self
            .load_all(&current, true)
            .map_err(|errors| lines(&errors))?;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.iter().flat_map(Refusal::lines).collect())
        }
    }

    /// Loads every folder (running the rule tests of each when `tested`); a refused site keeps
    /// its version in `previous`, if any. Why each refused site was refused, or why nothing
    /// could be loaded (then nothing changes).
    fn load_all(&self, previous: &Sites, tested: bool) -> Result<Vec<Refusal>, Vec<LoadError>> {
        let mut next = Sites::default();
        let mut problems = Vec::new();
        for dir in site_dirs(&self.sites_dir)? {
            let id = folder_id(&dir);
            let built = build_one(&dir, &self.plugins_dir, &self.limits, &self.webhook_policy)
                .map_err(Refusal::Invalid)
                .and_then(|rt| if tested { gate(rt, None) } else { Ok(rt) });
            match built {
                Ok(rt) => {
                    next.running.insert(id, Arc::new(rt));
                }
                Err(refusal) => {
                    match previous.running.get(&id) {
                        Some(running) => {
                            next.running.insert(id, Arc::clone(running));
                        }
                        None => {
                            next.broken.insert(id, refusal.lines());
                        }
                    }
                    problems.push(refusal);
                }
            }
        }
        self.sites.store(Arc::new(next));
        Ok(problems)
    }
}

/// Listens for SIGHUP and re-reads every site each time; a broken file keeps the running
/// version and is logged as `file:line:col: message`. Must be called inside a tokio runtime.
pub fn reload_on_sighup(chorus: std::sync::Arc<super::Chorus>) {
    #[cfg(unix)]
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGHUP; reload through the API");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            for id in chorus.sites.ids() {
                if let Err(e) = super::rule_source::sync_site(&chorus, &id).await {
                    tracing::error!(site = %id, error = %e, "SIGHUP: cannot read the site's rules from the store");
                }
            }
            let c = std::sync::Arc::clone(&chorus);
            let before = running_files(&chorus);
            match chorus.work.run(move || c.sites.reload_all()).await {
                Some(Ok(())) => {
                    tracing::info!("SIGHUP: sites reloaded");
                    for id in chorus.sites.ids() {
                        announce_reload(&chorus, &id).await;
                    }
                    for (site, files) in &before {
                        if let Err(e) = audit_reload(&chorus, Actor::System, site, files).await {
                            tracing::error!(error = %e, "cannot record the reload");
                        }
                    }
                }
                Some(Err(problems)) => {
                    for e in &problems {
                        tracing::warn!(problem = %e, "SIGHUP: a site has problems or failing rule tests; its running version (if any) is kept, the other sites are reloaded");
                    }
                }
                None => tracing::error!("SIGHUP: reload failed"),
            }
        }
    });
    #[cfg(not(unix))]
    let _ = chorus;
}

/// Each running site's files, before a reload.
fn running_files(chorus: &super::Chorus) -> Vec<(String, BTreeMap<String, String>)> {
    let ids = chorus.sites.ids().into_iter();
    ids.filter_map(|id| chorus.sites.get(&id).map(|rt| (id, rt.files.clone())))
        .collect()
}

/// Records a reload of `site`: every file's hash before and after, and which changed.
async fn audit_reload(
    chorus: &super::Chorus,
    actor: Actor<'_>,
    site: &str,
    before: &BTreeMap<String, String>,
) -> Result<(), super::ServiceError> {
    let rt = chorus.site(site)?;
    let changes = super::site_files::changes(before, &rt.files);
    let forced = rt.applied_anyway.as_ref();
    let event = Event::SiteReloaded {
        site,
        changes: &changes,
        anyway: forced.map(|f| (f.by.as_str(), f.failing_tests.as_slice())),
    };
    audit::record(chorus.store.as_ref(), actor, event).await?;
    Ok(())
}

/// Re-reads one site from disk (audited) and runs its rule tests; a broken file or a failing
/// test keeps the running version, and every problem comes back as `file:line:col: message`
/// (and goes to the log). `anyway` (the admin's name) loads a version whose tests fail,
/// recorded with it. A site whose rules live in the store gets them from there first.
pub async fn reload_site(
    chorus: &super::Chorus,
    actor: Actor<'_>,
    id: &str,
    anyway: Option<&str>,
) -> Result<Arc<SiteRuntime>, super::ServiceError> {
    chorus.known_site(id)?;
    super::rule_source::sync_site(chorus, id).await?;
    let (rt, before) = reload_here(chorus, id, anyway).await?;
    publish_reload(chorus, actor, id, &before).await?;
    Ok(rt)
}

/// Tells the other nodes about a reload done here (`reload_here`) and audits it.
pub async fn publish_reload(
    chorus: &super::Chorus,
    actor: Actor<'_>,
    id: &str,
    before: &BTreeMap<String, String>,
) -> Result<(), super::ServiceError> {
    announce_reload(chorus, id).await;
    audit_reload(chorus, actor, id, before).await
}

/// The reload of `reload_site` on this node only, from its disk as it is: nothing is
/// announced or audited yet (see `publish_reload`). The new version, and the running
/// version's files before it.
pub async fn reload_here(
    chorus: &super::Chorus,
    id: &str,
    anyway: Option<&str>,
) -> Result<(Arc<SiteRuntime>, BTreeMap<String, String>), super::ServiceError> {
    chorus.known_site(id)?;
    // A broken site has no running files: every file of it counts as added.
    let before = chorus.sites.get(id).map(|rt| rt.files.clone());
    let before = before.unwrap_or_default();
    let (registry, site) = (chorus.sites.clone(), id.to_string());
    let by = anyway.map(str::to_string);
    let reloaded = chorus
        .work
        .run_as(id, move || registry.reload(&site, by.as_deref()))
        .await
        .ok_or(super::ServiceError::Unavailable)?;
    match reloaded {
        Ok(rt) => {
            if let Some(forced) = &rt.applied_anyway {
                tracing::warn!(site = id, by = %forced.by, failing = forced.failing_tests.len(), "reload applied anyway although rule tests fail");
            }
            Ok((rt, before))
        }
        Err(refusal) => {
            let lines = refusal.lines();
            for line in &lines {
                tracing::warn!(problem = %line, "reload refused, keeping the running version");
            }
            Err(match refusal {
                Refusal::Invalid(_) => super::ServiceError::SiteInvalid(lines),
                Refusal::TestsFail(_) => super::ServiceError::RuleTestsFailed(lines),
            })
        }
    }
}

/// Tells the other nodes on the store that this node reloaded `id` (they reload it from their
/// own `sites/`, which a deployment keeps the same on every node, after writing the store's
/// rules into it for a site whose rules live there).
async fn announce_reload(chorus: &super::Chorus, id: &str) {
    match chorus.store.mark_site_reloaded(id).await {
        Ok(generation) => {
            chorus
                .sites
                .seen_reloads
                .lock()
                .insert(id.to_string(), generation);
        }
        Err(e) => {
            tracing::warn!(site = %id, error = %e, "cannot tell the other nodes about the reload")
        }
    }
}

/// Who "applied anyway" a version that another node loaded first (its tests are not re-run as
/// a gate here: that node's decision is followed).
pub const FOLLOWED: &str = "(a reload on another node)";

/// How often a node looks for reloads made by another node.
pub const RELOAD_POLL: std::time::Duration = std::time::Duration::from_secs(1);

/// Follows the reloads other nodes announce: every `RELOAD_POLL`, reloads from this node's
/// disk each site whose reload generation moved past the one this node has seen. A polled row
/// rather than LISTEN/NOTIFY: nothing is missed while a connection is down, and every
/// database Chorus may run on has it.
pub async fn follow_reloads(chorus: Arc<super::Chorus>) {
    match chorus.store.site_reload_marks().await {
        Ok(marks) => chorus.sites.seen_reloads.lock().extend(marks),
        Err(e) => tracing::warn!(error = %e, "cannot read the reload marks"),
    }
    loop {
        tokio::time::sleep(RELOAD_POLL).await;
        let marks = match chorus.store.site_reload_marks().await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the reload marks");
                continue;
            }
        };
        for (site, generation) in marks {
            let behind = {
                let seen = chorus.sites.seen_reloads.lock();
                seen.get(&site).is_none_or(|g| *g < generation)
            };
            if !behind {
                continue;
            }
            if let Err(e) = super::rule_source::sync_site(&chorus, &site).await {
                tracing::warn!(%site, error = %e, "cannot read the site's rules from the store; trying again");
                continue;
            }
            let (registry, id) = (chorus.sites.clone(), site.clone());
            // The node that reloaded ran the rule tests (or an admin applied it anyway there).
            match chorus
                .work
                .run(move || registry.reload(&id, Some(FOLLOWED)))
                .await
            {
                Some(Ok(_)) => tracing::info!(%site, "reloaded after another node's reload"),
                Some(Err(refusal)) => {
                    for e in &refusal.lines() {
                        tracing::warn!(%site, problem = %e, "another node reloaded this site; this node's files do not load, keeping the running version");
                    }
                }
                None => continue,
            }
            // Seen either way: a site whose files do not load here is warned about once.
            chorus.sites.seen_reloads.lock().insert(site, generation);
        }
    }
}
