//! `chorus invite --site S --survey X --count N`: single-use survey links, written as CSV
//! (`url,expires_at`), for a clinic to print on after-visit summaries or send one by one.

use super::{load_offline_site, open_offline_store, public_base, site_survey};
use crate::args::InviteArgs;
use crate::config::Config;
use crate::csv_cell::SafeCsv;
use crate::errors::StartupError;
use crate::invitations::{check_request, issue, link_path, now_ms};
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: InviteArgs) -> Result<ExitCode, StartupError> {
    check_request(args.count, args.expires_in_days).map_err(|(field, message)| {
        StartupError::Config(format!("--{}: {message}", field.replace('_', "-")))
    })?;
    let config = Config::for_command(&args.common)?;
    let site = load_offline_site(&config, &args.site)?;
    site_survey(&site, &args.survey)?;
    let base = public_base(args.base_url.as_deref(), &config)?;
    // Open the output before creating links, so that a bad path wastes none.
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| StartupError::Io(format!("cannot create {}: {e}", path.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let store = open_offline_store(&config)?;
    let issued = issue(
        &store,
        site.id(),
        &args.survey,
        args.count,
        args.expires_in_days,
        now_ms(),
    )?;
    let mut csv = SafeCsv::new(out);
    let io = |e: csv::Error| StartupError::Io(format!("cannot write the links: {e}"));
    csv.write_row(["url", "expires_at"]).map_err(io)?;
    for i in &issued {
        let url = format!("{base}{}", link_path(site.id(), &args.survey, &i.token));
        csv.write_row([url.as_str(), i.expires_at.as_str()])
            .map_err(io)?;
    }
    csv.flush()
        .map_err(|e| StartupError::Io(format!("cannot write the links: {e}")))?;
    eprintln!(
        "Created {} single-use link(s) to \"{}\", valid until {}",
        issued.len(),
        args.survey,
        issued.first().map_or("", |i| i.expires_at.as_str())
    );
    Ok(ExitCode::SUCCESS)
}
