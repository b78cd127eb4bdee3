//! The report for a site with 100,000 stored responses (SPEC "Report"; target < 200 ms), or
//! with `CHORUS_BENCH_RESPONSES` of them; on sled, or on the PostgreSQL database of
//! `CHORUS_BENCH_STORE` (bench/postgres.sh runs it with 1,000,000; target < 100 ms).
//!
//! `cargo bench --bench report` — builds a temporary sled store with 100,000 tagged responses
//! of the demo site spread over a year, one patient in four with a call-back task (about
//! 20,000 tasks, 5,000 of them done with an outcome), opens it again (which builds the report
//! and follow-up counts from them: the startup cost, printed once), then measures the report
//! (with its follow-up figures) without filters, for one survey, per week, and for a window
//! with partial edge days (which reads those two days' responses and tasks from the store).

use chorus::domain::{records_for, Action, FollowUp, Priority, StatusChange, TaskStatus};
use chorus::domain::{StoredResponse, Tag};
use chorus::services::reports::{site_report, ReportFilter};
use chorus::services::sites::SiteRegistry;
use chorus::services::Chorus;
use chorus::store::{Backend, NewResponse, StoreConfig};
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Call-back tasks marked done (with an outcome) before the measurements.
const DONE_TASKS: usize = 5_000;
const DAY_MS: u64 = 86_400_000;
/// 2025-01-01T00:00:00Z.
const START_MS: u64 = 1_735_689_600_000;

const CODES: [&str; 12] = [
    "awareness",
    "enrollment_technical",
    "enrollment_assistance",
    "information_overload",
    "wrong_setting",
    "wrong_messenger",
    "selective_promotion",
    "provider_ambivalence",
    "privacy_concern",
    "access_technology",
    "value_unclear",
    "parking",
];

