//! The audit service: the only place that builds audit entries (docs/audit.md). Each `Event`
//! names the fields it records, so an answer, free text or a phone number has no way in: the
//! details hold ids, names of users, roles, counts, query filters and file hashes only.

pub use super::audit_filters::AuditFilters;
use super::ServiceError;
pub use crate::domain::audit::ACTIONS;
use crate::domain::audit::{ACTOR_CLI, ACTOR_SYSTEM, GENESIS_HASH};
use crate::domain::time::now_ms;
use crate::domain::{AuditEntry, NewAuditEntry, RuleVersion};
use crate::store::{AuditQuery, ResponseQuery, Store, StoreError, MAX_PAGE};
use std::collections::BTreeMap;
use std::io::Write;

/// Who did it.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    User(&'a str),
    Cli,
    System,
}

impl Actor<'_> {
    fn name(&self) -> String {
        match self {
            Actor::User(name) => (*name).to_string(),
            Actor::Cli => ACTOR_CLI.into(),
            Actor::System => ACTOR_SYSTEM.into(),
        }
    }
}

/// How a file of a site changed in a reload.
#[derive(Debug, Clone, PartialEq)]
pub struct FileChange {
    pub file: String,
    /// Hex SHA-256 before and after; `None` where the file did not exist.
    pub before: Option<String>,
    pub after: Option<String>,
}

/// What happened, with what may be recorded of it.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    Started {
        version: &'a str,
    },
    Stopped,
    SignedIn {
        user: &'a str,
    },
    /// `user` as typed (it may name no account).
    /// `user`: the account the form named, `None` when it names none.
    SignInFailed {
        user: Option<&'a str>,
    },
    SignInRefused {
        user: Option<&'a str>,
        retry_after_s: u64,
    },
    SignedOut {
        user: &'a str,
    },
    SessionExpired {
        user: &'a str,
    },
    /// Idle sessions nobody came back to, removed at a sign-in.
    SessionsCleared {
        count: u64,
    },
    UserCreated {
        name: &'a str,
        site: &'a str,
        role: &'a str,
    },
    RoleChanged {
        name: &'a str,
        site: &'a str,
        from: &'a str,
        to: &'a str,
    },
    /// `via`: `cli`, `link` (an invitation or first-start link), `own` (the user changed it).
    PasswordSet {
        name: &'a str,
        site: &'a str,
        via: &'a str,
    },
    TokenCreated {
        name: &'a str,
        site: &'a str,
    },
    TokenRevoked {
        name: &'a str,
        site: &'a str,
    },
    UserDisabled {
        name: &'a str,
        site: &'a str,
    },
    UserEnabled {
        name: &'a str,
        site: &'a str,
    },
    /// A link to set a password was made (the link itself is never recorded).
    InviteCreated {
        name: &'a str,
        site: &'a str,
        expires_in_hours: u32,
    },
    ResponseRead {
        site: &'a str,
        id: &'a str,
    },
    ResponsesListed {
        query: &'a ResponseQuery,
        rows: u64,
    },
    ResponsesExported {
        query: &'a ResponseQuery,
        format: &'a str,
        rows: u64,
    },
    TaskChanged {
        site: &'a str,
        task: &'a str,
        from: &'a str,
        to: &'a str,
        outcome: Option<&'a str>,
    },
    DeliveryRetried {
        site: &'a str,
        delivery: &'a str,
    },
    SiteReloaded {
        site: &'a str,
        changes: &'a [FileChange],
        /// An admin's "apply anyway": who, and the rule tests that failed.
        anyway: Option<(&'a str, &'a [String])>,
    },
    /// Rule files or rule test files changed in the admin app's editor or by `chorus rules
    /// push` (`rules_applied`), or a version of one brought back (`rules_restored`).
    RulesChanged {
        site: &'a str,
        versions: &'a [RuleVersion],
        /// What the admin wrote about the change (their words about the rules, never
        /// anything a respondent wrote).
        message: &'a str,
        /// The version restored, for a restore.
        restores: Option<u64>,
    },
    RetagRun {
        site: &'a str,
        total: u64,
        changed: u64,
        status: &'a str,
    },
    InvitationsCreated {
        site: &'a str,
        survey: &'a str,
        count: u64,
        expires_in_days: u32,
    },
    BackupWritten {
        file: &'a str,
        records: u64,
    },
    Restored {
        file: &'a str,
        records: u64,
    },
    /// A kiosk registered (`kiosk_registered`), enrolled by a tablet (`kiosk_enrolled`) or
    /// revoked (`kiosk_revoked`): its enrolment link and cookie are credentials.
    Kiosk {
        action: &'static str,
        site: &'a str,
        id: &'a str,
        survey: &'a str,
    },
}

