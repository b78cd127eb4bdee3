//! The stakeholder comparison: how each group sees each barrier (SPEC "Report"). Pure: a
//! `Tally` (counts the store answers) becomes the report, with its statistics (`stats`), its
//! follow-up figures (`follow_ups`) and trend (`trend`), phrased for people (`insight`,
//! `follow_up_words`) and laid out as charts (`chart`, `line_chart`).

pub mod channels;
pub mod chart;
pub mod follow_up_words;
pub mod follow_ups;
pub mod insight;
pub mod line_chart;
pub mod model;
pub mod stats;
pub mod tally;
pub mod trend;

pub use model::{build_report, BarrierRow, ByGroup, Cell, GroupRow, Ordered, Report};
pub use tally::Tally;
