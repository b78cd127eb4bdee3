//! Turning a site's enabled plugins and rule files into compiled scripts, with every problem
//! reported as `file:line:col: message`.

use super::convert;
use super::engine::{DeadlineGuard, Limits};
use super::hooks::{describe, error_position, HookDef, Script};
use crate::survey::load::{line_col, locate_in_file as locate_in_toml};
use crate::survey::{LoadError, Site};
use rhai::{Dynamic, Engine, Map, Scope, AST};
use std::path::Path;

/// The name top-level code reads a plugin's settings by (hooks get them as `settings`).
pub const SETTINGS_CONSTANT: &str = "SETTINGS";

/// The two engines a script is compiled with: hooks run on `strict`; `loose` runs the top level
/// once, before the constants it defines exist for the strict compile (see `compile_text`).
pub struct Compiler<'a> {
    pub strict: &'a Engine,
    pub loose: &'a Engine,
    pub limits: &'a Limits,
}

/// Compiles every enabled plugin (site order) then every rule file (file-name order).
pub fn compile_site(
    compiler: &Compiler<'_>,
    site: &Site,
    plugins_dir: &Path,
) -> Result<Vec<Script>, Vec<LoadError>> {
    let mut scripts = Vec::new();
    let mut errors = Vec::new();
    let site_file = site.dir.join("site.toml");
    for (i, name) in site.config.plugins.iter().enumerate() {
        let at_name = |message: String| {
            let (line, col) = locate_in_toml(&site_file, &format!("plugins.{i}"));
            LoadError {
                file: site_file.clone(),
                line,
                col,
                message,
            }
        };
        if site.config.plugins[..i].contains(name) {
            errors.push(at_name(format!("plugin \"{name}\" is enabled twice")));
            continue;
        }
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        let path = plugins_dir.join(format!("{name}.rhai"));
        if !valid_name || !path.is_file() {
            errors.push(at_name(format!(
                "plugin \"{name}\" not found: there is no {}",
                path.display()
            )));
            continue;
        }
        let settings = site
            .config
            .plugin_settings
            .get(name)
            .map(convert::from_json)
            .unwrap_or_else(|| Dynamic::from_map(Map::new()));
        if !settings.is_map() {
            errors.push(at_name(format!("[plugin_settings.{name}] must be a table")));
            continue;
        }
        match compile_script(compiler, &path, name.clone(), settings) {
            Ok(s) => scripts.push(s),
            Err(mut e) => errors.append(&mut e),
        }
    }
    for path in &site.rule_files {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // Site rules are the site's own code: they get an empty settings map.
        let settings = Dynamic::from_map(Map::new());
        match compile_script(compiler, path, format!("rules/{file_name}"), settings) {
            Ok(s) => scripts.push(s),
            Err(mut e) => errors.append(&mut e),
        }
    }
    if errors.is_empty() {
        Ok(scripts)
    } else {
        Err(errors)
    }
}

fn compile_script(
    compiler: &Compiler<'_>,
    path: &Path,
    source: String,
    settings: Dynamic,
) -> Result<Script, Vec<LoadError>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![LoadError::at_start(path, format!("cannot read: {e}"))])?;
    compile_text(compiler, path, text, source, settings)
}

fn at_position(path: &Path, pos: rhai::Position, message: String) -> LoadError {
    LoadError {
        file: path.to_path_buf(),
        line: pos.line().unwrap_or(1),
        col: pos.position().unwrap_or(1),
        message,
    }
}

/// Runs a script's top level once and returns the constants it declared, with `SETTINGS`.
/// This is what lets a hook use `const KEYWORDS = keyword_set(...)` without rebuilding the list
/// on every response: the strict compile that follows folds each constant into the hooks.
fn load_time_constants(
    compiler: &Compiler<'_>,
    path: &Path,
    text: &str,
    settings: Dynamic,
) -> Result<Scope<'static>, Vec<LoadError>> {
    let mut scope = Scope::new();
    scope.push_constant(SETTINGS_CONSTANT, settings);
    let ast = compiler
        .loose
        .compile_with_scope(&scope, text)
        .map_err(|e| vec![at_position(path, e.position(), e.err_type().to_string())])?;
    let deadline = DeadlineGuard::start(compiler.limits.deadline);
    let ran = compiler.loose.run_ast_with_scope(&mut scope, &ast);
    drop(deadline);
    ran.map_err(|e| {
        let pos = error_position(&e).unwrap_or_default();
        let message = format!(
            "{} (while loading the top level)",
            describe(e.unwrap_inner(), compiler.limits)
        );
        vec![at_position(path, pos, message)]
    })?;
    let mut constants = Scope::new();
    for (name, constant, value) in scope.iter() {
        if constant {
            constants.push_constant(name.to_string(), value);
        }
    }
    Ok(constants)
}

