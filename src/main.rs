use chorus::commands::args::{Cli, Command};
use clap::Parser;
use std::process::ExitCode;

/// glibc's malloc and free were about a fifth of the CPU a durable submission costs (perf, the
/// patient workload); mimalloc's thread-local pages make them cheap.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CHORUS_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => chorus::commands::serve::run(args),
        Command::Check(args) => chorus::commands::check::run(args),
        Command::CheckStore(args) => chorus::commands::check_store::run(args),
        Command::RebuildReport(args) => chorus::commands::check_store::rebuild_report(args),
        Command::User(cmd) => chorus::commands::user::run(cmd),
        Command::Export(args) => chorus::commands::export::run(args),
        Command::Backup(args) => chorus::commands::backup::backup(args),
        Command::Restore(args) => chorus::commands::backup::restore(args),
        Command::Migrate(args) => chorus::commands::migrate::run(args),
        Command::Invite(args) => chorus::commands::invite::run(args),
        Command::Fhir(cmd) => chorus::commands::fhir::run(cmd),
        Command::Audit(cmd) => chorus::commands::audit::run(cmd),
        Command::Import(cmd) => chorus::commands::fhir::import(cmd),
        Command::Rules(cmd) => chorus::commands::rules::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("chorus: {e}");
            ExitCode::FAILURE
        }
    }
}
