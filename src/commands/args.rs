//! Command-line interface (SPEC "Command line").

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "chorus",
    version,
    about = "Multistakeholder feedback surveys on patient-portal enrollment"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the surveys, the API and the admin pages.
    Serve(ServeArgs),
    /// Parse every site and survey, compile every script, run every rule test.
    Check(CheckArgs),
    /// Check that the store is whole, as `serve` does before it starts, without starting.
    CheckStore(CheckArgs),
    /// Count every stored response and task again into the report's stored counts (server
    /// stopped). Never needed in normal use: the counts follow every write, re-tag and restore.
    RebuildReport(CheckArgs),
    /// Manage API users and their tokens.
    #[command(subcommand)]
    User(UserCommand),
    /// Write every response of a site, with its tags, as CSV or JSON lines.
    Export(ExportArgs),
    /// Write a consistent copy of the whole store to FILE (server stopped).
    Backup(BackupArgs),
    /// Load a backup FILE into an empty store.
    Restore(BackupArgs),
    /// Apply the PostgreSQL store's migrations (serve applies them at start too).
    Migrate(MigrateArgs),
    /// Create single-use invitation links to a survey and write them as CSV (url, expires_at).
    Invite(InviteArgs),
    /// Print surveys as HL7 FHIR R4 resources (docs/fhir.md).
    #[command(subcommand)]
    Fhir(FhirCommand),
    /// Check or export the audit trail (docs/audit.md).
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Create a survey file from another format.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Move a site's rules and rule tests between the store and a folder (docs/rules.md
    /// "Where the rules live").
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Write the current versions of a site's rules into DIR (*.rhai, tests/*.toml); other
    /// such files in DIR are removed, so that DIR holds exactly what the site runs.
    Pull {
        #[arg(long)]
        site: String,
        dir: PathBuf,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Upload DIR's *.rhai and tests/*.toml as the site's new rules (rules_source = "store"):
    /// checked first, refused when a file has a problem or a rule test fails.
    Push {
        #[arg(long)]
        site: String,
        dir: PathBuf,
        /// What changed, kept with each new version
        #[arg(long)]
        message: Option<String>,
        /// Push even if rule tests fail (recorded with the versions); never when a file has
        /// a problem
        #[arg(long)]
        anyway: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
}

/// Paths and settings shared by `serve` and the offline commands; each may come from a flag,
/// a CHORUS_* variable or chorus.toml, in that order of precedence.
#[derive(Debug, Args, Clone, Default)]
pub struct CommonArgs {
    /// Configuration file [default: ./chorus.toml when present]
    #[arg(long, env = "CHORUS_CONFIG")]
    pub config: Option<PathBuf>,
    /// sled data directory [default: ./data]
    #[arg(long, env = "CHORUS_DATA")]
    pub data: Option<PathBuf>,
    /// PostgreSQL store, postgres://USER:PASSWORD@HOST:PORT/DATABASE [default: sled in --data]
    #[arg(long, env = "CHORUS_STORE", hide_env_values = true)]
    pub store: Option<String>,
    /// Folder of sites [default: ./sites]
    #[arg(long, env = "CHORUS_SITES")]
    pub sites: Option<PathBuf>,
    /// Folder of shipped plugins [default: ./plugins]
    #[arg(long, env = "CHORUS_PLUGINS")]
    pub plugins: Option<PathBuf>,
    /// Folder of tera templates [default: ./templates]
    #[arg(long, env = "CHORUS_TEMPLATES")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "CHORUS_BIND")]
    pub bind: Option<String>,
    /// HTTP worker threads [default: number of cores]
    #[arg(long, env = "CHORUS_WORKERS")]
    pub workers: Option<usize>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user and print its API token once.
    Add {
        /// Site id, or '*' for every site
        #[arg(long)]
        site: String,
        #[arg(long)]
        name: String,
        /// admin, staff or viewer
        #[arg(long)]
        role: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Read a password from standard input and set it for the web login.
    Passwd {
        name: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// List the users: name, site, role, state.
    List {
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Change a user's role (admin, staff or viewer).
    Role {
        name: String,
        role: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Disable a user: no sign-in, their sessions and token stop working.
    Disable {
        name: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Enable a disabled user again.
    Enable {
        name: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Give a user a new API token (printed once); the old one stops working.
    Token {
        name: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Revoke a user's API token.
    RevokeToken {
        name: String,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Print a single-use link (72 hours) for the user to set their own password.
    Invite {
        name: String,
        /// Public address of the server (default: public_url of chorus.toml, else the bind address)
        #[arg(long)]
        base_url: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain: the first broken entry (exit 1), or the count and the head hash.
    Verify {
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Write audit entries as JSON lines, oldest first.
    Export {
        /// Only this site's entries
        #[arg(long)]
        site: Option<String>,
        /// Only entries at or after this instant (RFC 3339, or a date YYYY-MM-DD)
        #[arg(long)]
        since: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum ExportFormat {
    #[default]
    Csv,
    Jsonl,
    /// NDJSON, one FHIR R4 QuestionnaireResponse a line (FHIR Bulk Data style)
    Fhir,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long)]
    pub site: String,
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// With --format fhir: the public URL the canonical URLs are built on (default
    /// `public_url` from chorus.toml, else http://BIND)
    #[arg(long)]
    pub base_url: Option<String>,
    /// Write to this file instead of standard output
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    pub file: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    #[arg(long)]
    pub site: String,
    #[arg(long)]
    pub survey: String,
    /// How many links (1 to 1000)
    #[arg(long)]
    pub count: u32,
    /// Days each link stays valid (1 to 365)
    #[arg(long, default_value_t = 30)]
    pub expires_in_days: u32,
    /// Start of each link [default: public_url from chorus.toml, else http://BIND]
    #[arg(long)]
    pub base_url: Option<String>,
    /// Write the CSV to this file instead of standard output
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum FhirCommand {
    /// Print one survey as a FHIR R4 Questionnaire (JSON).
    Questionnaire(FhirQuestionnaireArgs),
}

#[derive(Debug, Args)]
pub struct FhirQuestionnaireArgs {
    #[arg(long)]
    pub site: String,
    #[arg(long)]
    pub survey: String,
    /// Public URL the Questionnaire's canonical URL is built on [default: public_url from
    /// chorus.toml, else http://BIND]
    #[arg(long)]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Write a survey TOML from a FHIR R4 Questionnaire (JSON), refusing what it cannot represent.
    Questionnaire(ImportQuestionnaireArgs),
}

#[derive(Debug, Args)]
pub struct ImportQuestionnaireArgs {
    /// The Questionnaire, as JSON
    pub file: PathBuf,
    /// The site the survey is for (its groups and default language are checked)
    #[arg(long)]
    pub site: String,
    /// Stakeholder group [default: the Questionnaire's useContext of type "user"]
    #[arg(long)]
    pub group: Option<String>,
    /// Survey id [default: from a Chorus Questionnaire URL, else Questionnaire.id]
    #[arg(long)]
    pub id: Option<String>,
    /// Write the survey to this new file instead of standard output
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}
