//! Fills a sled data directory with responses of past days, for the start-up bench
//! (bench/startup.sh, `STARTUP_DAYS`). The API stamps every response with the current time, so
//! a store filled through it has one day only; this writes through the store API instead
//! (`ResponseStore::insert_response`, with the follow-up records the server derives), as the
//! server would have written them on those days: COUNT responses spread evenly over the DAYS
//! UTC days before today, the three demo workloads in turn (bench/submit-mixed.lua: a patient
//! with tags only, a provider whose response opens a task, a patient who failed to enrol, with
//! a task and a webhook). Each is durable before the next is counted written, 64 at a time.
//! The server must be stopped; the directory must already hold the admin (start the server on
//! it once).
//! Usage: cargo run --release --example fill_store -- DATA_DIR COUNT DAYS

use chorus::domain::time::{now_ms, DAY_MS};
use chorus::domain::{records_for, StoredResponse};
use chorus::store::sled::SledStore;
use chorus::store::{NewResponse, ResponseStore, Store};
use serde_json::json;
use std::sync::Arc;

const IN_FLIGHT: u64 = 64;

fn id_at(ms: u64) -> uuid::Uuid {
    let nanos = (ms % 1000) as u32 * 1_000_000;
    uuid::Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        ms / 1000,
        nanos,
    ))
}

/// The `n`th response (of the three workloads in turn) at `ms`.
fn response(n: u64, ms: u64) -> StoredResponse {
    let id = id_at(ms);
    let tag = |code: &str| json!({ "code": code, "source": "barrier_keywords" });
    let task = |queue: &str, title: &str| {
        json!({ "id": id_at(ms), "source": "enrollment_followup", "action": "task",
                "queue": queue, "title": title, "due_hours": 48, "priority": "normal" })
    };
    let (survey, group, answers, tags, follow_ups) = match n % 3 {
        0 => (
            "patient-enrollment",
            "patient",
            json!({ "aware": "no", "tried": "no", "why_not": ["didnt_know", "no_device"],
                    "contact_ok": "no", "comments": "I do not have a computer at home" }),
            vec![tag("awareness"), tag("device_access")],
            vec![],
        ),
        1 => (
            "provider-enrollment",
            "provider",
            json!({ "role": "physician", "offer_to": "some", "when_best": "check_out",
                    "who_should": "nurse_ma", "help_available": "no",
                    "patient_barriers": ["technical", "overload"], "concerns": ["workload"],
                    "comments": "Patients tell me the code never arrives" }),
            vec![tag("enrollment_technical"), tag("staff_capacity")],
            vec![task("practice-manager", "Provider report")],
        ),
        _ => (
            "patient-enrollment",
            "patient",
            json!({ "aware": "yes", "tried": "yes", "enrolled": "no",
                    "what_happened": ["error", "locked_out"], "contact_ok": "yes",
                    "contact_phone": "555-0100",
                    "comments": "The website said error and then I was locked out" }),
            vec![tag("enrollment_technical"), tag("account_lockout")],
            vec![
                task("enrollment-help", "Call back"),
                json!({ "id": id_at(ms), "source": "enrollment_followup",
                        "action": "webhook", "target": "helpdesk" }),
            ],
        ),
    };
    serde_json::from_value(json!({
        "id": id, "site": "demo-clinic", "survey": survey, "survey_version": 1,
        "group": group, "submitted_at": chorus::domain::time::rfc3339_of_id(id),
        "answers": answers, "tags": tags, "rule_errors": [], "follow_ups": follow_ups,
    }))
    .expect("a valid response")
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, count, days] = args.as_slice() else {
        eprintln!("usage: fill_store DATA_DIR COUNT DAYS");
        std::process::exit(2);
    };
    let (count, days): (u64, u64) = (count.parse().expect("COUNT"), days.parse().expect("DAYS"));
    let store = Arc::new(SledStore::open(dir.as_ref(), 256 << 20, 2).expect("the store opens"));
    store.recover().await.expect("the store recovers");
    let first_day = (now_ms() as u64 / DAY_MS) - days;
    let per_day = count.div_ceil(days.max(1));
    let workers: Vec<_> = (0..IN_FLIGHT)
        .map(|w| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                for n in (w..count).step_by(IN_FLIGHT as usize) {
                    let (day, nth) = (first_day + n / per_day, n % per_day);
                    let r = response(n, day * DAY_MS + nth * DAY_MS / per_day);
                    let new = NewResponse {
                        follow_ups: records_for(&r),
                        response: r,
                        idempotency: None,
                        invitation: None,
                    };
                    store.insert_response(new).await.expect("stored");
                }
            })
        })
        .collect();
    for w in workers {
        w.await.expect("a writer");
    }
    store.close().await.expect("an orderly stop");
    println!("filled: {count} responses over {days} days");
}
