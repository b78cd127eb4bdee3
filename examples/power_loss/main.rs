//! The power-loss test's load generator and checker (driven by bench/power-loss.sh).
//!
//! `power_loss load URL IMAGE OUT_DIR IMAGES CLIENTS`: CLIENTS threads submit a mix of demo-site
//! responses (tasks and webhooks among them), each with its own `submission_id`, and record
//! every acknowledged one. At random moments it takes a crash image: one FICLONE of IMAGE (the
//! block device's backing file) to `OUT_DIR/crash-K.img`, and writes the responses acknowledged
//! before that copy started to `OUT_DIR/crash-K.acked.jsonl`.
//!
//! `power_loss snapshot DATA OUT`: a recovered image's records in the backup format, before
//! any recovery could repair them (see `snapshot`).
//!
//! `power_loss verify ACKED EXPORT BACKUP`: checks a recovered image, whose `chorus export`
//! (JSON lines) and snapshot are given, against what was acknowledged before its copy.

mod snapshot;
mod verify;

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// An acknowledged response: what the 201 said.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Acked {
    pub id: Uuid,
    pub submission_id: Uuid,
    pub survey: String,
    /// Follow-up ids from the 201, by kind.
    pub tasks: Vec<Uuid>,
    pub webhooks: Vec<Uuid>,
    /// Milliseconds after the load started.
    pub acked_ms: u64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("load") if args.len() == 6 => load(
            &args[1],
            Path::new(&args[2]),
            Path::new(&args[3]),
            args[4].parse().expect("IMAGES"),
            args[5].parse().expect("CLIENTS"),
        ),
        Some("snapshot") if args.len() == 3 => {
            snapshot::run(Path::new(&args[1]), Path::new(&args[2]))
        }
        Some("verify") if args.len() == 4 => verify::run(
            Path::new(&args[1]),
            Path::new(&args[2]),
            Path::new(&args[3]),
        ),
        _ => {
            eprintln!(
                "usage: power_loss load URL IMAGE OUT_DIR IMAGES CLIENTS\n       \
                 power_loss snapshot DATA OUT\n       \
                 power_loss verify ACKED EXPORT BACKUP"
            );
            2
        }
    };
    std::process::exit(code);
}

/// The mix: (survey, answers). Patients who tried, failed and asked for a call get a task and a
/// help-desk webhook; failures without a call a webhook; providers without help a task.
fn pick(n: u64) -> (&'static str, serde_json::Value) {
    use serde_json::json;
    match n % 8 {
        0 | 1 => (
            "patient-enrollment",
            json!({
                "aware": "yes", "tried": "yes", "enrolled": "no", "what_happened": ["error"],
                "contact_ok": "yes", "contact_phone": "555-0100",
                "comments": "The site said error and I gave up"
            }),
        ),
        2 => (
            "patient-enrollment",
            json!({
                "aware": "yes", "tried": "yes", "enrolled": "yes", "what_happened": ["locked_out"],
                "contact_ok": "no"
            }),
        ),
        3 => (
            "patient-enrollment",
            json!({
                "aware": "no", "tried": "no", "why_not": ["didnt_know", "no_one_showed"],
                "contact_ok": "no"
            }),
        ),
        4 | 5 => (
            "provider-enrollment",
            json!({
                "role": "physician", "offer_to": "some", "when_best": "check_out",
                "who_should": "nurse_ma", "help_available": "no"
            }),
        ),
        6 => (
            "provider-enrollment",
            json!({
                "role": "nurse_ma", "offer_to": "all", "when_best": "check_in",
                "who_should": "front_desk", "help_available": "yes"
            }),
        ),
        _ => (
            "leadership-enrollment",
            json!({
                "role": "executive", "patient_barriers": ["dont_know"], "who_should": "physician",
                "help_available": "yes"
            }),
        ),
    }
}

