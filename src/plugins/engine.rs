//! The sandboxed rhai engine: `Engine::new_raw()`, a narrow registered API, every limit set,
//! and a wall-clock deadline per hook enforced through `on_progress`.

use super::answer_table::AnswerTable;
use super::keywords::{self, KeywordSet};
use super::text;
use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicIteratorPackage, BasicMapPackage,
    BasicStringPackage, LogicPackage, MoreStringPackage, Package,
};
use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map};
use std::cell::Cell;
use std::time::{Duration, Instant};

/// The bounds every hook runs under (documented in docs/rules.md).
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_operations: u64,
    pub max_call_levels: usize,
    /// Expression nesting at the top level and inside functions.
    pub max_expr_depth: usize,
    pub max_function_expr_depth: usize,
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
    pub max_variables: usize,
    pub max_functions: usize,
    /// Wall-clock time one hook may run.
    pub deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 200_000,
            // Recursion is rarely useful in a rule; a small depth also keeps the native stack
            // of debug builds (about 60 KiB per call level) far from the 2 MiB thread stacks.
            max_call_levels: 16,
            max_expr_depth: 48,
            max_function_expr_depth: 32,
            max_string_size: 64 * 1024,
            max_array_size: 10_000,
            max_map_size: 1_000,
            max_variables: 256,
            max_functions: 256,
            deadline: Duration::from_millis(50),
        }
    }
}

/// How often (in operations) the deadline is compared with the clock: reading the clock on every
/// operation would cost more than the operation.
const CLOCK_EVERY_OPS: u64 = 128;

/// Token a hook is terminated with when it runs past its deadline.
pub const DEADLINE_TOKEN: &str = "deadline";

