//! Top-level `const` values (computed once per load, with `SETTINGS`), compiled keyword sets and
//! answer tables, and the read-only `response` (docs/rules.md "Values computed at load"): what a
//! rule writer sees, on the compiled rules of a site written to a temp dir.

use chorus::plugins::{RuleInput, RuleOutcome, SiteRules};
use chorus::survey::{load_site, validate, RawAnswer, Site};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

const SURVEY: &str = r#"
id = "visit"
group = "patient"
title = "Visit"
version = 1

[[questions]]
id = "aware"
kind = "yes_no"
text = "Did you know about the portal?"

[[questions]]
id = "comments"
kind = "text"
text = "Anything else?"
"#;

/// A site in `root/sites/test-clinic` with these rule files, and `root/plugins` with these
/// plugins (enabled in the order given, with `settings` as their plugin_settings).
fn write_site(root: &Path, rules: &[(&str, &str)], plugins: &[(&str, &str)], settings: &str) {
    let site = root.join("sites/test-clinic");
    std::fs::create_dir_all(site.join("surveys")).unwrap();
    std::fs::create_dir_all(site.join("rules")).unwrap();
    std::fs::create_dir_all(root.join("plugins")).unwrap();
    let names: Vec<String> = plugins.iter().map(|(n, _)| format!("\"{n}\"")).collect();
    std::fs::write(
        site.join("site.toml"),
        format!(
            "id = \"test-clinic\"\nname = \"Test Clinic\"\ngroups = [\"patient\"]\nmin_cell = 1\n\
             plugins = [{}]\n\n[[barriers]]\ncode = \"parking\"\nlabel = \"Parking\"\n\n{settings}\n",
            names.join(", ")
        ),
    )
    .unwrap();
    std::fs::write(site.join("surveys/visit.toml"), SURVEY).unwrap();
    for (name, text) in rules {
        std::fs::write(site.join("rules").join(name), text).unwrap();
    }
    for (name, text) in plugins {
        std::fs::write(root.join("plugins").join(format!("{name}.rhai")), text).unwrap();
    }
}

fn compile(root: &Path) -> Result<(Site, SiteRules), String> {
    let site = load_site(&root.join("sites/test-clinic")).map_err(|e| format!("{e:?}"))?;
    let rules = SiteRules::compile(&site, &root.join("plugins")).map_err(|errors| {
        errors
            .iter()
            .map(|e| format!("{}:{}:{}: {}", e.file.display(), e.line, e.col, e.message))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    Ok((site, rules))
}

fn run(site: &Site, rules: &SiteRules, answers: serde_json::Value) -> RuleOutcome {
    let survey = site.survey("visit").unwrap();
    let raw: BTreeMap<String, RawAnswer> = answers
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), RawAnswer::Json(v.clone())))
        .collect();
    let answers = validate(survey, &raw).unwrap();
    rules.evaluate(
        &RuleInput {
            id: uuid::Uuid::now_v7(),
            site,
            survey,
            submitted_at: "2026-01-01T09:00:00.000Z",
            answers: &answers,
        },
        true,
    )
}

/// The load errors of a site whose only script is this rule file.
fn refused_rule(dir: &Path, file: &str, rule: &str) -> String {
    write_site(dir, &[(file, rule)], &[], "");
    compile(dir).err().expect("refused")
}

fn codes(outcome: &RuleOutcome) -> Vec<&str> {
    outcome.tags.iter().map(|t| t.code.as_str()).collect()
}

#[test]
fn hooks_read_constants_computed_at_load_from_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = r#"
        const WORDS = keyword_set(SETTINGS.words);
        const CODE = SETTINGS.code ?? "awareness";
        const COUNT = WORDS.len();
        fn tag(response, settings) {
            if has_any_word(response.answers.comments, WORDS) { [CODE] } else { [] }
        }
        fn follow_up(response) {
            if CODE in response.tags {
                [#{ action: "task", queue: "desk", title: `${COUNT} keywords known` }]
            } else { [] }
        }
    "#;
    write_site(
        dir.path(),
        &[],
        &[("desk_words", plugin)],
        "[plugin_settings.desk_words]\nwords = [\"parking\", \"no ride\", \"bus*\"]\ncode = \"parking\"",
    );
    let (site, rules) = compile(dir.path()).unwrap();

    let hit = run(
        &site,
        &rules,
        json!({ "comments": "There was NO ride and no buses" }),
    );
    assert!(hit.errors.is_empty(), "{:?}", hit.errors);
    assert_eq!(codes(&hit), ["parking"]);
    let titles: Vec<String> = hit
        .actions
        .iter()
        .map(|(_, a)| serde_json::to_value(a).unwrap()["title"].to_string())
        .collect();
    assert_eq!(titles, ["\"3 keywords known\""]);

    let miss = run(
        &site,
        &rules,
        json!({ "comments": "All fine", "aware": "yes" }),
    );
    assert!(miss.errors.is_empty() && miss.tags.is_empty() && miss.actions.is_empty());
    // Unanswered text: no words, no error.
    let empty = run(&site, &rules, json!({ "aware": "no" }));
    assert!(empty.errors.is_empty() && empty.tags.is_empty());
}