fn details<const N: usize>(pairs: [(&str, String); N]) -> BTreeMap<String, String> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A responses query's filters and how many rows it gave.
fn filters(q: &ResponseQuery, rows: u64) -> BTreeMap<String, String> {
    let mut d = details([("rows", rows.to_string())]);
    let mut put = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            d.insert(k.to_string(), v);
        }
    };
    put("survey", q.survey.clone());
    put("group", q.group.clone());
    put("tag", q.tag.clone());
    put("since_ms", q.since_ms.map(|t| t.to_string()));
    put("until_ms", q.until_ms.map(|t| t.to_string()));
    put("after", q.after.map(|t| t.to_string()));
    d
}

/// `before → after` of a file hash (`-` for no file).
fn change(c: &FileChange) -> String {
    let or_none = |h: &Option<String>| h.clone().unwrap_or_else(|| "-".into());
    format!("{} → {}", or_none(&c.before), or_none(&c.after))
}

impl Event<'_> {
    /// (action, site, target, details)
    fn parts(
        &self,
    ) -> (
        &'static str,
        Option<&str>,
        Option<&str>,
        BTreeMap<String, String>,
    ) {
        use Event::*;
        let none = BTreeMap::new;
        match self {
            Started { version } => (
                "start",
                None,
                None,
                details([("version", version.to_string())]),
            ),
            Stopped => ("stop", None, None, none()),
            SignedIn { user } => ("sign_in", None, Some(user), none()),
            SignInFailed { user } => ("sign_in_failed", None, *user, account(*user)),
            SignInRefused {
                user,
                retry_after_s,
            } => {
                let mut d = account(*user);
                d.insert("retry_after_s".into(), retry_after_s.to_string());
                ("sign_in_refused", None, *user, d)
            }
            SignedOut { user } => ("sign_out", None, Some(user), none()),
            SessionExpired { user } => ("session_expired", None, Some(user), none()),
            SessionsCleared { count } => (
                "sessions_cleared",
                None,
                None,
                details([("count", count.to_string())]),
            ),
            UserCreated { name, site, role } => (
                "user_created",
                site_of_user(site),
                Some(name),
                details([("site", site.to_string()), ("role", role.to_string())]),
            ),
            RoleChanged {
                name,
                site,
                from,
                to,
            } => (
                "role_changed",
                site_of_user(site),
                Some(name),
                details([("role", format!("{from} → {to}"))]),
            ),
            PasswordSet { name, site, via } => (
                "password_set",
                site_of_user(site),
                Some(name),
                details([("via", via.to_string())]),
            ),
            TokenCreated { name, site } => {
                ("token_created", site_of_user(site), Some(name), none())
            }
            TokenRevoked { name, site } => {
                ("token_revoked", site_of_user(site), Some(name), none())
            }
            UserDisabled { name, site } => {
                ("user_disabled", site_of_user(site), Some(name), none())
            }
            UserEnabled { name, site } => ("user_enabled", site_of_user(site), Some(name), none()),
            InviteCreated {
                name,
                site,
                expires_in_hours,
            } => (
                "invite_created",
                site_of_user(site),
                Some(name),
                details([("expires_in_hours", expires_in_hours.to_string())]),
            ),
            ResponseRead { site, id } => ("response_read", Some(site), Some(id), none()),
            ResponsesListed { query, rows } => (
                "responses_listed",
                Some(&query.site),
                None,
                filters(query, *rows),
            ),
            ResponsesExported {
                query,
                format,
                rows,
            } => {
                let mut d = filters(query, *rows);
                d.insert("format".into(), format.to_string());
                ("responses_exported", Some(&query.site), None, d)
            }
            TaskChanged {
                site,
                task,
                from,
                to,
                outcome,
            } => {
                let mut d = details([("status", format!("{from} → {to}"))]);
                if let Some(o) = outcome {
                    d.insert("outcome".into(), o.to_string());
                }
                ("task_changed", Some(site), Some(task), d)
            }
            DeliveryRetried { site, delivery } => {
                ("delivery_retried", Some(site), Some(delivery), none())
            }
            SiteReloaded {
                site,
                changes,
                anyway,
            } => {
                let mut d = BTreeMap::new();
                if let Some((by, failing)) = anyway {
                    d.insert("applied_anyway_by".into(), by.to_string());
                    d.insert("failing_tests".into(), failing.join("; "));
                }
                let changed: Vec<&str> = changes
                    .iter()
                    .filter(|c| c.before != c.after)
                    .map(|c| c.file.as_str())
                    .collect();
                d.insert("changed".into(), changed.join(","));
                for c in changes.iter() {
                    d.insert(format!("sha256:{}", c.file), change(c));
                }
                ("site_reloaded", Some(site), None, d)
            }
            RulesChanged {
                site,
                versions,
                message,
                restores,
            } => {
                let files: Vec<&str> = versions.iter().map(|v| v.file.as_str()).collect();
                let mut d = details([("files", files.join(",")), ("message", message.to_string())]);
                for v in versions.iter() {
                    let gone = if v.deleted { " (deleted)" } else { "" };
                    d.insert(format!("version:{}", v.file), format!("{}{gone}", v.number));
                }
                let failing = versions.iter().map(|v| v.applied_anyway.len()).max();
                if let Some(failing @ 1..) = failing {
                    d.insert(
                        "applied_anyway".into(),
                        format!("{failing} failing test(s)"),
                    );
                }
                let action = match restores {
                    Some(n) => {
                        d.insert("restores".into(), n.to_string());
                        "rules_restored"
                    }
                    None => "rules_applied",
                };
                let target = match files.as_slice() {
                    [one] => Some(*one),
                    _ => None,
                };
                (action, Some(site), target, d)
            }
            RetagRun {
                site,
                total,
                changed,
                status,
            } => (
                "retag_run",
                Some(site),
                None,
                details([
                    ("total", total.to_string()),
                    ("changed", changed.to_string()),
                    ("status", status.to_string()),
                ]),
            ),
            InvitationsCreated {
                site,
                survey,
                count,
                expires_in_days,
            } => (
                "invitations_created",
                Some(site),
                Some(survey),
                details([
                    ("count", count.to_string()),
                    ("expires_in_days", expires_in_days.to_string()),
                ]),
            ),
            BackupWritten { file, records } => (
                "backup",
                None,
                Some(file),
                details([("records", records.to_string())]),
            ),
            Restored { file, records } => (
                "restore",
                None,
                Some(file),
                details([("records", records.to_string())]),
            ),
            Kiosk {
                action,
                site,
                id,
                survey,
            } => (
                action,
                Some(site),
                Some(id),
                details([("survey", survey.to_string())]),
            ),
        }
    }
}

