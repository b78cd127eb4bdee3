//! `chorus audit verify` and `chorus audit export [--site S] [--since T]`, on a stopped
//! server's store (docs/audit.md).

use super::{block_on, close, open_offline_store};
use crate::commands::args::AuditCommand;
use crate::config::{Config, StartupError};
use crate::domain::time::parse_instant_ms;
use crate::services::audit::{self, Verification};
use std::io::Write;
use std::process::ExitCode;

pub fn run(cmd: AuditCommand) -> Result<ExitCode, StartupError> {
    match cmd {
        AuditCommand::Verify { common } => {
            let config = Config::for_command(&common)?;
            let verification = block_on(async {
                let store = open_offline_store(&config).await?;
                let v = audit::verify(store.as_ref())
                    .await
                    .map_err(|e| StartupError::Io(e.to_string()))?;
                close(store.as_ref()).await?;
                Ok::<_, StartupError>(v)
            })??;
            match verification {
                Verification::Intact { count, head } => {
                    println!("The audit trail is intact: {count} entries, head hash {head}");
                    Ok(ExitCode::SUCCESS)
                }
                Verification::Broken { seq, reason } => {
                    println!("The audit trail is broken at entry {seq}: {reason}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditCommand::Export {
            site,
            since,
            common,
        } => {
            let since_ms = since
                .as_deref()
                .map(parse_instant_ms)
                .transpose()
                .map_err(|e| StartupError::Input(format!("--since: {e}")))?
                .map(|ms| ms as i64);
            let config = Config::for_command(&common)?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let count = block_on(async {
                let store = open_offline_store(&config).await?;
                let n = audit::export(store.as_ref(), site.as_deref(), since_ms, &mut out)
                    .await
                    .map_err(|e| StartupError::Io(e.to_string()))?;
                close(store.as_ref()).await?;
                Ok::<_, StartupError>(n)
            })??;
            out.flush()
                .map_err(|e| StartupError::Io(format!("cannot write the entries: {e}")))?;
            eprintln!("Exported {count} audit entries");
            Ok(ExitCode::SUCCESS)
        }
    }
}
