//! The cost of the demo site's hooks (both shipped plugins and the parking rule) on one
//! response: `cargo bench --bench rules`. Figures in docs/rules.md.

use chorus::plugins::{RuleInput, SiteRules};
use chorus::survey::{load_site, validate, RawAnswer, Site};
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

fn bench_one(
    c: &mut Criterion,
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
    let outcome = rules.evaluate(&input);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(!outcome.tags.is_empty());
    c.bench_function(name, |b| {
        b.iter(|| rules.evaluate(std::hint::black_box(&input)))
    });
}

fn demo(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let site = load_site(&root.join("sites/demo-clinic")).unwrap();
    let rules = SiteRules::compile(&site, &root.join("plugins")).unwrap();
    // A typical patient: tried, failed with an error, wants a call, left a comment.
    bench_one(
        c,
        "demo_hooks/patient_failed_with_comment",
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
        "demo_hooks/patient_no_comment",
        &site,
        &rules,
        "patient-enrollment",
        json!({ "aware": "no", "tried": "no", "why_not": ["didnt_know"], "contact_ok": "no" }),
    );
    bench_one(
        c,
        "demo_hooks/provider",
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
    c.bench_function("demo_compile_site", |b| {
        b.iter(|| SiteRules::compile(&site, &root.join("plugins")).unwrap())
    });
}

criterion_group!(benches, demo);
criterion_main!(benches);
