//! Chorus: multistakeholder feedback surveys about patient-portal enrollment.

pub mod app;
pub mod args;
pub mod auth;
pub mod backups;
pub mod commands;
pub mod config;
pub mod csv_cell;
pub mod durable_file;
pub mod errors;
pub mod fhir;
pub mod followups;
pub mod http;
pub mod invitations;
pub mod metrics;
pub mod plugins;
pub mod pool;
pub mod reload;
pub mod report;
pub mod response;
pub mod response_csv;
pub mod retag;
pub mod review;
pub mod session;
pub mod sites;
pub mod store;
pub mod submit;
pub mod survey;

pub use app::{create_app, AppState};
pub use config::Config;
