//! Reports: formatting results for people and tools. Reads results, never drives
//! the simulation.

pub mod bill;
pub mod catalog;
pub mod money;
