//! `chorus fhir questionnaire` and `chorus import questionnaire`: surveys to and from FHIR R4
//! Questionnaires, offline (docs/fhir.md).

use super::{load_offline_site, public_base, site_survey};
use crate::args::{FhirCommand, ImportCommand, ImportQuestionnaireArgs};
use crate::config::Config;
use crate::errors::StartupError;
use crate::fhir::{self, ImportOptions, Questionnaire};
use crate::survey::answers::check_definition;
use crate::survey::load::check_translations;
use crate::survey::write::to_toml;
use std::io::Write;
use std::process::ExitCode;

pub fn run(command: FhirCommand) -> Result<ExitCode, StartupError> {
    let FhirCommand::Questionnaire(args) = command;
    let config = Config::for_command(&args.common)?;
    let site = load_offline_site(&config, &args.site)?;
    let survey = site_survey(&site, &args.survey)?;
    let base = public_base(args.base_url.as_deref(), &config)?;
    let resource = fhir::questionnaire(&site, survey, &base);
    let json = serde_json::to_string_pretty(&resource)
        .map_err(|e| StartupError::Io(format!("cannot write the Questionnaire: {e}")))?;
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}

pub fn import(command: ImportCommand) -> Result<ExitCode, StartupError> {
    let ImportCommand::Questionnaire(args) = command;
    let config = Config::for_command(&args.common)?;
    let site = load_offline_site(&config, &args.site)?;
    let file = args.file.display().to_string();
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| StartupError::Io(format!("cannot read {file}: {e}")))?;
    let questionnaire: Questionnaire = serde_json::from_str(&text).map_err(|e| {
        StartupError::Config(format!("{file}: not a FHIR Questionnaire in JSON: {e}"))
    })?;
    let options = ImportOptions {
        survey_id: args.id.clone(),
        group: args.group.clone(),
        default_language: site.config.default_language.clone(),
    };
    let survey = match fhir::survey_from_questionnaire(&questionnaire, &options) {
        Ok(survey) => survey,
        Err(problems) => return refuse(&file, problems.iter().map(|p| p.to_string())),
    };
    let mut problems: Vec<String> = check_definition(&survey, &site.config.groups)
        .into_iter()
        .chain(check_translations(&survey))
        .map(|(_, message)| message)
        .collect();
    if site.survey(&survey.id).is_some() {
        problems.push(format!(
            "site \"{}\" already has a survey \"{}\": pass --id to import it under another id",
            site.id(),
            survey.id
        ));
    }
    if !problems.is_empty() {
        return refuse(&file, problems.into_iter());
    }
    write_survey(&args, &to_toml(&survey))?;
    eprintln!(
        "Imported survey \"{}\" ({} questions) for site \"{}\"; `chorus check` it before serving",
        survey.id,
        survey.questions.len(),
        site.id()
    );
    Ok(ExitCode::SUCCESS)
}

fn refuse(file: &str, problems: impl Iterator<Item = String>) -> Result<ExitCode, StartupError> {
    let mut count = 0;
    for problem in problems {
        eprintln!("{file}: {problem}");
        count += 1;
    }
    eprintln!("not imported: {count} problem(s)");
    Ok(ExitCode::FAILURE)
}

/// Writes to a new file (never over an existing survey) or to standard output.
fn write_survey(args: &ImportQuestionnaireArgs, text: &str) -> Result<(), StartupError> {
    match &args.output {
        Some(path) => {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(|e| StartupError::Io(format!("cannot create {}: {e}", path.display())))?;
            file.write_all(text.as_bytes())
                .map_err(|e| StartupError::Io(format!("cannot write {}: {e}", path.display())))
        }
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
