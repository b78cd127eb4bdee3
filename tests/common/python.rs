//! The Python venv of the cross-checks (tests/.venv, made by tests/setup.sh from
//! tests/requirements.txt). A test that needs it fails, saying how to make it, unless
//! CHORUS_SKIP_PYTHON=1 is set.

use std::path::PathBuf;
use std::process::{Command, Output};

/// The venv's interpreter, or `None` when CHORUS_SKIP_PYTHON=1 skips the check.
pub fn venv_python(check: &str) -> Option<PathBuf> {
    if std::env::var("CHORUS_SKIP_PYTHON").as_deref() == Ok("1") {
        eprintln!("CHORUS_SKIP_PYTHON=1: {check} skipped");
        return None;
    }
    let python = super::repo().join("tests/.venv/bin/python");
    assert!(
        python.exists(),
        "{check} needs the Python venv tests/.venv: run `bash tests/setup.sh` \
         (or set CHORUS_SKIP_PYTHON=1 to skip it)"
    );
    Some(python)
}

/// Runs a script of tests/ with the venv's interpreter.
pub fn run_script(python: &PathBuf, script: &str, args: &[&std::ffi::OsStr]) -> Output {
    Command::new(python)
        .arg(super::repo().join(script))
        .args(args)
        .output()
        .expect("run python")
}
