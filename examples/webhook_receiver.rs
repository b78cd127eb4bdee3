//! A minimal webhook receiver for the delivery benchmark (bench/webhooks.sh): verifies each
//! Standard Webhooks signature, counts distinct webhook-ids, answers 204.
//! Usage: webhook_receiver PORT   (secret in DEMO_HELPDESK_SECRET); GET /count → "ids requests bad".

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use chorus::services::signing::{secret_bytes, verify};
use std::collections::HashSet;
use std::sync::Mutex;

struct Seen {
    key: Vec<u8>,
    ids: Mutex<HashSet<String>>,
    requests: Mutex<(u64, u64)>,
}

async fn hook(req: HttpRequest, body: web::Bytes, seen: web::Data<Seen>) -> HttpResponse {
    let header = |n: &str| {
        req.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let id = header("webhook-id");
    let ts: i64 = header("webhook-timestamp").parse().unwrap_or(0);
    let ok = verify(
        &seen.key,
        &id,
        ts,
        &String::from_utf8_lossy(&body),
        &header("webhook-signature"),
    );
    let mut counts = seen.requests.lock().unwrap();
    counts.0 += 1;
    if !ok {
        counts.1 += 1;
        return HttpResponse::Unauthorized().finish();
    }
    seen.ids.lock().unwrap().insert(id);
    HttpResponse::NoContent().finish()
}

async fn count(seen: web::Data<Seen>) -> String {
    let (requests, bad) = *seen.requests.lock().unwrap();
    format!("{} {requests} {bad}\n", seen.ids.lock().unwrap().len())
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(9000);
    let secret = std::env::var("DEMO_HELPDESK_SECRET").expect("DEMO_HELPDESK_SECRET");
    let seen = web::Data::new(Seen {
        key: secret_bytes(&secret).expect("secret"),
        ids: Mutex::default(),
        requests: Mutex::default(),
    });
    HttpServer::new(move || {
        App::new()
            .app_data(seen.clone())
            .route("/hooks/chorus", web::post().to(hook))
            .route("/count", web::get().to(count))
    })
    .workers(1)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
