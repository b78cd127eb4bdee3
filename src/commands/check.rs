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
    for id in registry.ids() {
        let Some(rt) = registry.get(&id) else {
            continue;
        };
        let report = crate::plugins::run_rule_tests(&rt.site, &rt.rules);
        cases += report.cases;
        for problem in &report.problems {
            println!("{problem}");
        }
        failures += report.problems.len();
    }
    if failures > 0 {
        eprintln!("{failures} problem(s) found");
        return Ok(ExitCode::FAILURE);
    }
    eprintln!(
        "ok: {} site(s), {cases} rule test case(s) passed",
        registry.ids().len()
    );
    Ok(ExitCode::SUCCESS)
}