/// Compiles one script from its text: the top level runs once (see `load_time_constants`), then
/// the whole text is compiled strictly with those constants known.
pub fn compile_text(
    compiler: &Compiler<'_>,
    path: &Path,
    text: String,
    source: String,
    settings: Dynamic,
) -> Result<Script, Vec<LoadError>> {
    let constants = load_time_constants(compiler, path, &text, settings.clone())?;
    let mut ast = compiler
        .strict
        .compile_with_scope(&constants, &text)
        .map_err(|e| vec![at_position(path, e.position(), e.err_type().to_string())])?;
    ast.set_source(source.as_str());
    let mut errors = shadowed_constants(&ast, &constants, path, &text);
    let mut hook = |name: &str| -> Option<HookDef> {
        let params = ast
            .iter_functions()
            .filter(|f| f.name == name)
            .map(|f| f.params.len())
            .collect::<Vec<_>>();
        let (line, col) = find_fn(&text, name);
        let def = |params| HookDef { params, line, col };
        let arg = if name == "review" {
            "report"
        } else {
            "response"
        };
        match params.as_slice() {
            [] => None,
            [n @ (1 | 2)] => Some(def(*n)),
            _ => {
                errors.push(LoadError {
                    file: path.to_path_buf(),
                    line,
                    col,
                    message: format!(
                        "fn {name} must take ({arg}) or ({arg}, settings), and be defined once"
                    ),
                });
                None
            }
        }
    };
    let tag = hook("tag");
    let follow_up = hook("follow_up");
    let review = hook("review");
    if tag.is_none() && follow_up.is_none() && review.is_none() && errors.is_empty() {
        errors.push(LoadError::at_start(
            path,
            "defines none of fn tag(response, settings), fn follow_up(response, settings) and fn review(report, settings)",
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Script {
        source,
        path: path.to_path_buf(),
        text,
        ast,
        tag,
        follow_up,
        review,
        // Shared and read-only: every call passes the same settings without copying them.
        settings: settings.into_read_only().into_shared(),
    })
}

/// A parameter named like a top-level constant would read the constant, not the argument (the
/// constants are folded into function bodies), so it is refused.
fn shadowed_constants(ast: &AST, constants: &Scope<'_>, path: &Path, text: &str) -> Vec<LoadError> {
    let mut errors = Vec::new();
    for f in ast.iter_functions() {
        for param in f.params.iter().filter(|p| constants.contains(p)) {
            let (line, col) = find_fn(text, f.name);
            errors.push(LoadError {
                file: path.to_path_buf(),
                line,
                col,
                message: format!(
                    "parameter `{param}` of fn {} has the name of a top-level constant: rename one of them",
                    f.name
                ),
            });
        }
    }
    errors
}

/// Line and column of `fn name` in a script (1:1 when not found).
fn find_fn(text: &str, name: &str) -> (usize, usize) {
    let mut from = 0;
    while let Some(found) = text[from..].find("fn ") {
        let start = from + found;
        let rest = text[start + 3..].trim_start();
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let in_comment = text[line_start..start].contains("//");
        let boundary =
            start == 0 || !text[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        if boundary
            && !in_comment
            && rest.starts_with(name)
            && rest[name.len()..].trim_start().starts_with('(')
        {
            return line_col(text, start);
        }
        from = start + 3;
    }
    (1, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_hook_definitions() {
        let src = "// fn tag( in a comment\n\nfn xtag(r) {}\nfn  tag (r) { [] }\n";
        assert_eq!(find_fn(src, "tag"), (4, 1));
        let src = "fn helper() {}\nfn follow_up(r, s) { [] }\n";
        assert_eq!(find_fn(src, "follow_up"), (2, 1));
    }
}
