//! Checks one recovered crash image: every response acknowledged before its copy started is
//! stored exactly once (by submission id, with the acknowledged id), and so are its task and
//! its webhook delivery. Responses are read from `chorus export` of the recovered store, tasks
//! and deliveries from its snapshot in the backup format (read with the format's reader),
//! taken before any recovery could repair derived records.

use super::Acked;
use chorus::store::{for_each_record, BackupRecord};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use uuid::Uuid;

fn lines(path: &Path) -> Vec<serde_json::Value> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::io::BufReader::new(file)
        .lines()
        .map(|l| l.expect("read"))
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(&l).expect("a JSON line"))
        .collect()
}

fn uuid_at(v: &serde_json::Value, field: &str) -> Option<Uuid> {
    v[field].as_str()?.parse().ok()
}

/// How often each task id and each delivery's follow-up id appear in a backup.
fn derived_counts(backup: &Path) -> (HashMap<Uuid, usize>, HashMap<Uuid, usize>) {
    let (mut tasks, mut deliveries) = (HashMap::new(), HashMap::new());
    let file = std::fs::File::open(backup).unwrap_or_else(|e| panic!("{}: {e}", backup.display()));
    for_each_record(
        &mut std::io::BufReader::new(file),
        &mut |record| match record {
            BackupRecord::Task(t) => *tasks.entry(t.id).or_default() += 1,
            BackupRecord::Delivery(d) => *deliveries.entry(d.follow_up_id).or_default() += 1,
            _ => {}
        },
    )
    .unwrap_or_else(|e| panic!("{}: {e}", backup.display()));
    (tasks, deliveries)
}

pub fn run(acked: &Path, export: &Path, backup: &Path) -> i32 {
    let acked: Vec<Acked> = lines(acked)
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("an acknowledged response"))
        .collect();
    let stored = lines(export);
    let mut by_submission: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for r in &stored {
        if let (Some(sub), Some(id)) = (uuid_at(r, "submission_id"), uuid_at(r, "id")) {
            by_submission.entry(sub).or_default().push(id);
        }
    }
    let (tasks, deliveries) = derived_counts(backup);

    let (mut lost, mut wrong_id, mut tasks_missing, mut deliveries_missing) = (0, 0, 0, 0);
    let (mut task_total, mut webhook_total) = (0, 0);
    let mut lost_ms: Option<(u64, u64)> = None;
    for a in &acked {
        match by_submission.get(&a.submission_id).map(Vec::as_slice) {
            None | Some([]) => {
                lost += 1;
                let (old, new) = lost_ms.unwrap_or((a.acked_ms, a.acked_ms));
                lost_ms = Some((old.min(a.acked_ms), new.max(a.acked_ms)));
            }
            Some([id]) if *id == a.id => {}
            Some(_) => wrong_id += 1,
        }
        for t in &a.tasks {
            task_total += 1;
            if tasks.get(t) != Some(&1) {
                tasks_missing += 1;
            }
        }
        for w in &a.webhooks {
            webhook_total += 1;
            if deliveries.get(w) != Some(&1) {
                deliveries_missing += 1;
            }
        }
    }
    // Exactly once, over everything stored (acknowledged or not).
    let duplicated = by_submission.values().filter(|ids| ids.len() > 1).count();
    let extra = stored.len().saturating_sub(acked.len());
    println!(
        "acknowledged {} (with {task_total} tasks, {webhook_total} webhooks), stored {} ({extra} \
         more, not yet acknowledged at the copy), lost {lost}, duplicated {duplicated}, wrong id \
         {wrong_id}, tasks missing {tasks_missing}, deliveries missing {deliveries_missing}",
        acked.len(),
        stored.len(),
    );
    if let Some((oldest, newest)) = lost_ms {
        let last = acked.iter().map(|a| a.acked_ms).max().unwrap_or(0);
        println!(
            "  the lost responses were acknowledged {} to {} ms before the last acknowledgement \
             preceding the copy",
            last - newest,
            last - oldest
        );
    }
    let bad = lost + duplicated + wrong_id + tasks_missing + deliveries_missing;
    i32::from(bad > 0)
}
