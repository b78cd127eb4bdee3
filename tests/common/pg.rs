//! The store the suite runs on: sled (the default), or the PostgreSQL database named by
//! `CHORUS_TEST_STORE` (tests/run.sh sets it for its second pass). On PostgreSQL each data
//! path gets a schema of its own in that database (the same path, e.g. a restarted server,
//! gets the same schema), made on first use and dropped when the test process exits.

use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Mutex;

/// The database of the PostgreSQL pass, if this is one.
pub fn test_database() -> Option<String> {
    std::env::var("CHORUS_TEST_STORE")
        .ok()
        .filter(|s| !s.trim().is_empty())
}

pub fn on_postgres() -> bool {
    test_database().is_some()
}

/// Says why a test is skipped on this pass (a sled-only or PostgreSQL-only test) and returns
/// true when it is.
pub fn skip_unless_postgres(test: &str) -> bool {
    if on_postgres() {
        return false;
    }
    eprintln!("{test}: skipped on the sled pass (it needs CHORUS_TEST_STORE=postgres://…; tests/run.sh runs it on its PostgreSQL pass)");
    true
}

pub fn skip_on_postgres(test: &str, why: &str) -> bool {
    if !on_postgres() {
        return false;
    }
    eprintln!("{test}: sled only ({why}); skipped on the PostgreSQL pass");
    true
}

static SCHEMAS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Runs statements on the test database (on a thread of its own: callers may be inside a
/// runtime).
pub fn execute(sql: String) {
    let url = test_database().expect("CHORUS_TEST_STORE");
    std::thread::spawn(move || {
        block_on(async move {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("connect to CHORUS_TEST_STORE");
            tokio::spawn(conn);
            client
                .batch_execute(&sql)
                .await
                .expect("run SQL on the test database");
        })
    })
    .join()
    .unwrap()
}

extern "C" fn drop_schemas() {
    let names = std::mem::take(&mut *SCHEMAS.lock().unwrap_or_else(|e| e.into_inner()));
    if names.is_empty() {
        return;
    }
    let Some(url) = test_database() else { return };
    let sql = format!(
        "SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS {} CASCADE",
        names.join(", ")
    );
    let _ = std::thread::spawn(move || {
        block_on(async move {
            if let Ok((client, conn)) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await {
                tokio::spawn(conn);
                let _ = client.batch_execute(&sql).await;
            }
        })
    })
    .join();
}

/// The store URL for a data path on the PostgreSQL pass (None on sled).
pub fn store_for(data: &Path) -> Option<String> {
    let base = test_database()?;
    let hash = hex::encode(&Sha256::digest(data.to_string_lossy().as_bytes())[..10]);
    let schema = format!("t_{hash}");
    {
        let mut made = SCHEMAS.lock().unwrap();
        if !made.contains(&schema) {
            if made.is_empty() {
                unsafe { libc::atexit(drop_schemas) };
            }
            execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}"));
            made.push(schema.clone());
        }
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    Some(format!("{base}{sep}options=-c%20search_path%3D{schema}"))
}

/// `CHORUS_STORE` for a process on this data path, on the PostgreSQL pass.
pub fn env_for(data: &Path) -> Vec<(String, String)> {
    store_for(data)
        .map(|url| vec![("CHORUS_STORE".to_string(), url)])
        .unwrap_or_default()
}
