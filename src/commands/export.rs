//! `chorus export --site SITE --format csv|jsonl`: every response of a site with its tags.

use super::open_offline_store;
use crate::args::{ExportArgs, ExportFormat};
use crate::config::Config;
use crate::csv_cell::SafeCsv;
use crate::errors::StartupError;
use crate::response_csv;
use crate::store::Store;
use crate::survey::load_site;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: ExportArgs) -> Result<ExitCode, StartupError> {
    let config = Config::for_command(&args.common)?;
    let store = open_offline_store(&config)?;
    let out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .map_err(|e| StartupError::Io(format!("cannot create {}: {e}", path.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = std::io::BufWriter::new(out);
    let io = |e: std::io::Error| StartupError::Io(format!("cannot write the export: {e}"));
    let count = match args.format {
        ExportFormat::Jsonl => {
            let mut n = 0u64;
            for r in store.scan_responses(&args.site)? {
                serde_json::to_writer(&mut out, &r?)
                    .map_err(|e| StartupError::Io(e.to_string()))?;
                out.write_all(b"\n").map_err(io)?;
                n += 1;
            }
            n
        }
        ExportFormat::Csv => write_csv(&store, &args.site, &config, &mut out)?,
    };
    out.flush().map_err(io)?;
    eprintln!("Exported {count} response(s) of site \"{}\"", args.site);
    Ok(ExitCode::SUCCESS)
}

fn write_csv(
    store: &dyn Store,
    site: &str,
    config: &Config,
    out: &mut dyn Write,
) -> Result<u64, StartupError> {
    // Column order follows the site's current definition; answers to questions no longer in
    // it land in the last column, so nothing is left out.
    let columns = load_site(&config.sites.join(site))
        .map(|def| response_csv::question_columns(&def.surveys))
        .unwrap_or_default();
    let mut w = SafeCsv::new(out);
    let err = |e: csv::Error| StartupError::Io(format!("cannot write the export: {e}"));
    w.write_row(response_csv::header(&columns)).map_err(err)?;
    let mut n = 0;
    for r in store.scan_responses(site)? {
        w.write_row(response_csv::row(&r?, &columns)).map_err(err)?;
        n += 1;
    }
    w.flush().map_err(|e| StartupError::Io(e.to_string()))?;
    Ok(n)
}
