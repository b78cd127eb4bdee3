//! Site definitions (`site.toml`) and the barrier codebook.

use super::definition::Survey;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    pub id: String,
    pub name: String,
    pub groups: Vec<String>,
    #[serde(default = "default_min_cell")]
    pub min_cell: u32,
    #[serde(default)]
    pub plugins: Vec<String>,
    /// Plugin name → settings passed to that plugin's hooks as `settings`.
    #[serde(default)]
    pub plugin_settings: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub barriers: Vec<Barrier>,
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
    /// Follow-up queues that say more about their tasks (SPEC extension `[[queues]]`); a queue
    /// the rules use need not be listed.
    #[serde(default)]
    pub queues: Vec<QueueConfig>,
    /// Language of the survey texts as written (SPEC extension).
    #[serde(default = "default_language")]
    pub default_language: String,
    /// `chorus check` warns about texts that read above this grade (SPEC extension,
    /// docs/surveys.md "Plain language").
    #[serde(default = "default_reading_grade_max")]
    pub reading_grade_max: f64,
    /// The groups whose surveys that check reads [default: "patient", where a site has it].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reading_groups: Option<Vec<String>>,
    /// Where the site's rules and rule tests live (SPEC extension, docs/rules.md "Where the
    /// rules live"): its `rules/` folder (the default) or the store's current versions.
    #[serde(default)]
    pub rules_source: RulesSource,
}

/// `rules_source` in site.toml.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RulesSource {
    /// `rules/*.rhai` and `rules/tests/*.toml` as they are on each node's disk; edited there.
    #[default]
    Files,
    /// The current versions in the store (written by the admin app's editor or by
    /// `chorus rules push`); each node writes them into its `rules/` folder before it loads.
    Store,
}

impl RulesSource {
    /// The `rules_source` of the site folder `dir`, read from its site.toml (`Files` when
    /// that does not parse: loading the site then reports why).
    pub fn of_folder(dir: &std::path::Path) -> RulesSource {
        #[derive(Deserialize)]
        struct Only {
            #[serde(default)]
            rules_source: RulesSource,
        }
        std::fs::read_to_string(dir.join("site.toml"))
            .ok()
            .and_then(|text| toml::from_str::<Only>(&text).ok())
            .map_or(RulesSource::Files, |o| o.rules_source)
    }
}

impl SiteConfig {
    /// The groups the plain-language check applies to.
    pub fn reading_groups(&self) -> Vec<String> {
        self.reading_groups
            .clone()
            .unwrap_or_else(|| vec!["patient".to_string()])
    }
}

fn default_min_cell() -> u32 {
    5
}
fn default_language() -> String {
    "en".to_string()
}
fn default_reading_grade_max() -> f64 {
    8.0
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Barrier {
    pub code: String,
    pub label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    pub name: String,
    pub url: String,
    pub secret_env: String,
}

/// A follow-up queue (`[[queues]]` in site.toml, docs/admin.md "Closing the loop").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// The `queue` of the rules' task actions.
    pub id: String,
    /// Who a task of the queue is for, in the plural, as the dashboard's sentence begins
    /// ("Of 28 patients who asked for a call back, …"); default "tasks in the <id> queue".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// What can come of a task; marking one done then needs one of these.
    #[serde(default)]
    pub outcomes: Vec<String>,
}

/// The default codebook (SPEC "Default barrier codebook"); it applies to every site.
pub const DEFAULT_CODEBOOK: &[(&str, &str)] = &[
    ("awareness", "Did not know about the portal"),
    (
        "enrollment_technical",
        "Glitches, errors or lock-outs while enrolling",
    ),
    (
        "enrollment_assistance",
        "No one available to help with enrollment",
    ),
    (
        "information_overload",
        "Portal pitched during a clinical visit: too much at once",
    ),
    (
        "wrong_setting",
        "The visit is not the moment to talk about the portal",
    ),
    (
        "wrong_messenger",
        "Disagreement about who should promote the portal",
    ),
    (
        "selective_promotion",
        "Portal offered only to some patients",
    ),
    (
        "provider_ambivalence",
        "Provider reservations about the portal",
    ),
    (
        "privacy_concern",
        "Worries about privacy or who can see records",
    ),
    (
        "access_technology",
        "No device, internet access or computer skills",
    ),
    ("value_unclear", "Does not see what the portal is good for"),
];

/// A loaded site: its configuration, surveys (in file-name order) and rule files.
#[derive(Debug, Clone)]
pub struct Site {
    pub config: SiteConfig,
    pub dir: PathBuf,
    pub surveys: Vec<Arc<Survey>>,
    pub codebook: Vec<Barrier>,
    /// `rules/*.rhai`, sorted by file name.
    pub rule_files: Vec<PathBuf>,
    /// `rules/tests/*.toml`, sorted by file name.
    pub rule_test_files: Vec<PathBuf>,
}

