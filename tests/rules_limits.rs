//! Each sandbox limit, one hostile script at a time, on the compiled rules directly (so that
//! each limit can be isolated from the others): the run stops with a rule error that names the
//! limit, and the next run on the same compiled rules is normal.

mod common;
mod rules_common;

use chorus::plugins::{Limits, RuleInput, RuleOutcome, SiteRules};
use chorus::survey::{load_site, validate, RawAnswer, Site};
use std::collections::BTreeMap;
use std::time::Duration;

fn hostile_site() -> Site {
    load_site(&rules_common::fixtures().join("hostile/sites/hostile-clinic")).expect("site loads")
}

fn compile(site: &Site, limits: Limits) -> SiteRules {
    SiteRules::compile_with_limits(
        site,
        &rules_common::fixtures().join("hostile/plugins"),
        limits,
    )
    .expect("rules compile")
}

fn run(site: &Site, rules: &SiteRules, attack: &str) -> RuleOutcome {
    let survey = site.survey("attack").unwrap();
    let raw: BTreeMap<String, RawAnswer> = [(
        "attack".to_string(),
        RawAnswer::Json(serde_json::json!(attack)),
    )]
    .into();
    let answers = validate(survey, &raw).unwrap();
    rules.evaluate(
        &RuleInput {
            id: uuid::Uuid::now_v7(),
            site,
            survey,
            submitted_at: "2026-01-01T00:00:00.000Z",
            answers: &answers,
        },
        true,
    )
}

/// Runs one attack and returns its single error (source, message); checks the benign plugin
/// still ran and that the next response is normal.
fn single_error(site: &Site, rules: &SiteRules, attack: &str) -> (String, String) {
    let outcome = run(site, rules, attack);
    assert_eq!(outcome.errors.len(), 1, "{attack}: {:?}", outcome.errors);
    let e = &outcome.errors[0];
    assert_eq!(e.hook, "tag");
    assert!(
        e.line.is_some() && e.col.is_some(),
        "{attack}: position {e:?}"
    );
    let codes: Vec<&str> = outcome.tags.iter().map(|t| t.code.as_str()).collect();
    assert_eq!(codes, ["awareness"], "{attack}: the other hooks still ran");
    assert_eq!(outcome.actions.len(), 1);
    let next = run(site, rules, "none");
    assert!(next.errors.is_empty(), "after {attack}: {:?}", next.errors);
    assert_eq!(next.tags.len(), 1);
    (e.source.clone(), e.message.clone())
}

#[test]
fn an_endless_loop_stops_at_the_operation_limit() {
    let site = hostile_site();
    // A generous deadline so that only the operation count can stop it.
    let rules = compile(
        &site,
        Limits {
            deadline: Duration::from_secs(30),
            ..Limits::default()
        },
    );
    let (source, message) = single_error(&site, &rules, "loop");
    assert_eq!(source, "rules/loop.rhai");
    assert!(message.contains("200000 operations"), "{message}");
    assert!(message.contains("in the loop at line 3"), "{message}");
}

#[test]
fn an_endless_loop_without_an_operation_limit_stops_at_the_deadline() {
    let site = hostile_site();
    let rules = compile(
        &site,
        Limits {
            max_operations: 0,
            ..Limits::default()
        },
    );
    let (source, message) = single_error(&site, &rules, "loop");
    assert_eq!(source, "rules/loop.rhai");
    assert!(message.contains("50 ms"), "{message}");
    assert!(message.contains("in the loop at line 3"), "{message}");
}

#[test]
fn slow_native_calls_stop_at_the_deadline() {
    let site = hostile_site();
    let rules = compile(&site, Limits::default());
    let (source, message) = single_error(&site, &rules, "slow");
    assert_eq!(source, "rules/slow.rhai");
    assert!(message.contains("time limit"), "{message}");
}

#[test]
fn endless_recursion_stops_at_the_call_depth() {
    let site = hostile_site();
    let rules = compile(&site, Limits::default());
    let (source, message) = single_error(&site, &rules, "recursion");
    assert_eq!(source, "rules/recursion.rhai");
    assert!(message.contains("16 levels deep"), "{message}");
}

#[test]
fn a_huge_string_array_or_map_stops_at_its_size_limit() {
    let site = hostile_site();
    let rules = compile(
        &site,
        Limits {
            deadline: Duration::from_secs(30),
            ..Limits::default()
        },
    );
    for (attack, what) in [
        ("big_string", "string"),
        ("big_array", "array"),
        ("big_map", "map"),
    ] {
        let (source, message) = single_error(&site, &rules, attack);
        assert_eq!(source, format!("rules/{attack}.rhai"));
        assert!(
            message.contains(what) && message.contains("the limit"),
            "{attack}: {message}"
        );
    }
}

#[test]
fn too_many_variables_stop_at_the_variable_limit() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("hostile");
    rules_common::copy_dir(&rules_common::fixtures().join("hostile"), &root);
    let mut lets = String::from("fn tag(response) {\n");
    for i in 0..20 {
        lets.push_str(&format!("    let v{i} = {i};\n"));
    }
    lets.push_str("    []\n}\n");
    std::fs::write(root.join("sites/hostile-clinic/rules/vars.rhai"), lets).unwrap();
    let site = load_site(&root.join("sites/hostile-clinic")).unwrap();
    let rules = SiteRules::compile_with_limits(
        &site,
        &root.join("plugins"),
        Limits {
            max_variables: 10,
            ..Limits::default()
        },
    )
    .unwrap();
    let outcome = run(&site, &rules, "none");
    assert_eq!(outcome.errors.len(), 1, "{:?}", outcome.errors);
    assert_eq!(outcome.errors[0].source, "rules/vars.rhai");
    assert!(
        outcome.errors[0].message.contains("variables"),
        "{:?}",
        outcome.errors
    );
}
