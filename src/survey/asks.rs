//! `asks` and `asks_by_version` of a survey: every code must be in the site's codebook, once,
//! and every listed version must be an earlier one.

use super::definition::Survey;
use super::site::Barrier;

fn codes_problems(path: &str, codes: &[String], codebook: &[Barrier]) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let at = format!("{path}.{i}");
        if !codebook.iter().any(|b| b.code == *code) {
            problems.push((
                at,
                format!("\"{code}\" is not a barrier code of the site's codebook"),
            ));
        } else if codes[..i].contains(code) {
            problems.push((at, format!("\"{code}\" is listed twice")));
        }
    }
    problems
}

/// Problems in a survey's `asks` and `asks_by_version`, as (path of the item, message).
pub fn check_asks(survey: &Survey, codebook: &[Barrier]) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if let Some(codes) = &survey.asks {
        problems.extend(codes_problems("asks", codes, codebook));
    }
    for (version, codes) in &survey.asks_by_version {
        let path = format!("asks_by_version.{version}");
        match version.parse::<u32>() {
            Ok(v) if v >= 1 && v < survey.version => {}
            _ => problems.push((
                path.clone(),
                format!(
                    "\"{version}\" is not an earlier version of this survey (1 to {}); what \
                     version {} asks goes in `asks`",
                    survey.version.saturating_sub(1),
                    survey.version
                ),
            )),
        }
        problems.extend(codes_problems(&path, codes, codebook));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::site::{codebook_for, SiteConfig};

    fn survey(text: &str) -> Survey {
        toml::from_str(&format!(
            "id = \"s\"\ngroup = \"patient\"\ntitle = \"T\"\nversion = 3\n{text}\n\
             [[questions]]\nid = \"q\"\nkind = \"yes_no\"\ntext = \"Q?\"\n"
        ))
        .unwrap()
    }

    fn codebook() -> Vec<Barrier> {
        let config: SiteConfig =
            toml::from_str("id = \"x\"\nname = \"X\"\ngroups = [\"patient\"]").unwrap();
        codebook_for(&config)
    }

    #[test]
    fn unknown_repeated_codes_and_versions_are_named() {
        let s = survey(
            "asks = [\"awareness\", \"parking\", \"awareness\"]\n\
             [asks_by_version]\n1 = [\"awareness\"]\n3 = [\"value_unclear\"]\nx = []\n",
        );
        let problems = check_asks(&s, &codebook());
        let paths: Vec<&str> = problems.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            ["asks.1", "asks.2", "asks_by_version.3", "asks_by_version.x"]
        );
        assert!(problems[0].1.contains("\"parking\" is not a barrier code"));
        assert!(problems[2].1.contains("1 to 2"), "{}", problems[2].1);
    }

    #[test]
    fn which_codes_a_version_asked() {
        let s = survey(
            "asks = [\"awareness\", \"access_technology\"]\n\
             [asks_by_version]\n1 = [\"awareness\"]\n",
        );
        assert!(s.asked(3, "access_technology"));
        assert!(!s.asked(1, "access_technology"), "version 1 did not ask it");
        assert!(s.asked(2, "access_technology"), "not listed: as `asks`");
        assert!(!s.asked(3, "privacy_concern"));
        let every = survey("");
        assert!(every.asked(1, "privacy_concern"), "no asks: every barrier");
        assert!(check_asks(&every, &codebook()).is_empty());
    }
}
