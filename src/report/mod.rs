//! The stakeholder comparison: how each group sees each barrier (SPEC "Report"). Pure: a
//! `Tally` (counts the store answers) becomes the report, phrased for people (`insight`) and
//! laid out as a chart (`chart`).

pub mod channels;
pub mod chart;
pub mod insight;
pub mod model;
pub mod stats;
pub mod tally;

pub use model::{build_report, BarrierRow, ByGroup, Cell, GroupRow, Report};
pub use tally::Tally;
