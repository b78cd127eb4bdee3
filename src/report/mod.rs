//! The stakeholder comparison: how each group sees each barrier (SPEC "Report").
//!
//! `index` keeps incremental counters, `query` turns a window into a tally, `model` turns a
//! tally into the report, `insight` phrases it for people (disagreements, weekly counts) and
//! `chart` lays out the grouped bar chart.

pub mod chart;
pub mod index;
pub mod insight;
pub mod model;
pub mod query;
pub mod stats;

pub use index::{ReportIndex, Tally};
pub use model::{build_report, BarrierRow, ByGroup, Cell, GroupRow, Report};
pub use query::{tally, ReportFilter};

use crate::store::{Store, StoreError};
use crate::survey::Site;

/// The report of a site for a filter: the one call the API and the pages make.
pub fn site_report(
    index: &ReportIndex,
    store: &dyn Store,
    site: &Site,
    filter: &ReportFilter,
) -> Result<Report, StoreError> {
    let tally = query::tally(index, store, site.id(), filter)?;
    Ok(build_report(site, &tally))
}
