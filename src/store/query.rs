//! The typed arguments and results of store operations: what to write, what to list, what
//! came of it. Each is something a query engine can answer with one statement.

use crate::domain::{
    Channel, DeliveryStatus, FollowUpRecords, InvitationProblem, OriginKind, RuleError,
    StoredResponse, Tag, TaskStatus, TaskTally,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Most items one page may hold.
pub const MAX_PAGE: usize = 1000;

/// One page of a listing. `next` is the id of the last item when more match: pass it as the
/// next query's `after`.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Uuid>,
}

impl<T> Page<T> {
    /// The page of `limit` items out of up to `limit + 1` read (the extra one says more match).
    pub fn of(mut items: Vec<T>, limit: usize, id: impl Fn(&T) -> Uuid) -> Page<T> {
        if items.len() > limit {
            items.truncate(limit);
            let next = items.last().map(&id);
            Page { items, next }
        } else {
            Page { items, next: None }
        }
    }
}

/// A key that makes a repeated request harmless: the first response stored under it answers
/// every repeat of the same request, and a different request under the same key is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyKey {
    /// The `submission_id`, or the `Idempotency-Key` header mapped to a UUID.
    pub key: Uuid,
    /// Hex SHA-256 of the request as received (survey, answers, language).
    pub fingerprint: String,
}

/// What the store keeps for one idempotency key of a site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub site: String,
    pub key: Uuid,
    pub survey: String,
    pub fingerprint: String,
    pub response_id: Uuid,
}

/// An invitation link that must admit the response (and is used up by it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationUse {
    pub token_sha256: String,
    pub now_ms: i64,
}

/// A response to store with everything that goes with it.
#[derive(Debug, Clone)]
pub struct NewResponse {
    pub response: StoredResponse,
    /// The tasks and deliveries its follow-ups create.
    pub follow_ups: FollowUpRecords,
    pub idempotency: Option<IdempotencyKey>,
    pub invitation: Option<InvitationUse>,
}

/// What came of storing a response. Only `New` wrote anything.
#[derive(Debug, Clone, PartialEq)]
pub enum Inserted {
    /// Stored: the response as written.
    New(Box<StoredResponse>),
    /// The same request was stored before under this key: the first response, unchanged.
    Replayed(Box<StoredResponse>),
    /// The key was used for a different request (another survey or other answers).
    KeyReused,
    /// The invitation link does not admit this response.
    Invitation(InvitationProblem),
}

/// Filters for listing a site's responses, oldest first.
#[derive(Debug, Clone, Default)]
pub struct ResponseQuery {
    pub site: String,
    pub survey: Option<String>,
    pub group: Option<String>,
    pub tag: Option<String>,
    /// Inclusive lower bound (milliseconds since the epoch).
    pub since_ms: Option<u64>,
    /// Exclusive upper bound (milliseconds since the epoch).
    pub until_ms: Option<u64>,
    /// Start after this response id (the previous page's `next`).
    pub after: Option<Uuid>,
    pub limit: usize,
}

/// New tags and rule errors for a stored response (re-tagging).
#[derive(Debug, Clone)]
pub struct TagUpdate {
    pub site: String,
    pub survey: String,
    pub id: Uuid,
    pub tags: Vec<Tag>,
    pub rule_errors: Vec<RuleError>,
}

/// Tasks that are, or are not, overdue at an instant (active with a due time before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverdueFilter {
    pub at_ms: i64,
    pub overdue: bool,
}

/// Filters for listing a site's tasks: soonest due first (tasks without a due time last),
/// then oldest first.
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    pub site: String,
    /// Any of these statuses; empty means any status.
    pub statuses: Vec<TaskStatus>,
    pub queue: Option<String>,
    pub overdue: Option<OverdueFilter>,
    pub origin: Option<OriginKind>,
    pub after: Option<Uuid>,
    pub limit: usize,
}

