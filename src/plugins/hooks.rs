//! Calling one hook of one script, and turning whatever happens into tags, actions or a
//! `RuleError` — never a panic, never a lost response.

use super::convert;
use super::engine::{DeadlineGuard, Limits, DEADLINE_TOKEN};
use super::hints;
use crate::domain::{Action, Priority, RuleError};
use rhai::{
    Array, CallFnOptions, Dynamic, Engine, EvalAltResult, ImmutableString, Map, Scope, AST,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    Tag,
    FollowUp,
    /// `fn review(report, settings)`: runs on the site's report, not on a response.
    Review,
}

impl Hook {
    pub fn name(self) -> &'static str {
        match self {
            Hook::Tag => "tag",
            Hook::FollowUp => "follow_up",
            Hook::Review => "review",
        }
    }
}

/// A hook a script defines: how many parameters it takes and where it is defined.
#[derive(Debug, Clone, Copy)]
pub struct HookDef {
    pub params: usize,
    pub line: usize,
    pub col: usize,
}

/// One compiled plugin or site rule.
pub struct Script {
    /// Plugin name, or `rules/<file>.rhai` for a site rule.
    pub source: String,
    /// The file it was compiled from and its text, as loaded (the rules page shows the running
    /// version, not whatever is on disk now).
    pub path: std::path::PathBuf,
    pub text: String,
    pub ast: AST,
    pub tag: Option<HookDef>,
    pub follow_up: Option<HookDef>,
    pub review: Option<HookDef>,
    /// The `settings` argument: the plugin's `plugin_settings` section, or `#{}` (shared and
    /// read-only).
    pub settings: Dynamic,
}

impl Script {
    pub fn hook(&self, hook: Hook) -> Option<HookDef> {
        match hook {
            Hook::Tag => self.tag,
            Hook::FollowUp => self.follow_up,
            Hook::Review => self.review,
        }
    }
}

/// Everything a pipeline run needs besides the response.
pub struct Runner<'a> {
    pub engine: &'a Engine,
    pub limits: &'a Limits,
    pub codebook: &'a [String],
    pub webhooks: &'a [String],
}

