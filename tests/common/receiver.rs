//! A small webhook receiver on 127.0.0.1 for delivery tests: records every request and answers
//! with the status its `respond` function picks (by attempt number, starting at 1).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: String,
}

type Respond = dyn Fn(usize) -> (u16, Vec<(String, String)>) + Send + Sync;

pub struct Receiver {
    pub url: String,
    pub port: u16,
    pub requests: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub fn start(
        respond: impl Fn(usize) -> (u16, Vec<(String, String)>) + Send + Sync + 'static,
    ) -> Receiver {
        Receiver::start_on(0, respond)
    }

    pub fn start_on(
        port: u16,
        respond: impl Fn(usize) -> (u16, Vec<(String, String)>) + Send + Sync + 'static,
    ) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the receiver");
        let port = listener.local_addr().unwrap().port();
        let requests: Arc<Mutex<Vec<Received>>> = Arc::default();
        let seen = Arc::clone(&requests);
        let respond: Arc<Respond> = Arc::new(respond);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let seen = Arc::clone(&seen);
                let respond = Arc::clone(&respond);
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut headers = HashMap::new();
                    loop {
                        let mut h = String::new();
                        reader.read_line(&mut h).unwrap();
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                        }
                    }
                    let len: usize = headers
                        .get("content-length")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    let mut body = vec![0; len];
                    reader.read_exact(&mut body).unwrap();
                    let attempt = {
                        let mut list = seen.lock().unwrap();
                        list.push(Received {
                            headers,
                            body: String::from_utf8_lossy(&body).into_owned(),
                        });
                        list.len()
                    };
                    let (status, extra) = respond(attempt);
                    let mut out = stream;
                    let mut head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n"
                    );
                    for (k, v) in extra {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    let _ = out.write_all(head.as_bytes());
                });
            }
        });
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks/chorus"),
            port,
            requests,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.requests.lock().unwrap().clone()
    }
}
