//! The follow-up figures in words, one sentence per queue, e.g. "Of 14 patients who asked for
//! a call back, 10 were done, 9 of them on time; half within 2 hours. 6 enrolled, 3 not
//! reached, 1 declined. 1 was dismissed; 3 are still open."

use super::follow_ups::QueueRow;
use crate::survey::Site;

/// "not_reached" → "not reached".
fn words(code: &str) -> String {
    code.replace(['_', '-'], " ")
}

fn were(n: u64) -> &'static str {
    if n == 1 {
        "was"
    } else {
        "were"
    }
}

/// How long half of the done tasks took at most.
fn within(median_hours: f64) -> String {
    if median_hours < 1.0 {
        "in under an hour".to_string()
    } else if median_hours < 48.0 {
        let h = median_hours.round() as u64;
        format!("within {h} hour{}", if h == 1 { "" } else { "s" })
    } else {
        format!("within {} days", (median_hours / 24.0).round() as u64)
    }
}

/// Who the tasks of a queue are for, in the plural.
pub fn queue_subject(site: &Site, queue: &str) -> String {
    site.queue(queue)
        .and_then(|q| q.label.clone())
        .unwrap_or_else(|| format!("tasks in the {queue} queue"))
}

/// The sentence of one queue.
pub fn queue_sentence(site: &Site, row: &QueueRow) -> String {
    let subject = queue_subject(site, row.queue());
    let f = match row {
        QueueRow::Suppressed { .. } => {
            return format!(
                "Fewer than {} {subject} so far: too few to report.",
                site.config.min_cell
            )
        }
        QueueRow::Counted(f) => f,
    };
    let mut out = format!(
        "Of {} {subject}, {} {} done",
        f.opened,
        f.done,
        were(f.done)
    );
    if f.done > 0 {
        out.push_str(&format!(", {} of them on time", f.on_time));
        if let Some(h) = f.median_hours_to_done {
            out.push_str(&format!("; half {}", within(h)));
        }
    }
    out.push('.');
    let outcomes: Vec<String> = f
        .outcomes
        .0
        .iter()
        .map(|(o, n)| format!("{n} {}", words(o)))
        .collect();
    if f.done > 0 && !outcomes.is_empty() {
        out.push_str(&format!(" {}.", outcomes.join(", ")));
    }
    let open = f.opened.saturating_sub(f.done + f.dismissed);
    match (f.dismissed, open) {
        (0, 0) => {}
        (d, 0) => out.push_str(&format!(" {d} {} dismissed.", were(d))),
        (0, o) => out.push_str(&format!(" {o} {} still open.", are(o))),
        (d, o) => out.push_str(&format!(
            " {d} {} dismissed; {o} {} still open.",
            were(d),
            are(o)
        )),
    }
    out
}

fn are(n: u64) -> &'static str {
    if n == 1 {
        "is"
    } else {
        "are"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::follow_ups::{Outcomes, QueueFigures};
    use crate::report::model::Ordered;
    use crate::survey::{codebook_for, QueueConfig, Site, SiteConfig};

    fn site() -> Site {
        let mut config: SiteConfig =
            toml::from_str("id = \"x\"\nname = \"X\"\ngroups = [\"patient\"]").unwrap();
        config.queues = vec![QueueConfig {
            id: "enrollment-help".into(),
            label: Some("patients who asked for a call back".into()),
            outcomes: vec!["enrolled".into(), "not_reached".into()],
        }];
        Site {
            codebook: codebook_for(&config),
            config,
            dir: Default::default(),
            surveys: vec![],
            rule_files: vec![],
            rule_test_files: vec![],
        }
    }

    #[test]
    fn a_queue_in_words() {
        let site = site();
        let row = QueueRow::Counted(QueueFigures {
            queue: "enrollment-help".into(),
            opened: 28,
            done: 21,
            dismissed: 3,
            on_time: 19,
            median_hours_to_done: Some(20.3),
            outcomes: Ordered(vec![("enrolled".into(), 12), ("not_reached".into(), 9)]),
        });
        assert_eq!(
            queue_sentence(&site, &row),
            "Of 28 patients who asked for a call back, 21 were done, 19 of them on time; half \
             within 20 hours. 12 enrolled, 9 not reached. 3 were dismissed; 4 are still open."
        );
        let other = QueueRow::Counted(QueueFigures {
            queue: "front-desk".into(),
            opened: 5,
            done: 0,
            dismissed: 1,
            on_time: 0,
            median_hours_to_done: None,
            outcomes: Outcomes::default(),
        });
        assert_eq!(
            queue_sentence(&site, &other),
            "Of 5 tasks in the front-desk queue, 0 were done. 1 was dismissed; 4 are still open."
        );
        let few = QueueRow::Suppressed {
            queue: "enrollment-help".into(),
            suppressed: true,
        };
        assert_eq!(
            queue_sentence(&site, &few),
            "Fewer than 5 patients who asked for a call back so far: too few to report."
        );
        assert_eq!(within(0.4), "in under an hour");
        assert_eq!(within(72.0), "within 3 days");
    }
}