impl Runner<'_> {
    /// Runs one hook with a fresh scope and its own deadline.
    pub fn call(
        &self,
        script: &Script,
        hook: Hook,
        response: Dynamic,
    ) -> Result<Dynamic, Box<RuleError>> {
        let Some(def) = script.hook(hook) else {
            return Ok(Dynamic::UNIT);
        };
        let options = || CallFnOptions::new().eval_ast(false).rewind_scope(false);
        let run = move |scope: &mut Scope<'static>| {
            let _deadline = DeadlineGuard::start(self.limits.deadline);
            if def.params == 2 {
                let args = (response, script.settings.clone());
                self.engine.call_fn_with_options::<Dynamic>(
                    options(),
                    scope,
                    &script.ast,
                    hook.name(),
                    args,
                )
            } else {
                self.engine.call_fn_with_options::<Dynamic>(
                    options(),
                    scope,
                    &script.ast,
                    hook.name(),
                    (response,),
                )
            }
        };
        // rhai does not panic on script input, but a response must survive even if it did.
        let result = with_empty_scope(|scope| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(scope)))
        });
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => Err(Box::new(self.error(script, hook, def, &err))),
            Err(_) => Err(Box::new(at_def(
                script,
                hook,
                def,
                "the script engine failed on this hook".into(),
            ))),
        }
    }

    /// rhai reports where an error happened, except for the limits (operations, depth, sizes,
    /// deadline), which it reports at the call site: for those the hook's own line is given,
    /// or the loop's when the hook can run only one (see `hints`).
    fn error(&self, script: &Script, hook: Hook, def: HookDef, err: &EvalAltResult) -> RuleError {
        let inner = err.unwrap_inner();
        let mut pos = error_position(err).and_then(|p| Some((p.line()?, p.position()?)));
        let mut message = describe(inner, self.limits);
        match inner {
            EvalAltResult::ErrorTooManyOperations(_) | EvalAltResult::ErrorTerminated(..) => {
                let (suffix, place) = hints::limit_place(&script.text, hook.name());
                message.push_str(&suffix);
                pos = pos.or(place);
            }
            EvalAltResult::ErrorFunctionNotFound(signature, _) => {
                if let Some(hint) =
                    pos.and_then(|(l, c)| hints::unanswered_hint(&script.text, signature, l, c))
                {
                    message = format!("{message}: {hint}");
                }
            }
            _ => {}
        }
        RuleError {
            source: script.source.clone(),
            hook: hook.name().into(),
            line: Some(pos.map_or(def.line, |p| p.0)),
            col: Some(pos.map_or(def.col, |p| p.1)),
            message,
            superseded_at: None,
        }
    }

    /// The barrier codes a `tag` hook returned; anything else becomes an error.
    pub fn tags_of(
        &self,
        script: &Script,
        value: Dynamic,
    ) -> (Vec<ImmutableString>, Vec<RuleError>) {
        let def = script.tag.expect("tag hook exists");
        let fail = |message: String| at_def(script, Hook::Tag, def, message);
        let items = match returned_array(value, "barrier codes", "tags") {
            Ok(items) => items,
            Err(why) => return (Vec::new(), vec![fail(format!("fn tag {why}"))]),
        };
        let mut codes = Vec::new();
        let mut errors = Vec::new();
        for item in items.into_iter().map(Dynamic::flatten) {
            if !item.is_string() {
                errors.push(fail(format!(
                    "fn tag returned {} ({}) where a barrier code string was expected",
                    type_name(&item),
                    item
                )));
                continue;
            }
            let code = item.into_immutable_string().unwrap_or_default();
            if !self.codebook.iter().any(|c| c.as_str() == code.as_str()) {
                errors.push(fail(format!(
                    "tag \"{code}\" is not in the site's codebook (add it under [[barriers]] in site.toml)"
                )));
                continue;
            }
            codes.push(code);
        }
        (codes, errors)
    }

    /// Runs an action-returning hook (`follow_up` or `review`) of every script defining it,
    /// in order, collecting (source, action) pairs and errors.
    pub fn run_action_hook(
        &self,
        scripts: &[Script],
        hook: Hook,
        input: Dynamic,
        actions: &mut Vec<(String, Action)>,
        errors: &mut Vec<RuleError>,
    ) {
        let scripts: Vec<&Script> = scripts.iter().filter(|s| s.hook(hook).is_some()).collect();
        // Each script gets its own copy; the last one gets the original.
        let mut input = Some(input);
        for (i, script) in scripts.iter().enumerate() {
            let arg = if i + 1 == scripts.len() {
                input.take()
            } else {
                input.clone()
            };
            match self.call(script, hook, arg.unwrap_or_default()) {
                Ok(value) => {
                    let (found, mut refused) = self.actions_of(script, hook, value);
                    errors.append(&mut refused);
                    actions.extend(found.into_iter().map(|a| (script.source.clone(), a)));
                }
                Err(e) => errors.push(*e),
            }
        }
    }

    /// The actions a `follow_up` or `review` hook returned; each bad one becomes an error.
    pub fn actions_of(
        &self,
        script: &Script,
        hook: Hook,
        value: Dynamic,
    ) -> (Vec<Action>, Vec<RuleError>) {
        let def = script.hook(hook).expect("the hook exists");
        let fail = |message: String| at_def(script, hook, def, message);
        let items = match returned_array(value, "actions", "actions") {
            Ok(items) => items,
            Err(why) => return (Vec::new(), vec![fail(format!("fn {} {why}", hook.name()))]),
        };
        let mut actions = Vec::new();
        let mut errors = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let parsed = match item.read_lock::<Map>() {
                Some(map) => parse_action(&map, self.webhooks),
                None => Err(format!(
                    "is {}, not a map like #{{ action: \"task\", ... }}",
                    type_name(item)
                )),
            };
            match parsed {
                Ok(action) => actions.push(action),
                Err(message) => errors.push(fail(format!("action {}: {message}", i + 1))),
            }
        }
        (actions, errors)
    }
}

thread_local! {
    /// The scope hooks run in, emptied before and after each run: a fresh scope every time,
    /// without allocating one per hook.
    static SCOPE: std::cell::RefCell<Scope<'static>> = std::cell::RefCell::new(Scope::new());
}

fn with_empty_scope<T>(run: impl FnOnce(&mut Scope<'static>) -> T) -> T {
    SCOPE.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scope) => {
            scope.clear();
            let result = run(&mut scope);
            scope.clear();
            result
        }
        // Only if a hook ever ran inside another hook on this thread.
        Err(_) => run(&mut Scope::new()),
    })
}

fn at_def(script: &Script, hook: Hook, def: HookDef, message: String) -> RuleError {
    RuleError {
        source: script.source.clone(),
        hook: hook.name().into(),
        line: Some(def.line),
        col: Some(def.col),
        message,
        superseded_at: None,
    }
}

fn type_name(value: &Dynamic) -> String {
    if value.is_unit() {
        return "() (nothing)".into();
    }
    match value.type_name() {
        "string" | "char" => "a string".into(),
        "array" => "an array".into(),
        "map" => "a map".into(),
        "i64" => "an integer".into(),
        "f64" => "a decimal number".into(),
        "bool" => "a boolean".into(),
        "Fn" => "a function pointer".into(),
        other => format!("a {}", other.rsplit("::").next().unwrap_or(other)),
    }
}

/// The array a hook returned (taken, not copied), or why it is not one.
fn returned_array(value: Dynamic, what: &str, var: &str) -> Result<Array, String> {
    // A variable a closure captured is shared: unwrap it first.
    let value = value.flatten();
    if !value.is_array() {
        return Err(format!(
            "must return an array of {what}, not {}{}",
            type_name(&value),
            forgot_return_hint(&value, var)
        ));
    }
    Ok(value.into_array().unwrap_or_default())
}

fn forgot_return_hint(value: &Dynamic, var: &str) -> String {
    if value.is_unit() {
        format!(" (end the function with the array itself, e.g. `{var}`)")
    } else {
        String::new()
    }
}