fn submit_loop(
    base: &str,
    started: Instant,
    acked: &Mutex<Vec<Acked>>,
    stop: &AtomicBool,
    counter: &AtomicU64,
    failures: &AtomicU64,
) {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    while !stop.load(Ordering::Relaxed) {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let (survey, answers) = pick(n);
        let submission_id = Uuid::new_v4();
        let url = format!("{base}/api/v1/sites/demo-clinic/surveys/{survey}/responses");
        let body = serde_json::json!({ "answers": answers, "submission_id": submission_id });
        let res = match client.post(&url).json(&body).send() {
            Ok(r) if r.status().as_u16() == 201 => r,
            _ => {
                failures.fetch_add(1, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
        };
        let Ok(v) = res.json::<serde_json::Value>() else {
            failures.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let ids = |kind: &str| -> Vec<Uuid> {
            v["follow_ups"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|f| f["action"] == kind)
                .filter_map(|f| f["id"].as_str()?.parse().ok())
                .collect()
        };
        let a = Acked {
            id: v["id"].as_str().and_then(|s| s.parse().ok()).expect("id"),
            submission_id,
            survey: survey.into(),
            tasks: ids("task"),
            webhooks: ids("webhook"),
            acked_ms: started.elapsed().as_millis() as u64,
        };
        acked.lock().unwrap().push(a);
    }
}

/// One FICLONE of `from` to a new file `to`: the whole file at one instant (the filesystem
/// writes the source's dirty pages first and blocks writers while it shares the extents).
fn reflink(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::io::AsRawFd;
    const FICLONE: libc::c_ulong = 0x4004_9409;
    let src = std::fs::File::open(from)?;
    let dst = std::fs::File::create(to)?;
    // SAFETY: both descriptors are open for the duration of the call.
    let rc = unsafe { libc::ioctl(dst.as_raw_fd(), FICLONE as _, src.as_raw_fd()) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

fn load(base: &str, image: &Path, out: &Path, images: usize, clients: usize) -> i32 {
    let started = Instant::now();
    let acked = Arc::new(Mutex::new(Vec::<Acked>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let counter = Arc::new(AtomicU64::new(0));
    let failures = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (base, acked, stop) = (base.to_string(), acked.clone(), stop.clone());
            let (counter, failures) = (counter.clone(), failures.clone());
            std::thread::spawn(move || {
                submit_loop(&base, started, &acked, &stop, &counter, &failures)
            })
        })
        .collect();
    let mut rng = rand::thread_rng();
    // Let the store grow past its first segments before the first crash.
    std::thread::sleep(Duration::from_millis(rand::Rng::gen_range(
        &mut rng,
        2000..4000,
    )));
    let mut code = 0;
    for k in 0..images {
        std::thread::sleep(Duration::from_millis(rand::Rng::gen_range(
            &mut rng,
            300..3000,
        )));
        let before: Vec<Acked> = acked.lock().unwrap().clone();
        let t0 = started.elapsed();
        let img: PathBuf = out.join(format!("crash-{k}.img"));
        if let Err(e) = reflink(image, &img) {
            eprintln!(
                "power_loss: FICLONE {} -> {}: {e}",
                image.display(),
                img.display()
            );
            code = 1;
            break;
        }
        let took = started.elapsed() - t0;
        let mut f = std::fs::File::create(out.join(format!("crash-{k}.acked.jsonl"))).unwrap();
        for a in &before {
            serde_json::to_writer(&mut f, a).unwrap();
            f.write_all(b"\n").unwrap();
        }
        println!(
            "crash image {k}: at {:.1} s, {} responses acknowledged before it, copied in {} ms",
            t0.as_secs_f64(),
            before.len(),
            took.as_millis()
        );
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    let total = acked.lock().unwrap().len();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "load: {total} responses acknowledged in {secs:.1} s ({:.0}/s, {clients} clients), {} failed requests",
        total as f64 / secs,
        failures.load(Ordering::Relaxed)
    );
    code
}
