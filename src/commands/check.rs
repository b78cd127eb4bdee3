//! `chorus check`: parse every site and survey, compile every script, run every rule test.

use crate::commands::args::CheckArgs;
use crate::config::{Config, StartupError};
use crate::services::rule_tests::run_rule_tests;
use crate::services::sites::SiteRegistry;
use std::process::ExitCode;

pub fn run(args: CheckArgs) -> Result<ExitCode, StartupError> {
    let config = Config::for_command(&args.common)?;
    let registry = match SiteRegistry::load(&config.sites, &config.plugins, config.webhook_policy())
    {
        Ok(r) => r,
        Err(errors) => {
            for e in &errors {
                println!("{e}");
            }
            eprintln!("{} problem(s) found", errors.len());
            return Ok(ExitCode::FAILURE);
        }
    };
    // A broken site's problems, then the rule tests of the sites that load.
    let mut failures = 0;
    for problems in registry.broken().values() {
        for problem in problems {
            println!("{problem}");
        }
        failures += problems.len();
    }
    let mut cases = 0;
    let mut warnings = 0;
    let mut rule_warnings = 0;
    for id in registry.ids() {
        let Some(rt) = registry.get(&id) else {
            continue;
        };
        // Warnings only: they never change the exit status.
        for warning in crate::survey::plain_language::reading_warnings(&rt.site) {
            println!("{warning}");
            warnings += 1;
        }
        let report = run_rule_tests(&rt.site, &rt.rules);
        cases += report.cases;
        for problem in &report.problems {
            println!("{problem}");
        }
        for warning in &report.warnings {
            println!("{warning}");
        }
        rule_warnings += report.warnings.len();
        failures += report.problems.len();
    }
    if failures > 0 {
        eprintln!("{failures} problem(s) found, {warnings} plain-language warning(s), {rule_warnings} rule warning(s)");
        return Ok(ExitCode::FAILURE);
    }
    let mut warned = String::new();
    if warnings > 0 {
        warned.push_str(&format!(", {warnings} plain-language warning(s)"));
    }
    if rule_warnings > 0 {
        warned.push_str(&format!(", {rule_warnings} rule warning(s)"));
    }
    eprintln!(
        "ok: {} site(s), {cases} rule test case(s) passed{warned}",
        registry.ids().len()
    );
    Ok(ExitCode::SUCCESS)
}
