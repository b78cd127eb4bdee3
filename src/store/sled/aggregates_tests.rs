//! Crashes at the points that matter for the persisted aggregates (see the module comment of
//! `aggregates`): a store dropped without an orderly stop is opened again, and its figures are
//! those of counting every record again. A write whose counts a crash lost is written as the
//! store writes it (its mark, then its record) and never counted in memory.

use super::super::SledStore;
use super::*;
use crate::domain::{records_for, Tag, TaskStatus};
use crate::store::{
    CountQuery, CountRow, FollowUpCountQuery, NewResponse, QueueCounts, ReportStore, ResponseStore,
    Store, TaskStore,
};
/// A response of site `s` with these tags, with a task or no follow-up.
fn response(tags: &[&str], task: bool) -> StoredResponse {
    let mut r = super::super::recover::tests::response();
    r.follow_ups.truncate(usize::from(task));
    r.tags = tags
        .iter()
        .map(|c| Tag {
            code: c.to_string(),
            source: "rule".into(),
        })
        .collect();
    r
}

async fn open(dir: &std::path::Path) -> SledStore {
    let store = SledStore::open(dir, 8 << 20, 1).unwrap();
    store.recover().await.unwrap();
    store
}

async fn insert(store: &SledStore, r: &StoredResponse) {
    let new = NewResponse {
        response: r.clone(),
        follow_ups: records_for(r),
        idempotency: None,
        invitation: None,
    };
    store.insert_response(new).await.unwrap();
}

/// Dismisses an open task through the store.
async fn dismiss(store: &SledStore, task: &Task) {
    let change = task
        .change_to(
            TaskStatus::Dismissed,
            "sam",
            Some("moved".into()),
            "now".into(),
        )
        .unwrap();
    store
        .transition_task("s", task.id, TaskStatus::Open, &change)
        .await
        .unwrap();
}

async fn figures(store: &SledStore) -> (Vec<CountRow>, Vec<QueueCounts>) {
    let counts = CountQuery {
        site: "s".into(),
        by_day: true,
        ..CountQuery::default()
    };
    let tasks = FollowUpCountQuery {
        site: "s".into(),
        survey: None,
        since_ms: None,
        until_ms: None,
    };
    (
        store.report_counts(&counts).await.unwrap(),
        store.follow_up_counts(&tasks).await.unwrap(),
    )
}

/// What a crash between a record's write and the next persisted counts leaves: the record
/// (and its day's mark) on disk, counts that never saw it. The next open counts the marked
/// day again, and the figures are those of counting every record.
#[actix_web::test]
async fn a_crash_between_a_record_and_its_counts_is_counted_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    insert(&store, &response(&["a"], true)).await;
    insert(&store, &response(&["a", "b"], false)).await;
    let (task_response, late) = (response(&["b"], true), response(&["a"], false));
    insert(&store, &task_response).await;
    let task = records_for(&task_response).tasks.remove(0);
    store.db.flush().unwrap();
    {
        // Written as the store writes them, never seen by the counts in memory.
        let db = &store.db;
        drop(db.aggregates.mark(Mark::responses(&late)).unwrap());
        let k = keys::response_key(&late.site, &late.survey, late.id);
        db.responses.insert(k, encode(&late).unwrap()).unwrap();
        let mut done = task.clone();
        let change = |t: &Task, to| t.change_to(to, "sam", None, "now".into()).unwrap();
        done.apply(change(&done, TaskStatus::Claimed));
        done.apply(change(&done, TaskStatus::Done));
        drop(db.aggregates.mark(Mark::tasks(&task)).unwrap());
        let k = keys::entity_key(&task.site, task.id);
        db.tasks.insert(k, encode(&done).unwrap()).unwrap();
    }
    // No orderly stop: the run stays marked unclean.
    drop(store);
    let store = open(dir.path()).await;
    let (counts, tasks) = figures(&store).await;
    assert_eq!(counts.len(), 1);
    assert_eq!(
        counts[0].counts.respondents, 4,
        "the late response is counted"
    );
    assert_eq!(counts[0].counts.tagged.get("a"), Some(&3));
    assert_eq!(counts[0].counts.tagged.get("b"), Some(&2));
    assert_eq!(tasks[0].counts.opened, 2);
    assert_eq!(tasks[0].counts.done, 1, "the task done before the crash");
    store.db.rebuild_aggregates().unwrap();
    assert_eq!(figures(&store).await, (counts, tasks), "as a full recount");
}