/// Filters for listing a site's deliveries, by creation.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    pub site: String,
    pub status: Option<DeliveryStatus>,
    pub newest_first: bool,
    pub after: Option<Uuid>,
    pub limit: usize,
}

/// A worker's request for due deliveries: they are leased to `node` until `lease_until_ms`.
#[derive(Debug, Clone)]
pub struct Claim {
    pub node: String,
    pub now_ms: i64,
    pub lease_until_ms: i64,
    pub limit: usize,
}

/// Which responses a report counts: `since` inclusive, `until` exclusive.
#[derive(Debug, Clone, Default)]
pub struct CountQuery {
    pub site: String,
    pub survey: Option<String>,
    pub since_ms: Option<u64>,
    pub until_ms: Option<u64>,
    /// One row per UTC day as well (for weekly and monthly views); otherwise one row per
    /// survey, version, group and channel.
    pub by_day: bool,
    /// Only responses that arrived by this channel (responses stored before channels were
    /// recorded have none and match no channel).
    pub channel: Option<Channel>,
}

/// What the counts of one row are for; every backend groups by all of these.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountKey {
    pub survey: String,
    pub survey_version: u32,
    pub group: String,
    /// The channel the responses arrived by; `None` for those stored before channels were
    /// recorded.
    pub channel: Option<Channel>,
    /// Days since 1970-01-01 (UTC), when the query asked `by_day`.
    pub day: Option<u64>,
}

/// Respondents of one key, and how many of them were tagged with each code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub respondents: u64,
    pub tagged: BTreeMap<String, u64>,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.respondents += other.respondents;
        for (code, n) in &other.tagged {
            *self.tagged.entry(code.clone()).or_default() += n;
        }
    }

    pub fn add_response(&mut self, r: &StoredResponse) {
        self.respondents += 1;
        for code in r.distinct_codes() {
            *self.tagged.entry(code.to_string()).or_default() += 1;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    pub key: CountKey,
    pub counts: Counts,
}

/// Which follow-up tasks the report's figures cover: those opened in `[since, until)`
/// (milliseconds since the epoch), with `survey`, only those of that survey's responses.
#[derive(Debug, Clone, Default)]
pub struct FollowUpCountQuery {
    pub site: String,
    pub survey: Option<String>,
    pub since_ms: Option<u64>,
    pub until_ms: Option<u64>,
}

impl FollowUpCountQuery {
    /// The tasks of the responses a count query covers (opened in its window).
    pub fn of(q: &CountQuery) -> FollowUpCountQuery {
        let (site, survey) = (q.site.clone(), q.survey.clone());
        let (since_ms, until_ms) = (q.since_ms, q.until_ms);
        FollowUpCountQuery {
            site,
            survey,
            since_ms,
            until_ms,
        }
    }
}

/// What became of the tasks of one queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueCounts {
    pub queue: String,
    pub counts: TaskTally,
}

/// What `recover` found and repaired after an unclean stop.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovery {
    /// The previous run did not stop cleanly.
    pub unclean: bool,
    /// Derived records (tasks, deliveries, index entries) written again.
    pub repaired: u64,
    /// Leases of the previous run released (its deliveries and jobs can be taken at once).
    pub released: u64,
}

/// Which audit entries to list. Every filter that is `Some` must match.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    /// Entries of this site only; `None`: every entry, those of no site included.
    pub site: Option<String>,
    pub action: Option<String>,
    pub actor: Option<String>,
    /// `since_ms <= at_ms < until_ms`.
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Start after this sequence number (in the listing's order): the previous page's `next`.
    pub cursor: Option<u64>,
    /// Oldest first (seq ascending) instead of newest first.
    pub oldest_first: bool,
    pub limit: usize,
}

/// One page of audit entries; `next` is the seq of the last one when more may match.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub items: Vec<crate::domain::AuditEntry>,
    pub next: Option<u64>,
}