/// `account: unknown` when a sign-in named no account.
fn account(user: Option<&str>) -> BTreeMap<String, String> {
    match user {
        Some(_) => BTreeMap::new(),
        None => details([("account", "unknown".to_string())]),
    }
}

/// An all-sites user's entries belong to no single site.
fn site_of_user(site: &str) -> Option<&str> {
    (site != crate::domain::ALL_SITES).then_some(site)
}

/// Appends an entry; returns once it is durable.
pub async fn record(
    store: &dyn Store,
    actor: Actor<'_>,
    event: Event<'_>,
) -> Result<AuditEntry, StoreError> {
    let (action, site, target, details) = event.parts();
    let entry = NewAuditEntry {
        at_ms: now_ms(),
        actor: actor.name(),
        action: action.to_string(),
        site: site.map(str::to_string),
        target: target.map(str::to_string),
        details,
    };
    store.append_audit(entry).await
}

/// At every start: the head of the trail in the log (for the operator to keep elsewhere),
/// then the start's own entry.
pub async fn record_start(store: &dyn Store) -> Result<AuditEntry, StoreError> {
    match store.audit_head().await? {
        Some(head) => tracing::info!(seq = head.seq, hash = %head.hash, "audit trail head"),
        None => tracing::info!(hash = GENESIS_HASH, "audit trail head: the trail is empty"),
    }
    let version = env!("CARGO_PKG_VERSION");
    record(store, Actor::System, Event::Started { version }).await
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verification {
    /// Every entry in place; the hash of the last (`GENESIS_HASH` for an empty trail).
    Intact { count: u64, head: String },
    /// The first entry that does not fit, and why.
    Broken { seq: u64, reason: String },
}

/// Walks the chain from the first entry: each must have the next seq, the previous entry's
/// hash as `prev_hash`, and the hash of its own fields.
pub async fn verify(store: &dyn Store) -> Result<Verification, ServiceError> {
    let mut query = AuditQuery {
        oldest_first: true,
        limit: MAX_PAGE,
        ..AuditQuery::default()
    };
    let (mut count, mut prev) = (0u64, GENESIS_HASH.to_string());
    loop {
        let page = store.list_audit(&query).await?;
        for e in &page.items {
            let broken = |reason: String| Ok(Verification::Broken { seq: e.seq, reason });
            if e.seq != count + 1 {
                return broken(format!(
                    "entry {} is missing (the next one is {})",
                    count + 1,
                    e.seq
                ));
            }
            if e.prev_hash != prev {
                return broken(format!("its prev_hash is not the hash of entry {count}"));
            }
            if e.computed_hash() != e.hash {
                return broken("its fields do not give its hash: it was changed".into());
            }
            count += 1;
            prev = e.hash.clone();
        }
        match page.next {
            Some(n) => query.cursor = Some(n),
            None => break,
        }
    }
    Ok(Verification::Intact { count, head: prev })
}

/// Entries of `site` (all with `None`) at or after `since_ms`, oldest first, as JSON lines;
/// returns how many.
pub async fn export(
    store: &dyn Store,
    site: Option<&str>,
    since_ms: Option<i64>,
    out: &mut dyn Write,
) -> Result<u64, ServiceError> {
    let mut query = AuditQuery {
        site: site.map(str::to_string),
        since_ms,
        oldest_first: true,
        limit: MAX_PAGE,
        ..AuditQuery::default()
    };
    let mut n = 0;
    loop {
        let page = store.list_audit(&query).await?;
        for e in &page.items {
            serde_json::to_writer(&mut *out, e)
                .map_err(|e| StoreError::Backend(format!("cannot write: {e}")))?;
            out.write_all(b"\n")
                .map_err(|e| StoreError::Backend(format!("cannot write: {e}")))?;
            n += 1;
        }
        match page.next {
            Some(c) => query.cursor = Some(c),
            None => return Ok(n),
        }
    }
}

/// A page of entries, newest first, for the API and the admin page (reading changes nothing).
pub async fn list(
    store: &dyn Store,
    query: &AuditQuery,
) -> Result<crate::store::AuditPage, ServiceError> {
    Ok(store.list_audit(query).await?)
}
