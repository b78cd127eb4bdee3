//! The empty form of a survey is the same page for every visitor but for its submission id, so
//! it is rendered once (per worker and language) and reused until the site is reloaded.

use crate::survey::Survey;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::{Arc, Weak};
use uuid::Uuid;

/// Rendered in place of the submission id, then cut out.
pub const PLACEHOLDER: &str = "00000000-0000-0000-0000-000000000000";

struct Entry {
    /// Holding a `Weak` keeps the address from being reused: a reloaded survey is a new `Arc`
    /// and never matches an old entry.
    survey: Weak<Survey>,
    before: String,
    after: String,
}

#[derive(Default)]
pub struct EmptyForms {
    /// (address of the survey, page language) → the page split around the submission id.
    /// Bounded by the surveys loaded times the languages a page can be in.
    entries: Mutex<HashMap<(usize, String), Entry>>,
}

impl EmptyForms {
    /// The empty form with `id` as its submission id; `render` draws it (with `PLACEHOLDER`
    /// as the id) when it is not cached yet.
    pub fn page<E>(
        &self,
        survey: &Arc<Survey>,
        lang: &str,
        id: Uuid,
        render: impl FnOnce() -> Result<String, E>,
    ) -> Result<String, E> {
        let key = (Arc::as_ptr(survey) as usize, lang.to_string());
        let id = id.to_string();
        if let Some(entry) = self.entries.lock().get(&key) {
            if Weak::ptr_eq(&entry.survey, &Arc::downgrade(survey)) {
                return Ok(join(&entry.before, &id, &entry.after));
            }
        }
        let page = render()?;
        let marker = format!("name=\"_submission_id\" value=\"{PLACEHOLDER}\"");
        let Some(at) = page.find(&marker) else {
            // A template without the field: nothing to reuse safely.
            return Ok(page);
        };
        let cut = at + marker.len() - PLACEHOLDER.len() - 1;
        let (before, rest) = page.split_at(cut);
        let after = &rest[PLACEHOLDER.len()..];
        let out = join(before, &id, after);
        let mut entries = self.entries.lock();
        entries.retain(|_, e| e.survey.strong_count() > 0);
        entries.insert(
            key,
            Entry {
                survey: Arc::downgrade(survey),
                before: before.to_string(),
                after: after.to_string(),
            },
        );
        Ok(out)
    }
}

fn join(before: &str, id: &str, after: &str) -> String {
    let mut page = String::with_capacity(before.len() + id.len() + after.len());
    page.push_str(before);
    page.push_str(id);
    page.push_str(after);
    page
}
