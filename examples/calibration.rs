//! The calibration prototype of the write-path benchmark (bench/workloads.sh): the least a
//! durable JSON submission costs on this machine — actix JSON in and out, one rhai rule on a
//! compiled script, one sled insert, a group commit (one thread: sled's flush, then an
//! `fdatasync` of the database file) before the 201. Chorus's figures are read as shares of
//! this one, measured in the same run.
//! Usage: calibration PORT DATA_DIR   (POST any JSON object with "answers" to /)

use actix_web::{web, App, HttpResponse, HttpServer};
use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

struct Commit {
    requested: AtomicU64,
    wake: (Mutex<()>, Condvar),
    flushed: watch::Sender<u64>,
}

struct Proto {
    db: sled::Db,
    file: std::fs::File,
    engine: rhai::Engine,
    rule: rhai::AST,
    commit: Commit,
}

impl Proto {
    /// Waits until a flush that started after this call has finished.
    async fn durable(&self) {
        let ticket = self.commit.requested.fetch_add(1, Ordering::SeqCst) + 1;
        let mut rx = self.commit.flushed.subscribe();
        {
            let _g = self.commit.wake.0.lock();
            self.commit.wake.1.notify_one();
        }
        let _ = rx.wait_for(|done| *done >= ticket).await;
    }

    fn flusher(&self) {
        let mut done = 0;
        loop {
            {
                let mut g = self.commit.wake.0.lock();
                if self.commit.requested.load(Ordering::SeqCst) <= done {
                    self.commit.wake.1.wait(&mut g);
                }
            }
            let target = self.commit.requested.load(Ordering::SeqCst);
            self.db.flush().expect("flush");
            self.file.sync_data().expect("fdatasync");
            done = target;
            self.commit.flushed.send_replace(target);
        }
    }
}

async fn submit(body: web::Json<serde_json::Value>, proto: web::Data<Arc<Proto>>) -> HttpResponse {
    let p = Arc::clone(&proto);
    let stored = web::block(move || {
        let answers = body.get("answers").cloned().unwrap_or_default();
        let mut scope = rhai::Scope::new();
        let n = answers.as_object().map_or(0, |a| a.len()) as i64;
        scope.push("answers", n);
        let tagged: bool = p
            .engine
            .eval_ast_with_scope(&mut scope, &p.rule)
            .unwrap_or(false);
        let id = uuid::Uuid::now_v7();
        let record = serde_json::json!({ "id": id, "answers": answers, "tagged": tagged });
        let value = serde_json::to_vec(&record).expect("encode");
        p.db.insert(id.as_bytes(), value).expect("insert");
        record
    })
    .await
    .expect("blocking call");
    proto.durable().await;
    HttpResponse::Created().json(stored)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (port, dir) = (args[1].parse::<u16>().expect("PORT"), &args[2]);
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(64 << 20)
        .open()
        .expect("open sled");
    let file = std::fs::File::open(std::path::Path::new(dir).join("db"))?;
    let mut engine = rhai::Engine::new_raw();
    engine.set_max_operations(10_000);
    let rule = engine.compile("answers > 2").expect("compile");
    let (flushed, _) = watch::channel(0);
    let proto = Arc::new(Proto {
        db,
        file,
        engine,
        rule,
        commit: Commit {
            requested: AtomicU64::new(0),
            wake: (Mutex::new(()), Condvar::new()),
            flushed,
        },
    });
    let flushing = Arc::clone(&proto);
    std::thread::spawn(move || flushing.flusher());
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(Arc::clone(&proto)))
                .route("/", web::post().to(submit))
        })
        .workers(2)
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })
}
