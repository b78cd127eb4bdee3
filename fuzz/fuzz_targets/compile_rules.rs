//! A rule file's rhai source → the plugin layer's compiler with the real limits (the demo
//! site, with this file as its only rule); a script that compiles then runs its `tag` and
//! `follow_up` hooks on a demo response, bounded by the real limits and deadline.
#![no_main]

use chorus::plugins::{Limits, RuleInput};
use chorus::sites::SiteRuntime;
use chorus_fuzz::{demo, scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dir = scratch("rules");
    let file = dir.join("fuzz.rhai");
    std::fs::write(&file, text).unwrap();
    let mut site = demo().site.clone();
    site.config.plugins.clear();
    site.config.plugin_settings.clear();
    site.rule_files = vec![file];
    let Ok(rt) = SiteRuntime::build(site, &dir, &Limits::default()) else {
        return;
    };
    let survey = &rt.site.surveys[0];
    let answers = chorus::survey::validate(
        survey,
        &[
            ("aware", "yes"),
            ("tried", "yes"),
            ("enrolled", "no"),
            ("contact_ok", "yes"),
            ("comments", "the captcha failed, no parking"),
        ]
        .into_iter()
        .filter(|(id, _)| survey.question(id).is_some())
        .map(|(id, v)| {
            (
                id.to_string(),
                chorus::survey::RawAnswer::Json(serde_json::json!(v)),
            )
        })
        .collect(),
    )
    .unwrap_or_default();
    let outcome = rt.rules.evaluate(&RuleInput {
        id: uuid::Uuid::nil(),
        site: &rt.site,
        survey,
        submitted_at: "2026-04-01T10:00:00.000Z",
        answers: &answers,
    });
    // Every tag a script may emit is in the codebook; anything else is a rule error.
    for tag in &outcome.tags {
        assert!(rt.site.barrier(&tag.code).is_some(), "{tag:?}");
    }
});
