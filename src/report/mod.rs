//! Reports: formatting results for people and tools. Reads results, never drives
//! the simulation.
//!
//! The integrator fills a [`RunReport`] from a run and calls [`write_report`] for the
//! output folder, or [`table::run_text`] for the terminal.

pub mod bill;
pub mod capacity;
pub mod catalog;
pub mod charts;
pub mod data;
pub mod explain;
pub mod export;
pub mod from_run;
pub mod html;
pub mod money;
pub mod output;
pub mod summary;
pub mod table;
pub mod term;
pub mod whatif;

pub use data::{
    Assumption, Crossover, LayoutSummary, Percentiles, RunReport, Sensitivity, SensitivityBar,
    SweepData, SweepSeries, TimelinePoint,
};
pub use export::{write_report, Exporter};
pub use output::{write_atomic, OutputDir};