/// A small deterministic generator (no rand dependency needed for fixture data).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn responses() -> u64 {
    std::env::var("CHORUS_BENCH_RESPONSES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}

fn response(i: u64, n: u64, rng: &mut Lcg) -> StoredResponse {
    let ms = START_MS + i * (365 * DAY_MS / n);
    let ts =
        uuid::Timestamp::from_unix(uuid::NoContext, ms / 1000, ((ms % 1000) * 1_000_000) as u32);
    let id = uuid::Uuid::new_v7(ts);
    let (survey, group) = match rng.next() % 20 {
        0 => ("leadership-enrollment", "leadership"),
        1..=3 => ("provider-enrollment", "provider"),
        _ => ("patient-enrollment", "patient"),
    };
    let tags = (0..rng.next() % 4)
        .map(|_| Tag {
            code: CODES[(rng.next() % CODES.len() as u64) as usize].into(),
            source: "barrier_keywords".into(),
        })
        .collect();
    let mut answers = chorus::survey::Answers::new();
    answers.insert(
        "aware".into(),
        chorus::domain::AnswerValue::Text("yes".into()),
    );
    answers.insert(
        "comments".into(),
        chorus::domain::AnswerValue::Text("The sign-up page kept timing out on my phone.".into()),
    );
    StoredResponse {
        id,
        site: "demo-clinic".into(),
        survey: survey.into(),
        survey_version: 1,
        group: group.into(),
        submitted_at: chorus::domain::time::rfc3339_of_id(id),
        language: None,
        submission_id: None,
        channel: None,
        kiosk: None,
        answers,
        tags,
        rule_errors: vec![],
        follow_ups: if group == "patient" && i.is_multiple_of(4) {
            vec![FollowUp {
                id: uuid::Uuid::new_v7(ts),
                source: "enrollment_followup".into(),
                added_at: None,
                action: Action::Task {
                    queue: "enrollment-help".into(),
                    title: "Call back to help finish portal enrollment".into(),
                    due_hours: Some(48),
                    priority: Priority::Normal,
                    note: None,
                },
            }]
        } else {
            vec![]
        },
    }
}

/// `to` by the bench, at the task's creation plus a day, with an outcome when done.
fn change(to: TaskStatus, created_at: &str, outcome: Option<&str>) -> StatusChange {
    let at = chorus::domain::time::ms_of_rfc3339(created_at).unwrap() + DAY_MS as i64;
    StatusChange {
        status: to,
        by: "bench".into(),
        at: chorus::domain::time::rfc3339_of_ms(at),
        reason: None,
        outcome: outcome.map(str::to_string),
    }
}

fn bench_report(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let backend = match std::env::var("CHORUS_BENCH_STORE") {
        Ok(url) if !url.is_empty() => Backend::Postgres { url, pool_size: 16 },
        _ => Backend::Sled {
            dir: dir.path().to_path_buf(),
            cache_capacity_bytes: 64 << 20,
        },
    };
    let config = StoreConfig {
        backend,
        threads: 2,
    };
    let n = responses();
    let loaded = Instant::now();
    rt.block_on(async {
        let store = chorus::store::open(&config).await.unwrap();
        let mut rng = Lcg(42);
        // Many writes at a time share each flush (the store's group commit).
        let mut tasks = Vec::new();
        for chunk in (0..n).collect::<Vec<_>>().chunks(512) {
            let writes = chunk.iter().map(|i| {
                let response = response(*i, n, &mut rng);
                let follow_ups = records_for(&response);
                tasks.extend(
                    follow_ups
                        .tasks
                        .iter()
                        .map(|t| (t.id, t.created_at.clone())),
                );
                store.insert_response(NewResponse {
                    response,
                    follow_ups,
                    idempotency: None,
                    invitation: None,
                })
            });
            for written in futures_util::future::join_all(writes.collect::<Vec<_>>()).await {
                written.unwrap();
            }
        }
        let outcomes = ["enrolled", "not_reached", "declined"];
        for (n, chunk) in tasks[..DONE_TASKS].chunks(512).enumerate() {
            let claims = chunk.iter().map(|(id, at)| {
                let c = change(TaskStatus::Claimed, at, None);
                let store = &store;
                async move {
                    store
                        .transition_task("demo-clinic", *id, TaskStatus::Open, &c)
                        .await
                        .unwrap();
                    let d = change(TaskStatus::Done, at, Some(outcomes[n % 3]));
                    store
                        .transition_task("demo-clinic", *id, TaskStatus::Claimed, &d)
                        .await
                        .unwrap();
                }
            });
            futures_util::future::join_all(claims.collect::<Vec<_>>()).await;
        }
        eprintln!("{} call-back tasks, {DONE_TASKS} done", tasks.len());
        store.close().await.unwrap();
    });
    eprintln!(
        "{n} responses stored through insert_response in {:?}",
        loaded.elapsed()
    );
    let started = Instant::now();
    let store = rt.block_on(chorus::store::open(&config)).unwrap();
    eprintln!(
        "store opened with the counts of {n} stored responses and their tasks in {:?} \
         (startup cost)",
        started.elapsed()
    );
    let site = chorus::survey::load_site(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("sites/demo-clinic"),
    )
    .unwrap();
    let chorus = Chorus::new(store, SiteRegistry::empty(), 1);
    let report = |filter: &ReportFilter| rt.block_on(site_report(&chorus, &site, filter)).unwrap();

    let mut group = c.benchmark_group(format!("report_{}k", n / 1000));
    group.measurement_time(Duration::from_secs(5));
    let all = ReportFilter::default();
    group.bench_function("all", |b| b.iter(|| report(&all)));
    let one_survey = ReportFilter {
        survey: Some("patient-enrollment".into()),
        ..ReportFilter::default()
    };
    group.bench_function("one_survey", |b| b.iter(|| report(&one_survey)));
    let weekly = ReportFilter {
        interval: Some(chorus::report::trend::Interval::Week),
        ..ReportFilter::default()
    };
    group.bench_function("weekly", |b| b.iter(|| report(&weekly)));
    // 2025-03-01 12:00 to 2025-09-01 12:00: two half days are read from the store.
    let window = ReportFilter {
        survey: None,
        since_ms: Some(START_MS + 59 * DAY_MS + DAY_MS / 2),
        until_ms: Some(START_MS + 243 * DAY_MS + DAY_MS / 2),
        ..ReportFilter::default()
    };
    group.bench_function("window_with_partial_days", |b| b.iter(|| report(&window)));
    group.finish();
}

criterion_group!(benches, bench_report);
criterion_main!(benches);
