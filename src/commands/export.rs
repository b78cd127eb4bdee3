//! `chorus export --site SITE --format csv|jsonl`: every response of a site with its tags.

use super::open_offline_store;
use crate::args::{ExportArgs, ExportFormat};
use crate::config::Config;
use crate::errors::StartupError;
use crate::response::StoredResponse;
use crate::store::Store;
use crate::survey::load_site;
use std::io::Write;
use std::process::ExitCode;

const FIXED_COLUMNS: [&str; 8] = [
    "id",
    "submitted_at",
    "survey",
    "survey_version",
    "group",
    "language",
    "tags",
    "follow_ups",
];

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

/// Answer columns: the site's questions in survey order, then any stored answer id no longer
/// in a definition (found by a first pass), so no answer is ever left out.
fn answer_columns(
    store: &dyn Store,
    site: &str,
    config: &Config,
) -> Result<Vec<String>, StartupError> {
    let mut columns: Vec<String> = Vec::new();
    if let Ok(def) = load_site(&config.sites.join(site)) {
        for survey in &def.surveys {
            for q in &survey.questions {
                if !columns.contains(&q.id) {
                    columns.push(q.id.clone());
                }
            }
        }
    }
    for r in store.scan_responses(site)? {
        for id in r?.answers.keys() {
            if !columns.contains(id) {
                columns.push(id.clone());
            }
        }
    }
    Ok(columns)
}

fn write_csv(
    store: &dyn Store,
    site: &str,
    config: &Config,
    out: &mut dyn Write,
) -> Result<u64, StartupError> {
    let columns = answer_columns(store, site, config)?;
    let mut w = csv::Writer::from_writer(out);
    let err = |e: csv::Error| StartupError::Io(format!("cannot write the export: {e}"));
    w.write_record(
        FIXED_COLUMNS
            .iter()
            .copied()
            .chain(columns.iter().map(String::as_str)),
    )
    .map_err(err)?;
    let mut n = 0;
    for r in store.scan_responses(site)? {
        let r: StoredResponse = r?;
        let mut row = vec![
            r.id.to_string(),
            r.submitted_at.clone(),
            r.survey.clone(),
            r.survey_version.to_string(),
            r.group.clone(),
            r.language.clone().unwrap_or_default(),
            r.tag_codes().join(";"),
            r.follow_ups.len().to_string(),
        ];
        for c in &columns {
            row.push(
                r.answers
                    .get(c)
                    .map(|a| a.as_form_values().join(";"))
                    .unwrap_or_default(),
            );
        }
        w.write_record(&row).map_err(err)?;
        n += 1;
    }
    w.flush().map_err(|e| StartupError::Io(e.to_string()))?;
    Ok(n)
}
