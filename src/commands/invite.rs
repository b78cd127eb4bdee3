//! `chorus invite --site S --survey X --count N`: single-use survey links, written as CSV
//! (`url,expires_at`), for a clinic to print on after-visit summaries or send one by one.

use super::{block_on, close, load_offline_site, open_offline_store, public_base, site_survey};
use crate::commands::args::InviteArgs;
use crate::config::{Config, StartupError};
use crate::domain::invitation::{check_request, link_path};
use crate::services::audit::Actor;
use crate::services::csv_cell::SafeCsv;
use crate::services::invitations::issue;
use crate::services::sites::SiteRegistry;
use crate::services::Chorus;
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
    let issued = block_on(async {
        let store = open_offline_store(&config).await?;
        // The services' context, without sites: issuing needs only the store.
        let chorus = Chorus::new(store, SiteRegistry::empty(), 1);
        let issued = issue(
            &chorus,
            Actor::Cli,
            site.id(),
            &args.survey,
            args.count,
            args.expires_in_days,
        )
        .await
        .map_err(|e| StartupError::Io(e.to_string()))?;
        close(chorus.store.as_ref()).await?;
        Ok::<_, StartupError>(issued)
    })??;
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
