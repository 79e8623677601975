//! Reports: formatting results for people and tools. Reads results, never drives
//! the simulation.

pub mod bill;
pub mod catalog;
pub mod charts;
pub mod data;
pub mod money;
pub mod output;

pub use data::{
    Assumption, Crossover, LayoutSummary, Percentiles, RunReport, Sensitivity, SensitivityBar,
    SweepData, SweepSeries, TimelinePoint,
};
pub use output::{write_atomic, OutputDir};
