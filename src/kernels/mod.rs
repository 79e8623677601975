//! Kernels: the media converter and the defect detectors, as pure functions over
//! planes and buffers, and what they cost (measured calibration or a mock); work per
//! item as a CPU-time distribution or a stage calibration from Lambda logs.

pub mod calibration;
pub mod convert;
pub mod cost;
pub mod detect;
pub mod lambda_logs;
pub mod stage_calibration;
pub mod work;

pub use calibration::{Calibration, EmpiricalCost, MeasureOptions};
pub use cost::{CostModel, FixedCost, FrameSize, Kernel};
pub use detect::{DetectorBank, DetectorParams};
pub use lambda_logs::{LogScan, VcpuRule};
pub use stage_calibration::{Empirical, StageCalibration};
pub use work::{CpuDist, CpuDistSpec};
