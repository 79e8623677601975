//! Kernels: the media converter and the defect detectors, as pure functions over
//! planes and buffers, and what they cost (measured calibration or a mock).

pub mod cost;

pub use cost::{CostModel, FixedCost, FrameSize, Kernel};