/// An orderly stop leaves no mark: the next open reads the persisted counts only.
#[actix_web::test]
async fn an_orderly_stop_leaves_counts_and_no_marks() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    for i in 0..5 {
        insert(&store, &response(&["a"], i % 2 == 0)).await;
    }
    let task = store
        .list_tasks(&crate::store::TaskQuery {
            site: "s".into(),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .items
        .remove(0);
    dismiss(&store, &task).await;
    let live = figures(&store).await;
    store.close().await.unwrap();
    drop(store);
    let store = SledStore::open(dir.path(), 8 << 20, 1).unwrap();
    assert!(store.db.aggregates.marks().unwrap().is_empty());
    store.recover().await.unwrap();
    assert_eq!(figures(&store).await, live);
    assert_eq!(live.1[0].counts.dismissed, 1);
    assert_eq!(live.0[0].counts.respondents, 5);
}

/// `response`, with its id and its follow-ups' ids `days_ago` UTC days back.
fn response_back(days_ago: u64, tags: &[&str], task: bool) -> StoredResponse {
    let ms = crate::domain::time::now_ms() as u64 - days_ago * DAY_MS;
    let at = || {
        let ts =
            uuid::Timestamp::from_unix(uuid::NoContext, ms / 1000, (ms % 1000) as u32 * 1_000_000);
        uuid::Uuid::new_v7(ts)
    };
    let mut r = response(tags, task);
    r.id = at();
    r.submitted_at = crate::domain::time::rfc3339_of_id(r.id);
    for f in &mut r.follow_ups {
        f.id = at();
    }
    r
}

/// Written as the store writes a response (its mark, then its record) and never counted in
/// memory: what a crash before the next persisted counts leaves.
fn write_uncounted(db: &Db, r: &StoredResponse) {
    drop(db.aggregates.mark(Mark::responses(r)).unwrap());
    let k = keys::response_key(&r.site, &r.survey, r.id);
    db.responses.insert(k, encode(r).unwrap()).unwrap();
}

/// A crash (the store dropped without an orderly stop), then an open: its figures are those
/// of a full recount. Returns the reopened store and the marks the open found.
async fn crash_and_check(store: SledStore, dir: &std::path::Path) -> (SledStore, Vec<Mark>) {
    drop(store);
    let store = SledStore::open(dir, 8 << 20, 1).unwrap();
    let found = store.db.aggregates.marks().unwrap();
    store.recover().await.unwrap();
    let reopened = figures(&store).await;
    store.db.rebuild_aggregates().unwrap();
    assert_eq!(figures(&store).await, reopened, "as a full recount");
    (store, found)
}

fn old_day(days_ago: u64) -> Mark {
    Mark::Responses {
        site: "s".into(),
        survey: "x".into(),
        day: day_of_id(response_back(days_ago, &[], false).id),
    }
}

/// A day written before the previous sweep and not since loses its mark; the next open reads
/// no day again. Then a write of that old day marks it again before its record, so a crash
/// before its counts are persisted is counted at open.
#[actix_web::test]
async fn a_quiet_day_loses_its_mark_and_its_next_write_marks_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    for days_ago in [0, 3, 3, 9] {
        insert(&store, &response_back(days_ago, &["a"], true)).await;
    }
    let db = &store.db;
    assert_eq!(
        db.aggregates.marks().unwrap().len(),
        6,
        "3 days of responses, 3 of tasks"
    );
    assert_eq!(
        db.aggregates.sweep().unwrap(),
        0,
        "each day was written since the last"
    );
    assert_eq!(db.aggregates.sweep().unwrap(), 6);
    assert!(db.aggregates.marks().unwrap().is_empty());
    assert!(db.aggregates.marked.lock().is_empty());
    let (store, found) = crash_and_check(store, dir.path()).await;
    assert!(found.is_empty(), "nothing to read again: {found:?}");
    assert_eq!(figures(&store).await.0.len(), 3, "three days");
    write_uncounted(&store.db, &response_back(3, &["b"], false));
    assert_eq!(store.db.aggregates.marks().unwrap(), vec![old_day(3)]);
    let (store, found) = crash_and_check(store, dir.path()).await;
    assert_eq!(found, vec![old_day(3)], "only the day written again");
    let counts = figures(&store).await.0;
    assert_eq!(
        counts[1].counts.respondents, 3,
        "the late response is counted"
    );
    assert_eq!(counts[1].counts.tagged.get("b"), Some(&1));
}

/// A re-tag and a task transition on old days whose marks were removed mark them again (a
/// re-tag's counts lost in a crash are counted at open); so does a repair.
#[actix_web::test]
async fn a_retag_and_a_task_closed_on_old_days_mark_them_again() {
    use crate::store::TagUpdate;
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    let old = response_back(5, &["a"], true);
    insert(&store, &old).await;
    insert(&store, &response_back(0, &["a"], false)).await;
    store.db.aggregates.sweep().unwrap();
    store.db.aggregates.sweep().unwrap();
    assert!(store.db.aggregates.marks().unwrap().is_empty());
    // A re-tag through the store: marked before the record changes.
    let update = TagUpdate {
        site: "s".into(),
        survey: "x".into(),
        id: old.id,
        tags: response(&["c"], false).tags,
        rule_errors: vec![],
    };
    assert!(store.update_tags(&update).await.unwrap());
    assert_eq!(store.db.aggregates.marks().unwrap(), vec![old_day(5)]);
    // A task of that day closed through the store.
    let task = records_for(&old).tasks.remove(0);
    dismiss(&store, &task).await;
    assert!(store
        .db
        .aggregates
        .marks()
        .unwrap()
        .contains(&Mark::tasks(&task)));
    // Another re-tag of it whose counts a crash lost.
    let mut late = old.clone();
    late.tags = response(&["d"], false).tags;
    write_uncounted(&store.db, &late);
    let (store, found) = crash_and_check(store, dir.path()).await;
    assert_eq!(
        found.len(),
        2,
        "the old day's responses and tasks: {found:?}"
    );
    let (counts, tasks) = figures(&store).await;
    assert_eq!(counts[0].counts.tagged.get("d"), Some(&1));
    assert_eq!(counts[0].counts.tagged.get("c"), None);
    assert_eq!(tasks[0].counts.dismissed, 1);
    assert_eq!(tasks[0].counts.opened, 1);
}