#[test]
fn keyword_sets_by_code_tag_in_code_order() {
    let dir = tempfile::tempdir().unwrap();
    let rule = r#"
        const BY_CODE = keyword_set(#{
            parking: ["parking", "park*"],
            awareness: "never heard",
        });
        fn tag(response) { keyword_tags(BY_CODE, response.answers.comments) }
    "#;
    write_site(dir.path(), &[("words.rhai", rule)], &[], "");
    let (site, rules) = compile(dir.path()).unwrap();
    let outcome = run(
        &site,
        &rules,
        json!({ "comments": "Parked far away, and I never HEARD of it" }),
    );
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(codes(&outcome), ["awareness", "parking"]);
    let source = &outcome.tags[0].source;
    assert_eq!(source, "rules/words.rhai");
}

#[test]
fn a_top_level_that_fails_is_a_load_error_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let rule = "// keywords\n\nconst WORDS = keyword_set([\"ok\", 3]);\nfn tag(response) { [] }\n";
    let err = refused_rule(dir.path(), "bad.rhai", rule);
    assert!(err.contains("rules/bad.rhai:3:"), "{err}");
    assert!(err.contains("a keyword must be a string"), "{err}");
    assert!(err.contains("while loading the top level"), "{err}");
}

#[test]
fn an_endless_top_level_stops_at_a_limit() {
    let dir = tempfile::tempdir().unwrap();
    let rule = "let n = 0;\nloop { n += 1; }\nfn tag(response) { [] }\n";
    let err = refused_rule(dir.path(), "endless.rhai", rule);
    assert!(err.contains("rules/endless.rhai:"), "{err}");
    // The operation limit, or the time limit first in a slow debug build.
    assert!(err.contains("stopped after"), "{err}");
    assert!(err.contains("while loading the top level"), "{err}");
}

#[test]
fn hooks_cannot_read_top_level_variables_that_are_not_constants() {
    let dir = tempfile::tempdir().unwrap();
    let rule = "let words = [\"parking\"];\nfn tag(response) { words }\n";
    let err = refused_rule(dir.path(), "let.rhai", rule);
    assert!(err.contains("rules/let.rhai:2:"), "{err}");
    assert!(err.contains("words"), "{err}");
}

#[test]
fn a_parameter_named_like_a_constant_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rule = "const CODE = \"parking\";\n\nfn tag(CODE) { [CODE] }\n";
    let err = refused_rule(dir.path(), "shadow.rhai", rule);
    assert!(err.contains("rules/shadow.rhai:3:1:"), "{err}");
    assert!(err.contains("parameter `CODE` of fn tag"), "{err}");
}

#[test]
fn site_rules_get_empty_settings_at_load_too() {
    let dir = tempfile::tempdir().unwrap();
    let rule =
        "const N = SETTINGS.len();\nfn tag(response) { if N == 0 { [\"parking\"] } else { [] } }\n";
    write_site(dir.path(), &[("settings.rhai", rule)], &[], "");
    let (site, rules) = compile(dir.path()).unwrap();
    assert_eq!(codes(&run(&site, &rules, json!({}))), ["parking"]);
}

#[test]
fn answer_tables_tag_from_structured_answers() {
    let dir = tempfile::tempdir().unwrap();
    let rule = r#"
        const BY_ANSWER = answer_table(#{
            aware: #{ no: ["awareness", "parking"], yes: "unknown_code" },
        });
        fn tag(response) { answer_tags(response.answers, BY_ANSWER) }
    "#;
    write_site(dir.path(), &[("by_answer.rhai", rule)], &[], "");
    let (site, rules) = compile(dir.path()).unwrap();
    let outcome = run(&site, &rules, json!({ "aware": "no" }));
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(codes(&outcome), ["awareness", "parking"]);
    assert!(codes(&run(&site, &rules, json!({}))).is_empty());
    // A code outside the codebook is refused when emitted, like any other tag.
    let outcome = run(&site, &rules, json!({ "aware": "yes" }));
    assert!(codes(&outcome).is_empty());
    assert!(
        outcome.errors[0].message.contains("unknown_code"),
        "{:?}",
        outcome.errors
    );

    let bad = "const T = answer_table(#{ aware: \"awareness\" });\nfn tag(response) { [] }\n";
    let err = refused_rule(dir.path(), "by_answer.rhai", bad);
    assert!(err.contains("by_answer.rhai:1:"), "{err}");
    assert!(
        err.contains("aware must be a map of answer value to barrier code"),
        "{err}"
    );
}

