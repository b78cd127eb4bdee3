//! `chorus check-store` on a PostgreSQL store (the PostgreSQL pass; tests/store_damage.rs
//! damages sled files): a served store is sound with what it holds, a database without a
//! Chorus schema is said to be one and left as it is, and tables changed by hand are named.

mod common;

use common::server::{run, Server};
use std::path::Path;
use std::process::Output;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A store with `n` provider responses (each with a task), stopped in order.
fn served(data: &Path, n: usize) {
    let server = Server::start(data);
    let c = common::nodes::client();
    for _ in 0..n {
        let body = serde_json::json!({ "answers": common::nodes::provider_answers() });
        assert_eq!(common::nodes::submit(&c, &server.base, &body).status(), 201);
    }
    assert!(server.terminate().success());
}

fn schema_of(data: &Path) -> String {
    let url = common::pg::store_for(data).unwrap();
    url.rsplit("search_path%3D").next().unwrap().to_string()
}

#[test]
fn a_served_store_is_sound_with_what_it_holds() {
    if common::pg::skip_unless_postgres("a_served_store_is_sound_with_what_it_holds") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    served(&data, 5);
    let out = run(&["check-store"], &data);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("in the PostgreSQL database"), "{said}");
    let schema = chorus::store::postgres::SCHEMA_VERSION;
    assert!(
        said.contains(&format!("is sound: schema {schema}, WAL position")),
        "{said}"
    );
    assert!(said.contains("5 responses, 1 users"), "{said}");
}

#[test]
fn a_database_without_a_chorus_schema_is_said_and_left_alone() {
    if common::pg::skip_unless_postgres("a_database_without_a_chorus_schema_is_said_and_left_alone")
    {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("empty");
    let out = run(&["check-store"], &data);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("there is no Chorus store in the store URL's database"),
        "{}",
        text(&out)
    );
    // Nothing was created: the migration that follows starts from schema 0.
    let out = run(&["migrate"], &data);
    assert!(
        text(&out).contains(&format!(
            "Migrated the database from schema 0 to {}",
            chorus::store::postgres::SCHEMA_VERSION
        )),
        "{}",
        text(&out)
    );
}

#[test]
fn tables_changed_by_hand_are_named() {
    if common::pg::skip_unless_postgres("tables_changed_by_hand_are_named") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    served(&data, 3);
    let schema = schema_of(&data);
    common::pg::execute(format!(
        "DELETE FROM {schema}.responses WHERE id = (SELECT id FROM {schema}.responses ORDER BY id LIMIT 1)"
    ));
    let out = run(&["check-store"], &data);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("disagrees with itself"), "{said}");
    assert!(
        said.contains("the report counts and the stored responses differ by 1"),
        "{said}"
    );
    assert!(
        said.contains("1 tasks name a response that is not stored"),
        "{said}"
    );
    assert!(!said.contains("panicked"), "{said}");
}
