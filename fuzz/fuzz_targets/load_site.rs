//! site.toml and a survey file (the input, split at the first NUL) → the site loader, the
//! webhook address policy, and for a site that loads, its plugins compiled with the real
//! limits (plugin settings come from the TOML).
#![no_main]

use chorus_fuzz::{repo, scratch, strict_policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (site, survey) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let dir = scratch("site").join("fuzz-clinic");
    std::fs::create_dir_all(dir.join("surveys")).unwrap();
    std::fs::write(dir.join("site.toml"), site).unwrap();
    std::fs::write(dir.join("surveys/survey.toml"), survey).unwrap();
    let Ok(site) = chorus::survey::load_site(&dir) else {
        return;
    };
    if !chorus::followups::address_policy::check_site(&site, &strict_policy()).is_empty() {
        return;
    }
    let _ = chorus::sites::SiteRuntime::build(
        site,
        &repo().join("plugins"),
        &chorus::plugins::Limits::default(),
    );
});