#[test]
fn answers_are_read_only_and_one_hook_cannot_change_what_the_next_sees() {
    let dir = tempfile::tempdir().unwrap();
    // Runs first (file-name order): tries to rewrite the answers.
    let meddler = r#"
        fn tag(response) {
            response.answers.aware = "no";
            ["parking"]
        }
    "#;
    // A copy is the hook's own to change, whether of the answers or of the whole response, and
    // whether kept alone or inside another value.
    let copier = r#"
        fn tag(response) {
            let a = response.answers;
            a.aware = "no";
            let tags = response.tags;
            tags.push("awareness");
            let r = response;
            r.note = "mine";
            r.answers.aware = "no";
            let kept = #{ copy: response, list: [response.answers] };
            kept.copy.id = "changed";
            kept.list[0].aware = "no";
            if a.aware == "no" && r.answers.aware == "no" && kept.copy.id == "changed" {
                tags
            } else {
                []
            }
        }
    "#;
    // Changing the response itself is refused, like changing its answers.
    let tag_pusher = r#"
        fn follow_up(response) {
            response.tags.push("parking");
            []
        }
    "#;
    let reader = r#"
        fn follow_up(response) {
            [#{ action: "task", queue: "check", title: `aware=${response.answers.aware}` }]
        }
    "#;
    write_site(
        dir.path(),
        &[
            ("a_meddler.rhai", meddler),
            ("b_copier.rhai", copier),
            ("c_reader.rhai", reader),
            ("d_tag_pusher.rhai", tag_pusher),
        ],
        &[],
        "",
    );
    let (site, rules) = compile(dir.path()).unwrap();
    let outcome = run(&site, &rules, json!({ "aware": "yes" }));
    assert_eq!(outcome.errors.len(), 2, "{:?}", outcome.errors);
    let error = &outcome.errors[0];
    assert_eq!(error.source, "rules/a_meddler.rhai");
    assert_eq!(error.line, Some(3), "{error:?}");
    assert!(
        error.message.contains("Cannot modify constant"),
        "{error:?}"
    );
    let error = &outcome.errors[1];
    assert_eq!(error.source, "rules/d_tag_pusher.rhai");
    assert_eq!(error.line, Some(3), "{error:?}");
    assert_eq!(codes(&outcome), ["awareness"]);
    let task = serde_json::to_value(&outcome.actions[0].1).unwrap();
    assert_eq!(task["title"], "aware=yes");
}

#[test]
fn the_shipped_keyword_plugin_refuses_bad_settings_at_load() {
    let plugin = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("plugins/barrier_keywords.rhai"),
    )
    .unwrap();
    for (settings, expected) in [
        (
            "extra_keywords = { not_a_code = [\"x\"] }",
            "\\\"not_a_code\\\" is not in the site's codebook",
        ),
        (
            "extra_keywords = { parking = [\"bus\", 7] }",
            "a keyword must be a string",
        ),
        ("extra_keywords = \"bus\"", "extra_keywords must be a table"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        write_site(
            dir.path(),
            &[],
            &[("barrier_keywords", &plugin)],
            &format!("[plugin_settings.barrier_keywords]\n{settings}"),
        );
        let err = compile(dir.path()).err().expect("refused");
        let expected = expected.replace("\\\"", "\"");
        assert!(err.contains(&expected), "{settings}: {err}");
        assert!(err.contains("barrier_keywords.rhai:"), "{settings}: {err}");
    }

    let dir = tempfile::tempdir().unwrap();
    write_site(
        dir.path(),
        &[],
        &[("barrier_keywords", &plugin)],
        "[plugin_settings.barrier_keywords]\nextra_keywords = { parking = [\"bus\"] }\ntext_questions = \"comments\"",
    );
    let (site, rules) = compile(dir.path()).unwrap();
    let outcome = run(
        &site,
        &rules,
        json!({ "comments": "The bus was late", "aware": "no" }),
    );
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(codes(&outcome), ["awareness", "parking"]);
}