impl Site {
    pub fn id(&self) -> &str {
        &self.config.id
    }
    pub fn survey(&self, id: &str) -> Option<&Arc<Survey>> {
        self.surveys.iter().find(|s| s.id == id)
    }
    pub fn barrier(&self, code: &str) -> Option<&Barrier> {
        self.codebook.iter().find(|b| b.code == code)
    }
    pub fn webhook(&self, name: &str) -> Option<&WebhookConfig> {
        self.config.webhooks.iter().find(|w| w.name == name)
    }
    pub fn queue(&self, id: &str) -> Option<&QueueConfig> {
        self.config.queues.iter().find(|q| q.id == id)
    }
    /// The outcomes a task of `queue` may be done with (none for a queue not listed).
    pub fn outcomes_of(&self, queue: &str) -> &[String] {
        self.queue(queue).map_or(&[], |q| q.outcomes.as_slice())
    }
}

/// The default codebook followed by the site's additions.
pub fn codebook_for(config: &SiteConfig) -> Vec<Barrier> {
    let mut codes: Vec<Barrier> = DEFAULT_CODEBOOK
        .iter()
        .map(|(code, label)| Barrier {
            code: code.to_string(),
            label: label.to_string(),
        })
        .collect();
    codes.extend(config.barriers.iter().cloned());
    codes
}

fn slug(s: &str, extra: char) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == extra)
}

fn group_problems(config: &SiteConfig, problems: &mut Vec<(String, String)>) {
    if config.groups.is_empty() {
        problems.push((
            "groups".into(),
            "a site needs at least one stakeholder group".into(),
        ));
    }
    for (i, g) in config.groups.iter().enumerate() {
        if !slug(g, '_') && !slug(g, '-') {
            problems.push((
                format!("groups.{i}"),
                format!("group \"{g}\" may use only a-z, 0-9, - and _"),
            ));
        }
        if config.groups[..i].contains(g) {
            problems.push((
                format!("groups.{i}"),
                format!("group \"{g}\" is listed twice"),
            ));
        }
    }
}

fn barrier_problems(config: &SiteConfig, problems: &mut Vec<(String, String)>) {
    for (i, b) in config.barriers.iter().enumerate() {
        if !slug(&b.code, '_') {
            problems.push((
                format!("barriers.{i}.code"),
                format!("barrier code \"{}\" may use only a-z, 0-9 and _", b.code),
            ));
        }
        let repeated = DEFAULT_CODEBOOK.iter().any(|(c, _)| *c == b.code)
            || config.barriers[..i].iter().any(|p| p.code == b.code);
        if repeated {
            problems.push((
                format!("barriers.{i}.code"),
                format!("barrier code \"{}\" is already in the codebook", b.code),
            ));
        }
    }
}

fn queue_problems(config: &SiteConfig, problems: &mut Vec<(String, String)>) {
    for (i, q) in config.queues.iter().enumerate() {
        if q.id.trim().is_empty() {
            problems.push((format!("queues.{i}.id"), "a queue needs an id".into()));
        } else if config.queues[..i].iter().any(|p| p.id == q.id) {
            problems.push((
                format!("queues.{i}.id"),
                format!("queue \"{}\" is listed twice", q.id),
            ));
        }
        for (j, o) in q.outcomes.iter().enumerate() {
            let at = format!("queues.{i}.outcomes.{j}");
            if !slug(o, '_') {
                problems.push((at, format!("outcome \"{o}\" may use only a-z, 0-9 and _")));
            } else if q.outcomes[..j].contains(o) {
                problems.push((at, format!("outcome \"{o}\" is listed twice")));
            }
        }
    }
}

/// Problems in a site.toml beyond its syntax, as (path of the item, message).
pub fn check_site_config(config: &SiteConfig, dir_name: &str) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if !slug(&config.id, '-') {
        problems.push((
            "id".into(),
            format!("site id \"{}\" may use only a-z, 0-9 and -", config.id),
        ));
    } else if config.id != dir_name {
        problems.push((
            "id".into(),
            format!(
                "site id \"{}\" must match its folder name \"{dir_name}\"",
                config.id
            ),
        ));
    }
    group_problems(config, &mut problems);
    if config.min_cell == 0 {
        problems.push(("min_cell".into(), "min_cell must be at least 1".into()));
    }
    barrier_problems(config, &mut problems);
    queue_problems(config, &mut problems);
    // Webhook URLs are judged by `services::address_policy`, which knows the server's policy.
    for (i, w) in config.webhooks.iter().enumerate() {
        if config.webhooks[..i].iter().any(|p| p.name == w.name) {
            problems.push((
                format!("webhooks.{i}.name"),
                format!("webhook \"{}\" is defined twice", w.name),
            ));
        }
    }
    if !(1.0..=20.0).contains(&config.reading_grade_max) {
        problems.push((
            "reading_grade_max".into(),
            "reading_grade_max must be a grade from 1 to 20".into(),
        ));
    }
    for (i, g) in config.reading_groups.iter().flatten().enumerate() {
        if !config.groups.contains(g) {
            problems.push((
                format!("reading_groups.{i}"),
                format!("reading group \"{g}\" is not one of the site's groups"),
            ));
        }
    }
    for name in config.plugin_settings.keys() {
        if !config.plugins.contains(name) {
            problems.push((
                format!("plugin_settings.{name}"),
                format!("settings for \"{name}\", which is not in plugins"),
            ));
        }
    }
    problems
}
