//! `chorus check`: parse every site and survey, compile every script, run every rule test.

use crate::args::CheckArgs;
use crate::config::Config;
use crate::errors::StartupError;
use crate::sites::SiteRegistry;
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
    let mut failures = 0;
    let mut cases = 0;
    let mut warnings = 0;
    for id in registry.ids() {
        let Some(rt) = registry.get(&id) else {
            continue;
        };
        // Warnings only: they never change the exit status.
        for warning in crate::survey::plain_language::reading_warnings(&rt.site) {
            println!("{warning}");
            warnings += 1;
        }
        let report = crate::plugins::run_rule_tests(&rt.site, &rt.rules);
        cases += report.cases;
        for problem in &report.problems {
            println!("{problem}");
        }
        failures += report.problems.len();
    }
    if failures > 0 {
        eprintln!("{failures} problem(s) found, {warnings} plain-language warning(s)");
        return Ok(ExitCode::FAILURE);
    }
    let warned = if warnings > 0 {
        format!(", {warnings} plain-language warning(s)")
    } else {
        String::new()
    };
    eprintln!(
        "ok: {} site(s), {cases} rule test case(s) passed{warned}",
        registry.ids().len()
    );
    Ok(ExitCode::SUCCESS)
}
