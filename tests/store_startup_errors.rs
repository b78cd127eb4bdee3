//! A PostgreSQL store that cannot be used stops the start with one sentence that says what to
//! do (no backtrace, never the password): a malformed URL, an unreachable server, a missing
//! database, a wrong password, a database of a newer schema.

mod common;

use std::process::{Command, Output, Stdio};

fn chorus(args: &[&str], store: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let repo = common::repo();
    Command::new(common::server::bin())
        .args(args)
        .arg("--data")
        .arg(dir.path().join("data"))
        .arg("--sites")
        .arg(repo.join("sites"))
        .arg("--plugins")
        .arg(repo.join("plugins"))
        .arg("--templates")
        .arg(repo.join("templates"))
        .env("CHORUS_STORE", store)
        .env("CHORUS_LOG", "error")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The one line a failed start prints.
fn refusal(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("chorus: "), "{err}");
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    err
}

#[test]
fn a_malformed_url_says_what_a_url_looks_like() {
    let err = refusal(&chorus(
        &["serve", "--bind", "127.0.0.1:0"],
        "postgres://u:secret-pw@host:notaport/db",
    ));
    assert!(err.contains("not a PostgreSQL URL"), "{err}");
    assert!(
        err.contains("postgres://USER:PASSWORD@HOST:PORT/DATABASE"),
        "{err}"
    );
    assert!(
        !err.contains("secret-pw"),
        "the password is never printed: {err}"
    );
    let err = refusal(&chorus(
        &["export", "--site", "demo-clinic"],
        "mysql://u@h/db",
    ));
    assert!(err.contains("store must be a postgres:// URL"), "{err}");
}

#[test]
fn an_unreachable_server_is_named_with_its_address() {
    let port = common::server::free_port();
    let err = refusal(&chorus(
        &["serve", "--bind", "127.0.0.1:0"],
        &format!("postgres://u:secret-pw@127.0.0.1:{port}/chorus"),
    ));
    assert!(
        err.contains(&format!("cannot reach PostgreSQL at 127.0.0.1:{port}")),
        "{err}"
    );
    assert!(err.contains("is the server running"), "{err}");
    assert!(!err.contains("secret-pw"), "{err}");
}

/// The test database's URL with another database name and user.
fn other(db: &str, user: Option<&str>) -> Option<String> {
    let base = common::pg::test_database()?;
    let rest = base.strip_prefix("postgres://")?;
    let (who, at) = rest.split_once('@')?;
    let (server, _) = at.split_once('/')?;
    let who = user.unwrap_or(who);
    Some(format!("postgres://{who}@{server}/{db}"))
}

#[test]
fn a_missing_database_says_how_to_create_it() {
    let Some(url) = other("no_such_database", None) else {
        common::pg::skip_unless_postgres("a_missing_database_says_how_to_create_it");
        return;
    };
    let err = refusal(&chorus(&["serve", "--bind", "127.0.0.1:0"], &url));
    assert!(
        err.contains("the database \"no_such_database\" does not exist"),
        "{err}"
    );
    assert!(err.contains("createdb -h 127.0.0.1"), "{err}");
}

#[test]
fn a_wrong_password_is_said_without_the_password() {
    let Some(url) = other("chorus_test", Some("chorus_password:wrong-secret")) else {
        common::pg::skip_unless_postgres("a_wrong_password_is_said_without_the_password");
        return;
    };
    common::pg::execute(
        "DO $$ BEGIN CREATE ROLE chorus_password LOGIN PASSWORD 'right-secret';
         EXCEPTION WHEN duplicate_object THEN NULL; END $$"
            .into(),
    );
    let err = refusal(&chorus(&["serve", "--bind", "127.0.0.1:0"], &url));
    assert!(
        err.contains("refused the login of user \"chorus_password\""),
        "{err}"
    );
    assert!(!err.contains("wrong-secret"), "{err}");
}

#[test]
fn a_database_of_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let Some(url) = common::pg::store_for(dir.path()) else {
        common::pg::skip_unless_postgres("a_database_of_a_newer_schema_is_refused");
        return;
    };
    let latest = chorus::store::postgres::SCHEMA_VERSION;
    let out = chorus(&["migrate"], &url);
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        said.contains(&format!("from schema 0 to {latest}")),
        "{said}"
    );
    let out = chorus(&["migrate"], &url);
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        said.contains(&format!("at schema {latest}; nothing to do")),
        "{said}"
    );
    let schema = url.rsplit("search_path%3D").next().unwrap();
    common::pg::execute(format!(
        "INSERT INTO {schema}.schema_version (version) VALUES (99)"
    ));
    let err = refusal(&chorus(&["serve", "--bind", "127.0.0.1:0"], &url));
    let expected = format!(
        "the database has schema 99; this Chorus reads schema {latest} and older: run a newer Chorus"
    );
    assert!(err.contains(&expected), "{err}");
}
