//! Prometheus text metrics, kept in memory (counters restart at zero with the process).

use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default)]
pub struct Metrics {
    responses: Mutex<BTreeMap<(String, String), u64>>,
    rule_errors: Mutex<BTreeMap<(String, String), u64>>,
    latency: Histogram,
}

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Metrics {
    pub fn response_stored(&self, site: &str, group: &str) {
        *self
            .responses
            .lock()
            .entry((site.to_string(), group.to_string()))
            .or_default() += 1;
    }

    pub fn rule_error(&self, site: &str, source: &str) {
        *self
            .rule_errors
            .lock()
            .entry((site.to_string(), source.to_string()))
            .or_default() += 1;
    }

    pub fn observe_request(&self, seconds: f64) {
        let h = &self.latency;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        h.count.fetch_add(1, Ordering::Relaxed);
        h.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP chorus_responses_stored_total Responses stored since start, by site and group.\n");
        out.push_str("# TYPE chorus_responses_stored_total counter\n");
        for ((site, group), n) in self.responses.lock().iter() {
            let _ = writeln!(
                out,
                "chorus_responses_stored_total{{site=\"{site}\",group=\"{group}\"}} {n}"
            );
        }
        out.push_str("# HELP chorus_rule_errors_total Hook failures since start, by site and plugin or rule.\n");
        out.push_str("# TYPE chorus_rule_errors_total counter\n");
        for ((site, source), n) in self.rule_errors.lock().iter() {
            let _ = writeln!(
                out,
                "chorus_rule_errors_total{{site=\"{site}\",source=\"{source}\"}} {n}"
            );
        }
        let h = &self.latency;
        out.push_str(
            "# HELP chorus_http_request_duration_seconds Time to answer an HTTP request.\n",
        );
        out.push_str("# TYPE chorus_http_request_duration_seconds histogram\n");
        for (i, bound) in BUCKETS.iter().enumerate() {
            let n = h.buckets[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "chorus_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {n}"
            );
        }
        let count = h.count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "chorus_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "chorus_http_request_duration_seconds_sum {sum}");
        let _ = writeln!(out, "chorus_http_request_duration_seconds_count {count}");
        out
    }
}
