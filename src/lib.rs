//! Chorus: multistakeholder feedback surveys about patient-portal enrollment.
//!
//! Layers, each importing only those below it: `domain` (types) and `pool` → `survey` (pure)
//! → `report` (pure) → `plugins` (rhai) → `store` (traits and backends) → `services` →
//! `http` (actix) and `commands`, put together by `app`.

pub mod app;
pub mod commands;
pub mod config;
pub mod domain;
pub mod fhir;
pub mod http;
pub mod plugins;
pub mod pool;
pub mod report;
pub mod services;
pub mod store;
pub mod survey;

pub use app::{create_app, AppState};
pub use config::Config;
