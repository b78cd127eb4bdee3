//! The cost of the demo site's hooks (both shipped plugins and the parking rule) on one
//! response: `cargo bench --bench rules`. Figures in docs/rules.md.
//!
//! Each case is measured twice: wall-clock time (`demo_hooks/...`) and the CPU time of the
//! benchmarking thread (`demo_hooks_cpu/...`), which stays meaningful on a machine busy with
//! other work, where wall-clock time also counts the time the thread waited for a core.

use chorus::plugins::{RuleInput, SiteRules};
use chorus::survey::{load_site, validate, RawAnswer, Site};
use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

fn answers(value: serde_json::Value) -> BTreeMap<String, RawAnswer> {
    value
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), RawAnswer::Json(v.clone())))
        .collect()
}

/// CPU time consumed by the calling thread.
struct ThreadCpuTime {
    wall: WallTime,
}

fn thread_cpu_nanos() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;
    fn start(&self) -> u64 {
        thread_cpu_nanos()
    }
    fn end(&self, started: u64) -> u64 {
        thread_cpu_nanos() - started
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        self.wall.formatter()
    }
}

fn bench_one<M: Measurement + 'static>(
    c: &mut Criterion<M>,
    name: &str,
    site: &Site,
    rules: &SiteRules,
    survey: &str,
    raw: serde_json::Value,
) {
    let survey = site.survey(survey).unwrap();
    let answers = validate(survey, &answers(raw)).unwrap();
    let id = uuid::Uuid::now_v7();
    let input = RuleInput {
        id,
        site,
        survey,
        submitted_at: "2026-01-01T09:00:00.000Z",
        answers: &answers,
    };
    let outcome = rules.evaluate(&input, true);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(!outcome.tags.is_empty());
    c.bench_function(name, |b| {
        b.iter(|| rules.evaluate(std::hint::black_box(&input), true))
    });
}

fn demo<M: Measurement + 'static>(c: &mut Criterion<M>, prefix: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let site = load_site(&root.join("sites/demo-clinic")).unwrap();
    let rules = SiteRules::compile(&site, &root.join("plugins")).unwrap();
    // A typical patient: tried, failed with an error, wants a call, left a comment.
    bench_one(
        c,
        &format!("{prefix}/patient_failed_with_comment"),
        &site,
        &rules,
        "patient-enrollment",
        json!({
            "aware": "yes", "tried": "yes", "enrolled": "no", "what_happened": ["error"],
            "contact_ok": "yes", "contact_phone": "555-0100",
            "comments": "The website kept showing an error and nobody at the desk could help me."
        }),
    );
    bench_one(
        c,
        &format!("{prefix}/patient_no_comment"),
        &site,
        &rules,
        "patient-enrollment",
        json!({ "aware": "no", "tried": "no", "why_not": ["didnt_know"], "contact_ok": "no" }),
    );
    bench_one(
        c,
        &format!("{prefix}/provider"),
        &site,
        &rules,
        "provider-enrollment",
        json!({
            "role": "physician", "offer_to": "some", "when_best": "check_out",
            "who_should": "nurse_ma", "help_available": "no",
            "patient_barriers": ["technical", "no_help"], "concerns": ["workload"]
        }),
    );
    // For scale: compiling the whole site once (done per load and reload, never per response).
    c.bench_function(&format!("{prefix}/compile_site"), |b| {
        b.iter(|| SiteRules::compile(&site, &root.join("plugins")).unwrap())
    });
}

fn wall(c: &mut Criterion) {
    demo(c, "demo_hooks");
}

fn cpu(c: &mut Criterion<ThreadCpuTime>) {
    demo(c, "demo_hooks_cpu");
}

criterion_group!(wall_clock, wall);
criterion_group! {
    name = cpu_time;
    config = Criterion::default().with_measurement(ThreadCpuTime { wall: WallTime });
    targets = cpu
}
criterion_main!(wall_clock, cpu_time);