thread_local! {
    /// Deadline of the hook running on this thread. Hooks run synchronously on one thread, so a
    /// thread-local gives each concurrent run its own deadline while the engine is shared.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Sets this thread's hook deadline for as long as the guard lives.
pub struct DeadlineGuard(());

impl DeadlineGuard {
    pub fn start(limit: Duration) -> DeadlineGuard {
        DEADLINE.with(|d| d.set(Some(Instant::now() + limit)));
        DeadlineGuard(())
    }
}

impl Drop for DeadlineGuard {
    fn drop(&mut self) {
        DEADLINE.with(|d| d.set(None));
    }
}

fn past_deadline(operations: u64) -> Option<Dynamic> {
    if !operations.is_multiple_of(CLOCK_EVERY_OPS) {
        return None;
    }
    let deadline = DEADLINE.with(Cell::get)?;
    (Instant::now() >= deadline).then(|| Dynamic::from(DEADLINE_TOKEN))
}

rhai::def_package! {
    /// Operators for mixed numeric types, comparisons, strings, arrays, maps and ranges, in one
    /// module so that resolving a function searches one table instead of seven. The core
    /// language package is left out on purpose: it carries `sleep`, which would block a worker.
    SandboxPackage(lib): ArithmeticPackage, LogicPackage, BasicStringPackage, MoreStringPackage,
        BasicArrayPackage, BasicMapPackage, BasicIteratorPackage {}
}

/// What a site exposes to its scripts beyond the response (see `has_webhook`).
#[derive(Debug, Clone, Default)]
pub struct SiteFacts {
    pub webhooks: Vec<String>,
    pub codebook: Vec<String>,
}

/// A new sandboxed engine. No file, network, process, `eval`, `print` or module access exists in
/// it: only the packages registered here, all pure computation.
pub fn build(limits: &Limits, facts: &SiteFacts) -> Engine {
    let mut engine = Engine::new_raw();
    SandboxPackage::new().register_into_engine(&mut engine);

    for symbol in ["eval", "print", "debug"] {
        engine.disable_symbol(symbol);
    }
    // A typo in a variable name is a compile error (found by `chorus check`), not a silent ().
    engine.set_strict_variables(true);
    // `response.answers.unanswered` is (), never an error.
    engine.set_fail_on_invalid_map_property(false);

    engine
        .set_max_operations(limits.max_operations)
        .set_max_call_levels(limits.max_call_levels)
        .set_max_expr_depths(limits.max_expr_depth, limits.max_function_expr_depth)
        .set_max_string_size(limits.max_string_size)
        .set_max_array_size(limits.max_array_size)
        .set_max_map_size(limits.max_map_size)
        .set_max_variables(limits.max_variables)
        .set_max_functions(limits.max_functions);
    engine.on_progress(past_deadline);
    engine.set_optimization_level(rhai::OptimizationLevel::Full);

    register_api(&mut engine, facts);
    engine
}

fn register_api(engine: &mut Engine, facts: &SiteFacts) {
    register_answer_checks(engine);
    register_words(engine);
    register_keyword_sets(engine);
    register_answer_tables(engine);
    let webhooks = facts.webhooks.clone();
    engine.register_fn("has_webhook", move |name: &str| {
        webhooks.iter().any(|w| w == name)
    });
    let codebook = facts.codebook.clone();
    engine.register_fn("in_codebook", move |code: &str| {
        codebook.iter().any(|c| c == code)
    });
}

/// `in`, `type_of` and `is_answered` for answers, unanswered ones included.
fn register_answer_checks(engine: &mut Engine) {
    // `x in ()` is false, so `"error" in response.answers.what_happened` works when the question
    // was not answered.
    engine.register_fn("contains", |_: (), _: Dynamic| false);
    engine.register_fn("contains", |_: (), _: ImmutableString| false);
    engine.register_fn("contains", |list: &mut Array, item: ImmutableString| {
        list.iter()
            .any(|v| v.read_lock::<ImmutableString>().is_some_and(|s| *s == item))
    });
    engine.register_fn("type_of", |v: &mut Dynamic| {
        if v.is::<KeywordSet>() {
            "KeywordSet".to_string()
        } else if v.is::<AnswerTable>() {
            "AnswerTable".to_string()
        } else {
            v.type_name().to_string()
        }
    });
    engine.register_fn("is_answered", |v: &mut Dynamic| !v.is_unit());
    // The same for the types answers have: an exact match is found at once, where a `Dynamic`
    // parameter is only found after trying every other combination (every hook call).
    engine.register_fn("is_answered", |_: ()| false);
    engine.register_fn("is_answered", |_: &mut ImmutableString| true);
    engine.register_fn("is_answered", |_: &mut Array| true);
    engine.register_fn("is_answered", |_: i64| true);
}

/// Words of a text and keyword matching on plain lists and maps.
fn register_words(engine: &mut Engine) {
    engine.register_fn("words", |t: &str| -> Array {
        text::words(t).into_iter().map(Dynamic::from).collect()
    });
    engine.register_fn("words", |_: ()| Array::new());
    engine.register_fn("has_word", |t: &str, k: &str| keywords::has_keyword(t, k));
    engine.register_fn("has_word", |_: (), _: &str| false);
    engine.register_fn("has_any_word", |t: &str, ks: Array| {
        KeywordSet::lenient_list(&ks).any_in(t)
    });
    engine.register_fn("has_any_word", |_: (), _: Array| false);
    engine.register_fn("matching_words", |t: &str, ks: Array| {
        KeywordSet::lenient_list(&ks).matching(t)
    });
    engine.register_fn("matching_words", |_: (), _: Array| Array::new());
    engine.register_fn("keyword_tags", |map: &mut Map, t: &str| {
        KeywordSet::lenient_map(map).codes_in(t)
    });
    engine.register_fn("keyword_tags", |_: &mut Map, _: ()| Array::new());
}

fn register_keyword_sets(engine: &mut Engine) {
    // Keyword lists compiled once, in a top-level `const` (see docs/rules.md).
    engine.register_type_with_name::<KeywordSet>("KeywordSet");
    engine.register_fn("keyword_set", |map: Map| {
        KeywordSet::from_map(&map).map_err(|e| -> Box<EvalAltResult> { e.into() })
    });
    engine.register_fn("keyword_set", |list: Array| {
        KeywordSet::from_list(&list).map_err(|e| -> Box<EvalAltResult> { e.into() })
    });
    engine.register_fn("len", |set: &mut KeywordSet| set.len() as i64);
    // Any answer may be passed: only a text has words (a number or a choice list has none).
    engine.register_fn("keyword_tags", |set: &mut KeywordSet, t: Dynamic| {
        match t.read_lock::<ImmutableString>() {
            Some(text) => set.codes_in(&text),
            None => Array::new(),
        }
    });
    engine.register_fn(
        "keyword_tags",
        |set: &mut KeywordSet, t: ImmutableString| set.codes_in(&t),
    );
    engine.register_fn("keyword_tags", |_: &mut KeywordSet, _: ()| Array::new());
    engine.register_fn("has_any_word", |t: &str, set: KeywordSet| set.any_in(t));
    engine.register_fn("has_any_word", |_: (), _: KeywordSet| false);
    engine.register_fn("matching_words", |t: &str, set: KeywordSet| set.matching(t));
    engine.register_fn("matching_words", |_: (), _: KeywordSet| Array::new());
}

fn register_answer_tables(engine: &mut Engine) {
    // Tags from structured answers by table, compiled once in a top-level `const`.
    engine.register_type_with_name::<AnswerTable>("AnswerTable");
    engine.register_fn("answer_table", |map: Map| {
        AnswerTable::from_map(&map).map_err(|e| -> Box<EvalAltResult> { e.into() })
    });
    engine.register_fn("len", |table: &mut AnswerTable| table.len() as i64);
    engine.register_fn("answer_tags", |answers: &mut Map, table: AnswerTable| {
        table.tags(answers)
    });
    engine.register_fn("answer_tags", |answers: &mut Map, table: Map| {
        AnswerTable::lenient(&table).tags(answers)
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(script: &str) -> Result<Dynamic, String> {
        let engine = build(
            &Limits::default(),
            &SiteFacts {
                webhooks: vec!["helpdesk".into()],
                codebook: vec!["awareness".into()],
            },
        );
        engine.eval::<Dynamic>(script).map_err(|e| e.to_string())
    }

    #[test]
    fn unanswered_is_unit_and_compares_false() {
        let r = eval(r#"let a = #{ tried: "yes" }; [a.missing == "yes", a.missing != "yes", "x" in a.missing, a.tried == "yes", is_answered(a.missing)]"#).unwrap();
        assert_eq!(r.to_string(), "[false, true, false, true, false]");
    }

    #[test]
    fn word_helpers_and_in() {
        let r = eval(r#"let kw = #{ awareness: ["never heard"], enrollment_technical: ["locked out", "error*"] };
            [keyword_tags(kw, "I NEVER heard of it, and got errors"), has_word("Locked out!", "locked out"),
             has_any_word("fine", ["bad", "worse"]), "b" in ["a", "b"], has_webhook("helpdesk"), has_webhook("x"),
             in_codebook("awareness"), to_lower("ABC"), "err" in "an error"]"#).unwrap();
        assert_eq!(
            r.to_string(),
            r#"[["awareness", "enrollment_technical"], true, false, true, true, false, true, "abc", true]"#
        );
    }

    #[test]
    fn the_documented_api_is_there() {
        let r = eval(
            r#"let a = [3, 1, 2];
            let m = #{ x: 1, y: 2 };
            let s = "  Hello, World  ";
            s.trim();
            let r = "a-b";
            r.replace("-", "+");
            let n = ();
            let t = "";
            t += "ok";
            [a.filter(|v| v > 1).len(), a.map(|v| v * 2)[0], a.some(|v| v == 2), a.all(|v| v > 0),
             a.index_of(2), m.keys().len(), "x" in m, s.to_lower().starts_with("hello"),
             s.ends_with("World"), s.sub_string(0, 5), r, "a,b".split(",").len(),
             n ?? "default", `${a.len()} items`, t, [].is_empty(), "abc".index_of("c"),
             switch 2 { 1 => "one", 2 => "two", _ => "many" }, 7 / 2, 7.0 / 2, 2 >= 1.5]"#,
        )
        .unwrap();
        assert_eq!(
            r.to_string(),
            r#"[2, 6, true, true, 2, 2, true, true, true, "Hello", "a+b", 2, "default", "3 items", "ok", true, 2, "two", 3, 3.5, true]"#
        );
    }

    #[test]
    fn dangerous_symbols_do_not_compile() {
        for s in [
            "eval(\"1\")",
            "print(1)",
            "debug(1)",
            "sleep(1)",
            "import \"x\" as y;",
        ] {
            assert!(eval(s).is_err(), "{s} should fail");
        }
    }

    #[test]
    fn undefined_variables_are_compile_errors() {
        let engine = build(&Limits::default(), &SiteFacts::default());
        assert!(engine.compile("fn tag(r) { tagz }").is_err());
    }
}
