//! `chorus check`'s plain-language warnings (the real binary): a text of a patient survey that
//! reads above `reading_grade_max` prints `file:line:col: warning: ...` with its score, and the
//! exit status stays 0.

mod common;

use std::path::Path;
use std::process::Output;

fn check(sites: &Path) -> Output {
    common::server::check(sites, &common::repo().join("tests/fixtures/plugins"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn fixture() -> std::path::PathBuf {
    common::repo().join("tests/fixtures/plain-language/sites")
}

#[test]
fn hard_texts_warn_at_their_place_and_the_check_still_passes() {
    let out = check(&fixture());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let file = fixture().join("plain-clinic/surveys/patient.toml");
    let f = file.display();
    let expected = [
        // reading_grade_max = 6 in site.toml: a grade-7.8 help text warns.
        format!(
            "{f}:9:8: warning: question \"aware\" help reads at Flesch-Kincaid grade 7.8, above \
             grade 6 (reading_grade_max): \"The patient portal is the website or app where you \
             can see t…\""
        ),
        format!(
            "{f}:14:8: warning: question \"why\" text reads at Flesch-Kincaid grade 36.4, above \
             grade 6 (reading_grade_max): \"Notwithstanding institutional considerations, does \
             electroni…\""
        ),
        format!(
            "{f}:18:29: warning: question \"why\" option \"hard\" reads at Flesch-Kincaid grade \
             44.6, above grade 6 (reading_grade_max): \"Institutional authentication \
             considerations\""
        ),
        format!(
            "{f}:23:16: warning: question \"why\" option \"hard\" (es) reads at Fernández Huerta \
             -67.2 (about grade 20.7), above grade 6 (reading_grade_max): \"Consideraciones \
             institucionales de autenticación\""
        ),
    ];
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines, expected, "{stdout}");
    // The provider survey has the same hard sentence: only patient surveys are read by default.
    assert!(!stdout.contains("provider.toml"));
    assert!(text(&out.stderr).contains("4 plain-language warning(s)"));
}

#[test]
fn reading_groups_choose_the_surveys_and_bad_settings_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("plain-clinic");
    std::fs::create_dir_all(site.join("surveys")).unwrap();
    for f in ["patient.toml", "provider.toml"] {
        std::fs::copy(
            fixture().join("plain-clinic/surveys").join(f),
            site.join("surveys").join(f),
        )
        .unwrap();
    }
    let write_site = |extra: &str| {
        std::fs::write(
            site.join("site.toml"),
            format!("id = \"plain-clinic\"\nname = \"P\"\ngroups = [\"patient\", \"provider\"]\n{extra}"),
        )
        .unwrap()
    };
    write_site("reading_groups = [\"provider\"]\n");
    let out = check(tmp.path());
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(
        lines[0].starts_with(&format!(
            "{}:8:8: warning: question \"why\" text",
            site.join("surveys/provider.toml").display()
        )),
        "{stdout}"
    );
    write_site("reading_grade_max = 0\nreading_groups = [\"patients\"]\n");
    let out = check(tmp.path());
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let site_file = site.join("site.toml");
    assert!(
        stdout.contains(&format!(
            "{}:4:21: reading_grade_max must be a grade from 1 to 20",
            site_file.display()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{}:5:19: reading group \"patients\" is not one of the site's groups",
            site_file.display()
        )),
        "{stdout}"
    );
}
