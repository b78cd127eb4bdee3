//! HL7 FHIR R4 (4.0.1): surveys as Questionnaires, responses as QuestionnaireResponses, both
//! ways (docs/fhir.md has the mapping table). Pure: no store, no HTTP; the endpoints and the
//! export command call these functions.
//!
//! - [`questionnaire`]: a survey as a Questionnaire;
//! - [`survey_from_questionnaire`]: a Questionnaire as a survey, refusing what Chorus cannot
//!   represent;
//! - [`answers_from_questionnaire_response`]: a posted QuestionnaireResponse as raw answers for
//!   the survey validator, with every problem named by linkId;
//! - [`questionnaire_response`]: a stored response as a QuestionnaireResponse;
//! - [`search`]: the search parameters of the endpoint, [`rest`]: its Bundles,
//!   OperationOutcomes and CapabilityStatement.

mod enable_when;
mod export;
mod import;
mod response;
pub mod rest;
pub mod search;
mod translation;
pub mod types;

pub use export::questionnaire;
pub use import::{survey_from_questionnaire, ImportOptions};
pub use response::{
    answers_from_questionnaire_response, questionnaire_response, stored_response_resource,
};
pub use types::{Questionnaire, QuestionnaireResponse};

use std::fmt;

/// Where Chorus's FHIR resources, code systems and extensions live under a public base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirBase(String);

/// The SDC / core extensions and code systems Chorus uses (FHIR R4).
pub const ITEM_CONTROL: &str = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl";
pub const ITEM_CONTROL_SYSTEM: &str = "http://hl7.org/fhir/questionnaire-item-control";
pub const MIN_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/minValue";
pub const MAX_VALUE: &str = "http://hl7.org/fhir/StructureDefinition/maxValue";
pub const TRANSLATION: &str = "http://hl7.org/fhir/StructureDefinition/translation";
pub const ENABLE_WHEN_EXPRESSION: &str =
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression";
pub const USAGE_CONTEXT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/usage-context-type";

impl FhirBase {
    /// `public_base` is the server's public URL (`https://survey.example.org`); the FHIR base
    /// is `<public_base>/fhir/r4`.
    pub fn new(public_base: &str) -> FhirBase {
        FhirBase(format!("{}/fhir/r4", public_base.trim_end_matches('/')))
    }

    /// The FHIR base from a Chorus Questionnaire's canonical URL, if it is one.
    pub fn from_questionnaire_url(url: &str) -> Option<(FhirBase, String)> {
        let (base, id) = url.rsplit_once("/Questionnaire/")?;
        base.ends_with("/fhir/r4")
            .then(|| (FhirBase(base.to_string()), id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `Questionnaire.id` of a survey: site and survey ids never contain a dot.
    pub fn questionnaire_id(site: &str, survey: &str) -> String {
        format!("{site}.{survey}")
    }

    /// `Questionnaire.url`: stable as long as the public URL, the site id and the survey id are.
    pub fn questionnaire_url(&self, site: &str, survey: &str) -> String {
        format!(
            "{}/Questionnaire/{}",
            self.0,
            Self::questionnaire_id(site, survey)
        )
    }

    /// The code system of a survey's option values (one per site and survey).
    pub fn answer_system(&self, site: &str, survey: &str) -> String {
        format!("{}/CodeSystem/{site}.{survey}.answers", self.0)
    }

    /// The code system of a site's stakeholder groups (`useContext`).
    pub fn group_system(&self, site: &str) -> String {
        format!("{}/CodeSystem/{site}.groups", self.0)
    }

    /// The code system of a site's barrier codes (`meta.tag` of a QuestionnaireResponse).
    pub fn barrier_system(&self, site: &str) -> String {
        format!("{}/CodeSystem/{site}.barriers", self.0)
    }

    /// Chorus's own extensions, for what FHIR has no element for.
    pub fn extension(&self, name: &str) -> String {
        format!("{}/StructureDefinition/{name}", self.0)
    }
}

/// Extension `survey-anonymous` (valueBoolean): the survey's `anonymous` flag.
pub const EXT_ANONYMOUS: &str = "survey-anonymous";

/// Something a FHIR resource holds that Chorus cannot take, named by the item's linkId when
/// it concerns one item (`None` for the resource as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub link_id: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn item(link_id: &str, message: impl Into<String>) -> Problem {
        Problem {
            link_id: Some(link_id.to_string()),
            message: message.into(),
        }
    }
    pub fn resource(message: impl Into<String>) -> Problem {
        Problem {
            link_id: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.link_id {
            Some(id) => write!(f, "item \"{id}\": {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The `questionnaire-itemControl` extension with one code.
fn item_control(code: &str) -> types::Extension {
    types::Extension {
        value_codeable_concept: Some(types::CodeableConcept {
            coding: vec![types::Coding::new(ITEM_CONTROL_SYSTEM, code, None)],
            text: None,
        }),
        ..types::Extension::new(ITEM_CONTROL)
    }
}

/// The itemControl code of an item, if it has one.
fn item_control_code(extensions: &[types::Extension]) -> Option<&str> {
    extensions
        .iter()
        .find(|e| e.url == ITEM_CONTROL)?
        .value_codeable_concept
        .as_ref()?
        .coding
        .iter()
        .find(|c| c.system.as_deref() == Some(ITEM_CONTROL_SYSTEM))?
        .code
        .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_built_from_the_public_base_and_read_back() {
        let base = FhirBase::new("https://survey.example.org/");
        let url = base.questionnaire_url("demo-clinic", "patient-enrollment");
        assert_eq!(
            url,
            "https://survey.example.org/fhir/r4/Questionnaire/demo-clinic.patient-enrollment"
        );
        let (back, id) = FhirBase::from_questionnaire_url(&url).unwrap();
        assert_eq!(back, base);
        assert_eq!(id, "demo-clinic.patient-enrollment");
        assert!(FhirBase::from_questionnaire_url("https://x.org/Questionnaire/a").is_none());
        assert_eq!(
            base.answer_system("demo-clinic", "patient-enrollment"),
            "https://survey.example.org/fhir/r4/CodeSystem/demo-clinic.patient-enrollment.answers"
        );
    }
}

#[cfg(test)]
mod tests_questionnaire;
#[cfg(test)]
mod tests_response;
