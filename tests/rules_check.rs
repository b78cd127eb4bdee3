//! `chorus check` (the real binary): compiles every plugin and rule, runs every rule test,
//! prints each problem as `file:line:col: message` and exits 1 on any.

mod common;
mod rules_common;

use std::path::Path;
use std::process::Output;

fn check(root: &Path) -> Output {
    rules_common::chorus_check(root)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_demo_site_and_its_shipped_plugins_pass() {
    let out = check(&common::repo());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).is_empty(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("rule test case(s) passed"));
}

#[test]
fn scripts_that_do_not_compile_are_reported_with_file_line_col() {
    let root = rules_common::fixtures().join("broken");
    let out = check(&root);
    assert_eq!(out.status.code(), Some(1));
    let printed = text(&out.stdout);
    let site = root.join("sites/broken-clinic");
    let expected = [
        format!(
            "{}:5:12: plugin \"missing_plugin\" not found",
            site.join("site.toml").display()
        ),
        format!(
            "{}:4:43: Expecting ')' for a matching ( in this expression",
            site.join("rules/syntax.rhai").display()
        ),
        format!(
            "{}:2:5: Undefined variable: tagz",
            site.join("rules/typo.rhai").display()
        ),
    ];
    for line in &expected {
        assert!(
            printed.contains(line.as_str()),
            "missing {line:?} in:\n{printed}"
        );
    }
    assert!(text(&out.stderr).contains("3 problem(s) found"));
}

#[test]
fn failing_rule_tests_show_expected_versus_actual_at_the_case() {
    let root = rules_common::fixtures().join("failing");
    let out = check(&root);
    assert_eq!(out.status.code(), Some(1));
    let printed = text(&out.stdout);
    let file = root.join("sites/failing-clinic/rules/tests/cases.toml");
    let file = file.display();
    let expected = [
        format!("{file}:12:15: case \"wrong tags\": expected tags [privacy_concern], got [awareness] (missing privacy_concern; unexpected awareness (from rules/simple.rhai))"),
        format!("{file}:18:18: case \"wrong actions\": expected actions [{{\"action\":\"task\",\"queue\":\"other\"}}], got [{{\"action\":\"task\",\"priority\":\"normal\",\"queue\":\"q\",\"source\":\"rules/simple.rhai\",\"title\":\"A task\"}}]"),
        format!("{file}:23:11: case \"rejected answers\": the answers are rejected: attack: \"nuclear\" is not an option of \"attack\""),
        format!("{file}:25:1: case \"a rule that throws\": rule error in rules/simple.rhai fn tag at 2:45: threw: boom"),
    ];
    for line in &expected {
        assert!(
            printed.contains(line.as_str()),
            "missing {line:?} in:\n{printed}"
        );
    }
    assert!(!printed.contains("case \"passes\""), "{printed}");
    assert!(text(&out.stderr).contains("4 problem(s) found"));
}