/// Where an error happened: the innermost position rhai gives, else the outer one (errors inside
/// a called function carry the call's position outside and the real one inside).
pub(super) fn error_position(err: &EvalAltResult) -> Option<rhai::Position> {
    [err.unwrap_inner().position(), err.position()]
        .into_iter()
        .find(|p| !p.is_none())
}

pub(super) fn describe(err: &EvalAltResult, limits: &Limits) -> String {
    match err {
        EvalAltResult::ErrorTooManyOperations(_) => format!(
            "stopped after {} operations, the limit (an endless loop?)",
            limits.max_operations
        ),
        EvalAltResult::ErrorTerminated(token, _) if token.to_string() == DEADLINE_TOKEN => format!(
            "stopped after {} ms, the time limit of one hook",
            limits.deadline.as_millis()
        ),
        EvalAltResult::ErrorStackOverflow(_) => format!(
            "functions called more than {} levels deep, the limit (endless recursion?)",
            limits.max_call_levels
        ),
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            let what = what.to_lowercase();
            if what.contains("string") {
                format!(
                    "a string grew past {} bytes, the limit",
                    limits.max_string_size
                )
            } else if what.contains("array") {
                format!(
                    "an array grew past {} items, the limit",
                    limits.max_array_size
                )
            } else if what.contains("map") {
                format!("a map grew past {} entries, the limit", limits.max_map_size)
            } else {
                format!("{what} is over the limit")
            }
        }
        EvalAltResult::ErrorTooManyVariables(_) => {
            format!("more than {} variables, the limit", limits.max_variables)
        }
        EvalAltResult::ErrorRuntime(value, _) => format!("threw: {value}"),
        other => {
            let text = other.to_string();
            let pos = other.position();
            if pos.is_none() {
                text
            } else {
                let suffix = format!(" ({pos})");
                text.strip_suffix(&suffix).unwrap_or(&text).to_string()
            }
        }
    }
}

const TASK_KEYS: &[&str] = &["action", "queue", "title", "due_hours", "priority", "note"];
const WEBHOOK_KEYS: &[&str] = &["action", "target", "payload"];

fn text_field(map: &Map, key: &str, required: bool) -> Result<Option<String>, String> {
    match map.get(key) {
        None => {
            if required {
                Err(format!("needs {key}"))
            } else {
                Ok(None)
            }
        }
        Some(v) if v.is_unit() && !required => Ok(None),
        Some(v) if v.is_string() => {
            let s = v.to_string();
            if s.trim().is_empty() {
                Err(format!("{key} is empty"))
            } else {
                Ok(Some(s))
            }
        }
        Some(v) => Err(format!("{key} must be a string, not {}", type_name(v))),
    }
}

/// Reads an action map (SPEC "Actions"); any other shape is refused with the reason.
pub fn parse_action(map: &Map, webhooks: &[String]) -> Result<Action, String> {
    let kind = text_field(map, "action", true)?.unwrap_or_default();
    let allowed = match kind.as_str() {
        "task" => TASK_KEYS,
        "webhook" => WEBHOOK_KEYS,
        other => {
            return Err(format!(
                "unknown action \"{other}\" (use \"task\" or \"webhook\")"
            ))
        }
    };
    if let Some(key) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "a {kind} has no field \"{key}\" (fields: {})",
            allowed.join(", ")
        ));
    }
    if kind == "task" {
        let due_hours = match map.get("due_hours") {
            None => None,
            Some(v) if v.is_unit() => None,
            Some(v) => match v.as_int() {
                Ok(h) if (0..=24 * 366).contains(&h) => Some(h),
                Ok(h) => return Err(format!("due_hours {h} is not between 0 and 8784")),
                Err(_) => {
                    return Err(format!(
                        "due_hours must be an integer, not {}",
                        type_name(v)
                    ))
                }
            },
        };
        let priority = match text_field(map, "priority", false)?.as_deref() {
            None | Some("normal") => Priority::Normal,
            Some("high") => Priority::High,
            Some(other) => {
                return Err(format!(
                    "priority \"{other}\" is not \"normal\" or \"high\""
                ))
            }
        };
        return Ok(Action::Task {
            queue: text_field(map, "queue", true)?.unwrap_or_default(),
            title: text_field(map, "title", true)?.unwrap_or_default(),
            due_hours,
            priority,
            note: text_field(map, "note", false)?,
        });
    }
    let target = text_field(map, "target", true)?.unwrap_or_default();
    if !webhooks.contains(&target) {
        return Err(format!(
            "webhook target \"{target}\" is not a [[webhooks]] name in site.toml{}",
            if webhooks.is_empty() {
                String::new()
            } else {
                format!(" ({})", webhooks.join(", "))
            }
        ));
    }
    let payload = match map.get("payload") {
        None => None,
        Some(v) if v.is_unit() => None,
        Some(v) if v.is_map() => Some(convert::to_json(v).map_err(|e| format!("payload: {e}"))?),
        Some(v) => return Err(format!("payload must be a map, not {}", type_name(v))),
    };
    Ok(Action::Webhook { target, payload })
}
