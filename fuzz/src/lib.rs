//! What the fuzz targets share: the demo site compiled once, a scratch folder for the loaders
//! (they read files), and the invariants every accepted response must hold.

use chorus::followups::address_policy::AddressPolicy;
use chorus::plugins::Limits;
use chorus::response::StoredResponse;
use chorus::sites::SiteRuntime;
use chorus::submit::{build_response, Submission};
use chorus::survey::{load_site, AnswerValue, QuestionKind};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// The shipped demo site with its plugins and rules, compiled with the real limits.
pub fn demo() -> &'static SiteRuntime {
    static DEMO: OnceLock<SiteRuntime> = OnceLock::new();
    DEMO.get_or_init(|| {
        let site = load_site(&repo().join("sites/demo-clinic")).expect("the demo site loads");
        SiteRuntime::build(site, &repo().join("plugins"), &Limits::default())
            .expect("the demo rules compile")
    })
}

/// A folder of this process's own, in memory when /dev/shm exists; removed by nobody (the
/// fuzzer runs until stopped), so it is small and rewritten in place.
pub fn scratch(name: &str) -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let dir = base
        .join(format!("chorus-fuzz-{}", std::process::id()))
        .join(name);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// The webhook policy of a server with no private range allowed.
pub fn strict_policy() -> AddressPolicy {
    AddressPolicy::default()
}

/// Runs one decoded submission through validation and the demo rules; an accepted one must
/// hold every invariant the store and the exports rely on.
pub fn submit_to_demo(submission: &Submission) {
    if let Ok(response) = build_response(demo(), submission) {
        check_response(&response);
    }
}

/// Accepted answers are clean: text without control characters (tab and newline aside),
/// trimmed and within its limit; choices are options; the language is one the site serves;
/// every CSV cell of the response is inert.
pub fn check_response(r: &StoredResponse) {
    let rt = demo();
    let survey = rt.site.survey(&r.survey).expect("a known survey");
    for (id, value) in &r.answers {
        let q = survey.question(id).expect("answers name questions");
        match (q.kind, value) {
            (QuestionKind::Text, AnswerValue::Text(s)) => {
                assert!(!s.chars().any(|c| c.is_control() && c != '\t' && c != '\n'));
                assert_eq!(s.trim(), s);
                assert!(!s.is_empty() && s.chars().count() <= q.text_max_length());
            }
            (QuestionKind::YesNo, AnswerValue::Text(s)) => assert!(s == "yes" || s == "no"),
            (QuestionKind::SingleChoice, AnswerValue::Text(s)) => assert!(q.option(s).is_some()),
            (QuestionKind::MultiChoice, AnswerValue::Choices(list)) => {
                assert!(!list.is_empty() && list.iter().all(|v| q.option(v).is_some()));
            }
            (QuestionKind::Scale | QuestionKind::Number, AnswerValue::Int(_)) => {}
            (kind, value) => panic!("{id}: a {kind:?} question answered {value:?}"),
        }
    }
    if let Some(lang) = &r.language {
        let served = chorus::survey::language::served(&rt.site, None);
        assert!(served.contains(lang), "language {lang}");
    }
    let columns = chorus::response_csv::question_columns(&rt.site.surveys);
    for cell in chorus::response_csv::row(r, &columns) {
        let safe = chorus::csv_cell::cell(&cell);
        let head = safe.trim_start();
        assert!(
            !safe.starts_with(['\t', '\r'])
                && !safe
                    .chars()
                    .any(|c| c.is_control() && c != '\t' && c != '\n'),
            "{safe:?}"
        );
        if head.starts_with(['=', '@']) {
            panic!("formula cell {safe:?}");
        }
    }
}
