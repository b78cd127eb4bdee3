//! Slow or oversized request bodies are cut off with a clear answer, never held forever.

mod common;

use common::server::Server;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn a_body_that_stalls_gets_408_and_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("chorus.toml");
    std::fs::write(
        &config,
        "body_timeout_secs = 1\nwebhook_allow_private = [\"127.0.0.1/32\"]\n",
    )
    .unwrap();
    let data = dir.path().join("data");
    let server = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let head = "POST /api/v1/sites/demo-clinic/surveys/patient-enrollment/responses HTTP/1.1\r\n\
                Host: localhost\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"answers\":";
    stream.write_all(head.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");

    let token = std::fs::read_to_string(data.join("initial-admin-token")).unwrap();
    let list: serde_json::Value = reqwest::blocking::Client::new()
        .get(format!(
            "{}/api/v1/sites/demo-clinic/responses",
            server.base
        ))
        .bearer_auth(token.trim())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(list["responses"].as_array().unwrap().len(), 0);
}