/// A crash between a sweep's persisted counts and its removal of the marks: the marks are
/// there and their days are read again. A crash right after the removal: the counts are.
#[actix_web::test]
async fn a_crash_between_a_sweeps_counts_and_its_mark_removal_is_exact() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    insert(&store, &response_back(2, &["a"], true)).await;
    insert(&store, &response_back(2, &["b"], false)).await;
    store.db.aggregates.sweep().unwrap();
    // Steps 1 and 2 of the next sweep, not 3.
    let quiet = store.db.aggregates.quiet_days();
    assert_eq!(quiet.len(), 2);
    store.db.aggregates.persist().unwrap();
    let (store, found) = crash_and_check(store, dir.path()).await;
    assert_eq!(found.len(), 2, "still marked: {found:?}");
    // The whole sweep, then the crash.
    insert(&store, &response_back(2, &["a"], false)).await;
    store.db.aggregates.sweep().unwrap();
    let quiet = store.db.aggregates.quiet_days();
    store.db.aggregates.persist().unwrap();
    assert_eq!(store.db.aggregates.unmark(quiet).unwrap(), 1);
    let (store, found) = crash_and_check(store, dir.path()).await;
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(figures(&store).await.0[0].counts.respondents, 3);
}

/// A write racing a sweep keeps its day's mark: one that marks between the sweep's first
/// step and its removal, and one that holds its mark across whole sweeps.
#[actix_web::test]
async fn a_write_during_a_sweep_keeps_its_days_mark() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    insert(&store, &response_back(4, &["a"], false)).await;
    let db = &store.db;
    db.aggregates.sweep().unwrap();
    let quiet = db.aggregates.quiet_days();
    assert_eq!(quiet, vec![old_day(4)]);
    write_uncounted(db, &response_back(4, &["b"], false));
    db.aggregates.persist().unwrap();
    assert_eq!(
        db.aggregates.unmark(quiet).unwrap(),
        0,
        "written since step 1"
    );
    assert_eq!(db.aggregates.marks().unwrap(), vec![old_day(4)]);
    // A writer that holds its mark while two sweeps run.
    let late = response_back(4, &["c"], false);
    let holding = db.aggregates.mark(Mark::responses(&late)).unwrap();
    db.aggregates.sweep().unwrap();
    assert_eq!(db.aggregates.sweep().unwrap(), 0, "held");
    let k = keys::response_key(&late.site, &late.survey, late.id);
    db.responses.insert(k, encode(&late).unwrap()).unwrap();
    drop(holding);
    assert_eq!(db.aggregates.marks().unwrap(), vec![old_day(4)]);
    let (store, _) = crash_and_check(store, dir.path()).await;
    let counts = figures(&store).await.0;
    assert_eq!(counts[0].counts.respondents, 3);
    assert_eq!(counts[0].counts.tagged.get("c"), Some(&1));
}

/// A response whose task a crash cut off is on a marked day: the open writes the task and
/// counts it, however long ago the run started.
#[actix_web::test]
async fn a_crash_before_a_responses_task_is_repaired_on_its_marked_day() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    insert(&store, &response_back(7, &["a"], true)).await;
    store.db.aggregates.sweep().unwrap();
    store.db.aggregates.sweep().unwrap();
    let cut = response_back(7, &["a"], true);
    write_uncounted(&store.db, &cut);
    drop(store);
    let store = SledStore::open(dir.path(), 8 << 20, 1).unwrap();
    let recovery = store.recover().await.unwrap();
    assert!(recovery.unclean);
    assert_eq!(
        recovery.repaired, 1,
        "the task (the response has no webhook)"
    );
    let task = records_for(&cut).tasks.remove(0);
    assert!(store.task("s", task.id).await.unwrap().is_some());
    let live = figures(&store).await;
    assert_eq!(live.1[0].counts.opened, 2);
    store.db.rebuild_aggregates().unwrap();
    assert_eq!(figures(&store).await, live, "as a full recount");
}

/// A rebuild cut short by a crash (its entries removed, its counts not all persisted) is done
/// again at the next open.
#[actix_web::test]
async fn a_rebuild_cut_short_is_done_again_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path()).await;
    insert(&store, &response_back(1, &["a"], true)).await;
    insert(&store, &response_back(0, &["b"], false)).await;
    let live = figures(&store).await;
    store.db.aggregates.begin_rebuild().unwrap();
    let (store, _) = crash_and_check(store, dir.path()).await;
    assert_eq!(figures(&store).await, live);
    assert!(!store.db.aggregates.tree.contains_key([REBUILD]).unwrap());
}
