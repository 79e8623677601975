//! Kernels: the media converter and the defect detectors, as pure functions over
//! planes and buffers, and what they cost (measured calibration or a mock).

pub mod calibration;
pub mod convert;
pub mod cost;
pub mod detect;

pub use calibration::{Calibration, EmpiricalCost, MeasureOptions};
pub use cost::{CostModel, FixedCost, FrameSize, Kernel};
pub use detect::{DetectorBank, DetectorParams};
