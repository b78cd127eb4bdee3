//! `chorus export --site SITE --format csv|jsonl|fhir`: every response of a site with its tags.

use super::{block_on, close, load_offline_site, open_offline_store, public_base};
use crate::commands::args::{ExportArgs, ExportFormat};
use crate::config::{Config, StartupError};
use crate::services::audit::Actor;
use crate::services::export::{write_csv, write_fhir, write_jsonl, ExportError};
use crate::store::ResponseQuery;
use crate::survey::load_site;
use std::io::Write;
use std::process::ExitCode;

fn failed(e: ExportError) -> StartupError {
    match e {
        ExportError::Store(e) => e.into(),
        ExportError::Write(m) => StartupError::Io(m),
    }
}

pub fn run(args: ExportArgs) -> Result<ExitCode, StartupError> {
    let config = Config::for_command(&args.common)?;
    // The site's definition gives each resource its texts and codes: load it before the store.
    let fhir = match args.format {
        ExportFormat::Fhir => Some((
            load_offline_site(&config, &args.site)?,
            public_base(args.base_url.as_deref(), &config)?,
        )),
        _ => None,
    };
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| StartupError::Io(format!("cannot create {}: {e}", path.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(out);
    let query = ResponseQuery {
        site: args.site.clone(),
        ..ResponseQuery::default()
    };

    let count = block_on(async {
        let store = open_offline_store(&config).await?;
        let count = match args.format {
            ExportFormat::Jsonl => write_jsonl(store.as_ref(), Actor::Cli, query, &mut out).await,
            ExportFormat::Fhir => {
                let (site, base) = fhir.as_ref().expect("loaded above");
                write_fhir(store.as_ref(), Actor::Cli, site, base, query, &mut out).await
            }
            ExportFormat::Csv => {
                // Column order follows the site's current definition; answers to questions no
                // longer in it land in the last column, so nothing is left out.
                let surveys = load_site(&config.sites.join(&args.site))
                    .map(|def| def.surveys)
                    .unwrap_or_default();
                write_csv(store.as_ref(), Actor::Cli, &surveys, query, &mut out).await
            }
        }
        .map_err(failed)?;
        close(store.as_ref()).await?;
        Ok::<u64, StartupError>(count)
    })??;
    out.flush()
        .map_err(|e| StartupError::Io(format!("cannot write the export: {e}")))?;
    eprintln!("Exported {count} response(s) of site \"{}\"", args.site);
    Ok(ExitCode::SUCCESS)
}
